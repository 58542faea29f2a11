#!/usr/bin/python3
"""sstar's in-sandbox runner: one pre-warmed interpreter that forks a child per test.

Python programs run in the forked child itself; C++ programs are compiled once per request
(g++ -O2 -std=gnu++17, in a child under slot 0's uid with their own time and memory limits)
and the binary is exec'd in each test's child, under the same limits, uids and cleanup.

Runs inside the sandbox (the Docker container, or the util-linux namespaces of the process
backend) as root holding only CAP_SETUID and CAP_SETGID, under Debian's /usr/bin/python3.
Standard library only: the image has nothing else.

Protocol (a session keeps one runner and sends it request after request):

* stdin: JSON request lines, one at a time (the next after the previous one's "done")::

      {"protocol": 1, "source": str, "language": "python" | "cpp",
       "compile": {"time_s", "memory_mb"}, "parallel": int, "uid_base": int,
       "scratch": "/tmp/sstar", "io": "/run/sstar/run",
       "limits": {"time_s", "memory_mb", "output_bytes", "processes", "tmp_mb"},
       "tests": [{"name": str, "stdin": base64, "args": [str], "files": {name: base64}}]}

  EOF between requests ends the runner (exit 0). EOF during a request means the host is
  gone or gave up: the runner kills every test, cleans up and exits 3.
* stdout: per request, one JSON line per finished test (``"type": "result"`` with its
  ``index``, in completion order), then ``{"type": "done"}``; while a C++ program compiles,
  ``{"type": "progress"}`` every few seconds (the host's patience counts silence); or ``{"type": "error",
  "message": ...}`` when the runner itself failed, after which it exits.

Each test runs in a child forked from this interpreter (no interpreter start per test),
under a per-slot unprivileged uid so parallel tests cannot touch each other. After every
test nothing of that uid may remain: unless /proc shows none, a reaper forked under the
slot's uid sends kill(-1, SIGKILL) (daemons that left the process group included); the
runner reaps them, removes the SysV IPC objects and POSIX shared memory and message queues
of that uid, and wipes the slot's working directory (which no other slot can reach). At the
end of every request /dev/shm and /dev/mqueue are emptied whatever owns their entries: the
next program starts from a clean sandbox. Test children volunteer for the OOM killer
(oom_score_adj 1000), so a sandbox out of memory loses a test, not the runner.
"""

from __future__ import annotations

import atexit
import base64
import builtins
import errno
import gc
import io
import json
import math
import os
import resource
import select
import signal
import stat
import sys
import time
import types

# Modules solutions commonly import: importing them here once makes `import` free in
# every forked child. Nothing stateful (no random: children would share its seed; no
# threading: forking a threaded process is unsafe).
import bisect  # noqa: F401
import collections  # noqa: F401
import functools  # noqa: F401
import heapq  # noqa: F401
import itertools  # noqa: F401
import operator  # noqa: F401
import re  # noqa: F401
import string  # noqa: F401
import typing  # noqa: F401

PROTOCOL = 1
MEMORY_EXIT = 0x6D  # a child's exit code after an uncaught MemoryError ("m")
SETUP_EXIT = 0x7D  # the child failed before the program started (a runner bug)
ABORT_EXIT = 3
STDERR_TAIL = 2048
KILL_PATIENCE_S = 5.0  # SIGKILLed processes still there after this: a runner error
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PROGRAM_NAME = "solution.py"
CPP_SOURCE, CPP_BINARY = "solution.cpp", "solution"
# What judges use (Codeforces, AtCoder: -O2, GNU C++17); -pipe keeps temporaries off the disk.
CPP_COMMAND = ("/usr/bin/g++", "-O2", "-std=gnu++17", "-pipe", "-o", CPP_BINARY)
COMPILE_MESSAGE = 4096  # characters of the compiler's output kept (its first errors matter most)
COMPILE_OUTPUT_BYTES = 64 * 1024 * 1024  # files g++ may write (the binary, its diagnostics)
BINARY_MARGIN_MB = 16  # address space of a C++ binary beyond memory_mb: libc, libstdc++, stack guard
HEARTBEAT_S = 5.0
SHARED_DIRS = ("/dev/mqueue", "/dev/shm")  # POSIX message queues and shared memory
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024
ENVIRONMENT = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}  # + HOME, TMPDIR
SYSVIPC = (("shm", "shmid"), ("msg", "msqid"), ("sem", "semid"))  # /proc/sysvipc/NAME, id column
IPC_RMID = 0
OOM_CONTROL = "/sys/fs/cgroup/memory/memory.oom_control"  # cgroup v1: counts OOM kills
KEY_USERS = "/proc/key-users"  # per-uid counts of kernel keys (keyrings outlive processes)
SYS_KEYCTL = 250 if os.uname().machine == "x86_64" else 219  # x86_64, else the generic table (arm64)
KEYCTL_JOIN_SESSION_KEYRING, KEYCTL_CLEAR, KEYCTL_INVALIDATE, KEYCTL_GET_PERSISTENT = 1, 7, 21, 22
KEY_SPEC_PROCESS_KEYRING, KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING = -2, -4, -5
PURGE_DEPTH = 64  # nested directories of mixed owners purge() follows before giving up


class Abort(Exception):
    """The host went away (stdin EOF) or asked us to stop (SIGTERM/SIGINT)."""


class Slot:
    """One parallel lane: its own uid/gid, working directory and I/O files."""

    def __init__(self, index: int, uid: int, scratch: str, io_root: str) -> None:
        self.index = index
        self.uid = uid
        # root:uid 0710: only this slot's uid gets through, so no other slot can plant
        # anything in (or read from) its working directory, whatever modes the test sets.
        self.home = os.path.join(scratch, "s%d" % index)
        self.work = os.path.join(self.home, "w")  # the test's cwd, owned by uid
        self.io = os.path.join(io_root, "io%d" % index)  # stdin/stdout/stderr files, root only
        self.reset()

    def reset(self) -> None:
        self.test: int | None = None
        self.pid: int | None = None  # the test's main process, until reaped
        self.wait_status: int | None = None
        self.rusage: resource.struct_rusage | None = None
        self.started = 0.0
        self.ended = 0.0
        self.deadline = math.inf
        self.timed_out = False
        self.inherited = 0  # bytes of the runner's memory beyond a fresh interpreter's, at fork
        self.shared = 0  # bytes of shared memory the test left behind (removed by clear())

    @property
    def busy(self) -> bool:
        return self.test is not None


# ----------------------------------------------------------------------------- helpers


def libc_prctl(option: int, value: int) -> None:
    """Best-effort prctl: the runner still works (a bit less strictly) without ctypes."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(option, value, 0, 0, 0)
    except Exception:
        pass


def become(uid: int) -> None:
    """Switch effective ids between root and a slot uid (the saved uid 0 allows the way back)."""
    if uid == 0:
        os.seteuid(0)
        os.setegid(0)
    else:
        os.setegid(uid)
        os.seteuid(uid)


def key_usage(uid: int) -> bytes | None:
    """The kernel's key counts of ``uid`` (keys, quota, bytes), or None when it has none.
    A uid's user keyrings outlive its processes: a program could leave data there."""
    try:
        with open(KEY_USERS, "rb") as f:
            table = f.read()
    except OSError:
        return None
    for line in table.splitlines():
        head, _, rest = line.partition(b":")
        if head.strip() == str(uid).encode():
            return b" ".join(rest.split()[1:])  # not the usage count: it moves by itself
    return None


def run_key_cleaner(uid: int) -> None:
    """In a forked child: become ``uid`` (the user keyrings are the real uid's) and empty
    its user, user-session and persistent keyrings (the persistent one would outlive even
    the sandbox, for days)."""
    try:
        os.setresuid(uid, uid, uid)
        lib = libc()
        # Linked into our own process keyring (so that we possess it: clearing needs that),
        # then cleared and invalidated.
        persistent = lib.syscall(SYS_KEYCTL, KEYCTL_GET_PERSISTENT, -1, KEY_SPEC_PROCESS_KEYRING, 0, 0)
        if persistent > 0:
            lib.syscall(SYS_KEYCTL, KEYCTL_CLEAR, persistent, 0, 0, 0)
            lib.syscall(SYS_KEYCTL, KEYCTL_INVALIDATE, persistent, 0, 0, 0)
        for keyring in (KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING):
            lib.syscall(SYS_KEYCTL, KEYCTL_CLEAR, keyring, 0, 0, 0)
    except BaseException:
        pass
    os._exit(0)


def run_reaper(uid: int) -> None:
    """In a forked child: become ``uid`` for good and SIGKILL every process of it.

    kill(-1) reaches every process the caller may signal in our pid namespace (its own
    uid's), whatever group or session they moved to; the kernel delivers it atomically
    with respect to fork, so nothing forked meanwhile survives. The runner never takes the
    slot's real uid itself: for that moment the slot's processes could signal it.
    """
    try:
        os.setresuid(uid, uid, uid)
        os.kill(-1, signal.SIGKILL)
    except BaseException:
        pass
    os._exit(0)


def last_pid() -> bytes:
    """The last pid handed out in our pid namespace (changes whenever anything forks)."""
    with open("/proc/sys/kernel/ns_last_pid", "rb") as f:
        return f.read()


def uid_present(uid: int) -> bool:
    """Whether any process of ``uid`` exists in our pid namespace (zombies too: they still
    count against the uid's RLIMIT_NPROC)."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/status" % name, "rb") as f:
                status = f.read(1024)
        except OSError:
            continue
        at = status.find(b"\nUid:")
        if at >= 0 and int(status[at + 5 :].split(None, 1)[0]) == uid:
            return True
    return False


def wipe(path: str) -> None:
    """Remove everything inside ``path`` (kept), whatever the program did to it.

    Iterative and fd-relative, moving nested directories up into the top one, so neither
    deep trees (recursion, PATH_MAX) nor chmod 000 can make it fail.
    """
    try:
        os.chmod(path, 0o700)
        top = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return
    counter = 0
    try:
        while True:
            names = os.listdir(top)
            if not names:
                return
            for name in names:
                try:
                    os.unlink(name, dir_fd=top)
                    continue
                except IsADirectoryError:
                    pass
                except FileNotFoundError:
                    continue
                os.chmod(name, 0o700, dir_fd=top, follow_symlinks=False)
                sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=top)
                try:
                    for child in os.listdir(sub):
                        try:
                            os.unlink(child, dir_fd=sub)
                        except IsADirectoryError:
                            while True:  # move it up; skip names the program already took
                                counter += 1
                                try:
                                    os.rename(child, ".sstar-wipe-%d" % counter, src_dir_fd=sub, dst_dir_fd=top)
                                    break
                                except OSError as exc:
                                    if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.EISDIR, errno.ENOTDIR):
                                        raise
                finally:
                    os.close(sub)
                os.rmdir(name, dir_fd=top)
    finally:
        os.close(top)


def drop_owned(directory: str, uid: int) -> int:
    """Remove the entries of ``directory`` that belong to ``uid``, directories and their
    contents too (run as that uid); returns the bytes its files held. Best effort: what
    stays is purged at the request's end."""
    held = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return held
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
            if info.st_uid != uid:
                continue
            held += info.st_blocks * 512
            if entry.is_dir(follow_symlinks=False):
                wipe(entry.path)
                os.rmdir(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            pass
    return held


def as_uid(uid: int) -> None:
    """Become ``uid`` from whatever we are now (only root may switch to another uid)."""
    become(0)
    if uid != 0:
        become(uid)


def purge(directory: str) -> list:
    """Empty ``directory`` (a sticky, world-writable one such as /dev/shm) whatever uid owns
    each entry, becoming each owner in turn (the runner has no CAP_DAC_OVERRIDE); returns
    what could not be removed. Ends as root."""
    left: list = []
    try:
        top = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return left
    try:
        for name in os.listdir(top):
            try:
                remove_entry(top, name, 0)
            except OSError as exc:
                left.append("%s/%s: %s" % (directory, name, exc.strerror))
    finally:
        os.close(top)
        become(0)
    return left


def remove_entry(parent: int, name: str, depth: int) -> None:
    """Remove ``name`` in the directory ``parent``: a directory is emptied as its owner
    (children of other owners recursively), then removed as the owner of the entry (which
    a sticky parent allows) or, failing that, of the parent."""
    info = os.stat(name, dir_fd=parent, follow_symlinks=False)
    if stat.S_ISDIR(info.st_mode):
        if depth >= PURGE_DEPTH:
            raise OSError(errno.ELOOP, "directories nested too deep")
        as_uid(info.st_uid)
        # 0711: entries of other owners inside stay reachable for them (nothing runs now)
        os.chmod(name, 0o711, dir_fd=parent, follow_symlinks=False)
        sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
        try:
            for child in os.listdir(sub):
                remove_entry(sub, child, depth + 1)
                as_uid(info.st_uid)  # back to this directory's owner for its next entry
        finally:
            os.close(sub)
    as_uid(info.st_uid)
    try:
        (os.rmdir if stat.S_ISDIR(info.st_mode) else os.unlink)(name, dir_fd=parent)
    except PermissionError:
        as_uid(os.fstat(parent).st_uid)
        (os.rmdir if stat.S_ISDIR(info.st_mode) else os.unlink)(name, dir_fd=parent)


_LIBC = None


def libc():  # type: ignore[no-untyped-def]
    global _LIBC
    if _LIBC is None:
        import ctypes

        _LIBC = ctypes.CDLL(None, use_errno=True)
    return _LIBC


def remove_sysv_ipc(uid: int, held: list | None = None) -> list:
    """IPC_RMID every SysV shared-memory segment, message queue and semaphore set that
    ``uid`` created or owns (run as ``uid``: the creator or owner may remove an object;
    they outlive their processes otherwise). Returns what could not be removed; adds the
    resident bytes of its segments and queues to ``held[0]``."""
    left: list = []
    for kind, id_column in SYSVIPC:
        try:
            with open("/proc/sysvipc/" + kind, "rb") as f:
                lines = f.read().decode().splitlines()
        except OSError:
            continue
        if len(lines) < 2:
            continue
        header = lines[0].split()
        at_id, at_uid, at_cuid = header.index(id_column), header.index("uid"), header.index("cuid")
        for line in lines[1:]:
            fields = line.split()
            if uid not in (int(fields[at_uid]), int(fields[at_cuid])):
                continue
            ident = int(fields[at_id])
            if held is not None:
                column = {"shm": "rss", "msg": "cbytes"}.get(kind)
                if column in header:
                    held[0] += int(fields[header.index(column)])
            lib = libc()
            if kind == "shm":
                done = lib.shmctl(ident, IPC_RMID, None)
            elif kind == "msg":
                done = lib.msgctl(ident, IPC_RMID, None)
            else:
                done = lib.semctl(ident, 0, IPC_RMID)
            if done != 0 and ctypes_errno() not in (errno.EINVAL, errno.EIDRM):  # gone already
                left.append("%s %d" % (kind, ident))
    return left


def ctypes_errno() -> int:
    import ctypes

    return ctypes.get_errno()


def resident_bytes() -> int:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * PAGE_SIZE


def oom_kills() -> int:
    """How many processes the sandbox's memory cgroup's OOM killer has killed (-1: unknown)."""
    try:
        with open(OOM_CONTROL, "rb") as f:
            for line in f:
                if line.startswith(b"oom_kill "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return -1


def signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return "signal %d" % sig


def exit_code_of(exc: SystemExit) -> int:
    """What the interpreter would exit with for ``sys.exit(code)``."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(str(code) + "\n")
    except Exception:
        pass
    return 1


# ----------------------------------------------------------------------------- the child


def run_child(slot: Slot, test: dict, rlimits: list, prog_path: str, code: object, state: list, binary: "str | int | None" = None) -> None:
    """In the forked child: isolate, drop to the slot's uid, run the program (the Python
    code, or exec ``binary``: a path, or the sealed memfd of the compiled program). Never returns."""
    exit_code = SETUP_EXIT
    try:
        os.setsid()  # own process group and session: nothing of ours to signal
        # Undo the runner's own handlers; main() already normalised every other signal.
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])

        fd_in = os.open(os.path.join(slot.io, "in"), os.O_RDONLY)
        fd_out = os.open(os.path.join(slot.io, "out"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        fd_err = os.open(os.path.join(slot.io, "err"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        for fd, target in ((fd_in, 0), (fd_out, 1), (fd_err, 2)):
            os.dup2(fd, target)
        if isinstance(binary, int):  # keep the program's memfd (close-on-exec: the program never sees it)
            os.closerange(3, binary)
            os.closerange(binary + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
        else:
            os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
        os.umask(0o022)
        try:  # first in line for the OOM killer, before the runner (raising needs no privilege)
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write("1000")
        except OSError:
            pass

        for res, soft, hard in rlimits:
            resource.setrlimit(res, (soft, hard))

        os.setgroups([])
        os.setgid(slot.uid)
        if KEYRING_USED:  # a fresh session keyring, not the runner's (root's: no slot uid's count moves)
            libc().syscall(SYS_KEYCTL, KEYCTL_JOIN_SESSION_KEYRING, None, 0, 0, 0)
        os.setuid(slot.uid)  # clears every capability: from here on an ordinary user
        os.chdir(slot.work)
        for name, data in test.get("files", {}).items():
            parent = os.path.dirname(name)
            if parent:
                os.makedirs(parent, exist_ok=True)
            with open(name, "wb") as f:
                f.write(base64.b64decode(data))

        os.environ["HOME"] = os.environ["TMPDIR"] = slot.work  # main() left only PATH and LANG
        if binary is not None:
            # exec drops this interpreter: the program starts with a fresh address space
            # (RLIMIT_AS was set for it), under the same rlimits, uid, cwd and fds.
            argv0 = binary if isinstance(binary, str) else "./" + CPP_BINARY
            os.execve(binary, [argv0, *test.get("args", [])], dict(os.environ))
        # Fresh std streams over fds 0/1/2, configured as a fresh interpreter configures them.
        sys.stdin = io.open(0, "r", encoding="utf-8", errors="surrogateescape", newline="\n", closefd=False)
        sys.stdout = io.open(1, "w", encoding="utf-8", errors="surrogateescape", newline="\n", closefd=False)
        sys.stderr = io.open(2, "w", encoding="utf-8", errors="backslashreplace", newline="\n", buffering=1, closefd=False)
        sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr  # type: ignore[misc]
        main = types.ModuleType("__main__")
        main.__dict__.update(__file__=prog_path, __builtins__=builtins, __cached__=None, __loader__=None, __spec__=None)
        sys.modules["__main__"] = main
        sys.argv = [prog_path, *test.get("args", [])]
        sys.path[0:0] = [os.path.dirname(prog_path)]
        atexit._clear()  # only the program's own atexit handlers run
        del test
        # Drop the request from the objects the program can name. Its bytes stay in this copy
        # of the runner's memory: secrets are kept from later programs by replacing the runner
        # after a request that carried any (RunSpec.secret on the host side).
        for item in state:
            item.clear()
        exit_code = 1
        exit_code = execute(code, main.__dict__)
    except MemoryError:
        exit_code = memory_exit()
    except BaseException as exc:  # a runner bug: say so on the test's stderr
        try:
            os.write(2, ("sstar runner: child setup failed: %r\n" % (exc,)).encode())
        except Exception:
            pass
    os._exit(exit_code)


def memory_exit() -> int:
    try:
        os.write(2, b"\nMemoryError\n")
    except Exception:
        pass
    return MEMORY_EXIT


def execute(code: object, namespace: dict) -> int:
    """Run the program like ``python3 prog.py`` would, and return its exit code."""
    exit_code = 0
    try:
        try:
            if isinstance(code, BaseException):  # the source did not compile
                raise code
            exec(code, namespace)  # type: ignore[arg-type]  # noqa: S102 - running it is the point
        except SystemExit as exc:
            exit_code = exit_code_of(exc)
        except MemoryError:
            return memory_exit()
        except BaseException:
            exc_type, exc_value, exc_tb = sys.exc_info()
            assert exc_type is not None and exc_value is not None
            if exc_tb is not None:  # hide our frame: python3 prog.py has none
                exc_tb = exc_tb.tb_next
                exc_value.__traceback__ = exc_tb
            sys.excepthook(exc_type, exc_value, exc_tb)
            exit_code = 1
        # What the interpreter does at exit: join threads, atexit handlers, flush.
        threading = sys.modules.get("threading")
        if threading is not None:
            try:
                threading._shutdown()  # type: ignore[attr-defined]
            except SystemExit as exc:
                exit_code = exit_code_of(exc)
            except BaseException:
                pass
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.__stdout__):
            try:
                if stream is not None:
                    stream.flush()
            except MemoryError:
                raise
            except Exception:
                exit_code = 120  # what CPython returns when flushing stdout fails
        for stream in (sys.stderr, sys.__stderr__):
            try:
                if stream is not None:
                    stream.flush()
            except Exception:
                pass
    except MemoryError:
        return memory_exit()
    return exit_code


# ----------------------------------------------------------------------------- the runner


class Channel:
    """The runner's stdin (requests; EOF) and stdout (results), plus the SIGCHLD wakeup pipe."""

    def __init__(self) -> None:
        self.out = sys.stdout.buffer
        self.pending = bytearray()  # stdin read ahead of the current request
        self.eof = False
        self.wake_r, self.wake_w = os.pipe()
        for fd in (self.wake_r, self.wake_w):
            os.set_blocking(fd, False)

    def read_more(self) -> None:
        chunk = os.read(0, 1 << 20)
        if chunk:
            self.pending += chunk
        else:
            self.eof = True

    def next_request(self) -> dict | None:
        """The next request line, or None at EOF."""
        while b"\n" not in self.pending and not self.eof:
            self.read_more()
        line, sep, rest = bytes(self.pending).partition(b"\n")
        self.pending = bytearray(rest)
        if not sep and not line.strip():
            return None
        return json.loads(line)

    def emit(self, message: dict) -> None:
        self.out.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        self.out.flush()


class Runner:
    """One request: its slots, its tests, its scratch directories."""

    def __init__(self, request: dict, channel: Channel) -> None:
        self.channel = channel
        self.limits = request["limits"]
        self.tests: list = request["tests"]
        # Working directories and I/O files live apart (two tmpfs mounts in the sandbox),
        # so a test that fills its disk still gets its stdout and traceback back.
        self.scratch = request.get("scratch") or "/tmp/sstar"
        self.io_root = request.get("io") or self.scratch + "-io"
        self.prog_path = os.path.join(self.io_root, "prog", PROGRAM_NAME)
        self.source: str = request["source"]
        parallel = max(1, int(request.get("parallel") or 1))
        uid_base = int(request.get("uid_base") or 20000)
        count = min(parallel, max(1, len(self.tests)))
        self.slots = [Slot(i, uid_base + i, self.scratch, self.io_root) for i in range(count)]
        self.by_pid: dict[int, Slot] = {}
        self.code: object = None
        self.language: str = request.get("language") or "python"
        if self.language not in ("python", "cpp"):
            raise ValueError("unknown language %r" % self.language)
        self.compile_limits: dict = request.get("compile") or {"time_s": 30.0, "memory_mb": 1024}
        # The compiled C++ program: a sealed memfd, exec'd with fexecve. Every tmpfs in the
        # sandbox is noexec, and no test can reach or change a memfd of the runner.
        self.binary: int | None = None
        self.compile_error: dict | None = None  # CE: every test gets this result
        self.oom_kills = oom_kills()  # the cgroup's count so far: a rise means an OOM kill

    # -- setup / teardown

    def setup(self) -> None:
        os.umask(0o022)
        for path in (self.scratch, self.io_root):
            if os.path.lexists(path):
                raise RuntimeError("%s already exists: another runner is busy" % path)
        for mount in {os.path.dirname(self.scratch), os.path.dirname(self.io_root)}:
            # Docker copies the image's sticky 1777 /tmp onto the tmpfs: tests must not
            # share a writable directory, so only root writes there.
            os.makedirs(mount, mode=0o755, exist_ok=True)
            if os.stat(mount).st_mode & 0o022:
                os.chmod(mount, 0o755)
        os.makedirs(self.io_root, mode=0o711)
        os.makedirs(self.scratch, mode=0o711)
        for slot in self.slots:
            os.setegid(slot.uid)  # the slot's home gets the slot's group (no CAP_CHOWN needed)
            try:
                os.mkdir(slot.home, 0o700)
            finally:
                os.setegid(0)
            os.chmod(slot.home, 0o770)  # for a moment: the slot's uid creates its own cwd
            become(slot.uid)
            try:
                os.mkdir(slot.work, 0o700)
            finally:
                become(0)
            os.chmod(slot.home, 0o710)
        for slot in self.slots:
            os.mkdir(slot.io, 0o700)
        os.mkdir(os.path.dirname(self.prog_path), 0o755)
        if self.language == "cpp":
            self.compile()
            gc.freeze()
            return
        with open(self.prog_path, "w", encoding="utf-8") as f:  # tracebacks quote lines from it
            f.write(self.source)
        try:
            self.code = compile(self.source, self.prog_path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
            self.code = exc  # every test reports it, as python3 would
        gc.freeze()  # children's collections then skip our objects: fewer copy-on-write faults

    def teardown(self) -> None:
        gc.unfreeze()  # this request's objects may be collected again
        if self.binary is not None:
            os.close(self.binary)
            self.binary = None
        for slot in self.slots:
            for name in ("in", "out", "err"):
                try:
                    os.unlink(os.path.join(slot.io, name))
                except FileNotFoundError:
                    pass
            for path in (slot.io, slot.work, slot.home):
                try:
                    os.rmdir(path)
                except FileNotFoundError:
                    pass
        prog_dir = os.path.dirname(self.prog_path)
        for path in (self.prog_path, os.path.join(prog_dir, CPP_SOURCE)):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        for path in (os.path.dirname(self.prog_path), self.io_root, self.scratch):
            try:
                os.rmdir(path)
            except FileNotFoundError:
                pass
        # Every test is over: nothing in the shared IPC places may reach the next program,
        # whoever owns it (a test may have planted things in another slot's entries).
        left: list = []
        for slot in self.slots:
            as_uid(slot.uid)
            try:
                left += remove_sysv_ipc(slot.uid)
            finally:
                become(0)
        for shared in SHARED_DIRS:
            left += purge(shared)
        if left:
            raise OSError(errno.ENOTEMPTY, "left behind: " + ", ".join(left[:5]))

    # -- C++

    def compile(self) -> None:
        """Compile the C++ source once, as slot 0's uid in its working directory, under the
        compile limits; the binary is then held as a sealed memfd (no test can change it), and the
        working directory is wiped as after a test. A failure sets ``compile_error``: every test then reports CE."""
        prog_dir = os.path.dirname(self.prog_path)
        source = os.path.join(prog_dir, CPP_SOURCE)
        with open(source, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(self.source)
        slot = self.slots[0]
        slot.reset()
        slot.test = -1  # busy: abort() clears it
        time_limit = float(self.compile_limits["time_s"])
        memory = int(self.compile_limits["memory_mb"]) * MB
        cpu = math.ceil(time_limit) + 1
        nproc = max(8, int(self.limits["processes"]))  # g++ runs cc1plus, as, collect2, ld
        rlimits = [
            (resource.RLIMIT_AS, memory, memory),
            (resource.RLIMIT_CPU, cpu, cpu + 1),
            (resource.RLIMIT_FSIZE, COMPILE_OUTPUT_BYTES, COMPILE_OUTPUT_BYTES),
            (resource.RLIMIT_NPROC, nproc, nproc),
            (resource.RLIMIT_CORE, 0, 0),
        ]
        with open(os.path.join(slot.io, "in"), "wb"):
            pass  # the compiler's stdin: empty
        slot.started = time.monotonic()
        slot.deadline = slot.started + time_limit
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            try:
                compile_test = {"args": list(CPP_COMMAND[1:]) + [source]}
                run_child(slot, compile_test, rlimits, self.prog_path, None, [self.tests], binary=CPP_COMMAND[0])
            finally:
                os._exit(SETUP_EXIT)
        slot.pid = pid
        self.by_pid[pid] = slot
        beat = slot.started + HEARTBEAT_S
        while True:
            self.reap()
            now = time.monotonic()
            if slot.pid is None:
                break
            if now >= slot.deadline:
                slot.timed_out = True
                slot.ended = now
                break
            if now >= beat:
                self.channel.emit({"type": "progress", "stage": "compile"})
                beat = now + HEARTBEAT_S
            self.wait_events(min(1.0, slot.deadline - now, beat - now))
        status = slot.wait_status if slot.wait_status is not None else 0
        code = os.waitstatus_to_exitcode(status) if not slot.timed_out else None
        usage = slot.rusage
        used_cpu = (usage.ru_utime + usage.ru_stime) if usage else 0.0
        binary = None
        if code == 0:
            become(slot.uid)  # the slot's cwd is its own (0700): read the binary as its uid
            try:
                with open(os.path.join(slot.work, CPP_BINARY), "rb") as f:
                    binary = f.read()
            except OSError:
                binary = None
            finally:
                become(0)
        message = ""
        try:
            with open(os.path.join(slot.io, "err"), "rb") as f:
                message = f.read(4 * COMPILE_MESSAGE + 4).decode("utf-8", errors="replace")  # characters, not bytes
        except OSError:
            pass
        message = message.replace(prog_dir + "/", "")  # "solution.cpp:3:5: error: ...", as on a judge
        if len(message) > COMPILE_MESSAGE:
            message = message[:COMPILE_MESSAGE] + "\n[compiler output truncated]"
        self.clear(slot)  # kill what is left of it, wipe its directory and IPC
        for name in ("in", "out", "err"):
            try:
                os.unlink(os.path.join(slot.io, name))
            except FileNotFoundError:
                pass
        elapsed = max(0.0, (slot.ended or time.monotonic()) - slot.started)
        slot.reset()
        if binary is not None:
            import fcntl

            fd = os.memfd_create(CPP_BINARY, os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
            view = memoryview(binary)
            while view:
                view = view[os.write(fd, view):]
            seals = fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE
            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals)
            self.binary = fd
            return
        sig = -code if code is not None and code < 0 else None
        if code is None:  # timed out
            reason = "compilation exceeded its time limit of %g s" % time_limit
        elif sig == signal.SIGXCPU or (sig == signal.SIGKILL and used_cpu >= time_limit):
            reason = "compilation exceeded its CPU time limit of %g s" % time_limit
        elif code == 0:
            reason = "the compiler wrote no binary"
        elif sig is not None:
            reason = "the compiler was killed by signal %d (%s)" % (sig, signal_name(sig))
            if "memory" in message or sig == signal.SIGKILL:
                reason += "; its memory limit is %d MB" % (memory // MB)
        elif code == SETUP_EXIT and "sstar runner:" in message:
            if "FileNotFoundError" in message:
                reason = "g++ is missing in the sandbox: apt-get install g++ (process backend), or rebuild the image: sstar sandbox build"
            else:
                reason = "the compiler could not be started: " + message.strip().splitlines()[-1]
        else:
            lines = [line for line in message.splitlines() if line.strip()]
            first = next((line for line in lines if "error" in line), lines[0] if lines else "")
            reason = "compilation failed" + (": " + first[:300] if first else " (exit code %d)" % code)
        self.compile_error = {
            "status": "ce",
            "reason": reason,
            "exit_code": code if code is not None and code >= 0 else None,
            "signal": sig,
            "stdout": "",
            "stderr_tail": message,
            "time_s": round(elapsed, 6),
            "cpu_s": round(used_cpu, 6),
            "memory_mb": 0.0,
        }

    # -- events

    def wait_events(self, timeout: float) -> None:
        channel = self.channel
        watch = [channel.wake_r] + ([] if channel.eof else [0])
        try:
            ready, _, _ = select.select(watch, [], [], max(0.0, timeout))
        except InterruptedError:
            ready = []
        if channel.wake_r in ready:
            try:
                while os.read(channel.wake_r, 512):
                    pass
            except BlockingIOError:
                pass
        if 0 in ready:
            channel.read_more()
        if channel.eof:  # the host is gone or gave up on this request
            raise Abort("stdin closed")

    def reap(self) -> None:
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            slot = self.by_pid.pop(pid, None)
            if slot is None:
                continue  # an orphan of some test, reparented to us (we are a subreaper)
            slot.pid = None
            slot.wait_status = status
            slot.rusage = usage
            if not slot.timed_out:
                slot.ended = time.monotonic()

    # -- tests

    def start(self, slot: Slot, index: int) -> None:
        test = self.tests[index]
        slot.reset()
        slot.test = index
        with open(os.path.join(slot.io, "in"), "wb") as f:
            f.write(base64.b64decode(test.get("stdin", "")))
        rlimits = self.rlimits()
        # A Python program is charged what it adds to a fresh interpreter; a binary's peak
        # includes the runner copy it was forked as (ru_maxrss survives exec): all of it.
        slot.inherited = max(0, resident_bytes() - (FRESH_RESIDENT if self.binary is None else 0))
        slot.started = time.monotonic()
        slot.deadline = slot.started + float(self.limits["time_s"])
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            try:
                run_child(slot, test, rlimits, self.prog_path, self.code, [self.tests], self.binary)
            finally:
                os._exit(SETUP_EXIT)
        slot.pid = pid
        self.by_pid[pid] = slot

    def rlimits(self) -> list:
        """(resource, soft, hard) for a child forked now: memory_mb of address space on top
        of what the interpreter already maps (the child starts as a copy of us)."""
        mb = 1024 * 1024
        limits = self.limits
        with open("/proc/self/statm", "rb") as f:
            baseline = int(f.read().split()[0]) * PAGE_SIZE
        address_space = baseline + int(limits["memory_mb"]) * mb
        if self.binary is not None:  # exec starts from an empty address space
            address_space = (int(limits["memory_mb"]) + BINARY_MARGIN_MB) * mb
        cpu = math.ceil(float(limits["time_s"])) + 1
        output = int(limits["output_bytes"]) + 1  # one byte more than allowed: overflow shows
        stack_hard = resource.getrlimit(resource.RLIMIT_STACK)[1]
        stack = int(limits["memory_mb"]) * mb  # deep recursion may use the memory it is given
        if stack_hard != resource.RLIM_INFINITY:
            stack = min(stack, stack_hard)
        return [
            (resource.RLIMIT_AS, address_space, address_space),
            (resource.RLIMIT_CPU, cpu, cpu + 1),
            (resource.RLIMIT_FSIZE, output, output),
            (resource.RLIMIT_NPROC, int(limits["processes"]), int(limits["processes"])),
            (resource.RLIMIT_CORE, 0, 0),
            (resource.RLIMIT_STACK, stack, stack_hard),
        ]

    def clear(self, slot: Slot) -> None:
        """Kill and reap everything of the slot's uid, then empty its working directory."""
        give_up = time.monotonic() + KILL_PATIENCE_S
        pause = 0.0001
        while True:
            if slot.pid is not None:  # still root before its setuid: then it is ours to kill
                try:
                    os.kill(slot.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            self.reap()
            if slot.pid is None and not self.uid_busy(slot.uid):
                break
            if time.monotonic() > give_up:
                raise RuntimeError("processes of uid %d survive SIGKILL" % slot.uid)
            self.reaper(slot)
            time.sleep(pause)  # SIGKILLed processes take a moment to exit and be reaped
            pause = min(pause * 2, 0.05)
        become(slot.uid)
        try:
            wipe(slot.work)
            held = [0]  # shared memory it left: counted against its memory limit
            for shared in SHARED_DIRS:  # world-writable spots a test could leave things in
                held[0] += drop_owned(shared, slot.uid)
            left = remove_sysv_ipc(slot.uid, held)
            slot.shared = held[0]
        finally:
            become(0)
        keys = key_usage(slot.uid)
        if keys is not None and keys != CLEAN_KEYS.get(slot.uid):
            self.fork_wait(run_key_cleaner, slot.uid)
            CLEAN_KEYS[slot.uid] = key_usage(slot.uid)
        if left:
            raise RuntimeError("SysV IPC objects of uid %d survive IPC_RMID: %s" % (slot.uid, ", ".join(left)))

    def uid_busy(self, uid: int) -> bool:
        """Whether a process of ``uid`` may exist. A /proc scan is a snapshot only when
        nothing forked during it (a process could fork and exit behind the scan)."""
        before = last_pid()
        if uid_present(uid):
            return True
        return last_pid() != before

    def reaper(self, slot: Slot) -> None:
        """Fork a reaper that kills the slot's processes, and wait for it."""
        self.fork_wait(run_reaper, slot.uid)

    def fork_wait(self, job, uid: int) -> None:  # type: ignore[no-untyped-def]
        """Run ``job(uid)`` in a forked child (it takes the uid for good) and wait for it."""
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            job(uid)
        while True:
            try:
                os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:  # reap() took it already
                break

    def finish(self, slot: Slot) -> None:
        assert slot.test is not None
        index = slot.test
        result = self.judge(slot)
        result.update(type="result", index=index, name=self.tests[index].get("name", str(index)))
        for name in ("in", "out", "err"):
            try:
                os.unlink(os.path.join(slot.io, name))
            except FileNotFoundError:
                pass
        slot.reset()
        self.channel.emit(result)

    def judge(self, slot: Slot) -> dict:
        output_limit = int(self.limits["output_bytes"])
        stdout = b""
        err_size = 0
        tail = ""
        try:
            with open(os.path.join(slot.io, "out"), "rb") as f:
                stdout = f.read(output_limit + 1)
            with open(os.path.join(slot.io, "err"), "rb") as f:
                err_size = f.seek(0, os.SEEK_END)
                f.seek(max(0, err_size - STDERR_TAIL))
                tail = f.read().decode("utf-8", errors="replace")
        except FileNotFoundError:  # killed before it opened them (a timeout during setup)
            pass
        status = slot.wait_status if slot.wait_status is not None else 0
        exit_code = os.waitstatus_to_exitcode(status)
        code = exit_code if exit_code >= 0 else None
        sig = -exit_code if exit_code < 0 else None
        usage = slot.rusage
        cpu = (usage.ru_utime + usage.ru_stime) if usage else 0.0
        # The child starts as a copy of the runner (this request, stdin included, is in
        # memory at fork): only what the program added beyond a fresh interpreter counts.
        peak = (usage.ru_maxrss * 1024 - slot.inherited) if usage else 0
        if usage and self.binary is not None:
            # A binary's peak is exact once it outgrew the runner copy it was forked as
            # (ru_maxrss survives exec); below that it is unknown, and small: 0.
            peak = usage.ru_maxrss * 1024 if usage.ru_maxrss * 1024 > slot.inherited else 0
        memory = max(0.0, peak / (1024.0 * 1024.0))
        memory_mb = int(self.limits["memory_mb"])
        time_limit = float(self.limits["time_s"])
        last = tail.rstrip().rsplit("\n", 1)[-1]
        oom = False
        if sig == signal.SIGKILL and not slot.timed_out:
            kills = oom_kills()
            oom = kills > self.oom_kills >= 0
            self.oom_kills = kills
        if slot.timed_out:
            verdict, reason = "tle", "wall-clock time limit %g s exceeded" % time_limit
        elif len(stdout) > output_limit or err_size > output_limit:
            which = "stdout" if len(stdout) > output_limit else "stderr"
            verdict, reason = "ole", "%s exceeded the output limit of %d bytes" % (which, output_limit)
        elif sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= time_limit):
            verdict, reason = "tle", "CPU time limit %g s exceeded" % time_limit
        elif code == SETUP_EXIT and "sstar runner:" in tail:
            verdict, reason = "re", "the test could not be started: " + last
        elif code == MEMORY_EXIT or (code and last.endswith("MemoryError")):
            verdict, reason = "mle", (
                "MemoryError: the address-space limit (%d MB of virtual memory) was reached, "
                "at a resident peak of %.0f MB" % (memory_mb, memory)
            )
        elif sig == signal.SIGABRT and "std::bad_alloc" in tail:  # C++ new failed: the address space
            verdict, reason = "mle", (
                "std::bad_alloc: the address-space limit (%d MB of virtual memory) was reached, "
                "at a resident peak of %.0f MB" % (memory_mb, memory)
            )
        elif code and ("[Errno 12]" in last or "Cannot allocate memory" in last):
            verdict, reason = "mle", (
                "an allocation failed with ENOMEM: the address-space limit (%d MB of virtual "
                "memory) was reached (%s)" % (memory_mb, last[:200])
            )
        elif oom:
            verdict, reason = "mle", (
                "killed by the out-of-memory killer: the sandbox's memory (RAM, shared memory "
                "and files in tmpfs together) ran out at a resident peak of %.0f MB" % memory
            )
        elif sig == signal.SIGKILL and memory >= 0.8 * memory_mb:
            # a SIGKILL we did not send, to a big process: the OOM killer
            verdict, reason = "mle", "killed by SIGKILL at a resident peak of %.0f MB (out of memory)" % memory
        elif code == 0 and memory + slot.shared / MB > memory_mb:
            verdict, reason = "mle", (
                "a resident peak of %.0f MB plus %.0f MB of shared memory left behind (SysV or "
                "/dev/shm) exceed the memory limit of %d MB" % (memory, slot.shared / MB, memory_mb)
            )
        elif code == 0:
            verdict, reason = "ok", ""
        elif sig is not None:
            verdict, reason = "re", "killed by signal %d (%s)" % (sig, signal_name(sig))
        else:
            verdict, reason = "re", "exit code %d" % code + (": " + last[:200] if last else "")
        return {
            "status": verdict,
            "reason": reason,
            "exit_code": code,
            "signal": sig,
            "stdout": base64.b64encode(stdout[:output_limit]).decode(),
            "stderr_tail": tail,
            "time_s": round(max(0.0, slot.ended - slot.started), 6),
            "cpu_s": round(cpu, 6),
            "memory_mb": round(memory + slot.shared / MB, 3),
        }

    # -- main loop

    def run(self) -> None:
        if self.compile_error is not None:
            for index, test in enumerate(self.tests):
                result = dict(self.compile_error, type="result", index=index, name=test.get("name", str(index)))
                self.channel.emit(result)
            return
        pending = list(range(len(self.tests)))
        pending.reverse()
        while True:
            for slot in self.slots:
                if not slot.busy and pending:
                    self.start(slot, pending.pop())
            if not any(s.busy for s in self.slots):
                return
            self.reap()
            now = time.monotonic()
            finished = False
            for slot in self.slots:
                if not slot.busy:
                    continue
                if slot.pid is None:
                    self.clear(slot)
                    self.finish(slot)
                    finished = True
                elif now >= slot.deadline:
                    slot.timed_out = True
                    slot.ended = now
                    self.clear(slot)
                    self.finish(slot)
                    finished = True
            if finished:
                continue
            running = [s.deadline for s in self.slots if s.pid is not None and not s.timed_out]
            # SIGCHLD wakes us through the wakeup fd; the 1 s cap is only a safety net.
            self.wait_events(min([1.0] + [d - time.monotonic() for d in running]))

    def abort(self) -> None:
        """Kill every test now and clean up."""
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for slot in self.slots:
            try:
                self.clear(slot)
            except Exception:
                pass
            slot.reset()


def serve(channel: Channel) -> int:
    """Answer requests until stdin ends; the exit code."""

    def stop(*_: object) -> None:
        raise Abort("signal")

    signal.set_wakeup_fd(channel.wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select() through the wakeup fd
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        try:
            request = channel.next_request()
        except Abort:
            return ABORT_EXIT
        except Exception as exc:
            channel.emit({"type": "error", "message": "bad request: %r" % (exc,)})
            return 2
        if request is None:
            return 0
        if request.get("protocol", PROTOCOL) != PROTOCOL:
            channel.emit({"type": "error", "message": "this runner speaks protocol %d, not %r" % (PROTOCOL, request.get("protocol"))})
            return 2
        runner = Runner(request, channel)
        try:
            runner.setup()
            runner.run()
        except Abort:
            runner.abort()
            try:
                runner.teardown()
            except Exception:
                pass
            return ABORT_EXIT
        except BaseException as exc:
            runner.abort()
            try:
                runner.teardown()
            except Exception:
                pass
            channel.emit({"type": "error", "message": "runner failed: %r" % (exc,)})
            return 2
        try:
            runner.teardown()
        except OSError as exc:
            channel.emit({"type": "error", "message": "runner could not clean up: %r" % (exc,)})
            return 2
        channel.emit({"type": "done", "tests": len(runner.tests)})


def normalise_process() -> None:
    """Once, for every child to inherit: a fresh interpreter's signal dispositions (except
    SIGXFSZ left at its default, kill, which makes an output overflow stop at once) and
    a minimal environment, whatever `docker exec` or the process backend handed us."""
    for sig in signal.valid_signals():
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            try:
                signal.signal(sig, signal.SIG_DFL)
            except (OSError, ValueError):
                pass
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ.clear()
    os.environ.update(ENVIRONMENT)


FRESH_RESIDENT = resident_bytes()  # this interpreter's memory before any request


def keyring_used() -> bool:
    """Whether this sandbox lets programs use kernel keyrings (Docker's seccomp profile
    forbids it; a namespace sandbox may not): then each test gets its own session keyring."""
    try:
        return libc().syscall(SYS_KEYCTL, 0, -3, 0, 0, 0) >= 0  # KEYCTL_GET_KEYRING_ID @s
    except Exception:
        return False


KEYRING_USED = keyring_used()
CLEAN_KEYS: dict = {}  # uid -> its key counts right after its keyrings were emptied


def main() -> int:
    libc_prctl(PR_SET_NO_NEW_PRIVS, 1)  # no setuid binary can hand a test privileges back
    libc_prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphaned test processes come to us to be reaped
    normalise_process()
    return serve(Channel())


if __name__ == "__main__":
    sys.exit(main())
