"""ProcessSandbox: the runner on the host, in Linux namespaces, for machines without Docker.

A session starts the runner (``/usr/bin/python3 -I /opt/sstar/runner.py``) once, confined
with util-linux's ``unshare``/``setpriv`` and ``mount`` (``confine.py``); that runner serves
its ``run()`` calls. It gets fresh mount, network, pid, ipc, uts and cgroup namespaces, a
root file system that holds only read-only /usr and /etc (no /home, /root, /work, no host
/tmp), private tmpfs mounts of bounded size for the tests' directories and I/O and for
/dev/shm, the IPC namespace's limits of ``ipc_sysctls``, and only CAP_SETUID/CAP_SETGID.
A parent-death signal ends the namespaces, with every test in them, if this process dies,
even by SIGKILL. When the cgroup v1 pids and memory controllers are mounted, the runner
also sits in a pids and a memory cgroup of the session's (a second fence against fork and
memory bombs), removed on close.

It needs root: the runner gives each parallel slot its own uid, and without root an
unprivileged user namespace maps only the caller's own uid (see ``process_backend_problem``).
"""

from __future__ import annotations

import hashlib
import os
import select
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import IO, Iterator

from sstar.errors import SandboxUnavailable
from sstar.sandbox.base import Limits
from sstar.sandbox.confine import CONFINEMENT, TOOL_PATH, confine_command, missing_tools, namespace_problem
from sstar.sandbox.image import BUILD_COMMAND, runner_path
from sstar.sandbox.protocol import (
    default_parallel,
    RunnerSandbox,
    SandboxCrashed,
    Sizing,
    split_lines,
    uid_base,
)

CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_PREFIX = "sstar-"
HOST_PYTHON = "/usr/bin/python3"
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class CgroupV1:
    """A pids + memory cgroup (v1) for one session; ``None`` from ``create`` where not possible."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dirs = {ctl: CGROUP_ROOT / ctl / name for ctl in ("pids", "memory")}

    @classmethod
    def create(cls) -> "CgroupV1 | None":
        if os.geteuid() != 0 or not all((CGROUP_ROOT / ctl / "cgroup.procs").exists() for ctl in ("pids", "memory")):
            return None
        reap_stale_cgroups()
        group = cls(f"{CGROUP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}")
        try:
            for path in group.dirs.values():
                path.mkdir()
        except OSError:
            group.remove()
            return None
        return group

    def configure(self, pids: int, memory_mb: int) -> None:
        (self.dirs["pids"] / "pids.max").write_text(str(pids))
        (self.dirs["memory"] / "memory.limit_in_bytes").write_text(str(memory_mb * 1024 * 1024))

    def procs_files(self) -> list[str]:
        return [str(path / "cgroup.procs") for path in self.dirs.values()]

    def remove(self) -> None:
        for path in self.dirs.values():
            _remove_cgroup(path)


def _remove_cgroup(path: Path) -> None:
    """rmdir a cgroup, first killing what is still in it (a run killed from outside)."""
    if not path.exists():
        return
    for _ in range(50):
        try:
            pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
        except OSError:
            pids = []
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


def reap_stale_cgroups() -> list[str]:
    """Remove the cgroups of sstar sessions whose process is gone; returns their names."""
    removed = []
    for ctl in ("pids", "memory"):
        base = CGROUP_ROOT / ctl
        if not base.is_dir():
            continue
        for path in base.glob(f"{CGROUP_PREFIX}*"):
            try:
                owner = int(path.name[len(CGROUP_PREFIX) :].split("-")[0])
            except ValueError:
                continue
            if not _pid_alive(owner):
                _remove_cgroup(path)
                removed.append(f"{ctl}/{path.name}")
    return removed


def process_backend_problem(python: str = HOST_PYTHON) -> tuple[str, str] | None:
    """What keeps this backend from working here and what to do about it, or None."""
    if os.name != "posix" or not Path("/proc/self/status").exists():
        return "the process sandbox needs Linux", "use the Docker backend (--sandbox docker)"
    if os.geteuid() != 0:
        # An unprivileged user namespace maps one uid (ours) only, without newuidmap and
        # /etc/subuid: tests could not get a uid of their own apart from the runner's.
        return (
            "the process sandbox must run as root (it gives every parallel test its own uid)",
            f"run sstar as root, or install Docker and run `{BUILD_COMMAND}`",
        )
    missing = missing_tools()
    if missing:
        return (
            f"the process sandbox needs {', '.join(missing)}, missing here",
            "apt-get install util-linux mount coreutils",
        )
    if not os.access(python, os.X_OK):
        return f"the process sandbox runs programs with {python}, which is missing", "apt-get install python3"
    refused = namespace_problem()
    if refused is not None:
        return (
            f"the process sandbox cannot create namespaces here (unshare: {refused})",
            f"run sstar as root on the host, not in a restricted container, or install Docker and run `{BUILD_COMMAND}`",
        )
    return None


def check_process_backend(python: str = HOST_PYTHON) -> None:
    """Raise SandboxUnavailable, saying what to do, where this backend cannot work."""
    problem = process_backend_problem(python)
    if problem is not None:
        raise SandboxUnavailable(f"{problem[0]}: {problem[1]}")



def _compiler_stamp(path: str = "/usr/bin/g++") -> str:
    """Which g++ the runner compiles with (it runs CPP_COMMAND's path), as the file it resolves
    to, its size and mtime: a package upgrade replaces it. Empty when there is none."""
    try:
        real = os.path.realpath(path)
        st = os.stat(real)
    except OSError:
        return ""
    return f"{real}:{st.st_size}:{st.st_mtime_ns}"

class ProcessSandbox(RunnerSandbox):
    """Runs programs with the host's /usr/bin/python3 in namespaces of its own (``confine.py``).

    One runner (in one set of namespaces) serves the session's runs one after the other;
    a run that needs bigger tmpfs mounts than it has gets a fresh one. ``run()`` calls from
    several threads are served one at a time.
    """

    name = "process"
    thread_safe = True  # run() may be called from several threads; runs are served in turn

    def __init__(self, *, parallel: int | None = None, python: str = HOST_PYTHON, use_cgroup: bool = True) -> None:
        check_process_backend(python)
        self.parallel = parallel or default_parallel()
        self.python = python
        self.runner = str(runner_path())
        self.uid_base = uid_base()
        self.cgroup = CgroupV1.create() if use_cgroup else None
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._lines: Iterator[bytes] | None = None
        self._errors: IO[bytes] | None = None
        self._keeper: tuple[threading.Thread, threading.Event] | None = None  # the parent thread of unshare
        self._size: Sizing | None = None
        self._patience = 30.0
        self._closed = False

    @property
    def slot_uids(self) -> list[int]:
        """The uids tests run under (one per parallel slot)."""
        return [self.uid_base + i for i in range(self.parallel)]

    @property
    def identity(self) -> str:
        # The confinement is part of what a program sees (/dev/shm, IPC limits...): a change
        # to it must not reuse cached results.
        # So is the host's compiler: a g++ upgrade must not reuse verdicts of the old binaries.
        digest = hashlib.sha256(Path(self.runner).read_bytes() + CONFINEMENT.encode() + _compiler_stamp().encode()).hexdigest()[:12]
        return f"process:{os.path.realpath(self.python)}:{digest}"

    where = "process sandbox"

    def _fit(self, need: Sizing) -> Sizing:
        if self._size is not None and not self._size.covers(need):
            need = need.union(self._size)  # grow, never shrink
            self._stop_runner()
        return need

    def _send(self, request: bytes, need: Sizing, limits: Limits) -> Iterator[bytes]:
        if self._proc is None:
            self._start_runner(need)
        assert self._proc is not None and self._proc.stdin is not None and self._lines is not None
        if self.cgroup is not None and self._size is not None:
            self.cgroup.configure(self._size.pids, self._size.memory_mb)
        self._patience = max(30.0, 3 * limits.time_s + 10)
        self._proc.stdin.write(request)
        self._proc.stdin.flush()
        return self._lines

    def _stop(self) -> None:
        # Ctrl-C included: killing unshare ends the namespaces and every test in them.
        self._stop_runner()

    def _runner_detail(self) -> str:
        return self._runner_stderr()

    def _start_runner(self, size: Sizing) -> None:
        cmd = confine_command(size, self.runner, self.python, ENV)
        if self.cgroup is not None:
            self.cgroup.configure(size.pids, size.memory_mb)
            # The shell joins the cgroups, then becomes setpriv/unshare: nothing escapes them.
            script = 'echo $$ > "$1" && echo $$ > "$2" && shift 2 && exec "$@"'
            cmd = ["/bin/sh", "-c", script, "sstar-cgroup", *self.cgroup.procs_files(), *cmd]
        self._errors = tempfile.TemporaryFile()
        errors = self._errors
        started = threading.Event()
        stop = threading.Event()
        spawned: list[subprocess.Popen[bytes] | BaseException] = []

        def keeper() -> None:
            # PR_SET_PDEATHSIG fires when the *thread* that started unshare ends: start it from
            # a thread that lives as long as the runner, not from whichever thread called run().
            try:
                spawned.append(
                    subprocess.Popen(
                        cmd,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=errors,
                        env={"PATH": TOOL_PATH},  # the runner's own environment is ENV
                        close_fds=True,
                        start_new_session=True,  # Ctrl-C reaches us only; we stop the runner ourselves
                    )
                )
            except BaseException as err:  # noqa: BLE001 - handed to the caller below
                spawned.append(err)
            started.set()
            stop.wait()

        thread = threading.Thread(target=keeper, name="sstar-process-sandbox", daemon=True)
        thread.start()
        started.wait()
        proc = spawned[0]
        if isinstance(proc, BaseException):
            stop.set()
            raise SandboxUnavailable(f"could not start the process sandbox ({proc}): run `sstar sandbox doctor`") from proc
        assert proc.stdout is not None
        self._keeper = (thread, stop)
        self._proc = proc
        self._size = size
        self._lines = split_lines(self._chunks(proc.stdout))

    def _chunks(self, stream: IO[bytes]) -> Iterator[bytes]:
        """What the runner writes; a runner silent for too long during a run is stuck."""
        fd = stream.fileno()
        while True:
            ready, _, _ = select.select([fd], [], [], self._patience)
            if not ready:
                raise SandboxCrashed(f"the process sandbox runner sent nothing for {self._patience:.0f} s; run `sstar sandbox doctor`")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return
            yield chunk

    def _runner_stderr(self) -> str:
        if self._errors is None:
            return ""
        self._errors.seek(0)
        text = self._errors.read()[-1000:].decode(errors="replace")
        # One line: the message ends up on one line of the CLI's output.
        return "; ".join(line.strip() for line in text.splitlines() if line.strip())

    def _stop_runner(self) -> None:
        """End the runner: EOF on its stdin, then SIGKILL for unshare, whose death takes the
        namespaces' pid 1 (``--kill-child``), hence every test, along."""
        proc, self._proc = self._proc, None
        self._lines = None
        self._size = None
        if proc is not None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
            except OSError:
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                if proc.stdout is not None:
                    proc.stdout.close()
            except OSError:
                pass
            proc.wait()
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper[1].set()
            keeper[0].join()
        if self._errors is not None:
            self._errors.close()
            self._errors = None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        proc = self._proc
        if proc is not None and self._lock.locked():  # close() from another thread mid-run
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        with self._lock:
            self._stop_runner()
            if self.cgroup is not None:
                self.cgroup.remove()
                self.cgroup = None

    def __del__(self) -> None:  # pragma: no cover - best effort when close() was forgotten
        try:
            if not self._closed:
                self._stop_runner()
                if self.cgroup is not None:
                    self.cgroup.remove()
        except Exception:
            pass
