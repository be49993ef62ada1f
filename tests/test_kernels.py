"""The kernel fork server: every kernel is a new process forked from a parent that has imported the
heavy libraries and run no user code."""

from __future__ import annotations

import sys

import pytest

from nao_analysis.kernels import ForkedProcess, ForkServer, _ipykernel_arguments


def _run(manager, code: str) -> str:
    """Execute ``code`` and return what it printed."""
    client = manager.client()
    client.start_channels()
    printed: list[str] = []

    def collect(message):
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])

    try:
        client.wait_for_ready(timeout=60)
        reply = client.execute_interactive(code, timeout=60, output_hook=collect, store_history=False)
        assert reply["content"]["status"] == "ok", reply["content"]
        return "".join(printed).strip()
    finally:
        client.stop_channels()


@pytest.fixture(scope="module")
def server():
    with ForkServer() as running:
        yield running


@pytest.fixture
def kernel(server):
    manager = server.manager_class(blocking=True)(kernel_name="nao-analysis")
    manager.start_kernel()
    yield manager
    if manager.is_alive():
        manager.shutdown_kernel(now=True)


def test_heavy_libraries_are_imported_before_the_notebook_runs(kernel):
    assert _run(kernel, "import sys; print('geopandas' in sys.modules and 'pandas' in sys.modules)") == "True"


def test_the_inherited_heap_is_out_of_the_collectors_sight(kernel):
    # Otherwise every full collection in every kernel walks all of pandas, matplotlib and geopandas again.
    assert _run(kernel, "import gc; print(gc.get_freeze_count() > 100_000)") == "True"


def test_first_use_costs_are_paid_by_the_server(kernel):
    printed = _run(kernel, "import sys; print(all(m in sys.modules for m in ('ipykernel.debugger', 'jinja2', 'pandas.io.formats.style')))")
    assert printed == "True"


def test_a_build_kernel_keeps_no_input_history(kernel):
    assert _run(kernel, "print(get_ipython().history_manager.enabled)") == "False"


def test_a_kernel_being_shut_down_is_not_interrupted_first(server, tmp_path):
    # jupyter_client's own managers interrupt before shutting down; one landing as the last cell ends
    # made the kernel print "KeyboardInterrupt caught in kernel" into the build's output.
    marker = tmp_path / "interrupted"
    manager = server.manager_class(blocking=True)(kernel_name="nao-analysis")
    manager.start_kernel()
    # The kernel restores its own SIGINT handling after every cell unless told not to.
    _run(
        manager,
        "import signal; get_ipython().kernel.post_handler_hook = lambda: None; "
        f"signal.signal(signal.SIGINT, lambda *_: open({str(marker)!r}, 'w').close())",
    )
    manager.shutdown_kernel()
    assert not marker.exists()


def test_each_kernel_is_a_new_process_with_no_earlier_state(server):
    first, second = (
        server.manager_class(blocking=True)(kernel_name="nao-analysis"),
        server.manager_class(blocking=True)(kernel_name="nao-analysis"),
    )
    first.start_kernel()
    try:
        pid = _run(first, "import os, pandas; pandas.Series.sum = lambda self: -1; print(os.getpid())")
        second.start_kernel()
        try:
            other_pid, total = _run(second, "import os, pandas; print(os.getpid(), pandas.Series([1, 2]).sum())").split()
            assert other_pid != pid and total == "3"
        finally:
            second.shutdown_kernel(now=True)
    finally:
        first.shutdown_kernel(now=True)


def test_a_kernel_that_exits_is_seen_dead_with_its_exit_code(kernel):
    client = kernel.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        client.execute("import os; os._exit(3)")
    finally:
        client.stop_channels()
    kernel.provisioner.process.wait(timeout=30)
    assert not kernel.is_alive() and kernel.provisioner.process.returncode == 3


def test_kernels_end_with_their_server():
    with ForkServer() as own:
        manager = own.manager_class(blocking=True)(kernel_name="nao-analysis")
        manager.start_kernel()
        assert manager.is_alive()
    # The pidfd still tells whether the process ended, although the server that reaped it is gone.
    manager.provisioner.process.wait(timeout=30)
    assert not manager.is_alive()


def test_only_kernels_of_this_interpreter_are_forked():
    other = ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "c.json"]
    assert _ipykernel_arguments(other) is None
    assert _ipykernel_arguments([sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "c.json"]) == ["-f", "c.json"]


def test_kernels_start_the_ordinary_way_once_the_server_is_gone():
    with ForkServer() as own:
        manager_class = own.manager_class(blocking=True)
        own.process.kill()
        own.process.wait()
        manager = manager_class(kernel_name="nao-analysis")
        manager.start_kernel()
        try:
            assert not isinstance(manager.provisioner.process, ForkedProcess)
            assert _run(manager, "print(1 + 1)") == "2"
        finally:
            manager.shutdown_kernel(now=True)
