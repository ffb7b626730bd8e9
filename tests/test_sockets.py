"""What a build's kernel listens on: Unix sockets in its private folder, and no TCP at all.

The kernels are started as the build starts them (:class:`c3lib.build.kernels.Kernels`, as a
new program and forked from a warm :class:`~c3lib.build.kernels.Template`) and their sockets
are read from the operating system (psutil), not from the connection file.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import sys
import time

import pytest

from c3lib.build.kernels import Kernels, Template, close_thread_loop, template_main

psutil = pytest.importorskip("psutil")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.name != "posix", reason="IPC kernels are POSIX only"),
]

# A forked child of the kernel prints: its output goes through ipykernel's IOPub pipe.
FORKED_PRINT = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    print('from the forked child')\n"
    "    sys.stdout.flush()\n"
    "    os._exit(0)\n"
    "os.waitpid(pid, 0)\n"
    "import time; time.sleep(0.5)\n"
)


def kernel_sockets(pid: int) -> tuple[list, list]:
    """The kernel process's inet sockets (any state) and its Unix-socket paths."""
    proc = psutil.Process(pid)
    inet = proc.net_connections(kind="inet")
    unix = [c.laddr for c in proc.net_connections(kind="unix") if c.laddr]
    return inet, unix


def wait_for_sockets(pid: int, folder: str, timeout: float = 10.0) -> tuple[list, list]:
    """The sockets once the kernel has bound all of its channels (its output pipe too)."""
    deadline = time.monotonic() + timeout
    while True:
        inet, unix = kernel_sockets(pid)
        # shell, iopub, stdin, control, heartbeat and the output pipe
        if sum(path.startswith(folder) for path in unix) >= 6 or time.monotonic() > deadline:
            return inet, unix
        time.sleep(0.1)


def execute(km, code: str) -> list[str]:
    """Run ``code`` in the kernel; the text it printed, from IOPub."""
    from jupyter_core.utils import run_sync

    client = km.client()
    client.start_channels()
    try:
        run_sync(client.wait_for_ready)(timeout=30)
        printed = []
        run_sync(client.execute_interactive)(
            code,
            timeout=30,
            output_hook=lambda msg: (
                printed.append(msg["content"].get("text", ""))
                if msg["msg_type"] == "stream"
                else None
            ),
        )
        return printed
    finally:
        client.stop_channels()


def assert_ipc_only(kernel) -> None:
    pid = kernel.km.provisioner.pid
    inet, unix = wait_for_sockets(pid, kernel.folder)
    assert inet == [], f"kernel {pid} has TCP/UDP sockets: {inet}"
    ours = [path for path in unix if path.startswith(kernel.folder)]
    assert len(ours) >= 6, unix  # five channels and the output pipe, all in its folder
    assert any(path.endswith("-pipe") for path in ours), ours
    # what the pipe is for still works: a forked child's print reaches the notebook
    assert "from the forked child\n" in "".join(execute(kernel.km, FORKED_PRINT))


@pytest.fixture
def kernels():
    ks = Kernels()
    yield ks
    ks.close()
    close_thread_loop()


def test_kernel_started_as_program_listens_on_ipc_only(kernels, tmp_path):
    kernel = kernels.take(str(tmp_path))
    try:
        assert_ipc_only(kernel)
    finally:
        kernels.done(kernel)


@pytest.mark.skipif(sys.platform != "linux", reason="warm kernels are Linux only")
def test_kernel_forked_from_template_listens_on_ipc_only(kernels, tmp_path):
    ctx = multiprocessing.get_context("forkserver")
    ours, theirs = ctx.Pipe()
    process = ctx.Process(target=template_main, args=(theirs,), daemon=True)
    process.start()
    theirs.close()
    kernels.template = Template(ours)
    try:
        kernel = kernels.take(str(tmp_path))
        try:
            assert kernel.km.provisioner.process.__class__.__name__ == "_Forked"
            assert_ipc_only(kernel)
        finally:
            kernels.done(kernel)
    finally:
        kernels.template.close()
        process.join(10)


def test_kernel_sockets_sees_tcp_listener():
    """The check itself: a TCP listener in a process is reported (so an empty list means none)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        inet, _ = kernel_sockets(os.getpid())
        assert s.getsockname() in [tuple(c.laddr) for c in inet]
