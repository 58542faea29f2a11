"""The sandbox backends: outputs, Python semantics, parallelism, limits, measurements,
and that Ctrl-C, SIGKILL and close() leave nothing behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Callable

import pytest

from conftest import docker_or_skip, host_processes_of, process_or_skip
from sstar.errors import SandboxUnavailable
from sstar.sandbox import Limits, Program, RunOutcome, RunSpec, RunStatus, Sandbox, image_tag, open_sandbox
from sstar.sandbox.image import package_file, runner_path

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parent.parent
LIMITS = Limits(time_s=2.0, memory_mb=128, output_bytes=1 << 20, processes=16, tmp_mb=16)
Leftovers = Callable[[Sandbox], list[str]]


def prog(source: str) -> Program:
    return Program(textwrap.dedent(source))


def run_one(sandbox: Sandbox, source: str, stdin: bytes = b"", args: tuple[str, ...] = (), limits: Limits = LIMITS) -> RunOutcome:
    [outcome] = sandbox.run(prog(source), [RunSpec("one", stdin, args)], limits)
    return outcome


# --------------------------------------------------------------------------- outputs


def test_outputs_come_in_spec_order_and_each_is_reported(sandbox: Sandbox) -> None:
    specs = [RunSpec(f"t{i}", f"{i} {i * 10}\n".encode()) for i in range(7)]
    seen: list[str] = []
    outcomes = sandbox.run(prog("a, b = map(int, input().split())\nprint(a + b)\n"), specs, LIMITS, on_result=lambda o: seen.append(o.name))
    assert [o.name for o in outcomes] == [s.name for s in specs]
    assert [o.stdout for o in outcomes] == [f"{i * 11}\n".encode() for i in range(7)]
    assert all(o.status is RunStatus.OK and o.exit_code == 0 and o.signal is None for o in outcomes)
    assert sorted(seen) == sorted(s.name for s in specs)  # once each, in completion order


def test_no_specs_no_work(sandbox: Sandbox) -> None:
    assert sandbox.run(prog("print(1)"), [], LIMITS) == []


def test_args_files_and_working_directory(sandbox: Sandbox) -> None:
    spec = RunSpec("files", b"", ("alpha", "two words"), {"data.txt": b"payload", "sub/dir/x.bin": b"\x00\x01"})
    [outcome] = sandbox.run(
        prog(
            """
            import os, sys
            print(sys.argv[1:])
            print(open("data.txt").read(), open("sub/dir/x.bin", "rb").read())
            print(sorted(os.listdir(".")), os.environ["HOME"] == os.getcwd(), sorted(os.environ))
            """
        ),
        [spec],
        LIMITS,
    )
    assert outcome.status is RunStatus.OK, outcome
    assert outcome.stdout.decode().splitlines() == [
        "['alpha', 'two words']",
        "payload b'\\x00\\x01'",
        "['data.txt', 'sub'] True ['HOME', 'LANG', 'PATH', 'TMPDIR']",
    ]


def test_file_names_must_stay_in_the_working_directory(sandbox: Sandbox) -> None:
    for bad in ("/etc/passwd", "../escape", "a/../../b", ""):
        with pytest.raises(ValueError):
            sandbox.run(prog("pass"), [RunSpec("bad", b"", files={bad: b"x"})], LIMITS)


def test_stdin_bytes_arrive_untouched(sandbox: Sandbox) -> None:
    data = b"line one\r\nline two\r\n\xff\xfe tail"
    raw = run_one(sandbox, "import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read())\n", data)
    assert (raw.status, raw.stdout) == (RunStatus.OK, data), raw
    text = run_one(sandbox, "print(repr(input()), repr(input()))\n", data)
    assert text.stdout == b"'line one\\r' 'line two\\r'\n"  # no newline translation, like python3


# --------------------------------------------------------------------------- python semantics


def test_exit_codes_exceptions_and_flushing(sandbox: Sandbox) -> None:
    cases = {
        "import sys\nprint('before')\nsys.exit(3)\n": (RunStatus.RE, 3, b"before\n", ""),
        "print('partial')\nraise ValueError('boom')\n": (RunStatus.RE, 1, b"partial\n", "ValueError: boom"),
        "import sys\nsys.exit('bye')\n": (RunStatus.RE, 1, b"", "bye"),
        "print('no newline', end='')\nexit()\n": (RunStatus.OK, 0, b"no newline", ""),
        "def broken(:\n    pass\n": (RunStatus.RE, 1, b"", "SyntaxError"),
        "import sys\nsys.stdout.write('x' * 100000)\nraise SystemExit(0)\n": (RunStatus.OK, 0, b"x" * 100000, ""),
    }
    for source, (status, code, stdout, err) in cases.items():
        outcome = run_one(sandbox, source)
        assert (outcome.status, outcome.exit_code, outcome.stdout) == (status, code, stdout), (source, outcome)
        assert err in outcome.stderr_tail, (source, outcome)
    tb = run_one(sandbox, "def f():\n    return 1 / 0\nf()\n").stderr_tail
    assert 'solution.py", line 2, in f' in tb and "ZeroDivisionError" in tb and "runner" not in tb


def test_python_semantics_of_a_script(sandbox: Sandbox) -> None:
    outcome = run_one(
        sandbox,
        """
        import atexit, sys, threading
        atexit.register(lambda: print("atexit ran"))
        def main():
            sys.setrecursionlimit(10**6)
            def depth(n):
                return depth(n - 1) + 1 if n else 0
            print(__name__, depth(50000), sys.argv[0].endswith(".py"))
        if __name__ == "__main__":
            threading.stack_size(2**26)  # the competitive programmer's deep-recursion trick
            threading.Thread(target=main).start()
        """,
    )
    assert outcome.status is RunStatus.OK, outcome
    assert outcome.stdout == b"__main__ 50000 True\natexit ran\n"


def test_tests_do_not_see_each_other(sandbox: Sandbox) -> None:
    source = """
        import os, sys
        print(sorted(os.listdir(".")), hasattr(sys, "sstar_mark"))
        sys.sstar_mark = True
        open("junk", "w").write("x")
        """
    specs = [RunSpec(f"t{i}", b"", files={f"own{i}": b""}) for i in range(6)]
    outcomes = sandbox.run(prog(source), specs, LIMITS)
    assert [o.stdout for o in outcomes] == [f"['own{i}'] False\n".encode() for i in range(6)]


# --------------------------------------------------------------------------- parallelism


def test_parallel_slots_run_at_once_under_their_own_uids(sandbox: Sandbox) -> None:
    specs = [RunSpec(f"t{i}", b"") for i in range(4)]
    start = time.monotonic()
    outcomes = sandbox.run(prog("import os, time\ntime.sleep(0.6)\nprint(os.getuid())\n"), specs, LIMITS)
    took = time.monotonic() - start
    assert all(o.status is RunStatus.OK for o in outcomes)
    uids = {int(o.stdout) for o in outcomes}
    assert uids == set(sandbox.slot_uids)  # type: ignore[attr-defined]
    assert all(uid >= 1000 for uid in uids)  # never root, never a real account
    assert took < 4 * 0.6 - 0.3  # two at a time, not one after the other


def test_runs_from_several_threads_are_served_in_turn(sandbox: Sandbox) -> None:
    from concurrent.futures import ThreadPoolExecutor

    assert getattr(sandbox, "thread_safe", False)

    def job(k: int) -> list[bytes]:
        specs = [RunSpec(f"j{k}t{i}", f"{k} {i}\n".encode()) for i in range(3)]
        return [o.stdout for o in sandbox.run(prog("a, b = input().split()\nprint(a + b)\n"), specs, LIMITS)]

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(job, range(3)))
    assert results == [[f"{k}{i}\n".encode() for i in range(3)] for k in range(3)]


def test_the_calling_thread_may_end_between_runs(serial_sandbox: Sandbox) -> None:
    sandbox = serial_sandbox
    # The sandbox dies with the thread that started it (PR_SET_PDEATHSIG): not a worker's.
    import threading

    first: list[RunOutcome] = []
    worker = threading.Thread(target=lambda: first.extend(sandbox.run(prog("print(1)"), [RunSpec("a", b"")], LIMITS)))
    worker.start()
    worker.join()
    time.sleep(0.2)
    assert first[0].stdout == b"1\n"
    assert run_one(sandbox, "print(2)").stdout == b"2\n"


# --------------------------------------------------------------------------- measurements


def test_time_cpu_and_memory_are_measured(sandbox: Sandbox) -> None:
    sleeper = run_one(sandbox, "import time\ntime.sleep(0.3)\n")
    assert 0.28 <= sleeper.time_s < 1.0 and sleeper.cpu_s < 0.2, sleeper
    spinner = run_one(sandbox, "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end:\n    pass\n")
    assert spinner.cpu_s >= 0.29 and spinner.time_s >= 0.29, spinner
    hog = run_one(sandbox, "x = bytearray(100 * 1024 * 1024)\nx[::4096] = b'1' * len(x[::4096])\n")
    assert hog.status is RunStatus.OK and 100 <= hog.memory_mb < 128, hog
    small = run_one(sandbox, "print(1)")
    assert 1 < small.memory_mb < 40, small


# --------------------------------------------------------------------------- limits


def test_memory_limit(sandbox: Sandbox) -> None:
    limits = Limits(time_s=2.0, memory_mb=64)
    assert run_one(sandbox, "x = bytearray(40 * 1024 * 1024)\n", limits=limits).status is RunStatus.OK
    over = run_one(sandbox, "x = bytearray(80 * 1024 * 1024)\n", limits=limits)
    assert over.status is RunStatus.MLE, over


def test_time_limit(sandbox: Sandbox) -> None:
    limits = Limits(time_s=0.5)
    assert run_one(sandbox, "import time\ntime.sleep(0.1)\n", limits=limits).status is RunStatus.OK
    slow = run_one(sandbox, "import time\nprint('started', flush=True)\ntime.sleep(5)\n", limits=limits)
    assert slow.status is RunStatus.TLE and 0.5 <= slow.time_s < 1.5, slow
    assert slow.stdout == b"started\n"  # what it flushed before the kill is kept


def test_output_limit(sandbox: Sandbox) -> None:
    limits = Limits(output_bytes=1000)
    assert run_one(sandbox, "print('y' * 998)\n", limits=limits).status is RunStatus.OK
    over = run_one(sandbox, "print('y' * 1000)\n", limits=limits)
    assert over.status is RunStatus.OLE and over.stdout == b"y" * 1000, over


def test_process_limit(sandbox: Sandbox) -> None:
    outcome = run_one(
        sandbox,
        """
        import os, time
        made = refused = 0
        for _ in range(12):
            try:
                if os.fork() == 0:
                    time.sleep(0.5)
                    os._exit(0)
                made += 1
            except OSError:
                refused += 1
        print(made, refused)
        """,
        limits=Limits(processes=4),
    )
    assert outcome.status is RunStatus.OK, outcome
    made, refused = map(int, outcome.stdout.split())
    assert made <= 3 and refused >= 9


# --------------------------------------------------------------------------- lifecycle


@pytest.mark.docker
def test_docker_close_removes_the_container() -> None:
    docker_or_skip()
    from sstar.sandbox import DockerSandbox
    from sstar.sandbox.docker_backend import wait_gone
    from sstar.sandbox.image import docker_client

    sandbox = DockerSandbox(parallel=1)
    container = sandbox.container_id
    assert container is not None
    assert run_one(sandbox, "print('hi')").stdout == b"hi\n"
    sandbox.close()
    assert wait_gone(docker_client(), container, timeout=10)
    with pytest.raises(SandboxUnavailable):
        run_one(sandbox, "print('closed')")


def test_process_close_removes_the_cgroup() -> None:
    process_or_skip()
    from sstar.sandbox import ProcessSandbox

    sandbox = ProcessSandbox(parallel=1)
    cgroup = sandbox.cgroup
    assert run_one(sandbox, "print('hi')").stdout == b"hi\n"
    sandbox.close()
    if cgroup is not None:
        assert not any(path.exists() for path in cgroup.dirs.values())
    with pytest.raises(SandboxUnavailable):
        run_one(sandbox, "print('closed')")


# A terminal's Ctrl-C: a job started in the background of a non-interactive shell (as CI may
# start the tests) inherits SIGINT ignored, and Python then installs no KeyboardInterrupt.
INTERRUPTED_RUN = """
import json, os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
from sstar.sandbox import open_sandbox, Program, RunSpec, Limits
sandbox = open_sandbox(sys.argv[1], parallel=2)
cgroup = getattr(sandbox, "cgroup", None)
print(json.dumps({"uids": sandbox.slot_uids, "container": getattr(sandbox, "container_id", None),
                  "cgroup": [str(p) for p in cgroup.dirs.values()] if cgroup else []}), flush=True)
try:
    with sandbox:
        sandbox.run(Program("while True:\\n    pass\\n"), [RunSpec("a", b""), RunSpec("b", b"")], Limits(time_s=60))
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
"""


@pytest.mark.parametrize("kind", [pytest.param("docker", marks=pytest.mark.docker), "process"])
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "sigkill"])
def test_interrupted_run_leaves_nothing(kind: str, how: signal.Signals) -> None:
    docker_or_skip() if kind == "docker" else process_or_skip()
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPTED_RUN, kind], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        uids = info["uids"]
        deadline = time.monotonic() + 20
        while len(host_processes_of(uids)) < 2:  # both tests are spinning
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.05)
        proc.send_signal(how)
        proc.wait(timeout=30)
        if how == signal.SIGINT:
            assert proc.returncode == 130 and "interrupted" in proc.stdout.read()
        deadline = time.monotonic() + 15
        while host_processes_of(uids):  # SIGKILL: the namespace / container dies after us
            assert time.monotonic() < deadline, host_processes_of(uids)
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if info["container"]:
        from sstar.sandbox.docker_backend import wait_gone
        from sstar.sandbox.image import docker_client

        assert wait_gone(docker_client(), info["container"], timeout=15)
    if info["cgroup"]:
        from sstar.sandbox.process_backend import reap_stale_cgroups

        if how == signal.SIGKILL:  # nobody was left to remove it: the next session does
            reap_stale_cgroups()
        assert not any(os.path.exists(path) for path in info["cgroup"])


# --------------------------------------------------------------------------- choosing a backend


def test_open_sandbox_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SandboxUnavailable, match="unknown sandbox kind"):
        open_sandbox("vm")
    process_or_skip()
    import sstar.sandbox as sandbox_module

    def no_docker(**_: object) -> Sandbox:
        raise SandboxUnavailable("the sandbox image is not built: run `sstar sandbox build --offline`")

    monkeypatch.setattr(sandbox_module, "DockerSandbox", no_docker)
    warnings: list[str] = []
    with open_sandbox("auto", parallel=1, warn=warnings.append) as sandbox:
        assert sandbox.name == "process"
    assert len(warnings) == 1 and "sstar sandbox build --offline" in warnings[0]


def test_identity_names_the_backend(sandbox: Sandbox) -> None:
    assert sandbox.identity.startswith(sandbox.name + ":")


def test_image_tag_follows_the_runner() -> None:
    assert re.fullmatch(r"sstar-sandbox:[0-9a-f]{12}", image_tag())
    for name in ("runner.py", "Dockerfile", "build-offline.sh"):
        assert package_file(name).is_file()
    # The top-level sandbox/ directory holds the same files (relative symlinks).
    assert (REPO / "sandbox" / "runner.py").resolve() == runner_path().resolve()


def test_runner_rejects_a_bad_request() -> None:
    if not os.access("/usr/bin/python3", os.X_OK):
        pytest.skip("no /usr/bin/python3")
    done = subprocess.run(["/usr/bin/python3", "-I", str(runner_path())], input=b"not json\n", capture_output=True, timeout=30)
    assert done.returncode == 2
    message = json.loads(done.stdout)
    assert message["type"] == "error" and "bad request" in message["message"]


def test_doctor_command() -> None:
    from typer.testing import CliRunner

    from sstar.cli.main import app

    result = CliRunner().invoke(app, ["sandbox", "doctor", "--no-run"])
    assert "docker:" in result.output and "process:" in result.output
    assert result.exit_code in (0, 1)
