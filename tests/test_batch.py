"""Batch runs over a real sandbox with a scripted model: records, resume after SIGKILL, bad lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Sequence

import pytest

from sstar.batch import BatchError, RunFileCorrupt, read_run_file, run_batch
from sstar.engine.base import Completion, Message, Request, SamplingParams
from sstar.engine.scripted import ScriptedEngine
from sstar.pipeline.types import SolveConfig, Strategy

REPO = Path(__file__).resolve().parents[1]
ZERO = SolveConfig(strategy=Strategy.ZERO_SHOT, n=1, rounds=0)

# One program per task keyword; the scripted model answers by the keyword in the statement.
PROGRAMS = {
    "ADD": "import sys\nprint(sum(map(int, sys.stdin.read().split())))\n",
    "ECHO": "import sys\nsys.stdout.write(sys.stdin.read())\n",
    "MAX": "import sys\nprint(max(map(int, sys.stdin.read().split())))\n",
    "OVERFIT": "print(3)\n",  # right on the public test only
}


def script(messages: tuple[Message, ...], index: int, params: SamplingParams) -> str:
    text = "\n".join(m.content for m in messages)
    for key, program in PROGRAMS.items():
        if f"TASK-{key}" in text:
            return f"Here it is.\n\n```python\n{program}```\n"
    return "I cannot solve this."


def write_problem(root: Path, name: str, task: str, public: Sequence[tuple[str, str]], hidden: Sequence[tuple[str, str]] = ()) -> Path:
    folder = root / name
    for which, tests in (("public", public), ("hidden", hidden)):
        if tests:
            (folder / "tests" / which).mkdir(parents=True, exist_ok=True)
        for i, (inp, out) in enumerate(tests, 1):
            (folder / "tests" / which / f"{i}.in").write_text(inp)
            (folder / "tests" / which / f"{i}.out").write_text(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "problem.md").write_text(f"# {name}\n\nTASK-{task}: read the input and answer.\n")
    return folder


def problem_set(root: Path) -> Path:
    write_problem(root, "a-add", "ADD", [("1 2\n", "3\n")], [("10 20 30\n", "60\n")])
    write_problem(root, "b-echo", "ECHO", [("hello\n", "hello\n")])
    write_problem(root, "c-overfit", "OVERFIT", [("1 2\n", "3\n")], [("5 5\n", "10\n")])
    broken = root / "d-broken"
    broken.mkdir()
    (broken / "problem.md").write_text("# Broken\n\nNo samples and no tests at all.\n")
    write_problem(root, "e-max", "MAX", [("1 9 2\n", "9\n")], [("-5 -3\n", "-3\n")])
    return root


@pytest.fixture(scope="module")
def sandbox():
    from sstar.sandbox import open_sandbox

    try:
        box = open_sandbox("auto")
    except Exception as err:  # noqa: BLE001 - say why (not root and no Docker, say)
        pytest.skip(f"no sandbox backend here: {err}")
    with box:
        yield box


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_a_batch_records_every_problem_once_and_scores_hidden_tests_after_selection(tmp_path, sandbox):
    probs = problem_set(tmp_path / "set")
    out = tmp_path / "run.jsonl"
    events = []
    summary = run_batch([probs], out, ScriptedEngine(script), sandbox, ZERO, model_name="scripted", progress=events.append)

    recs = {Path(r["path"]).name: r for r in lines(out)}
    assert list(recs) == ["a-add", "b-echo", "c-overfit", "d-broken", "e-max"]  # sorted by path
    assert recs["a-add"]["solved"] and recs["a-add"]["hidden_verdict"] == "AC" and recs["a-add"]["hidden_total"] == 1
    assert recs["b-echo"]["solved"] and recs["b-echo"]["hidden_verdict"] is None and recs["b-echo"]["hidden_total"] is None
    overfit = recs["c-overfit"]
    assert overfit["public_verdict"] == "AC" and overfit["hidden_verdict"] == "WA" and not overfit["solved"]
    broken = recs["d-broken"]
    assert broken["error"] and "no tests found" in broken["error"] and broken["error_stage"] == "load" and not broken["solved"]
    assert recs["e-max"]["solved"] and recs["e-max"]["program"].strip() == PROGRAMS["MAX"].strip()
    for r in recs.values():
        assert r["strategy"] == "zero-shot" and r["model"] == "scripted"
        for field in ("id", "program", "public_passed", "public_total", "tokens", "prompt_tokens", "completion_tokens",
                      "judge_calls", "clusters", "candidates", "wall_s", "error", "settings", "config"):  # fmt: skip
            assert field in r
    assert recs["a-add"]["tokens"] > 0 and recs["a-add"]["candidates"] == 1
    assert (summary.selected, summary.done, summary.solved, summary.unsolved, summary.errors) == (5, 5, 3, 2, 1)
    assert [e.kind for e in events].count("record") == 5 and events[-1].finished == 5


def test_the_pipeline_never_sees_hidden_tests(tmp_path, sandbox):
    root = tmp_path / "set"
    write_problem(root, "add", "ADD", [("1 2\n", "3\n")], [("777001 1\n", "777002\n")])
    engine = ScriptedEngine(script)
    run_batch([root], tmp_path / "run.jsonl", engine, sandbox, SolveConfig(strategy=Strategy.SSTAR, n=2, rounds=1))
    sent = "\n".join(m.content for r in engine.requests for m in r.messages)
    assert "777001" not in sent and "777002" not in sent
    assert lines(tmp_path / "run.jsonl")[0]["hidden_verdict"] == "AC"


def test_trace_dir_keeps_each_problems_run_and_its_score_without_hidden_tests_in_the_run(tmp_path, sandbox):
    root = tmp_path / "set"
    write_problem(root, "add", "ADD", [("1 2\n", "3\n")], [("777001 1\n", "777002\n")])
    write_problem(root, "overfit", "OVERFIT", [("1 2\n", "3\n")], [("5 5\n", "10\n")])
    traces = tmp_path / "traces"
    run_batch([root], tmp_path / "run.jsonl", ScriptedEngine(script), sandbox, SolveConfig(strategy=Strategy.SSTAR, n=2, rounds=1), trace_dir=traces)
    assert sorted(p.name for p in traces.iterdir()) == ["add.json", "overfit.json"]
    add = json.loads((traces / "add.json").read_text())
    kinds = [e["kind"] for e in add["events"]]
    assert kinds[0] == "start" and kinds[-1] == "scored" and "llm" in kinds and "public_tests" in kinds
    assert add["events"][-1]["solved"] is True
    before_scoring = json.dumps(add["events"][:-1])
    assert "777001" not in before_scoring and "777002" not in before_scoring
    overfit = json.loads((traces / "overfit.json").read_text())
    assert overfit["events"][-1]["solved"] is False and overfit["events"][-1]["hidden_verdict"] == "WA"


def test_an_existing_run_file_needs_resume(tmp_path, sandbox):
    probs = problem_set(tmp_path / "set")
    out = tmp_path / "run.jsonl"
    run_batch([probs], out, ScriptedEngine(script), sandbox, ZERO, limit=2)
    before = out.read_bytes()
    with pytest.raises(BatchError, match="--resume"):
        run_batch([probs], out, ScriptedEngine(script), sandbox, ZERO)
    assert out.read_bytes() == before
    # --resume finishes the rest, once each; --limit takes the first M in path order.
    summary = run_batch([probs], out, ScriptedEngine(script), sandbox, ZERO, resume=True)
    assert out.read_bytes().startswith(before)
    assert [Path(r["path"]).name for r in lines(out)] == ["a-add", "b-echo", "c-overfit", "d-broken", "e-max"]
    assert (summary.skipped, summary.done) == (2, 3)
    again = run_batch([probs], out, ScriptedEngine(script), sandbox, ZERO, resume=True)
    assert again.done == 0 and len(lines(out)) == 5


def test_a_torn_last_line_is_dropped_and_that_problem_redone(tmp_path, sandbox):
    probs = problem_set(tmp_path / "set")
    out = tmp_path / "run.jsonl"
    run_batch([probs], out, ScriptedEngine(script), sandbox, ZERO, limit=2)
    good = out.read_bytes()
    with open(out, "ab") as fh:
        fh.write(b'{"v":1,"path":"' + str(probs / "c-overfit").encode() + b'","id":"c-ov')  # a write cut by a kill
    warnings = []
    run_batch([probs], out, ScriptedEngine(script), sandbox, ZERO, resume=True,
              progress=lambda e: warnings.append(e.message) if e.kind == "warning" else None)  # fmt: skip
    assert any("incomplete last line" in w for w in warnings)
    data = out.read_bytes()
    assert data.startswith(good) and data.endswith(b"\n")
    assert [Path(r["path"]).name for r in lines(out)] == ["a-add", "b-echo", "c-overfit", "d-broken", "e-max"]


def test_a_whole_last_record_missing_only_its_newline_is_kept(tmp_path, sandbox):
    probs = problem_set(tmp_path / "set")
    out = tmp_path / "run.jsonl"
    run_batch([probs], out, ScriptedEngine(script), sandbox, ZERO, limit=2)
    out.write_bytes(out.read_bytes().rstrip(b"\n"))
    summary = run_batch([probs], out, ScriptedEngine(script), sandbox, ZERO, resume=True)
    assert summary.skipped == 2 and summary.done == 3 and len(lines(out)) == 5


def test_a_corrupt_line_in_the_middle_stops_resume_with_file_and_line(tmp_path, sandbox):
    probs = problem_set(tmp_path / "set")
    out = tmp_path / "run.jsonl"
    run_batch([probs], out, ScriptedEngine(script), sandbox, ZERO, limit=3)
    rows = out.read_bytes().split(b"\n")
    rows[1] = b'{"v":1, "path": oops'
    out.write_bytes(b"\n".join(rows))
    before = out.read_bytes()
    with pytest.raises(RunFileCorrupt) as err:
        run_batch([probs], out, ScriptedEngine(script), sandbox, ZERO, resume=True)
    message = str(err.value)
    assert f"{out}:2:" in message and "invalid JSON" in message and "other 2 record(s) are intact" in message
    assert "sed -i '2d'" in message
    assert out.read_bytes() == before  # nothing lost, nothing rewritten
    # The report side reads the rest with a warning.
    run = read_run_file(out, strict=False)
    assert len(run.records) == 2 and run.bad_lines[0][0] == 2


def test_resume_with_other_settings_is_refused(tmp_path, sandbox):
    probs = problem_set(tmp_path / "set")
    out = tmp_path / "run.jsonl"
    run_batch([probs], out, ScriptedEngine(script), sandbox, ZERO, limit=1, model_name="m1")
    with pytest.raises(BatchError, match=r"strategy='zero-shot' \(now 'sstar'\)"):
        run_batch([probs], out, ScriptedEngine(script), sandbox, SolveConfig(), resume=True, model_name="m1")
    with pytest.raises(BatchError, match="model='m1'"):
        run_batch([probs], out, ScriptedEngine(script), sandbox, ZERO, resume=True, model_name="m2")


def test_bad_paths_are_clear_errors(tmp_path, sandbox):
    with pytest.raises(BatchError, match="does not exist"):
        run_batch([tmp_path / "nope"], tmp_path / "run.jsonl", ScriptedEngine(script), sandbox, ZERO)
    (tmp_path / "empty").mkdir()
    with pytest.raises(Exception, match="no problems found"):
        run_batch([tmp_path / "empty"], tmp_path / "run.jsonl", ScriptedEngine(script), sandbox, ZERO)
    assert not (tmp_path / "run.jsonl").exists()


class OneAtATime(ScriptedEngine):
    """Fails if two generate() calls overlap; slow enough for workers to collide without a lock."""

    def __init__(self) -> None:
        super().__init__(script)
        self.active = 0
        self.max_active = 0
        self.guard = threading.Lock()

    def generate(self, requests: Sequence[Request]) -> list[list[Completion]]:
        with self.guard:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        time.sleep(0.05)
        try:
            return super().generate(requests)
        finally:
            with self.guard:
                self.active -= 1


def test_workers_share_one_engine_serialised_and_record_each_problem_once(tmp_path, sandbox):
    probs = problem_set(tmp_path / "set")
    out = tmp_path / "run.jsonl"
    engine = OneAtATime()
    summary = run_batch([probs], out, engine, sandbox, ZERO, workers=3)
    assert engine.max_active == 1
    assert sorted(Path(r["path"]).name for r in lines(out)) == ["a-add", "b-echo", "c-overfit", "d-broken", "e-max"]
    assert (summary.done, summary.solved) == (5, 3)


# ---------------------------------------------------------------------------------------
# SIGKILL of a real batch process, then --resume

BATCH_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from sstar.batch import run_batch
    from sstar.engine.scripted import ScriptedEngine
    from sstar.pipeline.types import SolveConfig, Strategy
    from sstar.sandbox import open_sandbox

    def slow(messages, index, params):
        time.sleep(0.15)  # a model takes its time: room for a kill mid-problem
        text = "\\n".join(m.content for m in messages)
        program = "import sys\\nprint(sum(map(int, sys.stdin.read().split())))\\n"
        return "```python\\n" + program + "```\\n" if "TASK-ADD" in text else "no idea"

    problems, out = sys.argv[1], sys.argv[2]
    with open_sandbox(sys.argv[4]) as box:
        run_batch([problems], out, ScriptedEngine(slow), box, SolveConfig(strategy=Strategy.ZERO_SHOT, n=1, rounds=0),
                  resume=True, workers=int(sys.argv[3]))
    """
)


def _start_batch(script_path: Path, probs: Path, out: Path, workers: int, kind: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, str(script_path), str(probs), str(out), str(workers), kind],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def _count_lines(out: Path) -> int:
    try:
        return out.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_at_any_moment_then_resume_loses_nothing_and_repeats_nothing(tmp_path, sandbox, workers):
    probs = tmp_path / "set"
    names = [f"p{i:02d}" for i in range(8)]
    for i, name in enumerate(names):
        write_problem(probs, name, "ADD", [(f"{i} 1\n", f"{i + 1}\n")], [(f"{i} {i}\n", f"{2 * i}\n")])
    script_path = tmp_path / "batch.py"
    script_path.write_text(BATCH_SCRIPT)
    out = tmp_path / "run.jsonl"
    # The same backend as the fixture's; a killed process backend leaves no container behind.
    kind = "process" if "process" in sandbox.name else "auto"

    # Kill three times: once after the first record, then at odd moments (mid-problem, mid-start-up).
    for wait_lines, extra_delay in ((1, 0.0), (None, 0.37), (3, 0.11)):
        proc = _start_batch(script_path, probs, out, workers, kind)
        deadline = time.monotonic() + 60
        if wait_lines is not None:
            while _count_lines(out) < wait_lines and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
        time.sleep(extra_delay)
        before = out.read_bytes() if out.exists() else b""
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        assert proc.returncode == -signal.SIGKILL  # killed mid-run, not finished
        after = out.read_bytes() if out.exists() else b""
        assert after.startswith(before[: before.rfind(b"\n") + 1])  # complete lines are never touched

    killed_state = out.read_bytes()
    assert killed_state.count(b"\n") < len(names)
    proc = _start_batch(script_path, probs, out, workers, kind)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    final = out.read_bytes()
    assert final.startswith(killed_state[: killed_state.rfind(b"\n") + 1])
    recs = [json.loads(line) for line in final.decode().splitlines()]  # every line parses
    assert sorted(Path(r["path"]).name for r in recs) == names  # each problem exactly once
    assert all(r["solved"] and r["error"] is None for r in recs)


def test_cli_batch_then_report(tmp_path, sandbox):
    from typer.testing import CliRunner

    from sstar.cli.main import app

    root = tmp_path / "set"
    write_problem(root, "echo", "ECHO", [("hi\n", "hi\n")], [("there\n", "there\n")])
    write_problem(root, "add", "ADD", [("1 2\n", "3\n")])
    kind = "process" if "process" in sandbox.name else "auto"
    out = tmp_path / "run.jsonl"
    args = ["batch", str(root), "--out", str(out), "--model", "scripted", "--strategy", "zero-shot",
            "--sandbox", kind, "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    runner = CliRunner()
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "1/2 solved" in first.output and "execution cache" in first.output  # the scripted model echoes
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "--resume" in again.output
    resumed = runner.invoke(app, [*args, "--resume"])
    assert resumed.exit_code == 0 and "0 finished in this run, 2 recorded earlier" in " ".join(resumed.output.split())
    report = runner.invoke(app, ["report", str(out), "--format", "json"])
    assert report.exit_code == 0 and json.loads(report.stdout)["runs"][0]["solved"] == 1
