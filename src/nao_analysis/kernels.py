"""Pristine notebook kernels without paying the imports every time: a fork server.

Starting a kernel and importing pandas, matplotlib, pandera and geopandas in it costs more than most
figures' own analysis. Reusing warm kernels saved that, but let one notebook change what the next one
computes (a monkeypatched ``pandas.Series.sum`` doubled a later figure's numbers). Here a parent
process imports the heavy libraries once and then only forks: every notebook gets a child that has
executed no user code at all, so its result cannot depend on what ran before it.

- :class:`ForkServer` starts the parent (``python -m nao_analysis.kernels SOCKET``) for one build.
- :meth:`ForkServer.manager_class` is a jupyter ``KernelManager`` class to hand to papermill
  (``kernel_manager_class=``); its provisioner asks the server for a child instead of spawning a
  process, and otherwise behaves like jupyter's local provisioner, so nbclient's timeouts and
  dead-kernel detection work unchanged.
- The server reaps its children and reports each exit code on the connection that asked for it;
  signals go through a pidfd, so they can never reach a recycled process id.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

from jupyter_client.manager import AsyncKernelManager, KernelManager
from jupyter_client.provisioning import LocalProvisioner

#: Imported once by the server, before any fork. Missing modules are skipped (the figure recipes are optional).
WARM_UP = (
    "numpy",
    "pandas",
    "matplotlib",
    "matplotlib.pyplot",
    "matplotlib_inline.backend_inline",
    "geopandas",
    "pandera.pandas",
    "pyogrio",
    "yaml",
    "pydantic",
    "IPython",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",  # every kernel's start-up imports it (and debugpy with it) by name
    "IPython.core.oinspect",
    "pandas.io.formats.style",
    "pyarrow.parquet",
    "networkx",
    "PIL.PngImagePlugin",
    "matplotlib.backends.backend_svg",
    "nao_analysis.charts",
    "nao_analysis.maps",
    "nao_analysis.tables",
    "nao_analysis.diagrams",
    "nao_analysis.figures.runtime",
    "nao_analysis.figures.notebook",
    "nao_analysis.figures",
)
#: Packages whose every module is imported too: the recipes import them inside ``run()``.
WARM_UP_PACKAGES = ("nao_analysis.figures", "nao_analysis.readers", "nao_analysis.analysis", "nao_analysis.sources")
READY = b"ready\n"


# -- the server (runs in its own process) ---------------------------------------------------------
def _ipykernel_arguments(argv: list[str]) -> list[str] | None:
    """The kernel app's own arguments when ``argv`` launches ipykernel with this interpreter, else None."""
    for index in range(len(argv) - 1):
        if argv[index] == "-m" and argv[index + 1] == "ipykernel_launcher":
            same_python = os.path.realpath(argv[0]) == os.path.realpath(sys.executable)
            return argv[index + 2 :] if same_python else None
    return None


def _recv_line(conn: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _become_kernel(request: dict[str, Any], inherited: list[int]) -> None:
    """In the forked child: detach, take the kernel's environment, run ipykernel, never return."""
    code = 1
    try:
        os.setsid()
        for fd in inherited:
            with contextlib.suppress(OSError):
                os.close(fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.dup2(2, 1)  # the server's stdout is a pipe nobody reads after start-up
        os.environ.clear()
        os.environ.update(request["env"])
        if request.get("cwd"):
            os.chdir(request["cwd"])
        # A fresh kernel picks its matplotlib backend from the environment when matplotlib is imported;
        # here it was imported before the kernel's environment existed, so set it as a fresh kernel would.
        import matplotlib

        matplotlib.rcParams["backend"] = os.environ.get("MPLBACKEND") or "module://matplotlib_inline.backend_inline"
        # The kernel ends itself if the server goes away (its default for this was read in the server). A notebook
        # run by the build has no one to recall its input history: not keeping it spares every kernel a thread
        # writing to one SQLite file that all the build's kernels would share.
        args = [*request["args"], f"--IPKernelApp.parent_handle={os.getppid()}", "--HistoryManager.enabled=False"]
        sys.argv = ["ipykernel_launcher", *args]
        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - the child must never return into the server's loop
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _warm_up() -> None:
    """Pay, once, the costs every figure would otherwise pay in its own kernel: imports, and matplotlib's first
    draw (font files opened, the SVG backend loaded). The draw runs in an rc_context, so a forked kernel's
    settings are a fresh kernel's."""
    import pkgutil

    for name in WARM_UP:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    for package_name in WARM_UP_PACKAGES:
        with contextlib.suppress(ImportError):
            package = importlib.import_module(package_name)
            for module in pkgutil.iter_modules(package.__path__, f"{package_name}."):
                with contextlib.suppress(ImportError):
                    importlib.import_module(module.name)
    with contextlib.suppress(ImportError):
        import io

        import matplotlib
        import matplotlib.pyplot as plt

        with matplotlib.rc_context():
            matplotlib.use("Agg")
            from nao_analysis.charts import apply_house_style

            apply_house_style()
            figure = plt.figure(figsize=(2, 1))
            figure.text(0.1, 0.5, "Warm-up 0123456789", fontweight="bold")
            figure.text(0.1, 0.2, "Warm-up 0123456789")
            for fmt in ("png", "svg"):
                figure.savefig(io.BytesIO(), format=fmt)
            plt.close(figure)
    with contextlib.suppress(ImportError):
        import pandas as pd

        from nao_analysis.figures.notebook import formatted

        # The notebooks show tables as pandas Stylers: their first rendering compiles jinja templates.
        formatted(pd.DataFrame({"warm-up": [1.5, None]}))._repr_html_()


def serve(address: str) -> None:
    """Import :data:`WARM_UP`, then fork a kernel per connection until stdin closes (the build ended)."""
    # Importing the kernels' debugger warns that breakpoints may be missed in frozen modules; nobody sets a
    # breakpoint in a build's kernel, and the warning would only clutter the build's output.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    _warm_up()
    # Everything imported so far lives as long as the kernels do. Frozen, it is out of the collector's sight:
    # without this every full collection in every kernel walks the whole inherited heap (0.2 s each, and a
    # kernel that parses a file runs several), and touching its objects' headers copies their pages.
    gc.collect()
    gc.freeze()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(16)
    children: dict[int, socket.socket] = {}
    sys.stdout.buffer.write(READY)
    sys.stdout.flush()
    os.dup2(2, 1)  # nobody reads our stdout after this line: anything printed later goes to stderr
    try:
        while True:
            readable, _, _ = select.select([listener, sys.stdin], [], [], 0.05)
            if sys.stdin in readable and not os.read(sys.stdin.fileno(), 4096):
                break  # the build closed our stdin (or died): stop
            if listener in readable:
                conn, _ = listener.accept()
                try:
                    request = json.loads(_recv_line(conn))
                except ValueError:
                    conn.close()
                    continue
                inherited = [listener.fileno(), conn.fileno(), *(c.fileno() for c in children.values())]
                pid = os.fork()
                if pid == 0:
                    _become_kernel(request, inherited)
                pidfd = os.pidfd_open(pid)
                try:
                    socket.send_fds(conn, [json.dumps({"pid": pid}).encode() + b"\n"], [pidfd])
                except OSError:
                    os.kill(pid, signal.SIGKILL)  # nobody is waiting for this kernel
                finally:
                    os.close(pidfd)
                children[pid] = conn
            while children:
                pid, status = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
                conn = children.pop(pid, None)
                if conn is not None:
                    with contextlib.suppress(OSError):
                        conn.sendall(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}).encode() + b"\n")
                    conn.close()
    finally:
        # Kernels still running when the build goes away would otherwise outlive it.
        for pid in children:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        listener.close()


# -- the build's side -------------------------------------------------------------------------------
class ForkedProcess:
    """The little of ``subprocess.Popen`` jupyter's local provisioner uses, for a child of the fork server."""

    stdin = stdout = stderr = None

    def __init__(self, conn: socket.socket, pid: int, pidfd: int) -> None:
        self.conn = conn
        self.pid = pid
        self.pidfd = pidfd
        self.returncode: int | None = None
        self._server_gone = False

    @classmethod
    def launch(cls, address: str, args: list[str], env: dict[str, str], cwd: str | None) -> ForkedProcess:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(address)
        conn.sendall(json.dumps({"args": args, "env": dict(env), "cwd": cwd}).encode() + b"\n")
        message, fds, _, _ = socket.recv_fds(conn, 4096, 1)
        if not fds:
            conn.close()
            raise RuntimeError("the kernel fork server did not start a kernel")
        return cls(conn, json.loads(message)["pid"], fds[0])

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        if not self._server_gone:
            readable, _, _ = select.select([self.conn], [], [], 0)
            if readable:
                line = _recv_line(self.conn)
                if line:
                    self.returncode = json.loads(line)["returncode"]
                    self.close()
                    return self.returncode
                self._server_gone = True
            else:
                return None  # the server reports the exit code within moments of the exit
        # Without the server the exit code is lost, but a pidfd still says whether the kernel ended.
        readable, _, _ = select.select([self.pidfd], [], [], 0)
        if readable:
            self.returncode = -1
            self.close()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("forked kernel", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is not None:
            raise ProcessLookupError(f"kernel {self.pid} has exited")
        signal.pidfd_send_signal(self.pidfd, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()
        if self.pidfd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.pidfd)
            self.pidfd = -1


class ForkProvisioner(LocalProvisioner):
    """jupyter's local provisioner, except that the kernel process comes from the fork server."""

    fork_server_address = ""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        args = _ipykernel_arguments(cmd)
        if args is None or not self.fork_server_address:
            return await super().launch_kernel(cmd, **kwargs)
        cwd = kwargs.get("cwd")
        try:
            self.process = ForkedProcess.launch(self.fork_server_address, args, kwargs.get("env") or dict(os.environ), cwd)
        except (OSError, RuntimeError, ValueError):
            # The server died (killed for memory, say): this kernel starts the ordinary way instead.
            return await super().launch_kernel(cmd, **kwargs)
        self.pid = self.process.pid
        self.pgid = self.process.pid  # the child calls setsid()
        self.cwd = cwd
        return self.connection_info

    async def send_signal(self, signum: int) -> None:
        process = self.process
        if isinstance(process, ForkedProcess):
            # Only while the kernel lives: after it is reaped its group id may belong to someone else.
            if process.poll() is None:
                with contextlib.suppress(OSError):
                    os.killpg(self.pgid, signum)
                    return
                process.send_signal(signum)
            return
        await super().send_signal(signum)

    async def cleanup(self, restart: bool = False) -> None:
        if isinstance(self.process, ForkedProcess) and self.process.poll() is not None:
            self.process.close()
        await super().cleanup(restart)


class _ForksKernels:
    """Mixed into a jupyter kernel manager: its kernels are forked by the server at :attr:`fork_server_address`."""

    fork_server_address = ""

    async def _async_pre_start_kernel(self, **kw: Any):
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
            provisioner = ForkProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
            provisioner.fork_server_address = self.fork_server_address
            self.provisioner = provisioner
        return await super()._async_pre_start_kernel(**kw)

    async def _async_interrupt_kernel(self) -> None:
        if self.shutting_down:
            # jupyter_client interrupts every kernel before shutting it down. A build's kernel is done with (its
            # last cell answered, or timed out) and is killed at once; an interrupt landing as its last cell ends
            # would only make it print "KeyboardInterrupt caught in kernel" into the build's output.
            return
        await super()._async_interrupt_kernel()


class ForkKernelManager(_ForksKernels, AsyncKernelManager):
    """What papermill (nbclient) drives: an asynchronous manager."""


class BlockingForkKernelManager(_ForksKernels, KernelManager):
    """The same with blocking methods, for callers outside an event loop."""


class ForkServer:
    """The fork server for one build; use as a context manager.

    ``env`` is the server's environment (the kernels get the one their manager computes).
    """

    def __init__(self, env: dict[str, str] | None = None, start_timeout: float = 120.0) -> None:
        self.env = env
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self._folder = ""
        self.address = ""

    def start(self) -> ForkServer:
        """Launch the server without waiting for it: its imports run while the caller does other work."""
        self.started_at = time.perf_counter()
        self._folder = tempfile.mkdtemp(prefix="nao-kernels-")
        self.address = os.path.join(self._folder, "fork.sock")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nao_analysis.kernels", self.address],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=self.env,
        )
        return self

    def wait_ready(self) -> ForkServer:
        """Block until the server has imported everything and listens; RuntimeError (server stopped) if it never does."""
        readable, _, _ = select.select([self.process.stdout], [], [], self.start_timeout)
        if not readable or self.process.stdout.readline() != READY:
            self.stop(now=True)
            raise RuntimeError("the kernel fork server did not start (see the messages above)")
        return self

    def __enter__(self) -> ForkServer:
        return self.start().wait_ready()

    def manager_class(self, blocking: bool = False) -> type:
        """A kernel manager class bound to this server, for papermill's ``kernel_manager_class``."""
        base = BlockingForkKernelManager if blocking else ForkKernelManager
        return type(f"Bound{base.__name__}", (base,), {"fork_server_address": self.address, "__module__": __name__})

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, *, now: bool = False) -> None:
        """End the server: when its last kernel has gone, or at once (``now``) when none was ever started."""
        if self.process is not None:
            if now:
                self.process.kill()
            with contextlib.suppress(OSError):
                self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process.stdout.close()
            self.process = None
        shutil.rmtree(self._folder, ignore_errors=True)

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    serve(sys.argv[1])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip tearing down every imported module: nothing is left to save
