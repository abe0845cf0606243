"""The fork server of a build ("zygote"): the notebooks' imports done once, a fresh kernel forked per notebook.

Every executed notebook of the site used to pay a new Python process and the import of the analysis
stack (pandas, matplotlib, lifelines, statsmodels, myst-nb, the package: 3-4 s of CPU) before its
own code ran. The zygote is one process per build that imports that stack once (:data:`PRELOAD`;
no thread, no ZMQ context, no event loop is created by it), then waits on a Unix socket. For each
notebook, :func:`fork_kernel` asks it for a kernel: it forks a child that becomes a real ipykernel
(``IPKernelApp`` on the connection file jupyter_client wrote), in the notebook's folder, with the
environment jupyter_client gave it, in a session of its own. papermill drives that kernel exactly as
a freshly started one (:mod:`ixathaldex.site.kernels`).

Isolation holds by construction: every kernel is forked from the same process, which has imported
modules and never run a notebook's code, so nothing a notebook does (its variables, matplotlib's
rcParams, the seaborn theme, the package's caches) can be seen by the next one.

Clean-up: the zygote stops when its standard input closes (the build ended, failed, or was killed),
on SIGTERM and on SIGINT; it then kills every kernel it forked. A kernel exits when the zygote
does (ipykernel's parent poller, ``JPY_PARENT_PID``, and Linux's parent-death signal).

This module is imported by the build (:class:`Zygote`, :func:`fork_kernel`: the standard library
only); the preload happens in the zygote process alone (``python -m ixathaldex.site.zygote``).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

#: ``IXATHALDEX_KERNELS=fresh`` turns the fork server off: papermill starts a new kernel process per notebook
ENV_VAR = "IXATHALDEX_KERNELS"
#: matplotlib's backend in a kernel (as ipykernel sets it), set before the zygote imports matplotlib
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
#: imported once by the zygote: what the chapters and post pages import (a module missing here is
#: imported by the notebook itself, as in a fresh kernel). Only modules without side effects on
#: import: a notebook that does not import one of them sees the same state as in a fresh kernel.
#: Of statsmodels, the two modules the package uses (``statsmodels.api``: 430 more, 0.3 s before the
#: first kernel); what every page imports as it runs (glue, Styler, SVG backend, history): ~8 MiB a kernel.
PRELOAD = (
    "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "IPython.display",
    "numpy", "pandas", "scipy.stats", "scipy.optimize", "matplotlib.pyplot", "seaborn", "lifelines",
    "lifelines.statistics", "statsmodels.duration.survfunc", "statsmodels.stats.proportion", "myst_nb",
    "myst_nb.ext.glue", "pandas.io.formats.style", "matplotlib.backends.backend_svg", "sqlite3",
    "ixathaldex.data.snapshot", "ixathaldex.analysis.populations", "ixathaldex.analysis.response",
    "ixathaldex.analysis.survival", "ixathaldex.analysis.cox", "ixathaldex.analysis.safety",
    "ixathaldex.analysis.definitions", "ixathaldex.report.tables", "ixathaldex.report.figures",
    "ixathaldex.report.figure_publish", "ixathaldex.report.figures_changes", "ixathaldex.claims.values",
    "ixathaldex.claims.values_survival", "ixathaldex.claims.notice", "ixathaldex.claims.registry",
    "ixathaldex.claims.review", "ixathaldex.claims.review_html", "ixathaldex.claims.review_digest_html",
    "ixathaldex.claims.review_summary", "ixathaldex.claims.changes", "ixathaldex.claims.ard",
    "ixathaldex.claims.consistency", "ixathaldex.site.verdicts",
)
#: the kernel command the zygote can stand for: ``<this python> -m ipykernel_launcher ...``
LAUNCHER = ("-m", "ipykernel_launcher")
#: the commands the zygote can also run in a forked child (console script -> its entry point):
#: ``jupyter-book build`` of a version, whose Sphinx then finds the analysis stack already imported,
#: and the build's snapshot steps (validation, typed cache), whose memory then leaves with the child
COMMANDS = {"jupyter-book": "jupyter_book.cli.main:main", "ixathaldex-snapshots": "ixathaldex.site.snapshots:main"}
#: what the zygote can load into itself before it forks kernels, so that every kernel forked
#: afterwards shares one copy-on-write copy (the snapshots the chapters load): name -> the function
#: that loads it and the one that drops it once no kernel is to be forked
HOLDERS = {"snapshots": ("ixathaldex.data.snapshot:hold_snapshots", "ixathaldex.data.snapshot:release_snapshots")}
#: ``IXATHALDEX_SPHINX=subprocess`` runs jupyter-book as a plain subprocess even with the fork server on
SPHINX_ENV_VAR = "IXATHALDEX_SPHINX"


def fork_server_enabled() -> bool:
    """False when ``IXATHALDEX_KERNELS=fresh`` asks for plain papermill kernels."""
    return os.environ.get(ENV_VAR, "").strip().lower() not in {"fresh", "0", "off", "no"}


def sphinx_fork_enabled() -> bool:
    """False when ``IXATHALDEX_SPHINX=subprocess`` (or the fork server is off): jupyter-book runs
    as a subprocess of the build."""
    return fork_server_enabled() and os.environ.get(SPHINX_ENV_VAR, "").strip().lower() not in {
        "subprocess", "0", "off", "no"}


def can_stand_for(cmd: list[str]) -> bool:
    """True if ``cmd`` starts an ipykernel with this interpreter (what a forked kernel is)."""
    if len(cmd) < 3 or tuple(cmd[1:3]) != LAUNCHER:
        return False
    try:
        return os.path.samefile(cmd[0], sys.executable)
    except OSError:
        return False


# ---- the build's side ----------------------------------------------------------------------------

class Zygote:
    """The fork server of one build: started on first use (:attr:`address`), stopped by :meth:`close`
    (also as a context manager); its log is kept for the error of a failed start."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.folder: Path | None = None
        self.lock = threading.Lock()  # the versions' threads may ask for it at once
        self.users = 0

    @property
    def address(self) -> str:
        """The Unix socket of the running zygote (started now if it is not running)."""
        return self.start()

    def start(self) -> str:
        """Start the zygote if it is not running (its imports then run beside the caller's work);
        the address of its socket."""
        with self.lock:
            return self._start()

    def _start(self) -> str:
        if self.proc is None:
            self.folder = Path(tempfile.mkdtemp(prefix="ixz-"))  # short: a socket path has 107 bytes at most
            log = open(self.folder / "log", "wb")
            try:
                self.proc = subprocess.Popen([sys.executable, "-m", "ixathaldex.site.zygote", str(self.folder / "s")],
                                             stdin=subprocess.PIPE, stdout=log, stderr=log, close_fds=True)
            finally:
                log.close()
        return str(self.folder / "s")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def expect(self, users: int) -> None:
        """``users`` more steps fork from it (the versions' Sphinx builds); the last :meth:`done` stops it."""
        with self.lock:
            self.users += users

    def done(self) -> None:
        """One user of :meth:`expect` is done; the last one stops the zygote (its memory goes before the PDFs)."""
        with self.lock:
            self.users -= 1
            last = self.users <= 0
        if last:
            self.close()

    def log(self) -> str:
        """What the zygote printed (its errors), "" if nothing."""
        path = self.folder / "log" if self.folder else None
        return path.read_text(errors="replace") if path and path.is_file() else ""

    def close(self, timeout: float = 10.0) -> None:
        """Stop the zygote and every kernel it forked; always leaves no process behind."""
        if self.proc is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> "Zygote":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def fork_kernel(address: str, cmd: list[str], cwd: str, env: dict, timeout: float = 600.0) -> int:
    """Ask the zygote at ``address`` for a kernel running ``cmd`` (an ipykernel command line) in
    ``cwd`` with ``env``; the kernel's pid. Raises OSError when the zygote cannot fork one."""
    answer = ask(address, {"argv": list(cmd), "cwd": str(cwd), "env": dict(env)}, timeout)
    if "pid" not in answer:
        raise OSError(f"the kernel fork server gave no kernel: {answer.get('error', 'no answer')}")
    return int(answer["pid"])


def run_command(address: str, command: str, args: list[str], cwd: str, env: dict, folder: Path) -> tuple[int, str, str]:
    """Run the console script ``command`` (one of :data:`COMMANDS`) with ``args`` in a child forked
    by the zygote at ``address``, in ``cwd`` with ``env``, as ``subprocess.run(..., capture_output=True,
    text=True)`` would: ``(exit code, stdout, stderr)``. Its output goes through files in ``folder``.
    A child that dies without an exit code of its own (killed) gives -9. Raises OSError when the
    zygote cannot fork it."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {name: str(folder / name) for name in ("stdout", "stderr", "status")}
    Path(files["status"]).unlink(missing_ok=True)
    answer = ask(address, {"command": command, "args": list(args), "cwd": str(cwd), "env": dict(env), "files": files})
    if "pid" not in answer:
        raise OSError(f"the fork server ran no {command}: {answer.get('error', 'no answer')}")
    while is_running(int(answer["pid"])):
        time.sleep(0.02)
    status = Path(files["status"])
    code = int(status.read_text()) if status.is_file() and status.read_text().strip() else -9
    return code, *(Path(files[k]).read_text(errors="replace") if Path(files[k]).is_file() else ""
                   for k in ("stdout", "stderr"))


def hold(address: str, name: str, args: list, timeout: float = 600.0, release: bool = False) -> list:
    """Ask the zygote at ``address`` to load :data:`HOLDERS` ``[name]`` (called with ``args``) into
    itself, for the kernels it forks afterwards (with ``release``: to drop it); what it answered (the
    function's result). Raises OSError when it could not."""
    answer = ask(address, {"hold": name, "args": list(args), "release": release}, timeout)
    if "held" not in answer:
        raise OSError(f"the kernel fork server held no {name}: {answer.get('error', 'no answer')}")
    return answer["held"]


def ask(address: str, request: dict, timeout: float = 600.0) -> dict:
    """Send ``request`` to the zygote at ``address`` (one JSON line; it answers once its imports are
    done) and return its answer ({} when it closed without one)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        connect(conn, address, min(timeout, CONNECT_SECONDS))
        conn.sendall(json.dumps(request).encode() + b"\n")
        return json.loads(read_line(conn) or b"{}")


#: seconds a just started zygote may take to bind its socket (a Python start on a loaded machine)
CONNECT_SECONDS = 30.0


def read_line(conn: socket.socket) -> bytes:
    """The bytes of one newline-terminated message (both sides speak one JSON line each way); what
    arrived before the peer closed, if it closed first."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def connect(conn: socket.socket, address: str, seconds: float) -> None:
    """Connect ``conn`` to ``address``, waiting up to ``seconds`` for a just started zygote to bind it."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            conn.connect(address)
            return
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def is_running(pid: int) -> bool:
    """True while process ``pid`` exists (the zygote reaps its kernels at once: no zombie lingers)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---- the zygote's side ---------------------------------------------------------------------------

def preload() -> list[str]:
    """Import :data:`PRELOAD` (matplotlib's backend set first); the modules that failed to import."""
    import importlib

    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    failed = []
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - the notebook that imports it shows the error itself
            failed.append(f"{name}: {type(exc).__name__}: {exc}")
    return failed


class Server:
    """The zygote's loop: accept a request, fork a kernel, answer its pid; reap kernels as they exit."""

    def __init__(self, address: str):
        self.address = address
        self.kernels: set[int] = set()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(address)  # bound before the imports: early requests wait in the backlog
        self.listener.listen(64)
        self.stopping = False

    def reap(self, *_):
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.kernels.discard(pid)

    def stop(self, *_):
        self.stopping = True

    def serve(self) -> None:
        """Until stdin closes or a stop signal: answer requests. Then kill every kernel left."""
        signal.signal(signal.SIGCHLD, self.reap)
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        try:
            while not self.stopping:
                try:
                    ready, _, _ = select.select([self.listener, sys.stdin], [], [], 1.0)
                except InterruptedError:
                    continue
                if sys.stdin in ready and not os.read(sys.stdin.fileno(), 4096):
                    break
                if self.listener in ready:
                    self.answer()
        finally:
            self.kill_kernels()
            self.listener.close()
            Path(self.address).unlink(missing_ok=True)

    def answer(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            try:
                conn.settimeout(30)
                request = json.loads(read_line(conn))
                if "hold" in request:
                    reply = {"held": self.hold(request["hold"], request.get("args", []), bool(request.get("release")))}
                else:
                    if "command" in request:
                        if request["command"] not in COMMANDS:
                            raise ValueError(f"not a command the fork server runs: {request['command']!r}")
                    elif not can_stand_for(request["argv"]):
                        raise ValueError(f"not an ipykernel command of {sys.executable}: {request['argv'][:3]}")
                    reply = {"pid": self.fork(request)}
            except Exception as exc:  # noqa: BLE001 - answered to the client, which raises it
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            try:
                conn.sendall(json.dumps(reply).encode() + b"\n")
            except OSError:
                pass

    def hold(self, name: str, args: list, release: bool = False):
        """Load :data:`HOLDERS` ``[name]`` into this process (before its kernels), or drop it (``release``)."""
        import gc
        import importlib

        if name not in HOLDERS:
            raise ValueError(f"not something the fork server holds: {name!r}")
        module, _, function = HOLDERS[name][1 if release else 0].partition(":")
        result = getattr(importlib.import_module(module), function)(*args)
        gc.collect()
        gc.freeze()  # what it loaded stays shared with the kernels, as the imports do
        return result

    def fork(self, request: dict) -> int:
        if threading.active_count() != 1:  # forking a process with threads is unsafe (after a hold, too)
            raise RuntimeError(f"{threading.active_count()} threads in the fork server; not forking")
        pid = os.fork()
        if pid == 0:  # the kernel: never returns into the server's loop
            code = 1
            try:
                if "command" in request:
                    code = become_command(request, self.listener)
                else:
                    code = become_kernel(request["argv"], request["cwd"], request["env"], self.listener)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 0
            except BaseException:  # noqa: BLE001
                import traceback

                traceback.print_exc()
            finally:
                os._exit(code)
        self.kernels.add(pid)
        return pid

    def kill_kernels(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in list(self.kernels):
                try:
                    os.killpg(pid, sig)
                except OSError:
                    self.kernels.discard(pid)
            deadline = time.monotonic() + 2.0
            while self.kernels and time.monotonic() < deadline:
                self.reap()
                time.sleep(0.02)
            if not self.kernels:
                return


def die_with_parent() -> None:
    """Linux: this process gets SIGKILL when its parent exits (a no-op elsewhere)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def become_child(cwd: str, env: dict, listener: socket.socket, stdout: str = os.devnull,
                 stderr: str = os.devnull) -> None:
    """In a forked child: a session of its own, default signal handlers, no socket of the server,
    standard streams to /dev/null (or the files named), ``cwd`` and ``env``."""
    os.setsid()  # its own session and process group, as jupyter_client starts a kernel
    die_with_parent()
    for sig in (signal.SIGCHLD, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    listener.close()
    for fd, path in ((0, os.devnull), (1, stdout), (2, stderr)):
        opened = os.open(path, os.O_RDWR if fd == 0 else os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(opened, fd)
        os.close(opened)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)


def become_command(request: dict, listener: socket.socket) -> int:
    """In the forked child: run a console script of :data:`COMMANDS` as its own process would
    (``sys.argv``, ``PYTHONWARNINGS``, output to the request's files), then write its exit code."""
    import builtins
    import importlib
    import traceback
    import warnings

    files = request["files"]
    become_child(request["cwd"], request["env"], listener, files["stdout"], files["stderr"])
    for option in filter(None, request["env"].get("PYTHONWARNINGS", "").split(",")):  # "action::Category"
        action, _, rest = option.partition(":")
        category = getattr(builtins, rest.strip(":").split(":")[0] or "Warning", Warning)
        warnings.filterwarnings(action, category=category if isinstance(category, type) else Warning)
    module, _, name = COMMANDS[request["command"]].partition(":")
    sys.argv = [request["command"], *request["args"]]
    code = 0
    try:
        getattr(importlib.import_module(module), name)(args=request["args"], prog_name=request["command"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception:  # noqa: BLE001 - as an uncaught exception ends a process: traceback, exit code 1
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    Path(files["status"]).write_text(str(code))
    return code


def become_kernel(argv: list[str], cwd: str, env: dict, listener: socket.socket) -> int:
    """In the forked child: the state of a freshly started kernel process, then ipykernel's app."""
    become_child(cwd, env, listener)
    os.environ["JPY_PARENT_PID"] = str(os.getppid())  # ipykernel exits when the zygote does
    if "numpy" in sys.modules:  # a new process draws a new seed: so does each forked kernel
        sys.modules["numpy"].random.seed()
    import ipykernel_launcher
    from ipykernel.kernelapp import IPKernelApp

    sys.argv = [ipykernel_launcher.__file__, *argv[3:]]
    IPKernelApp.launch_instance(argv=argv[3:])
    import atexit

    atexit._run_exitfuncs()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m ixathaldex.site.zygote SOCKET", file=sys.stderr)
        return 2
    die_with_parent()
    # as ipykernel_launcher: the launching folder is not on the path (IPython puts the kernel's back)
    if sys.path and (sys.path[0] in ("", os.getcwd())):
        del sys.path[0]
    server = Server(argv[0])
    for problem in preload():
        print(f"zygote: not preloaded: {problem}", file=sys.stderr, flush=True)
    import gc

    if threading.active_count() != 1:  # forking a process with threads is unsafe: refuse every request
        print(f"zygote: {threading.active_count()} threads after the imports; not forking", file=sys.stderr)
        return 1
    gc.collect()
    gc.freeze()  # the imported objects stay shared with the kernels (copy-on-write pages untouched by gc)
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
