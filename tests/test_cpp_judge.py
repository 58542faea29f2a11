"""C++ solutions and checker programs through `judge` and `check`: testlib checkers (C++
and Python), --checker, CE, failure details, and a repository of Python and C++ solutions
in the problem-dir, oj and Kattis layouts with the JUnit result each should get."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sstar.check import check_repository, discover_targets, expectation, write_junit
from sstar.judge import TESTLIB, CheckerFailed, checker_override, inline_local_includes, judge, with_checker
from sstar.problem import Problem, TestCase
from sstar.sandbox import Program, Sandbox
from sstar.verdict import Verdict

pytestmark = pytest.mark.timeout(600)

ADD_CPP = '#include <bits/stdc++.h>\nint main() { long long s = 0, x; while (std::cin >> x) s += x; std::cout << s << "\\n"; }\n'
ADD_PY = "import sys\nprint(sum(map(int, sys.stdin.read().split())))\n"
WRONG_CPP = "#include <cstdio>\nint main() { std::puts(\"0\"); }\n"
SLOW_CPP = "int main() { volatile unsigned long x = 0; for (;;) x++; }\n"
BROKEN_CPP = "int main() { this does not compile }\n"

# A testlib-style checker: the answer is a number; the output must hold it and nothing else.
# Its helper header is inlined by sstar (checkers ship testlib.h beside them likewise).
CHECKER_H = "#include <fstream>\nstatic long long first(const char *path) { std::ifstream f(path); long long v = 0; f >> v; return v; }\n"
CHECKER_CPP = """#include "check_util.h"
#include <fstream>
#include <string>
int main(int argc, char **argv) {
    if (argc != 4) return 3;
    std::ifstream out(argv[2]);
    long long got; std::string extra;
    if (!(out >> got)) return 1;      // WA: no number
    if (out >> extra) return 2;       // PE: something after it
    return got == first(argv[3]) ? 0 : 1;
}
"""
CHECKER_PY = """import sys
want = int(open(sys.argv[3]).read().split()[0])
tokens = open(sys.argv[2]).read().split()
if not tokens or not tokens[0].lstrip("-").isdigit():
    print("no number", file=sys.stderr); sys.exit(1)
if len(tokens) > 1:
    print("extra tokens", file=sys.stderr); sys.exit(2)
sys.exit(0 if int(tokens[0]) == want else 1)
"""
CRASHING_CHECKER_PY = "import sys\nraise RuntimeError('checker bug')\n"
FAILING_CHECKER_CPP = "#include <cstdio>\nint main() { std::fputs(\"FAIL answer file is broken\\n\", stderr); return 3; }\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def add_problem(**kw: object) -> Problem:
    tests = (TestCase("a", "1 2\n", "3\n"), TestCase("b", "10 20 30\n", "60\n"))
    return Problem(id="add", title="Add", statement="", public_tests=tests, time_limit_s=1.0, **kw)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- no sandbox


def test_checker_override_parses_specs_and_programs(tmp_path: Path) -> None:
    assert checker_override("tokens:ci") == ("tokens:ci", None)
    assert checker_override("float:1e-4") == ("float:1e-4", None)
    prog = write(tmp_path / "chk.cpp", CHECKER_CPP)
    assert checker_override(str(prog)) == (TESTLIB, prog.resolve())
    for bad, words in (("float:x", "expected exact"), ("custom", "cannot be chosen"), (str(tmp_path / "nope.cpp"), "does not exist")):
        with pytest.raises(CheckerFailed, match=words):
            checker_override(bad)
    assert with_checker(add_problem(), "exact").checker == "exact"


def test_local_includes_are_inlined_once(tmp_path: Path) -> None:
    write(tmp_path / "check_util.h", CHECKER_H)
    write(tmp_path / "twice.h", '#include "check_util.h"\nint twice;\n')
    source = '#include "check_util.h"\n#include "twice.h"\n#include <vector>\n#include "absent.h"\nint main() {}\n'
    out = inline_local_includes(source, tmp_path)
    assert out.count("static long long first") == 1 and "int twice;" in out
    assert "#include <vector>" in out and '#include "absent.h"' in out  # left to the compiler


def test_expectations_of_cpp_names() -> None:
    assert [expectation(Path(n)) for n in ("main.cpp", "wrong.cc", "x_tle.cxx", "y_ce.cpp")] == ["AC", "fail", "TLE", "CE"]


# ----------------------------------------------------------------------------- judge


def test_cpp_solutions_are_judged(sandbox: Sandbox) -> None:
    problem = add_problem()
    assert judge(Program(ADD_CPP, "cpp"), problem, sandbox).verdict is Verdict.AC
    assert judge(Program(WRONG_CPP, "cpp"), problem, sandbox).verdict is Verdict.WA
    assert judge(Program(SLOW_CPP, "cpp"), problem, sandbox).verdict is Verdict.TLE
    ce = judge(Program(BROKEN_CPP, "cpp"), problem, sandbox)
    assert [t.verdict for t in ce.tests] == [Verdict.CE, Verdict.CE]
    assert "error" in ce.tests[0].message and "solution.cpp" in ce.tests[0].stderr_tail


@pytest.mark.parametrize("checker_name", ["chk.cpp", "chk.py"])
def test_testlib_checker_programs(sandbox: Sandbox, tmp_path: Path, checker_name: str) -> None:
    write(tmp_path / "check_util.h", CHECKER_H)
    checker = write(tmp_path / checker_name, CHECKER_CPP if checker_name.endswith(".cpp") else CHECKER_PY)
    problem = add_problem(checker=TESTLIB, validator=checker)
    assert judge(ADD_PY, problem, sandbox).verdict is Verdict.AC
    assert judge(Program(ADD_CPP, "cpp"), problem, sandbox).verdict is Verdict.AC
    assert judge("print(3, 'extra')", problem, sandbox).tests[0].verdict is Verdict.PE
    wrong = judge("print(4)", problem, sandbox)
    assert [t.verdict for t in wrong.tests] == [Verdict.WA, Verdict.WA]
    assert judge("print('  3  ')", problem, sandbox).tests[0].verdict is Verdict.AC  # the checker's rule, not ours
    assert judge(SLOW_CPP.replace("int main", "int main") and "while True: pass", problem, sandbox).verdict is Verdict.TLE


def test_a_crashing_checker_is_the_problems_fault(sandbox: Sandbox, tmp_path: Path) -> None:
    for name, source, words in (
        ("bad.py", CRASHING_CHECKER_PY, "checker bug"),
        ("fail.cpp", FAILING_CHECKER_CPP, "exit code 3"),
        ("broken.cpp", BROKEN_CPP, "does not compile"),
    ):
        problem = add_problem(checker=TESTLIB, validator=write(tmp_path / name, source))
        with pytest.raises(CheckerFailed, match=words):
            judge(ADD_PY, problem, sandbox)


# ----------------------------------------------------------------------------- CLI judge


def _sandbox_kind(sandbox: Sandbox) -> str:
    return "process" if "process" in sandbox.name else "docker"


def test_cli_judge_cpp_details_checker_and_jobs(sandbox: Sandbox, tmp_path: Path) -> None:
    from sstar.cli.main import app

    folder = tmp_path / "add"
    write(folder / "problem.md", "# Add\n\nSum.\n\n## Sample Input 1\n\n```\n1 2\n```\n\n## Sample Output 1\n\n```\n3\n```\n")
    runner = CliRunner()
    kind = _sandbox_kind(sandbox)
    ok = runner.invoke(app, ["judge", str(write(folder / "sol.cpp", ADD_CPP)), str(folder), "--sandbox", kind, "--jobs", "1"])
    assert ok.exit_code == 0, ok.output
    # a .txt file is C++ when --language says so
    as_text = runner.invoke(app, ["judge", str(write(folder / "sol.txt", ADD_CPP)), str(folder), "--sandbox", kind, "--language", "c++"])
    assert as_text.exit_code == 0, as_text.output
    wrong = runner.invoke(app, ["judge", str(write(folder / "wrong.cpp", WRONG_CPP)), str(folder), "--sandbox", kind])
    assert wrong.exit_code == 1
    text = wrong.output
    assert "input:\n1 2" in text and "expected:\n3" in text and "got:\n0" in text, text
    ce = runner.invoke(app, ["judge", str(write(folder / "ce.cpp", BROKEN_CPP)), str(folder), "--sandbox", kind])
    assert ce.exit_code == 1 and "compiler output:" in ce.output and "CE" in ce.output
    # --checker tokens:ci accepts what the default tokens checker rejects
    shout = write(folder / "shout.py", "print('YES')\n")
    write(folder / "problem.md", (folder / "problem.md").read_text().replace("3\n```\n", "yes\n```\n"))
    assert runner.invoke(app, ["judge", str(shout), str(folder), "--sandbox", kind]).exit_code == 1
    assert runner.invoke(app, ["judge", str(shout), str(folder), "--sandbox", kind, "--checker", "tokens:ci"]).exit_code == 0
    crashing = write(tmp_path / "crash_checker.py", CRASHING_CHECKER_PY)
    bad = runner.invoke(app, ["judge", str(shout), str(folder), "--sandbox", kind, "--checker", str(crashing)])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert "checker" in bad.output and "fix the checker" in " ".join(bad.output.split())
    unknown = runner.invoke(app, ["judge", str(write(folder / "sol.rs", "fn main() {}")), str(folder)])
    assert unknown.exit_code == 2 and "--language" in unknown.output


# ----------------------------------------------------------------------------- check


def mixed_repository(root: Path) -> None:
    """Python and C++ solutions (right, wrong, slow, not compiling) in all three layouts."""
    statement = "# Add\n\nSum.\n\n## Sample Input 1\n\n```\n1 2\n```\n\n## Sample Output 1\n\n```\n3\n```\n"
    pd = root / "problems" / "add"
    write(pd / "problem.md", statement)
    write(pd / "meta.json", '{"time_limit": 1}')
    write(pd / "tests" / "hidden" / "1.in", "10 20 30\n")
    write(pd / "tests" / "hidden" / "1.out", "60\n")
    write(pd / "solution.cpp", ADD_CPP)
    write(pd / "solution.py", ADD_PY)
    write(pd / "wrong.cc", WRONG_CPP)
    write(pd / "brute_tle.cpp", SLOW_CPP)
    write(pd / "typo_ce.cpp", BROKEN_CPP)
    write(pd / "checker.cpp", CHECKER_CPP)  # a helper, not a solution
    oj = root / "oj" / "abc001_a"
    write(oj / "test" / "sample-1.in", "4 5\n")
    write(oj / "test" / "sample-1.out", "9\n")
    write(oj / "main.cpp", ADD_CPP)
    write(oj / "wrong_greedy.cpp", WRONG_CPP)
    kt = root / "kattis" / "hello"
    write(kt / "problem.yaml", "name: Hello\nlimits:\n  time_limit: 1\n")
    write(kt / "problem_statement" / "problem.en.md", "# Hello\n\nSum the numbers.\n")
    write(kt / "data" / "sample" / "1.in", "2 3\n")
    write(kt / "data" / "sample" / "1.ans", "5\n")
    write(kt / "data" / "secret" / "1.in", "7 8\n")
    write(kt / "data" / "secret" / "1.ans", "15\n")
    write(kt / "submissions" / "accepted" / "sol.cpp", ADD_CPP)
    write(kt / "submissions" / "accepted" / "sol.py", ADD_PY)
    write(kt / "submissions" / "wrong_answer" / "zero.cc", WRONG_CPP)
    write(kt / "submissions" / "time_limit_exceeded" / "spin.cpp", SLOW_CPP)
    write(kt / "submissions" / "run_time_error" / "crash.cpp", "int main() { return 1; }\n")


def test_discovery_finds_cpp_solutions_in_every_layout(tmp_path: Path) -> None:
    mixed_repository(tmp_path)
    found = {t.layout: sorted((s.path.name, s.expect) for s in t.solutions) for t in discover_targets(tmp_path)}
    assert found == {
        "problem": [("brute_tle.cpp", "TLE"), ("solution.cpp", "AC"), ("solution.py", "AC"), ("typo_ce.cpp", "CE"), ("wrong.cc", "fail")],
        "oj": [("main.cpp", "AC"), ("wrong_greedy.cpp", "fail")],
        "kattis": [("crash.cpp", "RE"), ("sol.cpp", "AC"), ("sol.py", "AC"), ("spin.cpp", "TLE"), ("zero.cc", "WA")],
    }


def test_a_mixed_repository_passes_with_the_right_junit(sandbox: Sandbox, tmp_path: Path) -> None:
    mixed_repository(tmp_path)
    summary = check_repository(tmp_path, sandbox)
    bad = [(r.solution.path.name, r.message) for p in summary.problems for r in p.results if not r.ok]
    assert bad == [] and summary.exit_code == 0
    assert summary.solutions == 12
    suites = ET.parse(write_junit(summary, tmp_path / "junit.xml")).getroot()
    assert (suites.get("tests"), suites.get("failures"), suites.get("errors")) == ("12", "0", "0")
    # a solution that should compile but does not: a failure naming CE
    write(tmp_path / "oj" / "abc001_a" / "main.cpp", BROKEN_CPP)
    summary = check_repository(tmp_path, sandbox)
    assert summary.exit_code == 1
    suites = ET.parse(write_junit(summary, tmp_path / "junit.xml")).getroot()
    failures = suites.findall(".//failure")
    assert [f.get("type") for f in failures] == ["CE"] and "expected AC, got CE" in (failures[0].get("message") or "")
    assert (failures[0].text or "").startswith("CE on all 1 tests") and "solution.cpp:1:" in (failures[0].text or "")


def test_cli_check_with_a_checker_override(sandbox: Sandbox, tmp_path: Path) -> None:
    from sstar.cli.main import app

    oj = tmp_path / "oj" / "p"
    write(oj / "test" / "1.in", "1 2\n")
    write(oj / "test" / "1.out", "3\n")
    write(oj / "main.py", "print('3 extra')\n")
    runner = CliRunner()
    kind = _sandbox_kind(sandbox)
    assert runner.invoke(app, ["check", str(tmp_path), "--sandbox", kind]).exit_code == 1
    write(tmp_path / "tools" / "check_util.h", CHECKER_H)
    checker = write(tmp_path / "tools" / "first_token.py", "import sys\nw = open(sys.argv[3]).read().split()[0]\ng = open(sys.argv[2]).read().split()\nsys.exit(0 if g and g[0] == w else 1)\n")
    ok = runner.invoke(app, ["check", str(tmp_path / "oj"), "--sandbox", kind, "--checker", str(checker), "-j", "1"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(app, ["check", str(tmp_path / "oj"), "--sandbox", kind, "--checker", "float:nope"])
    assert bad.exit_code == 2 and "expected exact" in " ".join(bad.output.split())


def test_a_hostile_checker_is_contained(sandbox: Sandbox, tmp_path: Path, leftovers) -> None:  # type: ignore[no-untyped-def]
    bomb = write(tmp_path / "bomb.cpp", "#include <unistd.h>\nint main() { for (;;) fork(); }\n")
    with pytest.raises(CheckerFailed, match="TLE"):
        judge(ADD_PY, add_problem(checker=TESTLIB, validator=bomb), sandbox)
    assert leftovers(sandbox) == []
    assert judge(Program(ADD_CPP, "cpp"), add_problem(), sandbox).verdict is Verdict.AC


KATTIS_VALIDATOR_CPP = """#include <fstream>
#include <iostream>
int main(int argc, char **argv) {
    std::ifstream ans(argv[2]);
    long long want, got;
    ans >> want;
    if (!(std::cin >> got)) return 43;
    std::ofstream(std::string(argv[3]) + "/judgemessage.txt") << "got " << got << "\\n";
    return got % 10 == want % 10 ? 42 : 43;  // only the last digit counts
}
"""


def test_kattis_output_validator_in_cpp(sandbox: Sandbox, tmp_path: Path) -> None:
    from sstar.loaders import load_problem

    kt = tmp_path / "last-digit"
    write(kt / "problem.yaml", "name: Last digit\nvalidation: custom\n")
    write(kt / "problem_statement" / "problem.en.md", "# Last digit\n\nSum; only the last digit is checked.\n")
    write(kt / "data" / "sample" / "1.in", "2 3\n")
    write(kt / "data" / "sample" / "1.ans", "5\n")
    write(kt / "output_validators" / "v" / "validator.cpp", KATTIS_VALIDATOR_CPP)
    problem = load_problem(kt)
    assert judge("print(15)", problem, sandbox).verdict is Verdict.AC
    assert judge("print(4)", problem, sandbox).verdict is Verdict.WA
    write(kt / "output_validators" / "v" / "validator.cpp", BROKEN_CPP)
    with pytest.raises(CheckerFailed, match="does not compile"):
        judge("print(15)", load_problem(kt), sandbox)


def test_check_with_a_crashing_checker_exits_2(sandbox: Sandbox, tmp_path: Path) -> None:
    from sstar.cli.main import app

    oj = tmp_path / "oj" / "p"
    write(oj / "test" / "1.in", "1 2\n")
    write(oj / "test" / "1.out", "3\n")
    write(oj / "main.py", ADD_PY)
    write(oj / "other.cpp", ADD_CPP)
    crashing = write(tmp_path / "crash.py", CRASHING_CHECKER_PY)
    junit_file = tmp_path / "junit.xml"
    result = CliRunner().invoke(app, ["check", str(tmp_path / "oj"), "--sandbox", _sandbox_kind(sandbox), "--checker", str(crashing), "--junit", str(junit_file)])
    assert result.exit_code == 2, result.output
    assert "checker bug" in " ".join(result.output.split())
    [error] = ET.parse(junit_file).getroot().findall(".//error")
    assert "fix the checker" in (error.get("message") or "")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400), st.integers(1, 12), st.integers(1, 120))
def test_clip_block_keeps_a_prefix_and_says_what_it_cut(text: str, lines: int, chars: int) -> None:
    from sstar.cli.judge_cmd import clip_block

    out = clip_block(text, lines, chars)
    shown, _, note = out.partition("\n… [")
    if not note:  # nothing cut: every line is there
        assert out == "\n".join(text.splitlines())
    else:
        assert len(shown) <= chars and "\n".join(text.splitlines()).startswith(shown)
        assert note.endswith("more lines]")
