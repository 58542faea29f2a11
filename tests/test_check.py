"""`sstar check`: discovery for each layout, judging in a real sandbox, JUnit XML, exit codes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sstar.check import check_repository, discover_targets, expectation, write_junit

ADD = "import sys\nprint(sum(map(int, sys.stdin.read().split())))\n"
WRONG = "print(0)\n"
CRASH = "raise SystemExit(3)\n"
SPIN = "while True:\n    pass\n"

STATEMENT = """# {title}

Print the sum of the numbers.

## Sample Input 1

```
1 2
```

## Sample Output 1

```
3
```
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def md_problem(root: Path, solutions: dict[str, str]) -> Path:
    """A problem directory: problem.md + tests/ + solutions beside it."""
    folder = root / "add"
    write(folder / "problem.md", STATEMENT.format(title="Add"))
    write(folder / "tests" / "hidden" / "1.in", "10 20 30\n")
    write(folder / "tests" / "hidden" / "1.out", "60\n")
    write(folder / "tests" / "public" / "1.in", "1 2\n")
    write(folder / "tests" / "public" / "1.out", "3\n")
    for name, code in solutions.items():
        write(folder / name, code)
    return folder


def oj_problem(root: Path, name: str = "abc001_a") -> Path:
    folder = root / name
    write(folder / "test" / "sample-1.in", "4 5\n")
    write(folder / "test" / "sample-1.out", "9\n")
    write(folder / "test" / "sample-2.in", "1 1 1\n")
    write(folder / "test" / "sample-2.out", "3\n")
    write(folder / "main.py", ADD)
    write(folder / "gen.py", "print('1 2')\n")  # a helper, not a solution
    return folder


def kattis_problem(root: Path) -> Path:
    folder = root / "hello"
    write(folder / "problem.yaml", "name: Hello\nlimits:\n  time_limit: 0.5\n")
    write(folder / "problem_statement" / "problem.en.md", "# Hello\n\nSum the numbers.\n")
    write(folder / "data" / "sample" / "1.in", "2 3\n")
    write(folder / "data" / "sample" / "1.ans", "5\n")
    write(folder / "data" / "secret" / "1.in", "7 8\n")
    write(folder / "data" / "secret" / "1.ans", "15\n")
    write(folder / "submissions" / "accepted" / "sol.py", ADD)
    write(folder / "submissions" / "wrong_answer" / "zero.py", WRONG)
    write(folder / "submissions" / "time_limit_exceeded" / "spin.py", SPIN)
    write(folder / "submissions" / "run_time_error" / "crash.py", CRASH)
    return folder


@pytest.fixture(scope="module")
def sandbox():
    from sstar.sandbox import open_sandbox

    try:
        box = open_sandbox("auto")
    except Exception as err:  # noqa: BLE001
        pytest.skip(f"no sandbox backend here: {err}")
    with box:
        yield box


# ---------------------------------------------------------------------------------------
# Discovery (no sandbox needed)


def test_discovery_of_a_problem_directory_with_several_solutions(tmp_path: Path) -> None:
    md_problem(tmp_path, {"solution.py": ADD, "brute.py": ADD, "wrong_greedy.py": WRONG, "checker.py": "", "test_x.py": ""})
    [t] = discover_targets(tmp_path)
    assert t.layout == "problem" and t.problem is not None and t.problem.hidden_tests
    assert [(s.path.name, s.expect) for s in t.solutions] == [("brute.py", "AC"), ("solution.py", "AC"), ("wrong_greedy.py", "fail")]


def test_discovery_of_named_statements_in_one_folder(tmp_path: Path) -> None:
    write(tmp_path / "set" / "add.md", STATEMENT.format(title="Add"))
    write(tmp_path / "set" / "add.py", ADD)
    write(tmp_path / "set" / "add_tle.py", SPIN)
    write(tmp_path / "set" / "other.md", STATEMENT.format(title="Other"))
    write(tmp_path / "set" / "notes-on-things.md", "# Notes\n\nNo samples here.\n")  # documentation, left out
    notes: list[str] = []
    targets = discover_targets(tmp_path, notes)
    by_name = {t.name: t for t in targets}
    assert sorted(by_name) == ["add", "other"]
    assert [(s.path.name, s.expect) for s in by_name["add"].solutions] == [("add.py", "AC"), ("add_tle.py", "TLE")]
    assert by_name["other"].solutions == []
    assert any("notes-on-things.md" in n for n in notes)


def test_discovery_of_the_oj_layout_without_a_statement(tmp_path: Path) -> None:
    oj_problem(tmp_path / "atcoder")
    [t] = discover_targets(tmp_path)
    assert t.layout == "oj" and t.name == "abc001_a"
    assert [c.name for c in t.problem.public_tests] == ["test/sample-1", "test/sample-2"]  # type: ignore[union-attr]
    assert [s.path.name for s in t.solutions] == ["main.py"]


def test_discovery_of_a_kattis_package(tmp_path: Path) -> None:
    kattis_problem(tmp_path)
    [t] = discover_targets(tmp_path)
    assert t.layout == "kattis"
    assert [(s.path.name, s.expect) for s in t.solutions] == [
        ("sol.py", "AC"), ("zero.py", "WA"), ("spin.py", "TLE"), ("crash.py", "RE"),
    ]  # fmt: skip


def test_expectations_from_file_names() -> None:
    assert [expectation(Path(n)) for n in ("main.py", "wrong.py", "x_wa.py", "x_tle.py", "x_re.py", "x_wrong.py")] == [
        "AC", "fail", "fail", "TLE", "RE", "fail",
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------
# Judging, JUnit, exit codes


def junit(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def test_a_repository_where_everything_is_as_expected_exits_0(tmp_path: Path, sandbox) -> None:
    repo = tmp_path / "repo"
    md_problem(repo / "md", {"solution.py": ADD, "wrong.py": WRONG})
    oj_problem(repo / "oj")
    kattis_problem(repo / "kattis")
    summary = check_repository(repo, sandbox)
    assert summary.exit_code == 0, [(r.solution.path.name, r.message) for p in summary.problems for r in p.results]
    assert summary.solutions == 7 and summary.passed == 7

    write_junit(summary, tmp_path / "report.xml")
    root = junit(tmp_path / "report.xml")
    assert root.tag == "testsuites" and root.get("tests") == "7" and root.get("failures") == "0"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert sorted(suites) == ["abc001_a", "add", "hello"]
    cases = {c.get("name"): c for c in suites["hello"].findall("testcase")}
    assert sorted(cases) == [
        "kattis/hello/submissions/accepted/sol.py", "kattis/hello/submissions/run_time_error/crash.py",
        "kattis/hello/submissions/time_limit_exceeded/spin.py", "kattis/hello/submissions/wrong_answer/zero.py",
    ]  # fmt: skip
    assert all(c.find("failure") is None for c in cases.values())
    props = {p.get("name"): p.get("value") for p in suites["hello"].iter("property")}
    assert props == {"path": "kattis/hello", "layout": "kattis"}


def test_a_failing_solution_exits_1_and_the_junit_says_why(tmp_path: Path, sandbox) -> None:
    repo = tmp_path / "repo"
    folder = md_problem(repo, {"solution.py": "import sys\nprint(3)\n"})  # right on the sample only
    kattis = kattis_problem(repo)
    write(kattis / "submissions" / "wrong_answer" / "actually_right.py", ADD)  # a WA submission that passes
    summary = check_repository(repo, sandbox)
    assert summary.exit_code == 1 and summary.failed == 2
    write_junit(summary, tmp_path / "r.xml")
    root = junit(tmp_path / "r.xml")
    assert root.get("failures") == "2"
    add_case = root.find("testsuite[@name='add']/testcase")
    failure = add_case.find("failure")  # type: ignore[union-attr]
    assert failure is not None and failure.get("type") == "WA"
    assert "expected AC, got WA on test hidden/1 (1/2 passed)" == failure.get("message")
    assert "hidden/1: WA" in (failure.text or "")
    wa_case = root.find("testsuite[@name='hello']/testcase[@name='hello/submissions/wrong_answer/actually_right.py']")
    assert wa_case is not None and "expected WA, got AC on every test" in wa_case.find("failure").get("message")  # type: ignore[union-attr]
    assert folder.exists()


def test_a_broken_problem_exits_2_and_the_rest_is_still_checked(tmp_path: Path, sandbox) -> None:
    repo = tmp_path / "repo"
    md_problem(repo, {"solution.py": ADD})
    broken = repo / "broken"
    write(broken / "problem.md", "# Broken\n\nNo samples.\n")
    write(broken / "solution.py", ADD)
    summary = check_repository(repo, sandbox)
    assert summary.exit_code == 2 and summary.load_errors == 1 and summary.passed == 1
    write_junit(summary, tmp_path / "r.xml")
    error = junit(tmp_path / "r.xml").find("testsuite[@name='broken']/testcase/error")
    assert error is not None and "no tests found" in (error.get("message") or "")


def test_missing_solutions_are_skipped_unless_required(tmp_path: Path, sandbox) -> None:
    repo = tmp_path / "repo"
    md_problem(repo, {})
    summary = check_repository(repo, sandbox)
    assert summary.exit_code == 0 and summary.missing == 1
    write_junit(summary, tmp_path / "r.xml")
    assert junit(tmp_path / "r.xml").get("skipped") == "1"
    strict = check_repository(repo, sandbox, require_solutions=True)
    assert strict.exit_code == 1


def test_solve_missing_writes_solution_py_then_judges_it(tmp_path: Path, sandbox) -> None:
    from sstar.engine.scripted import ScriptedEngine
    from sstar.pipeline.types import SolveConfig, Strategy

    repo = tmp_path / "repo"
    folder = md_problem(repo, {})
    kattis = kattis_problem(repo / "k")
    (kattis / "submissions" / "accepted" / "sol.py").unlink()  # only must-fail submissions left
    engine = ScriptedEngine(default=f"```python\n{ADD}```\n")
    summary = check_repository(
        repo, sandbox, solve_missing=True, engine=engine, config=SolveConfig(strategy=Strategy.ZERO_SHOT), model_name="scripted"
    )
    assert summary.exit_code == 0
    written = folder / "solution.py"
    assert written.read_text().startswith("# Written by `sstar check --solve-missing` (zero-shot, scripted)")
    assert (kattis / "submissions" / "accepted" / "solution.py").is_file()
    generated = [r for p in summary.problems for r in p.results if r.generated]
    assert len(generated) == 2 and all(r.ok for r in generated)
    sent = "\n".join(m.content for r in engine.requests for m in r.messages)
    assert "10 20 30" not in sent and "7 8" not in sent  # hidden tests never reach the model


def test_cli_exit_codes_and_junit(tmp_path: Path, sandbox) -> None:
    from sstar.cli.main import app

    runner = CliRunner()
    kind = "process" if "process" in sandbox.name else "auto"
    good = tmp_path / "good"
    oj_problem(good)
    ok = runner.invoke(app, ["check", str(good), "--sandbox", kind, "--junit", str(tmp_path / "ok.xml")])
    assert ok.exit_code == 0, ok.output
    assert junit(tmp_path / "ok.xml").get("tests") == "1"
    bad = tmp_path / "bad"
    write(oj_problem(bad) / "main.py", WRONG)
    failed = runner.invoke(app, ["check", str(bad), "--sandbox", kind])
    assert failed.exit_code == 1 and "expected AC" in failed.output
    missing = runner.invoke(app, ["check", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "does not exist" in " ".join(missing.output.split())
    empty = tmp_path / "empty"
    empty.mkdir()
    none = runner.invoke(app, ["check", str(empty), "--sandbox", kind])
    assert none.exit_code == 2 and "no problems found" in " ".join(none.output.split())
