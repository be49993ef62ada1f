"""The warm kernel pool: reused kernels start each notebook with an empty namespace."""

from __future__ import annotations

import pytest

from nao_analysis import paths
from nao_analysis.kernels import KernelPool

pytestmark = pytest.mark.slow


def _evaluate(manager, expression: str) -> str:
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        reply = client.execute_interactive(f"print({expression})", timeout=60, output_hook=lambda _m: None, store_history=False)
        return reply["content"]["status"]
    finally:
        client.stop_channels()


class TestKernelPool:
    def test_namespace_is_wiped_between_loans(self):
        with KernelPool("nao-analysis", 1, str(paths.notebooks_dir())) as pool:
            with pool.kernel() as manager:
                KernelPool._run(manager, "leftover = 42")
                assert _evaluate(manager, "leftover") == "ok"
                first = manager
            with pool.kernel() as manager:
                assert manager is first
                assert _evaluate(manager, "leftover") == "error"

    def test_heavy_modules_stay_imported(self):
        with KernelPool("nao-analysis", 1, str(paths.notebooks_dir())) as pool, pool.kernel() as manager:
            assert _evaluate(manager, "__import__('sys').modules['pandas'].__name__") == "ok"

    def test_dead_kernel_is_replaced(self):
        with KernelPool("nao-analysis", 1, str(paths.notebooks_dir())) as pool:
            with pool.kernel() as manager:
                manager.shutdown_kernel(now=True)
            with pool.kernel() as replacement:
                assert replacement.is_alive()
                assert _evaluate(replacement, "1 + 1") == "ok"
