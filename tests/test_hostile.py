"""Hostile programs, against both backends: each gets the right status and leaves nothing.

"Nothing left" (the ``leftovers`` fixture): no process of the sandbox's slot uids (on the
host, and inside the container), no file in the sandbox's writable places, no extra
sstar container of this session, an empty cgroup.
"""

from __future__ import annotations

import os
import socket
import textwrap
from typing import Callable

import pytest

from sstar.sandbox import Limits, Program, RunOutcome, RunSpec, RunStatus, Sandbox

pytestmark = pytest.mark.timeout(120)

LIMITS = Limits(time_s=1.0, memory_mb=128, output_bytes=1 << 20, processes=16, tmp_mb=16)
Leftovers = Callable[[Sandbox], list[str]]


def run_one(sandbox: Sandbox, source: str, stdin: bytes = b"", args: tuple[str, ...] = (), limits: Limits = LIMITS) -> RunOutcome:
    [outcome] = sandbox.run(Program(textwrap.dedent(source)), [RunSpec("hostile", stdin, args)], limits)
    return outcome


def still_works(sandbox: Sandbox) -> None:
    """The sandbox is healthy after the attack: a normal program runs normally."""
    outcome = run_one(sandbox, "print(sum(map(int, input().split())))", b"20 22\n")
    assert (outcome.status, outcome.stdout) == (RunStatus.OK, b"42\n"), outcome


def test_fork_bomb(sandbox: Sandbox, leftovers: Leftovers) -> None:
    outcome = run_one(
        sandbox,
        """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
        """,
    )
    assert outcome.status is RunStatus.TLE, outcome
    assert leftovers(sandbox) == []
    still_works(sandbox)


def test_memory_bomb(sandbox: Sandbox, leftovers: Leftovers) -> None:
    outcome = run_one(
        sandbox,
        """
        chunks = []
        while True:
            chunks.append(bytearray(10**7))
        """,
    )
    assert outcome.status is RunStatus.MLE, outcome
    assert outcome.memory_mb < LIMITS.memory_mb + 64
    assert leftovers(sandbox) == []


def test_one_huge_allocation(sandbox: Sandbox) -> None:
    outcome = run_one(sandbox, "x = ' ' * (4 * 10**9)\nprint(len(x))")
    assert outcome.status is RunStatus.MLE, outcome


def test_infinite_loop(sandbox: Sandbox, leftovers: Leftovers) -> None:
    outcome = run_one(sandbox, "while True:\n    pass\n")
    assert outcome.status is RunStatus.TLE, outcome
    assert LIMITS.time_s * 0.95 <= outcome.time_s < LIMITS.time_s + 1.0
    assert leftovers(sandbox) == []


def test_loop_ignoring_sigterm_and_sigint(sandbox: Sandbox, leftovers: Leftovers) -> None:
    outcome = run_one(
        sandbox,
        """
        import signal
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU):
            signal.signal(sig, signal.SIG_IGN)
        while True:
            pass
        """,
    )
    assert outcome.status is RunStatus.TLE, outcome
    assert leftovers(sandbox) == []


def test_output_flood(sandbox: Sandbox, leftovers: Leftovers) -> None:
    outcome = run_one(sandbox, "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n")
    assert outcome.status is RunStatus.OLE, outcome
    assert outcome.stdout == b"x" * LIMITS.output_bytes  # what fits is kept, the rest cut
    assert leftovers(sandbox) == []


def test_stderr_flood(sandbox: Sandbox) -> None:
    outcome = run_one(sandbox, "import sys\nwhile True:\n    sys.stderr.write('e' * 65536)\n")
    assert outcome.status is RunStatus.OLE, outcome
    assert len(outcome.stderr_tail) <= 2048


def test_filling_the_disk(sandbox: Sandbox, leftovers: Leftovers) -> None:
    outcome = run_one(
        sandbox,
        """
        print("filling", flush=True)
        i = 0
        while True:
            with open(f"f{i}", "wb") as f:
                f.write(b"\\0" * (1 << 20))
            i += 1
        """,
    )
    assert outcome.status is RunStatus.RE, outcome
    assert "No space left on device" in outcome.stderr_tail
    assert outcome.stdout == b"filling\n"  # its output survives: I/O files are on another tmpfs
    assert leftovers(sandbox) == []
    still_works(sandbox)  # the space came back


def test_network_is_unreachable(sandbox: Sandbox) -> None:
    # A listener on the host's loopback: the sandbox has its own (empty) network namespace.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        outcome = run_one(
            sandbox,
            """
            import socket, sys
            try:
                socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
                print("connected")
            except OSError as err:
                print("refused", type(err).__name__)
            print(sorted(name for _, name in socket.if_nameindex()))
            """,
            args=(str(port),),
        )
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody came
    assert outcome.status is RunStatus.OK, outcome
    lines = outcome.stdout.decode().splitlines()
    assert lines[0].startswith("refused"), lines
    assert lines[1] == "['lo']"  # no interface but its own loopback


def test_secrets_are_invisible(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    canary = "sstar-canary-7f3a9c"
    monkeypatch.setenv("SSTAR_TEST_SECRET", canary)
    outcome = run_one(
        sandbox,
        """
        import os
        try:
            open("/etc/shadow").read()
            print("shadow readable")
        except OSError as err:
            print("shadow", type(err).__name__)
        print(dict(os.environ))
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    print(open(f"/proc/{pid}/environ", "rb").read())
                except OSError:
                    pass
        for path in ("/root", "/home", "/work"):  # the host's homes and work tree
            try:
                print(path, bool(os.listdir(path)))
            except OSError:
                print(path, "hidden")
        """,
    )
    assert outcome.status is RunStatus.OK, outcome
    text = outcome.stdout.decode()
    assert "shadow PermissionError" in text
    assert canary not in text
    assert "SSTAR_TEST_SECRET" not in text
    for path in ("/root", "/home", "/work"):
        assert f"{path} True" not in text


def test_writing_outside_tmp_fails(sandbox: Sandbox, leftovers: Leftovers) -> None:
    # /dev/shm is writable (POSIX shared memory and multiprocessing's semaphores live
    # there); test_hostile_ipc.py checks that nothing written there outlives the program.
    host_marker = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".sstar-hostile-marker")
    targets = [
        "/sstar-x",
        "/etc/sstar-x",
        "/usr/sstar-x",
        "/tmp/sstar-x",
        "/var/tmp/sstar-x",
        "/root/sstar-x",
        "/run/sstar-x",
        "/run/sstar/sstar-x",
        "/tmp/sstar/sstar-x",
        host_marker,
    ]
    outcome = run_one(
        sandbox,
        """
        import sys
        for path in sys.argv[1:]:
            try:
                with open(path, "w") as f:
                    f.write("x")
                print("WROTE", path)
            except OSError:
                pass
        open("mine.txt", "w").write("fine")  # its own directory is writable
        print("cwd ok")
        """,
        args=tuple(targets),
    )
    assert outcome.status is RunStatus.OK, outcome
    assert outcome.stdout == b"cwd ok\n"
    assert not os.path.exists(host_marker)
    assert not os.path.exists("/tmp/sstar-x")
    assert leftovers(sandbox) == []


def test_background_process_is_killed(serial_sandbox: Sandbox, leftovers: Leftovers) -> None:
    # Test 1 leaves a daemon (own session, ignores SIGTERM/SIGHUP) that would write a
    # marker into the slot's working directory after 0.3 s; test 2 runs next in the same
    # slot, under the same uid and directory, and looks for it and for the daemon.
    program = """
        import os, signal, sys, time
        marker = os.path.join(os.getcwd(), "marker")
        if sys.argv[1] == "daemon":
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
                        signal.signal(sig, signal.SIG_IGN)
                    time.sleep(0.3)
                    open(marker, "w").write("alive")
                    time.sleep(60)
                os._exit(0)
            print("left a daemon")
        else:
            time.sleep(1.0)
            others = []
            for pid in os.listdir("/proc"):
                if pid.isdigit() and int(pid) != os.getpid():
                    try:
                        status = open(f"/proc/{pid}/status").read()
                    except OSError:
                        continue
                    if int(status.split("Uid:")[1].split()[0]) != 0:
                        others.append(pid)
            print(os.path.exists(marker), others)
        """
    specs = [RunSpec("daemon", b"", ("daemon",)), RunSpec("check", b"", ("check",))]
    daemon, check = serial_sandbox.run(Program(textwrap.dedent(program)), specs, Limits(time_s=5.0))
    assert (daemon.status, daemon.stdout) == (RunStatus.OK, b"left a daemon\n"), daemon
    assert (check.status, check.stdout) == (RunStatus.OK, b"False []\n"), check
    assert leftovers(serial_sandbox) == []


def test_deep_recursion(sandbox: Sandbox) -> None:
    outcome = run_one(sandbox, "def f(n):\n    return f(n + 1) + 1\nf(0)\n")
    assert outcome.status is RunStatus.RE, outcome
    assert "RecursionError" in outcome.stderr_tail


def test_c_stack_overflow(sandbox: Sandbox) -> None:
    # Recursion through a C function with the limit lifted: the C stack overflows.
    outcome = run_one(
        sandbox,
        """
        import functools, sys
        sys.setrecursionlimit(10**8)
        @functools.lru_cache(None)
        def f(n):
            return f(n - 1) + 1 if n else 0
        print(f(10**7))
        """,
    )
    assert outcome.status in (RunStatus.RE, RunStatus.MLE), outcome
    still_works(sandbox)


def test_never_reading_stdin(sandbox: Sandbox) -> None:
    outcome = run_one(sandbox, "print('ignored the input')", stdin=b"1 2 3\n" * 500_000)
    assert (outcome.status, outcome.stdout) == (RunStatus.OK, b"ignored the input\n"), outcome


def test_binary_garbage_on_stdout(sandbox: Sandbox) -> None:
    garbage = bytes(range(256)) * 4 + b"\xff\xfe\x00\xc3(\r\n\r"
    outcome = run_one(sandbox, "import sys\nsys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))\n", args=(garbage.hex(),))
    assert outcome.status is RunStatus.OK, outcome
    assert outcome.stdout == garbage


def test_killing_the_runner_is_not_possible(sandbox: Sandbox) -> None:
    # Every other process in the sandbox belongs to root: signals from a test bounce.
    outcome = run_one(
        sandbox,
        """
        import os, signal
        denied = 0
        for pid in os.listdir("/proc"):
            if pid.isdigit() and int(pid) != os.getpid():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except PermissionError:
                    denied += 1
                except ProcessLookupError:
                    pass
        print(denied > 0)
        """,
    )
    assert (outcome.status, outcome.stdout) == (RunStatus.OK, b"True\n"), outcome
    still_works(sandbox)


def test_signalling_everything_in_a_loop(sandbox: Sandbox, leftovers: Leftovers) -> None:
    # kill(-1) from a test reaches only its own uid: its helpers die, the runner and the
    # reaper that ends the test are out of its reach or replaced.
    outcome = run_one(
        sandbox,
        """
        import os, signal
        for _ in range(3):
            if os.fork() == 0:
                break
        while True:
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
        """,
    )
    assert outcome.status in (RunStatus.TLE, RunStatus.RE), outcome  # TLE, or killed by a sibling
    assert leftovers(sandbox) == []
    still_works(sandbox)
