"""sstar.Session, the front door: the README's library example, ownership, lazy opening, the caches."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sstar
from sstar.engine.scripted import ScriptedEngine
from sstar.errors import SstarError
from sstar.pipeline.types import SolveConfig, Strategy
from sstar.judge import judge
from sstar.verdict import Verdict

from tests.test_batch import script, write_problem

REPO = Path(__file__).resolve().parents[1]


def readme_library_example() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Library\n") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README's Library section has no python block"
    return match.group(1)


def run_example(code: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(REPO)  # the example's problem path is relative to the repository
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    return out.getvalue()


def test_the_readme_library_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    code = readme_library_example()
    assert 'model="qwen2.5-coder-1.5b"' in code
    # The scripted engine stands in for the model: the example's own code, session and sandbox.
    printed = run_example(code.replace('model="qwen2.5-coder-1.5b"', 'model="scripted"'), monkeypatch)
    assert printed.strip() in {str(v) for v in Verdict}


@pytest.mark.llama
@pytest.mark.slow
def test_the_readme_library_example_runs_with_a_real_model(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        from sstar.models import resolve_model

        resolve_model("smollm2-135m")
    except Exception as err:  # noqa: BLE001
        pytest.skip(f"the test model is not installed: {err}")
    code = readme_library_example()
    code = code.replace('model="qwen2.5-coder-1.5b"', 'model="smollm2-135m"').replace("n=8, rounds=2", "n=2, rounds=0")
    printed = run_example(code, monkeypatch)
    assert printed.strip() in {str(v) for v in Verdict}


def test_public_names_resolve_lazily() -> None:
    for name in sstar.__all__:
        assert getattr(sstar, name) is not None
    assert sstar.Session is sstar.session.Session and callable(sstar.judge) and callable(sstar.solve)
    probe = "import sys, sstar; print(sorted(m for m in sys.modules if m.startswith('sstar')))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO).stdout
    assert loaded.strip() == "['sstar']"  # `sstar --help` must not pay for the library
    # Importing the module sstar.judge must not hide the function sstar.judge.
    probe = "import sstar.pipeline.context, sstar; print(callable(sstar.judge))"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO).stdout.strip() == "True"


class ClosingEngine(ScriptedEngine):
    def __init__(self) -> None:
        super().__init__(script)
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_judge_never_loads_the_model_and_the_session_closes_only_what_it_opened(tmp_path: Path, process_sandbox) -> None:
    problem = write_problem(tmp_path, "add", "ADD", [("1 2\n", "3\n")], [("4 5\n", "9\n")])
    with sstar.Session(model="no-such-model", sandbox=process_sandbox) as session:
        report = session.judge("print(sum(map(int, input().split())))\n", problem, tests="all")
        assert report.verdict is Verdict.AC and report.total == 2
        with pytest.raises(SstarError, match="no-such-model"):
            session.engine
    # The caller's sandbox was not closed with the session: it still judges.
    assert judge("print(sum(map(int, input().split())))\n", sstar.load_problem(problem), process_sandbox, tests="all").verdict is Verdict.AC
    engine = ClosingEngine()
    session = sstar.Session(model=engine, sandbox=process_sandbox)
    result = session.solve(problem, SolveConfig(strategy=Strategy.ZERO_SHOT))
    assert result.program.strip().startswith("import sys") and result.tokens > 0
    session.close()
    assert not engine.closed  # given, not opened: the caller closes it
    with pytest.raises(SstarError, match="closed"):
        session.judge("print(1)", problem)


def test_a_session_opens_what_a_spec_names_and_closes_it(tmp_path: Path) -> None:
    problem = write_problem(tmp_path, "echo", "ECHO", [("hi\n", "hi\n")])
    with sstar.Session(model="scripted", sandbox="process") as session:
        box = session.sandbox
        assert session.judge("import sys\nsys.stdout.write(sys.stdin.read())\n", problem).verdict is Verdict.AC
    with pytest.raises(SstarError, match="closed"):
        box.run(sstar.sandbox.Program("print(1)"), [sstar.sandbox.RunSpec("t", b"")], sstar.sandbox.Limits())


def test_batch_and_check_through_a_session_with_both_caches(tmp_path: Path, process_sandbox) -> None:
    from sstar.cache import CachingSandbox
    from sstar.engine.cache import CachingEngine

    root = tmp_path / "set"
    write_problem(root, "a-add", "ADD", [("1 2\n", "3\n")], [("10 20\n", "30\n")])
    write_problem(root, "b-echo", "ECHO", [("hello\n", "hello\n")])
    config = SolveConfig(strategy=Strategy.SSTAR, n=2, rounds=1)
    kwargs = dict(config=config, exec_cache=tmp_path / "exec", completion_cache=tmp_path / "completions")
    with sstar.Session(ScriptedEngine(script), process_sandbox, **kwargs) as session:
        assert isinstance(session.sandbox, CachingSandbox) and isinstance(session.engine, CachingEngine)
        first = session.batch([root], tmp_path / "one.jsonl")
    with sstar.Session(ScriptedEngine(script), process_sandbox, **kwargs) as session:
        again = session.batch([root], tmp_path / "two.jsonl", workers=2)
        assert again.cache is not None and again.cache["hits"] > 0
    assert (first.solved, again.solved) == (2, 2)
    # Two workers write records as problems finish: compare them by problem.
    one, two = (
        sorted((json.loads(x) for x in (tmp_path / f).read_text().splitlines()), key=lambda r: r["path"])
        for f in ("one.jsonl", "two.jsonl")
    )
    assert [r["tokens"] for r in one] == [r["tokens"] for r in two]
    assert all(r["completion_cache_hits"] == 0 for r in one) and all(r["completion_cache_hits"] > 0 for r in two)
    # check: the solutions beside the problems (none yet), then solved with the session's model.
    with sstar.Session(ScriptedEngine(script), process_sandbox, config=config) as session:
        summary = session.check(root, solve_missing=True)
    assert summary.exit_code == 0 and (root / "a-add" / "solution.py").exists()
