"""A small pool of warm Jupyter kernels for the build.

Profiling the cold build showed that starting a kernel and importing pandas, matplotlib, pandera
and geopandas in it cost more than most figures' own analysis. The pool starts one kernel per job,
imports the heavy libraries once, and runs figure after figure in it. Before each notebook the user
namespace is wiped (``%reset -f``) and every open figure closed, so a notebook sees what a fresh
kernel would, apart from modules already imported. A kernel that died is replaced.
"""

from __future__ import annotations

import queue
import threading
from contextlib import contextmanager, suppress

WARM_UP = "import pandas, matplotlib, matplotlib.pyplot, geopandas, pandera.pandas, nao_analysis.figure, nao_analysis.charts"
RESET = "%reset -f\nimport matplotlib.pyplot as _plt\n_plt.close('all')\ndel _plt"


class KernelPool:
    """``size`` kernels of ``kernel_name``, started in ``cwd``; use as a context manager."""

    def __init__(self, kernel_name: str, size: int, cwd: str) -> None:
        self.kernel_name = kernel_name
        self.cwd = cwd
        self.size = size
        self._idle: queue.Queue = queue.Queue()
        self._all: list = []
        self._lock = threading.Lock()
        self._started = 0  # live kernels plus those being started

    def _start(self):
        from jupyter_client.manager import KernelManager

        manager = KernelManager(kernel_name=self.kernel_name)
        manager.start_kernel(cwd=self.cwd)
        with self._lock:
            self._all.append(manager)
        self._run(manager, WARM_UP)
        return manager

    @staticmethod
    def _run(manager, code: str, timeout: float = 120) -> None:
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=timeout)
            reply = client.execute_interactive(code, timeout=timeout, store_history=False, output_hook=lambda _msg: None)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"kernel preparation failed: {reply['content'].get('evalue', '')}")
        finally:
            client.stop_channels()

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, *exc) -> None:
        for manager in self._all:
            # Best effort at teardown: a kernel that already died has nothing to shut down.
            with suppress(Exception):
                manager.shutdown_kernel(now=True)

    @contextmanager
    def kernel(self):
        """Lend a clean kernel manager; it returns to the pool afterwards, or is discarded if it died."""
        try:
            manager = self._idle.get_nowait()
        except queue.Empty:
            with self._lock:
                grow = self._started < self.size
                self._started += grow  # claim the slot before the slow start
            manager = self._start() if grow else self._idle.get()
        try:
            if not manager.is_alive():
                raise RuntimeError("kernel died")
            self._run(manager, RESET)
        except Exception:
            with self._lock:
                self._all.remove(manager)
            manager = self._start()  # the slot passes to the replacement
        try:
            yield manager
        finally:
            if manager.is_alive():
                self._idle.put(manager)
            else:
                # Free the slot, so the next loan starts a new kernel instead of waiting for this one.
                with self._lock:
                    self._all.remove(manager)
                    self._started -= 1
