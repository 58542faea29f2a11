"""Issue 14, against both backends: nothing of one program reaches the next (SysV and POSIX
IPC, files in /dev/shm, the other slot's directory), no program stops the run or kills the
runner, and a sandbox that fails anyway gives SE outcomes, restarts and is never cached.

The process backend gets its IPC caps (sysctls, a bounded /dev/shm) from its own helper:
until that lands, the shared-memory fillers below may fail there; the Docker backend sets
them itself.
"""

from __future__ import annotations

import json
import os
import signal
import textwrap
import threading
import time
from pathlib import Path
from typing import Callable

import pytest
from typer.testing import CliRunner

from sstar.cache import CachingSandbox, run_key
from sstar.judge import judge
from sstar.problem import Problem, TestCase
from sstar.sandbox import Limits, Program, RunOutcome, RunSpec, RunStatus, Sandbox
from sstar.verdict import Verdict

pytestmark = pytest.mark.timeout(180)

LIMITS = Limits(time_s=5.0, memory_mb=256, output_bytes=1 << 20, processes=16, tmp_mb=16)
Leftovers = Callable[[Sandbox], list[str]]

# Leaves one of everything a program can leave in an IPC namespace, holding its stdin.
LEAVER = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
secret = sys.stdin.buffer.read()
key = int(sys.argv[1]) + int(sys.argv[2])
shmid = libc.shmget(key, 4096, 0o1000 | 0o666)  # IPC_CREAT
assert shmid >= 0, ("shmget", ctypes.get_errno())
addr = libc.shmat(shmid, None, 0)
ctypes.memmove(addr, secret, len(secret))
assert libc.msgget(key + 100, 0o1000 | 0o666) >= 0, ("msgget", ctypes.get_errno())
assert libc.semget(key + 200, 3, 0o1000 | 0o666) >= 0, ("semget", ctypes.get_errno())
with open("/dev/shm/leak-%s" % sys.argv[2], "wb") as f:  # POSIX shared memory
    f.write(secret)
os.makedirs("/dev/shm/dir-%s/deeper" % sys.argv[2])
os.chmod("/dev/shm/dir-%s" % sys.argv[2], 0o777)
mqd = libc.mq_open(b"/mq-" + sys.argv[2].encode(), os.O_CREAT | os.O_RDWR, 0o666, None)
assert mqd >= 0, ("mq_open", ctypes.get_errno())
libc.mq_send(mqd, secret, len(secret), 0)
print("stored")
"""

# Reports whatever an earlier program could have left in the IPC namespace.
SNOOP = r"""
import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
seen = {}
for kind in ("shm", "msg", "sem"):
    with open("/proc/sysvipc/" + kind) as f:
        seen[kind] = f.read().splitlines()[1:]
for place in ("/dev/shm", "/dev/mqueue"):
    seen[place] = sorted(os.listdir(place)) if os.path.isdir(place) else []
keys = [int(sys.argv[1]) + i for i in range(2)]
seen["shmget"] = [libc.shmget(k, 0, 0) for k in keys]
print(json.dumps(seen))
"""

EMPTY = {"shm": [], "msg": [], "sem": [], "/dev/shm": [], "/dev/mqueue": [], "shmget": [-1, -1]}


def run(sandbox: Sandbox, source: str, *stdins: bytes, args: tuple[str, ...] = (), limits: Limits = LIMITS) -> list[RunOutcome]:
    specs = [RunSpec(f"t{i}", data, args + (str(i),) if args else ()) for i, data in enumerate(stdins)]
    return sandbox.run(Program(textwrap.dedent(source)), specs, limits)


def snoop(sandbox: Sandbox, key: int) -> dict:
    [outcome] = run(sandbox, SNOOP, b"", args=(str(key),))
    assert outcome.status is RunStatus.OK, outcome
    return json.loads(outcome.stdout)


def still_works(sandbox: Sandbox) -> None:
    [outcome] = run(sandbox, "print(sum(map(int, input().split())))", b"20 22\n")
    assert (outcome.status, outcome.stdout) == (RunStatus.OK, b"42\n"), outcome


def test_ipc_of_one_program_never_reaches_the_next(sandbox: Sandbox, leftovers: Leftovers) -> None:
    key = 0x5517000 + os.getpid() % 1000 * 10
    stored = run(sandbox, LEAVER, b"hidden-input-one", b"hidden-input-two", args=(str(key),))
    assert [(o.status, o.stdout) for o in stored] == [(RunStatus.OK, b"stored\n")] * 2, stored
    assert snoop(sandbox, key) == EMPTY
    assert leftovers(sandbox) == []


KEYS_WRITER = r"""
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
data = sys.stdin.buffer.read()
persistent = libc.syscall(250, 22, -1, -3, 0, 0)  # KEYCTL_GET_PERSISTENT, linked into @s
added = 0
for keyring in (-4, -3, persistent):  # the uid's user keyring, the session keyring, the persistent one
    added += libc.syscall(248, b"user", b"sstar-secret", data, len(data), ctypes.c_int(keyring)) > 0  # add_key
print("added", added)
"""

KEYS_READER = r"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(100)
persistent = libc.syscall(250, 22, -1, -3, 0, 0)
for keyring in (-4, -3, -5, persistent):
    key = libc.syscall(250, 10, ctypes.c_int(keyring), b"user", b"sstar-secret", 0)  # KEYCTL_SEARCH
    if key > 0:
        print(buf.raw[: max(0, libc.syscall(250, 11, key, buf, 100))])  # KEYCTL_READ
print("done")
"""


def test_kernel_keyrings_keep_nothing_for_the_next_program(serial_sandbox: Sandbox) -> None:
    # A uid's user and persistent keyrings outlive its processes (the persistent one by
    # days); the session keyring is inherited.
    [wrote] = run(serial_sandbox, KEYS_WRITER, b"hidden-input")
    assert wrote.status is RunStatus.OK, wrote
    # Docker's seccomp profile refuses keyrings altogether; elsewhere all three keys exist.
    assert wrote.stdout == (b"added 0\n" if serial_sandbox.name == "docker" else b"added 3\n"), wrote
    [read] = run(serial_sandbox, KEYS_READER, b"")
    assert (read.status, read.stdout) == (RunStatus.OK, b"done\n"), read


def test_the_ipc_namespace_is_capped(sandbox: Sandbox) -> None:
    # Shared memory outlives its processes and no rlimit sees it: the namespace's caps
    # (set by each backend, from protocol.ipc_sysctls) keep it inside the sandbox's memory.
    source = r"""
        import os
        def read(name):
            with open("/proc/sys/" + name) as f:
                return int(f.read().split()[0])
        st = os.statvfs("/dev/shm")
        print(read("kernel/shmmax"), read("kernel/shmall") * 4096, read("kernel/shmmni"), read("fs/mqueue/queues_max"), st.f_blocks * st.f_frsize)
    """
    [outcome] = run(sandbox, source, b"")
    assert outcome.status is RunStatus.OK, outcome
    shmmax, shmall, shmmni, queues, dev_shm = map(int, outcome.stdout.split())
    assert LIMITS.memory_mb << 20 <= shmmax <= 8 << 30 and shmall <= 8 << 30, outcome.stdout
    assert shmmni <= 4096 and queues <= 256 and 0 < dev_shm <= 8 << 30, outcome.stdout


def test_a_slot_cannot_plant_in_another_slots_directory(sandbox: Sandbox, leftovers: Leftovers) -> None:
    # Both tests open their cwd to everyone and try to plant a directory in every other
    # working directory, old layout (/tmp/sstar/wN) and new (/tmp/sstar/sN/w).
    source = """
        import os, sys, time
        os.chmod(".", 0o777)
        here = os.getcwd()
        others = ["/tmp/sstar/w%d" % i for i in range(2)] + ["/tmp/sstar/s%d/w" % i for i in range(2)]
        end = time.monotonic() + 1.0  # the other test opens its directory at about the same time
        while time.monotonic() < end:
            for other in others:
                if os.path.realpath(other) == here:
                    continue
                try:
                    os.mkdir(os.path.join(other, "planted"))
                    os.chmod(os.path.join(other, "planted"), 0o777)
                    raise SystemExit(print("planted in", other))
                except OSError:
                    pass
            time.sleep(0.01)
        print("done")
    """
    outcomes = run(sandbox, source, b"", b"")
    assert [(o.status, o.stdout) for o in outcomes] == [(RunStatus.OK, b"done\n")] * 2, outcomes
    still_works(sandbox)
    assert leftovers(sandbox) == []


def test_directories_of_two_slots_nested_in_dev_shm_are_purged(sandbox: Sandbox, leftovers: Leftovers) -> None:
    # Two tests of one program build a tree of both their uids in /dev/shm, locked down.
    source = """
        import os, sys, time
        me = sys.argv[2]
        os.makedirs("/dev/shm/plant", exist_ok=True)
        try:
            os.chmod("/dev/shm/plant", 0o777)
        except OSError:
            pass
        end = time.monotonic() + 1.0
        while time.monotonic() < end:  # until both are in (or the other finished)
            try:
                os.makedirs("/dev/shm/plant/%s/inner" % me, exist_ok=True)
                os.chmod("/dev/shm/plant/%s" % me, 0o777)
                for other in os.listdir("/dev/shm/plant"):
                    if other != me:
                        os.makedirs("/dev/shm/plant/%s/from-%s/x" % (other, me), exist_ok=True)
                        os.chmod("/dev/shm/plant/%s/from-%s" % (other, me), 0)
                        raise SystemExit(print("nested"))
            except OSError:
                pass
            time.sleep(0.01)
        print("alone")
    """
    outcomes = run(sandbox, source, b"", b"", args=("x",))
    assert all(o.status is RunStatus.OK for o in outcomes), outcomes
    assert snoop(sandbox, 1) == EMPTY
    assert leftovers(sandbox) == []


def test_shared_memory_left_by_earlier_programs_does_not_starve_a_later_one(serial_sandbox: Sandbox) -> None:
    hog = """
        import ctypes, sys
        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmat.restype = ctypes.c_void_p
        size = 48 << 20
        shmid = libc.shmget(int(sys.argv[1]), size, 0o1000 | 0o600)
        assert shmid >= 0, ctypes.get_errno()
        ctypes.memset(libc.shmat(shmid, None, 0), 1, size)
        print("left 48 MB")
    """
    for i in range(3):
        [left] = run(serial_sandbox, hog, b"", args=(str(0x5518000 + i),))
        assert left.status is RunStatus.OK, left
    correct = "data = bytearray(b'x') * (200 << 20)\nprint(len(open('/proc/sysvipc/shm').read().splitlines()) - 1, len(data) >> 20)\n"
    [outcome] = run(serial_sandbox, correct, b"")
    assert (outcome.status, outcome.stdout) == (RunStatus.OK, b"0 200\n"), outcome


@pytest.mark.parametrize("tests", [1, 2])
def test_filling_shared_memory_never_kills_the_runner(sandbox: Sandbox, leftovers: Leftovers, tests: int) -> None:
    filler = """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmat.restype = ctypes.c_void_p
        try:
            with open("/dev/shm/fill-%d" % os.getpid(), "wb") as f:
                while True:
                    f.write(b"x" * (1 << 20))
        except OSError:
            pass
        while True:  # SysV segments until the namespace (or memory) says no
            shmid = libc.shmget(0, 16 << 20, 0o1000 | 0o600)  # IPC_PRIVATE
            if shmid < 0:
                break
            addr = libc.shmat(shmid, None, 0)
            if addr in (None, ctypes.c_void_p(-1).value):
                break
            ctypes.memset(addr, 1, 16 << 20)
        hold = []
        while True:
            hold.append(bytearray(b"y") * (8 << 20))
    """
    outcomes = run(sandbox, filler, *[b""] * tests)
    assert all(o.status in (RunStatus.MLE, RunStatus.RE) for o in outcomes), outcomes
    assert snoop(sandbox, 1) == EMPTY
    still_works(sandbox)
    assert leftovers(sandbox) == []


def test_multiprocessing_pool_works(sandbox: Sandbox) -> None:
    source = """
        from multiprocessing import Pool
        if __name__ == "__main__":
            with Pool(2) as pool:
                print(sum(pool.map(abs, range(-10, 10))))
    """
    [outcome] = run(sandbox, source, b"")
    assert (outcome.status, outcome.stdout) == (RunStatus.OK, b"100\n"), outcome


def test_a_4_gb_mmap_is_mle_and_says_which_limit(sandbox: Sandbox) -> None:
    [outcome] = run(sandbox, "import mmap\nm = mmap.mmap(-1, 4 << 30)\nprint('mapped')\n", b"")
    assert outcome.status is RunStatus.MLE, outcome
    assert "address-space limit" in outcome.reason, outcome.reason


def test_memory_error_says_which_limit(sandbox: Sandbox) -> None:
    [outcome] = run(sandbox, "x = []\nwhile True:\n    x.append(bytearray(b'z') * (1 << 20))\n", b"")
    assert outcome.status is RunStatus.MLE and "address-space limit" in outcome.reason, outcome


def test_the_memory_figure_leaves_out_the_runners_copy_of_stdin(sandbox: Sandbox) -> None:
    limits = Limits(time_s=10.0, memory_mb=512, output_bytes=1 << 20, processes=16, tmp_mb=16)
    [small] = run(sandbox, "print(1)\n", b"7 " * (50 << 20), limits=limits)
    assert (small.status, small.stdout) == (RunStatus.OK, b"1\n"), small
    assert small.memory_mb < 40, small.memory_mb
    [big] = run(sandbox, "data = bytearray(b'q') * (100 << 20)\nprint(len(data))\n", b"7 " * (50 << 20), limits=limits)
    assert big.status is RunStatus.OK and 100 <= big.memory_mb < 150, big


def test_shared_memory_left_behind_counts_against_the_programs_limit(sandbox: Sandbox) -> None:
    # 110 MB of heap and 160 MB left in /dev/shm (files of 1 MB: RLIMIT_FSIZE is the
    # output limit), each under the 256 MB limit, together over it.
    source = """
        heap = bytearray(b"h") * (110 << 20)
        for i in range(160):
            with open("/dev/shm/kept-%d" % i, "wb") as f:
                f.write(heap[: 1 << 20])
        print("done")
    """
    [outcome] = run(sandbox, source, b"")
    assert outcome.status is RunStatus.MLE and "shared memory" in outcome.reason, outcome
    assert outcome.memory_mb > LIMITS.memory_mb


# ----------------------------------------------------------------------- sandbox failures


def kill_runner_when_a_test_runs(sandbox: Sandbox) -> threading.Thread:
    """From outside, as a crash would: SIGKILL the runner (the parent of the first test
    process that appears under one of the sandbox's slot uids)."""
    uids = {str(u) for u in sandbox.slot_uids}  # type: ignore[attr-defined]
    earlier = set(os.listdir("/proc"))  # a test of an earlier run may still be dying

    def watch() -> None:
        end = time.monotonic() + 60
        while time.monotonic() < end:
            for pid in os.listdir("/proc"):
                if not pid.isdigit() or pid in earlier:
                    continue
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
                if fields["Uid"].split()[0] in uids and fields["State"].split()[0] != "Z":
                    os.kill(int(fields["PPid"]), signal.SIGKILL)
                    return
            time.sleep(0.01)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


SLOW = "import sys, time\nif sys.stdin.read().strip() == 'slow':\n    time.sleep(8)\nprint('ok')\n"


def test_a_dead_runner_gives_se_outcomes_and_the_sandbox_restarts(serial_sandbox: Sandbox, tmp_path: Path) -> None:
    cached = CachingSandbox(serial_sandbox, tmp_path / "cache")
    killer = kill_runner_when_a_test_runs(serial_sandbox)
    limits = Limits(time_s=20.0, memory_mb=128, output_bytes=1 << 20, processes=16, tmp_mb=16)
    outcomes = cached.run(Program(SLOW), [RunSpec("slow", b"slow")], limits)
    killer.join()
    assert [o.status for o in outcomes] == [RunStatus.SE], outcomes
    assert "runner" in outcomes[0].reason
    assert cached.stats.stored == 0 and cached.stats.uncached == 1
    # The next run gets a fresh runner, and the same run is not answered from the cache.
    again = cached.run(Program(SLOW), [RunSpec("fast", b"fast")], limits)
    assert [(o.status, o.stdout) for o in again] == [(RunStatus.OK, b"ok\n")]
    assert cached.stats.hits == 0
    still_works(serial_sandbox)


def test_judge_reports_se_and_check_goes_on(serial_sandbox: Sandbox, tmp_path: Path) -> None:
    from sstar.check import Solution, judge_solution

    problem = Problem(id="slow", title="slow", statement="", public_tests=(TestCase("1", "slow", "ok\n"),), time_limit_s=20.0)
    killer = kill_runner_when_a_test_runs(serial_sandbox)
    report = judge(SLOW, problem, serial_sandbox, tests="public")
    killer.join()
    assert [t.verdict for t in report.tests] == [Verdict.SE] and report.sandbox_failed
    assert report.tests[0].message.startswith("sandbox error")
    # check: a sandbox failure is no verdict on the solution, and the next one is judged.
    path = tmp_path / "sol.py"
    path.write_text(SLOW)
    killer = kill_runner_when_a_test_runs(serial_sandbox)
    first = judge_solution(Solution(path, expect="fail"), problem, serial_sandbox)
    killer.join()
    assert not first.ok and first.error and "sandbox error" in first.error
    second = judge_solution(Solution(path), problem, serial_sandbox)
    assert second.ok, second.message


def test_the_cache_key_changes_with_the_sandbox_identity() -> None:
    program, spec, limits = Program("print(1)"), RunSpec("a", b""), Limits()
    assert run_key("docker:aaa", program, spec, limits) != run_key("docker:bbb", program, spec, limits)


# ----------------------------------------------------------------------- judge --json


def test_judge_json_gives_the_reasons(tmp_path: Path) -> None:
    from sstar.cli.main import app
    from sstar.sandbox.process_backend import process_backend_problem

    if process_backend_problem() is not None:
        pytest.skip("no process backend here")
    folder = tmp_path / "prob"
    for i, (inp, out) in enumerate([("1 2\n", "3\n"), ("2 2\n", "4\n")], 1):
        (folder / "tests" / "public").mkdir(parents=True, exist_ok=True)
        (folder / "tests" / "public" / f"{i}.in").write_text(inp)
        (folder / "tests" / "public" / f"{i}.out").write_text(out)
    (folder / "problem.md").write_text("# Add\n\nAdd two numbers.\n")
    program = tmp_path / "prog.py"
    program.write_text("import sys\na, b = map(int, input().split())\nprint(a * b)\nprint('debug', file=sys.stderr)\n")
    result = CliRunner().invoke(app, ["judge", str(program), str(folder), "--json", "--sandbox", "process"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    first, second = report["tests"]
    assert first["verdict"] == "WA" and first["message"] and first["output"] == "2\n" and "debug" in first["stderr_tail"]
    assert second["verdict"] == "AC" and second["output"] == "4\n"


# ----------------------------------------------------------------------- batch


HOSTILE_CANDIDATE = r"""
import ctypes, os, sys
os.chmod(".", 0o777)
for other in ["/tmp/sstar/w%d" % i for i in range(2)] + ["/tmp/sstar/s%d/w" % i for i in range(2)]:
    try:
        os.mkdir(os.path.join(other, "planted"), 0o777)
    except OSError:
        pass
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmget(0x5519000, 4096, 0o1000 | 0o666)
try:
    with open("/dev/shm/fill-%d" % os.getpid(), "wb") as f:
        while True:
            f.write(b"x" * (1 << 20))
except OSError:
    pass
while True:
    shmid = libc.shmget(0, 16 << 20, 0o1000 | 0o600)
    addr = libc.shmat(shmid, None, 0) if shmid >= 0 else None
    if addr in (None, ctypes.c_void_p(-1).value):
        break
    ctypes.memset(addr, 1, 16 << 20)
print(3)
"""


def test_a_batch_meets_a_hostile_candidate_and_finishes_the_set(sandbox: Sandbox, tmp_path: Path, leftovers: Leftovers) -> None:
    from sstar.batch import run_batch
    from sstar.engine.scripted import ScriptedEngine
    from sstar.pipeline.types import SolveConfig, Strategy
    from test_batch import PROGRAMS, lines, write_problem

    slow_add = "import sys, time\ntime.sleep(1.5)\nprint(sum(map(int, sys.stdin.read().split())))\n"
    programs = {**PROGRAMS, "HOSTILE": HOSTILE_CANDIDATE, "SLOWADD": slow_add}

    def script(messages, index, params):  # type: ignore[no-untyped-def]
        text = "\n".join(m.content for m in messages)
        key = next(k for k in programs if f"TASK-{k}" in text)
        return f"```python\n{programs[key]}```\n"

    root = tmp_path / "set"
    write_problem(root, "a-hostile", "HOSTILE", [("1 2\n", "3\n")], [("5 5\n", "10\n")])
    write_problem(root, "b-add", "ADD", [("1 2\n", "3\n")], [("10 20 30\n", "60\n")])
    write_problem(root, "c-max", "MAX", [("1 9 2\n", "9\n")], [("-5 -3\n", "-3\n")])
    out = tmp_path / "run.jsonl"
    config = SolveConfig(strategy=Strategy.ZERO_SHOT, n=1, rounds=0)
    run_batch([root], out, ScriptedEngine(script), sandbox, config, model_name="scripted")
    recs = {Path(r["path"]).name: r for r in lines(out)}
    assert list(recs) == ["a-hostile", "b-add", "c-max"]
    assert not recs["a-hostile"]["solved"] and recs["a-hostile"]["error"] is None, recs["a-hostile"]
    assert recs["b-add"]["solved"] and recs["c-max"]["solved"], recs
    assert leftovers(sandbox) == []

    # A sandbox that dies under a problem (killed from outside here, while its candidate
    # runs): the record says so with the reason, the candidate is judged again on the
    # restarted sandbox (the failure was not its fault), and the batch goes on.
    write_problem(root, "d-slow-add", "SLOWADD", [("1 2\n", "3\n")])
    write_problem(root, "e-max", "MAX", [("1 9 2\n", "9\n")])
    out2 = tmp_path / "run2.jsonl"
    killer = kill_runner_when_a_test_runs(sandbox)
    run_batch([root / "d-slow-add", root / "e-max"], out2, ScriptedEngine(script), sandbox, config, model_name="scripted")
    killer.join()
    recs = {Path(r["path"]).name: r for r in lines(out2)}
    assert list(recs) == ["d-slow-add", "e-max"]
    killed = recs["d-slow-add"]
    assert killed["sandbox_errors"] >= 1 and "runner" in killed["sandbox_error"], killed
    assert killed["solved"], killed
    assert recs["e-max"]["solved"], recs["e-max"]


RUNNER_STARTED = """
import os
with open("/proc/%d/stat" % os.getppid()) as f:  # the runner forked this test
    print(f.read().rsplit(")", 1)[1].split()[19])  # its start time, in clock ticks
"""


def test_a_runner_that_held_secrets_never_forks_a_later_program(sandbox: Sandbox) -> None:
    """Tests are forked from the runner, so they can read whatever its memory still holds
    (found by reading one's own memory through ctypes). A request that carried a hidden
    test's input or a checker's answer (RunSpec.secret) is therefore followed by a fresh
    runner; an ordinary request is not (the warm runner is the sandbox's speed)."""

    def runner_start() -> str:
        # The same size as the requests below: a sandbox too small for a run is restarted bigger.
        [outcome] = sandbox.run(Program(RUNNER_STARTED), [RunSpec("t", b"", files={"answer": b"42\n"})], Limits())
        assert outcome.status is RunStatus.OK, outcome
        return outcome.stdout.decode().strip()

    first = runner_start()
    sandbox.run(Program("print(open('answer').read())"), [RunSpec("plain", b"", files={"answer": b"42\n"})], Limits())
    assert runner_start() == first  # nothing secret: the same warm runner
    time.sleep(0.05)  # start times are in clock ticks (10 ms)
    held = sandbox.run(Program("print(open('answer').read())"), [RunSpec("c", b"", files={"answer": b"42\n"}, secret=True)], Limits())
    assert held[0].status is RunStatus.OK and held[0].stdout == b"42\n\n"
    assert runner_start() != first  # a runner that never saw the answer
