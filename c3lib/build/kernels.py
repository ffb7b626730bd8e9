"""Kernels for notebook runs: a fresh one for every run, on IPC, booted ahead, forked warm.

- **IPC.** On POSIX a kernel listens on Unix sockets in a private folder (which also holds
  its connection file), not on TCP: unreachable from other hosts, no port search, and
  two kernels never race for the same socket names. That holds for every socket the
  kernel opens: ipykernel binds the pipe on which forked children send their output to
  ``tcp://127.0.0.1`` (with no setting to change it), so kernels are started through
  :func:`launch_ipc_kernel`, which binds it beside the channels (``<folder>/k-<port>-pipe``).
- **Confined.** A kernel may write only in its working folder (the run's private folder)
  and its socket folder: :func:`_confine` applies :mod:`c3lib.build.confine` (Landlock)
  before the kernel starts a thread or runs a cell, so neither it nor a process it starts
  can change the outputs, the sources or anything else of the user's.
- **Boot-ahead.** :class:`Kernels` can launch the next run's kernel while the current run
  executes; a kernel still serves exactly one run.
- **Warm forks.** A :class:`Template` is a process that has imported ipykernel, numpy,
  pandas, matplotlib (with the backend a kernel would set), c3lib's topics and kit and
  every module the notebooks import (:func:`notebook_imports`; ipywidgets too, its comm
  targets registered once the kernel's shell exists), has drawn one figure off pyplot
  (fonts and PNG writer warm) and has run no notebook code; for each run it forks a new
  process that becomes the kernel. The run still gets a process of its own, which never
  ran code of another notebook; it skips the interpreter start and those imports (about
  a second of CPU per run, more where Python keeps no bytecode cache, e.g. with
  ``PYTHONDONTWRITEBYTECODE``).
  On Linux only (:data:`c3lib.build.run.WARM_KERNELS`).

Kernels are driven from their thread's event loop (``jupyter_core.utils.run_sync``), the
loop papermill uses too, so a kernel is only used on the thread that launched it.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass

__all__ = [
    "Kernel",
    "Kernels",
    "Template",
    "kernel_manager_class",
    "close_thread_loop",
    "launch_ipc_kernel",
]

log = logging.getLogger("c3lib")

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"  # what ipykernel sets
TEMPLATE_IMPORTS = ["ipykernel.kernelapp", "numpy", "pandas", "matplotlib", "matplotlib.pyplot"]
# What a workbook imports of c3lib: the topics and the workbook kit (over params and the
# reference data). The template also imports every module the notebooks' code cells import
# (:func:`notebook_imports`).
TEMPLATE_PACKAGES = ("topics", "kit")
NOT_IN_TEMPLATE: set[str] = set()
# Modules that hook into the kernel's shell when they are imported under one (ipywidgets
# registers its comm targets): imported in the template, where there is no shell, they
# are hooked in by :func:`_hook_preloaded` once the kernel's shell exists.
SHELL_HOOKS = {"ipywidgets": "register_comm_target"}
HISTORY_IN_MEMORY = "--HistoryManager.hist_file=:memory:"  # as nbclient does
IPYKERNEL_LAUNCHER = ["-m", "ipykernel_launcher"]  # in the python3 kernelspec's argv
IPC_LAUNCHER = ["-m", "c3lib.build.kernels"]  # this module: see launch_ipc_kernel
KERNEL_FOLDER_PREFIX = "c3-kernel-"  # a kernel's private folder: sockets, connection file
# a build's kernels draw each explorer at its settings too (c3lib.kit.explore)
BUILD_KERNEL_ENV = {"C3_STATIC_EXPLORERS": "1"}


def kernel_manager_class(folder: str, template: Template | None = None):
    """A kernel manager class for kernels that keep their sockets in ``folder``.

    With a ``template``, kernels are forked from it instead of started as new programs.
    """
    from jupyter_client.manager import AsyncKernelManager

    if os.name != "posix":
        return AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", os.path.join(folder, "k"))
            super().__init__(**kwargs)

        def format_kernel_cmd(self, extra_arguments=None):
            cmd = super().format_kernel_cmd(extra_arguments)
            if cmd[1:3] == IPYKERNEL_LAUNCHER:  # ipykernel, through our launcher
                cmd[1:3] = IPC_LAUNCHER
            return cmd

        async def _async_pre_start_kernel(self, **kw):
            if template is not None and self.provisioner is None:
                self.kernel_id = self.kernel_id or str(uuid.uuid4())
                self.provisioner = _fork_provisioner_class()(
                    kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
                )
                self.provisioner.template = template
            return await super()._async_pre_start_kernel(**kw)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            # The kernel's own console chatter (e.g. "KeyboardInterrupt caught in kernel" at
            # shutdown) is not the build's output; cell output lands in the notebook.
            kw.setdefault("stdout", subprocess.DEVNULL)
            kw.setdefault("stderr", subprocess.DEVNULL)
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return IPCKernelManager


@dataclass
class Kernel:
    """A launched kernel: its manager, its private folder and its working folder."""

    km: object
    folder: str
    cwd: str


class Kernels:
    """The kernels of one thread's runs: a fresh one for each run, never one used twice.

    With ``boot_next`` set, :meth:`boot` launches the next run's kernel, which starts up
    (in its own process) while the current run executes; :meth:`take` hands it to the
    next run if that run needs the same working folder, and otherwise shuts it down.
    """

    def __init__(self, template: Template | None = None) -> None:
        self.boot_next = False
        self.template = template
        self._spare: Kernel | None = None

    def take(self, cwd: str) -> Kernel:
        spare, self._spare = self._spare, None
        if spare is not None:
            if spare.cwd == cwd and _alive(spare):
                return spare
            self.done(spare)
        return self._launch(cwd)

    def boot(self, cwd: str) -> None:
        if self._spare is None:
            try:
                self._spare = self._launch(cwd)
            except (OSError, RuntimeError) as exc:
                log.warning("could not boot the next kernel ahead: %s", exc)

    def close(self) -> None:
        if self._spare is not None:
            spare, self._spare = self._spare, None
            self.done(spare)

    def _launch(self, cwd: str) -> Kernel:
        from jupyter_core.utils import run_sync

        template = self.template if self.template is not None and self.template.ok else None
        folder = tempfile.mkdtemp(prefix=KERNEL_FOLDER_PREFIX)
        try:
            km = kernel_manager_class(folder, template)(kernel_name="python3")
            km.connection_file = os.path.join(folder, "kernel.json")
            run_sync(km.start_kernel)(
                cwd=cwd, env={**os.environ, **BUILD_KERNEL_ENV}, extra_arguments=[HISTORY_IN_MEMORY]
            )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return Kernel(km, folder, cwd)

    @staticmethod
    def done(kernel: Kernel) -> None:
        """Stop the kernel if it still runs and remove its folder."""
        from jupyter_core.utils import run_sync

        km = kernel.km
        try:
            if run_sync(km.is_alive)():
                run_sync(km.shutdown_kernel)(now=True)  # also cleans up its resources
            elif km.has_kernel:
                run_sync(km.cleanup_resources)()
        except (OSError, RuntimeError) as exc:
            log.warning("kernel cleanup: %s", exc)
        finally:
            shutil.rmtree(kernel.folder, ignore_errors=True)


def _ipc_pipe_iopub_class():
    import zmq
    from ipykernel.iostream import IOPubThread
    from zmq.eventloop.zmqstream import ZMQStream

    class IPCPipeIOPubThread(IOPubThread):
        """ipykernel's IOPub thread, with its pipe from forked children on IPC, not TCP.

        The pipe is bound next to the IOPub socket (its address plus ``-pipe``) when that
        socket is IPC, and to ipykernel's ``tcp://127.0.0.1`` otherwise. Messages on it
        are checked against a random key, as ipykernel does.
        """

        def _setup_pipe_in(self):
            endpoint = self.socket.getsockopt(zmq.LAST_ENDPOINT).decode()
            if not endpoint.startswith("ipc://"):
                return super()._setup_pipe_in()
            self._pipe_uuid = os.urandom(16)
            self._pipe_address = f"{endpoint}-pipe"
            pipe_in = self.socket.context.socket(zmq.PULL)
            pipe_in.linger = 0
            try:
                pipe_in.bind(self._pipe_address)
            except zmq.ZMQError as exc:
                log.warning("no output from forked children: %s: %s", self._pipe_address, exc)
                self._pipe_flag = False
                pipe_in.close()
                return None
            self._pipe_in = ZMQStream(pipe_in, self.io_loop)
            self._pipe_in.on_recv(self._handle_pipe_msg)
            return None

        def _setup_pipe_out(self):
            address = getattr(self, "_pipe_address", None)
            if address is None:
                return super()._setup_pipe_out()
            ctx = zmq.Context()  # a new one: this runs in a forked child
            pipe_out = ctx.socket(zmq.PUSH)
            pipe_out.linger = 3000  # as ipykernel's: wait up to 3 s to send, then drop
            pipe_out.connect(address)
            return ctx, pipe_out

    return IPCPipeIOPubThread


def launch_ipc_kernel() -> None:
    """Run ipykernel (as ``python -m ipykernel_launcher`` would) with its output pipe on IPC.

    ipykernel's app makes its :class:`~ipykernel.iostream.IOPubThread` by that name from
    its own module; in this process (the kernel's) that name is our subclass.
    """
    from ipykernel import kernelapp

    _confine()
    kernelapp.IOPubThread = _ipc_pipe_iopub_class()
    app = kernelapp.IPKernelApp.instance()  # as launch_new_instance, with a hook between
    app.initialize()
    _hook_preloaded()
    app.start()


def _connection_folder(argv: list[str]) -> str | None:
    """The folder of the connection file given on a kernel command line (``-f FILE``)."""
    for i, arg in enumerate(argv):
        if arg in ("-f", "--f") and i + 1 < len(argv):
            return os.path.dirname(os.path.abspath(argv[i + 1]))
        if arg.startswith(("--f=", "-f=")):
            return os.path.dirname(os.path.abspath(arg.split("=", 1)[1]))
    return None


def _confine() -> bool:
    """Confine this kernel's writes to its working folder and its socket folder.

    Called before the kernel starts a thread or runs any code (:mod:`c3lib.build.confine`);
    the kernel's temporary files then go to its working folder too. A kernel not
    launched by :class:`Kernels` (no socket folder of its making) is left as it is.
    """
    from c3lib.build.confine import confine_writes

    cwd = os.getcwd()
    sockets = _connection_folder(sys.argv)
    if sockets is None or not os.path.basename(sockets).startswith(KERNEL_FOLDER_PREFIX):
        return False  # not a kernel of :class:`Kernels`
    if not confine_writes([cwd, sockets]):
        return False
    # IPython's profile (made on a kernel's first start, with its ``db`` folder) in the
    # kernel's own folder: the user's ``~/.ipython`` may not exist and cannot be made now
    os.environ["IPYTHONDIR"] = os.path.join(sockets, "ipython")
    os.environ["TMPDIR"] = cwd  # for the processes a notebook starts
    tempfile.tempdir = cwd
    return True


def _hook_preloaded() -> None:
    """Give the kernel's new shell what :data:`SHELL_HOOKS`' modules do at import under one.

    Only for those already imported (from a template, where there was no shell): one
    the notebook imports itself hooks in as usual.
    """
    for name, hook in SHELL_HOOKS.items():
        module = sys.modules.get(name)
        if module is not None:
            getattr(module, hook)()


def _alive(kernel: Kernel) -> bool:
    from jupyter_core.utils import run_sync

    return bool(run_sync(kernel.km.is_alive)())


_thread = threading.local()


def thread_kernels() -> Kernels:
    """This thread's :class:`Kernels`."""
    if not hasattr(_thread, "kernels"):
        _thread.kernels = Kernels()
    return _thread.kernels


def close_thread_loop() -> None:
    """Close the event loop papermill and the kernels used on this thread, if any.

    ``jupyter_core.utils.run_sync`` keeps one loop per thread and makes it the thread's
    current loop. A thread that runs a notebook now and then (a Dask worker thread, or a
    program calling :func:`c3lib.build.batch.run`) should close it afterwards, so that it
    neither leaks nor gets picked up by other asyncio code; a later run on the same thread
    simply gets a new one.
    """
    import asyncio
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            return
    if not loop.is_running() and not loop.is_closed():
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        asyncio.set_event_loop(None)  # nobody else (e.g. Dask in this thread) picks it up


# --- warm forks ---------------------------------------------------------------------------


class Template:
    """The client side of a template process: ask it to fork kernels, and about them.

    ``conn`` is a :mod:`multiprocessing` connection to a process running
    :func:`template_main`. If the template stops answering, ``ok`` turns false and
    kernels are started as new programs again.
    """

    def __init__(self, conn) -> None:
        self.conn = conn
        self.ok = True
        self._lock = threading.Lock()

    def call(self, *request):
        with self._lock:
            try:
                self.conn.send(request)
                return self.conn.recv()
            except (EOFError, OSError) as exc:
                self.ok = False
                raise OSError(f"kernel template process gone: {exc}") from None

    def close(self) -> None:
        self.ok = False
        self.conn.close()


def c3lib_modules() -> list[str]:
    """The c3lib modules a kernel template imports: :data:`TEMPLATE_PACKAGES`' modules."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    names = []
    for package in TEMPLATE_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.append(".".join(("c3lib", *parts)))
    return [n for n in names if n not in NOT_IN_TEMPLATE]


def notebook_imports(folder: str | os.PathLike | None = None) -> list[str]:
    """The modules the notebooks' code cells import (absolute imports), sorted.

    ``import a.b`` gives ``a.b``; ``from a import b`` gives ``a`` and ``a.b`` (which
    :func:`_preload` imports only where ``b`` is a submodule). A cell that does not parse
    (e.g. IPython magics) is skipped.

    Parameters
    ----------
    folder : path-like, optional
        Where the notebooks are (default ``$C3_NOTEBOOKS`` or the repository's ``notebooks``).
    """
    import ast
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "notebooks"
    folder = Path(folder or os.environ.get("C3_NOTEBOOKS") or root)
    names: set[str] = set()
    for path in sorted(folder.glob("*.ipynb")):
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            continue
        for cell in cells:
            if cell.get("cell_type") != "code":
                continue
            source = cell.get("source", "")
            try:
                tree = ast.parse("".join(source) if isinstance(source, list) else source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(a.name for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module)
                    names.update(f"{node.module}.{a.name}" for a in node.names if a.name != "*")
    return sorted(names)


def _preload(name: str) -> None:
    """Import ``name``; a ``package.attribute`` that is no submodule is left alone."""
    import importlib

    parent, _, attr = name.rpartition(".")
    if parent:
        package = importlib.import_module(parent)
        if hasattr(package, attr) or not hasattr(package, "__path__"):
            return  # an attribute (e.g. ``IPython.display.Markdown``), or a loaded submodule
    importlib.import_module(name)


def _warm_matplotlib() -> None:
    """Draw and save one small figure off pyplot: fonts, text layout, Agg and PNG writer.

    The kernel's first figure then finds the font files opened and their glyph caches,
    the tick and legend machinery and the PNG encoder loaded. No pyplot figure is made,
    so pyplot's state (figure numbers, the backend not yet switched) stays as it was.
    """
    import io

    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 2.5), dpi=72)
    left, right = fig.subplots(1, 2)
    left.bar(["a", "b"], [1.0, 2.0], label="bar")
    left.plot([0, 1], [1.5, 0.5], marker="o", label="line")
    left.legend(fontsize=8, frameon=False)
    left.set_title("Warm-up [t/yr]", fontsize=10)
    left.grid(axis="y", alpha=0.3)
    right.barh([0, 1], [2.0, 1.0])
    right.fill_between([0, 1], [0, 1], [1, 2], alpha=0.3)
    right.set_xlabel("year")
    right.text(0.5, 0.5, "µg/m³ – CO₂", fontsize=7)
    fig.suptitle("warm")
    fig.savefig(io.BytesIO(), format="png", dpi=72, bbox_inches="tight")


def template_main(conn) -> None:
    """Run a template process: import what kernels need, then fork one per request.

    Requests: ``("fork", cmd, env, cwd)`` answers the new kernel's pid; ``("poll", pid)``
    answers its exit code or None. A child is reaped only when a poll finds it ended,
    so its pid is not reused while its kernel manager may still signal it. The template
    ends when its worker closes the connection.
    """
    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)  # as ipykernel would, before import
    for name in TEMPLATE_IMPORTS + c3lib_modules() + notebook_imports():
        try:
            _preload(name)
        except Exception as exc:  # noqa: BLE001 - a module the kernel will import itself
            log.warning("kernel template: could not import %s: %s", name, exc)
    try:
        _warm_matplotlib()
    except Exception as exc:  # noqa: BLE001 - only a warm-up: the kernel draws as usual
        log.warning("kernel template: matplotlib warm-up failed: %s", exc)
    import matplotlib

    if matplotlib.rcParams._get("backend") != os.environ["MPLBACKEND"]:
        # imported before the variable was set (e.g. in the fork server): as if it had been
        matplotlib.rcParams["backend"] = os.environ["MPLBACKEND"]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the worker to handle
    while True:
        try:
            op, *args = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            break
        if op == "fork":
            pid = os.fork()
            if pid == 0:
                _become_kernel(conn, *args)
            conn.send(pid)
        elif op == "poll":
            conn.send(_reap(args[0]))
    conn.close()


def _reap(pid: int) -> int | None:
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return -1  # already reaped
    if done == 0:
        return None
    return os.waitstatus_to_exitcode(status)


def _become_kernel(conn, cmd: list[str], env: dict[str, str], cwd: str) -> None:
    """In a forked child: turn into ``python -m c3lib.build.kernels ARGS`` and never return."""
    code = 1
    try:
        conn.close()
        os.setsid()  # its own process group, as jupyter_client starts kernels
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for sig in (signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        # nothing of the template's (e.g. the fork server's keep-alive pipe), as close_fds
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        import numpy

        # the legacy global generator: reseed it, as a new process would have its own state
        numpy.random.seed()  # noqa: NPY002
        # The kernel's parent poller then ends it with the template (which ends with its
        # worker), as a started kernel ends with the process that started it. (ipykernel
        # read JPY_PARENT_PID when the template imported it, so it goes on the command line.)
        parent = f"--IPKernelApp.parent_handle={os.getppid()}"
        os.environ["JPY_PARENT_PID"] = str(os.getppid())
        sys.argv = ["ipykernel_launcher", *cmd[3:], parent]
        sys.path[0] = cwd  # as for ``python -m ipykernel_launcher`` started in cwd
        launch_ipc_kernel()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001 - a kernel that cannot start just exits
        code = 1
    finally:
        os._exit(code)


def _is_ipykernel(cmd: list[str]) -> bool:
    return len(cmd) >= 3 and cmd[1:3] in (IPC_LAUNCHER, IPYKERNEL_LAUNCHER)


class _Forked:
    """The part of :class:`subprocess.Popen` jupyter_client uses, for a forked kernel."""

    stdin = stdout = stderr = None

    def __init__(self, template: Template, pid: int) -> None:
        self.template = template
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                self.returncode = self.template.call("poll", self.pid)
            except OSError:
                self.returncode = -1  # the template ended, and its children with it
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("kernel", timeout)
            time.sleep(0.05)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


_fork_provisioner = None


def _fork_provisioner_class():
    global _fork_provisioner
    if _fork_provisioner is None:
        from jupyter_client.provisioning import LocalProvisioner

        class ForkProvisioner(LocalProvisioner):
            """A local provisioner whose kernels are forked from a :class:`Template`."""

            template: Template | None = None

            async def send_signal(self, signum: int) -> None:
                if not isinstance(self.process, _Forked):
                    return await super().send_signal(signum)
                # only while the kernel is unreaped, so its pid (and group) is still its own
                if self.process.poll() is None:
                    try:
                        os.killpg(self.pgid, signum)
                    except ProcessLookupError:
                        pass

            async def launch_kernel(self, cmd, **kwargs):
                if not (self.template and self.template.ok and _is_ipykernel(cmd)):
                    return await super().launch_kernel(cmd, **kwargs)
                env = dict(kwargs.get("env") or os.environ)
                cwd = str(kwargs.get("cwd") or os.getcwd())
                pid = self.template.call("fork", cmd, env, cwd)
                self.process = _Forked(self.template, pid)
                self.pid = self.pgid = pid
                self.cwd = cwd
                return self.connection_info

        _fork_provisioner = ForkProvisioner
    return _fork_provisioner


if __name__ == "__main__":  # the kernel command of kernel_manager_class's managers
    if sys.path and (sys.path[0] == "" or os.path.abspath(sys.path[0]) == os.getcwd()):
        del sys.path[0]  # as ipykernel_launcher: IPython puts the working folder back
    launch_ipc_kernel()
