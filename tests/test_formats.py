"""Loaders of the formats competitive programmers use: Polygon packages, LiveCodeBench and
CodeContests records (small files written in each format), their errors (one clear line,
exit 2), and judging what they load in a real sandbox."""

from __future__ import annotations

import base64
import json
import pickle
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sstar.errors import ProblemFormatError
from sstar.judge import TESTLIB, judge
from sstar.loaders import discover_problems, load_problem
from sstar.problem import ProblemKind
from sstar.sandbox import Program, Sandbox
from sstar.verdict import Verdict

pytestmark = pytest.mark.timeout(600)

ADD_PY = "import sys\nprint(sum(map(int, sys.stdin.read().split())))\n"
ADD_CPP = '#include <bits/stdc++.h>\nint main() { long long s = 0, x; while (std::cin >> x) s += x; std::cout << s << "\\n"; }\n'


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ----------------------------------------------------------------------------- Polygon

PROBLEM_XML = """<?xml version="1.0" encoding="utf-8" standalone="no"?>
<problem revision="7" short-name="a-plus-b" url="https://polygon.codeforces.com/p/someone/a-plus-b">
    <names>
        <name language="english" value="A + B"/>
    </names>
    <statements>
        <statement charset="UTF-8" language="english" mathjax="true" path="statements/english/problem.tex" type="application/x-tex"/>
    </statements>
    <judging cpu-name="Intel(R) Core(TM) i3-8100 CPU @ 3.60GHz" cpu-speed="3600" input-file="" output-file="">
        <testset name="tests">
            <time-limit>1500</time-limit>
            <memory-limit>268435456</memory-limit>
            <test-count>3</test-count>
            <input-path-pattern>tests/%02d</input-path-pattern>
            <answer-path-pattern>tests/%02d.a</answer-path-pattern>
            <tests>
                <test method="manual" sample="true"/>
                <test cmd="gen 10" method="generated"/>
                <test cmd="gen 20" method="generated"/>
            </tests>
        </testset>
    </judging>
    <files>
        <resources>
            <file path="files/testlib.h" type="h.g++"/>
        </resources>
    </files>
    <assets>
        <checker {checker_attrs}>
            <source path="files/check.cpp" type="cpp.g++17"/>
            <copy path="check.cpp"/>
        </checker>
        <solutions>
            <solution tag="main"><source path="solutions/main.cpp" type="cpp.g++17"/></solution>
            <solution tag="accepted"><source path="solutions/ok.py" type="python.3"/></solution>
            <solution tag="wrong-answer"><source path="solutions/wa.cpp" type="cpp.g++17"/></solution>
            <solution tag="time-limit-exceeded"><source path="solutions/slow.py" type="python.3"/></solution>
            <solution tag="accepted"><source path="solutions/Main.java" type="java11"/></solution>
        </solutions>
    </assets>
</problem>
"""

# A stand-in for testlib.h with the one function the checker needs: the package ships its
# header in files/, and sstar inlines it into the checker it compiles.
TESTLIB_H = """#pragma once
#include <cstdio>
#include <cstdlib>
static long long read_first(const char *path) { long long v = 0; FILE *f = std::fopen(path, "r"); if (!f || std::fscanf(f, "%lld", &v) != 1) std::exit(3); std::fclose(f); return v; }
"""
CHECK_CPP = """#include "testlib.h"
int main(int argc, char **argv) {
    // accepts any answer with the right value mod 1000 (a checker sstar's own cannot express)
    return read_first(argv[2]) % 1000 == read_first(argv[3]) % 1000 ? 0 : 1;
}
"""


def polygon_package(root: Path, checker_attrs: str = 'name="check.cpp" type="testlib"') -> Path:
    pkg = root / "a-plus-b"
    write(pkg / "problem.xml", PROBLEM_XML.format(checker_attrs=checker_attrs))
    write(pkg / "statement-sections" / "english" / "legend.tex", "Add two numbers $a$ and $b$.")
    write(pkg / "statement-sections" / "english" / "input.tex", "Two integers.")
    write(pkg / "statement-sections" / "english" / "output.tex", "Their sum.")
    for i, (inp, ans) in enumerate((("1 2\n", "3\n"), ("10 20\n", "30\n"), ("500 600\n", "1100\n")), 1):
        write(pkg / "tests" / f"{i:02d}", inp)
        write(pkg / "tests" / f"{i:02d}.a", ans)
    write(pkg / "files" / "testlib.h", TESTLIB_H)
    write(pkg / "files" / "check.cpp", CHECK_CPP)
    write(pkg / "solutions" / "main.cpp", ADD_CPP)
    write(pkg / "solutions" / "ok.py", ADD_PY)
    write(pkg / "solutions" / "wa.cpp", '#include <cstdio>\nint main() { std::puts("7"); }\n')
    write(pkg / "solutions" / "slow.py", "while True:\n    pass\n")
    write(pkg / "solutions" / "Main.java", "class Main {}\n")
    return pkg


def test_polygon_package_loads(tmp_path: Path) -> None:
    problem = load_problem(polygon_package(tmp_path))
    assert (problem.id, problem.title, problem.time_limit_s, problem.memory_limit_mb) == ("a-plus-b", "A + B", 1.5, 256)
    assert [t.name for t in problem.public_tests] == ["sample/01"]
    assert [(t.name, t.input, t.expected) for t in problem.hidden_tests] == [("test/02", "10 20\n", "30\n"), ("test/03", "500 600\n", "1100\n")]
    assert problem.checker == TESTLIB and problem.validator is not None and problem.validator.name == "check.cpp"
    assert "Add two numbers" in problem.statement and "## Input" in problem.statement
    # problem.xml itself names the package too
    assert load_problem(tmp_path / "a-plus-b" / "problem.xml").id == "a-plus-b"


@pytest.mark.parametrize(("name", "spec"), [("std::wcmp.cpp", "tokens"), ("std::rcmp6.cpp", "float:1e-6"), ("std::fcmp.cpp", "exact")])
def test_polygon_standard_checkers_become_sstars_own(tmp_path: Path, name: str, spec: str) -> None:
    problem = load_problem(polygon_package(tmp_path, f'name="{name}" type="testlib"'))
    assert (problem.checker, problem.validator) == (spec, None)


def test_polygon_errors_name_the_file_and_the_fix(tmp_path: Path) -> None:
    pkg = polygon_package(tmp_path)
    (pkg / "tests" / "03.a").unlink()
    with pytest.raises(ProblemFormatError, match=r"tests/03.a is missing: use a full package"):
        load_problem(pkg)
    write(pkg / "problem.xml", PROBLEM_XML.format(checker_attrs='name="x"')[:400])
    with pytest.raises(ProblemFormatError, match=r"problem.xml:\d+: not valid XML"):
        load_problem(pkg)
    write(pkg / "problem.xml", PROBLEM_XML.format(checker_attrs='name="std::wcmp.cpp"').replace('input-file=""', 'input-file="input.txt"'))
    with pytest.raises(ProblemFormatError, match="instead of stdin/stdout are not supported"):
        load_problem(pkg)
    write(pkg / "problem.xml", PROBLEM_XML.format(checker_attrs='name="std::wcmp.cpp"').replace("<solutions>", '<interactor><source path="files/i.cpp"/></interactor><solutions>'))
    with pytest.raises(ProblemFormatError, match="interactive problems"):
        load_problem(pkg)
    write(pkg / "problem.xml", "<contest/>")
    with pytest.raises(ProblemFormatError, match="not <problem>"):
        load_problem(pkg)


def test_polygon_solutions_are_found_by_check(tmp_path: Path) -> None:
    from sstar.check import discover_targets

    polygon_package(tmp_path)
    [target] = discover_targets(tmp_path)
    assert target.layout == "polygon"
    assert sorted((s.path.name, s.expect) for s in target.solutions) == [
        ("main.cpp", "AC"), ("ok.py", "AC"), ("slow.py", "TLE"), ("wa.cpp", "WA")
    ]  # fmt: skip  (Main.java: a language sstar does not run)


def test_polygon_package_through_check_with_its_testlib_checker(sandbox: Sandbox, tmp_path: Path) -> None:
    from sstar.check import check_repository

    pkg = polygon_package(tmp_path)
    # The checker accepts the answer mod 1000: 100 + the sum is accepted, the default tokens would not
    write(pkg / "solutions" / "ok.py", "import sys\nprint(1000 + sum(map(int, sys.stdin.read().split())))\n")
    summary = check_repository(tmp_path, sandbox)
    assert [(r.solution.path.name, r.ok) for r in summary.problems[0].results] == [
        ("main.cpp", True), ("ok.py", True), ("wa.cpp", True), ("slow.py", True)
    ], [r.message for r in summary.problems[0].results]  # fmt: skip
    assert summary.exit_code == 0


# ----------------------------------------------------------------------------- LiveCodeBench


def lcb_compress(tests: list[dict[str, str]]) -> str:
    """How later LiveCodeBench releases store private tests."""
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode()


def lcb_stdin_record(**overrides: object) -> dict[str, object]:
    record: dict[str, object] = {
        "question_title": "Sum Them",
        "question_content": "Print the sum of the numbers on the line.",
        "platform": "atcoder",
        "question_id": "abc999_a",
        "contest_id": "abc999",
        "contest_date": "2024-08-03T00:00:00",
        "starter_code": "",
        "difficulty": "easy",
        "public_test_cases": json.dumps([{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}]),
        "private_test_cases": lcb_compress([
            {"input": "10 20 30\n", "output": "60\n", "testtype": "stdin"},
            {"input": "-5 5\n", "output": "0\n", "testtype": "stdin"},
        ]),  # fmt: skip
        "metadata": "{}",
    }
    record.update(overrides)
    return record


def lcb_functional_record() -> dict[str, object]:
    return {
        "question_title": "two-sum-target",
        "question_content": "Return the indices of the two numbers that add up to target.",
        "platform": "leetcode",
        "question_id": "3001",
        "contest_id": "weekly-contest-400",
        "contest_date": "2024-06-02T00:00:00",
        "starter_code": "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n        ",
        "difficulty": "easy",
        "public_test_cases": json.dumps([{"input": "[2, 7, 11, 15]\n9", "output": "[0, 1]", "testtype": "functional"}]),
        "private_test_cases": json.dumps([{"input": "[3, 2, 4]\n6", "output": "[1, 2]", "testtype": "functional"}]),
        "metadata": json.dumps({"func_name": "twoSum"}),
    }


TWO_SUM = """
class Solution:
    def twoSum(self, nums, target):
        seen = {}
        for i, x in enumerate(nums):
            if target - x in seen:
                return [seen[target - x], i]
            seen[x] = i
"""


def jsonl(path: Path, records: list[object]) -> Path:
    return write(path, "".join(json.dumps(r) + "\n" for r in records))


def test_livecodebench_records(tmp_path: Path) -> None:
    data = jsonl(tmp_path / "lcb.jsonl", [lcb_stdin_record(), lcb_functional_record()])
    stdin = load_problem(f"{data}#1")
    assert (stdin.id, stdin.title, stdin.kind, stdin.checker) == ("abc999_a", "Sum Them", ProblemKind.STDIO, "tokens")
    assert [(t.input, t.expected) for t in stdin.public_tests] == [("1 2\n", "3\n")]
    assert [(t.input, t.expected) for t in stdin.hidden_tests] == [("10 20 30\n", "60\n"), ("-5 5\n", "0\n")]
    func = load_problem(f"{data}#3001")  # by id too
    assert func.kind is ProblemKind.FUNCTION and func.checker == "json"
    assert func.function is not None and (func.function.name, func.function.class_name) == ("twoSum", "Solution")
    assert [(t.input, t.expected) for t in func.public_tests] == [("[[2, 7, 11, 15], 9]", "[0, 1]")]
    assert discover_problems([data]) == [Path(f"{data}#1"), Path(f"{data}#2")]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.lists(st.text(st.characters(blacklist_characters="#/", blacklist_categories=("Cs", "Cc")), min_size=1, max_size=8).filter(lambda t: t.strip() == t and t not in (".", "..")), min_size=1, max_size=6, unique=True), pick=st.data())
def test_a_record_is_found_by_number_or_any_id(tmp_path: Path, ids: list[str], pick: st.DataObject) -> None:
    # Loading one record parses only the lines that can hold it: ids JSON escapes included.
    data = jsonl(tmp_path / "many.jsonl", [lcb_stdin_record(question_id=i, question_title=f"t{n}") for n, i in enumerate(ids, 1)])
    n = pick.draw(st.integers(1, len(ids)))
    assert load_problem(f"{data}#{n}").title == f"t{n}"
    first = next(k for k, i in enumerate(ids, 1) if i == ids[n - 1] or str(k) == ids[n - 1])
    assert load_problem(f"{data}#{ids[n - 1]}").title == f"t{first}"


def test_a_pickle_that_would_run_code_is_refused(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (print, ("pwned",))

    evil = base64.b64encode(zlib.compress(pickle.dumps(Evil()))).decode()
    data = jsonl(tmp_path / "lcb.jsonl", [lcb_stdin_record(private_test_cases=evil)])
    with pytest.raises(ProblemFormatError, match="refusing to load builtins.print"):
        load_problem(data)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=30), st.text(max_size=30)), min_size=1, max_size=5))
def test_compressed_private_tests_round_trip(tmp_path_factory: pytest.TempPathFactory, pairs: list[tuple[str, str]]) -> None:
    tests = [{"input": i, "output": o, "testtype": "stdin"} for i, o in pairs]
    data = jsonl(tmp_path_factory.mktemp("lcb") / "one.jsonl", [lcb_stdin_record(private_test_cases=lcb_compress(tests))])
    problem = load_problem(data)  # one record: the file alone names it
    assert [(t.input, t.expected) for t in problem.hidden_tests] == pairs


# ----------------------------------------------------------------------------- CodeContests


def cc_record(**overrides: object) -> dict[str, object]:
    record: dict[str, object] = {
        "name": "1548_A. Sum",
        "description": "Given numbers, print their sum.",
        "public_tests": {"input": ["1 2\n"], "output": ["3\n"]},
        "private_tests": {"input": ["4 4\n"], "output": ["8\n"]},
        "generated_tests": {"input": ["0 0\n", "7 -7\n"], "output": ["0\n", "0\n"]},
        "source": 2,
        "difficulty": 7,
        "solutions": {"language": [2], "solution": ["int main() {}"]},
        "incorrect_solutions": {"language": [], "solution": []},
        "cf_contest_id": 1548,
        "cf_index": "A",
        "cf_points": 500.0,
        "cf_rating": 1400,
        "cf_tags": ["math"],
        "is_description_translated": False,
        "untranslated_description": "",
        "time_limit": {"seconds": 2, "nanos": 500000000},
        "memory_limit_bytes": 268435456,
        "input_file": "",
        "output_file": "",
    }
    record.update(overrides)
    return record


def test_code_contests_records(tmp_path: Path) -> None:
    data = jsonl(tmp_path / "cc.jsonl", [cc_record()])
    problem = load_problem(data)
    assert (problem.id, problem.time_limit_s, problem.memory_limit_mb) == ("1548_A. Sum", 2.5, 256)
    assert [t.name for t in problem.public_tests] == ["public/1"]
    assert [t.name for t in problem.hidden_tests] == ["private/1", "generated/1", "generated/2"]
    as_list = write(tmp_path / "cc.json", json.dumps([cc_record(time_limit=None)]))
    assert load_problem(as_list).time_limit_s is None


@pytest.mark.parametrize(
    ("records", "words"),
    [
        ([cc_record(public_tests={"input": [], "output": []}, private_tests=None, generated_tests={"input": [], "output": []})], "has no tests"),
        ([lcb_stdin_record(public_test_cases="[]", private_test_cases="")], "has no tests"),
        ([cc_record(public_tests={"input": ["1"], "output": []})], "1 inputs but 0 outputs"),
        ([{"prompt": "x"}], "neither a LiveCodeBench nor a CodeContests record"),
        ([cc_record(input_file="input.txt")], "instead of stdin/stdout"),
        ([cc_record(), cc_record()], "holds several problems"),
    ],
)
def test_bad_records_say_what_is_wrong(tmp_path: Path, records: list[object], words: str) -> None:
    data = jsonl(tmp_path / "bad.jsonl", records)
    with pytest.raises(ProblemFormatError, match=words):
        load_problem(data)


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    from sstar.cli.main import app

    runner = CliRunner()
    prog = write(tmp_path / "p.py", ADD_PY)
    broken_xml = write(tmp_path / "pkg" / "problem.xml", "<problem><judging>")
    no_tests = jsonl(tmp_path / "cc.jsonl", [cc_record(public_tests=None, private_tests=None, generated_tests=None)])
    not_json = write(tmp_path / "lcb.jsonl", '{"question_content": "x"\n')
    for target, words in (
        (broken_xml.parent, "not valid XML"),
        (no_tests, "has no tests"),
        (not_json, "record 1 is not valid JSON"),
        (Path(f"{no_tests}#9"), "has no record '9'"),
    ):
        result = runner.invoke(app, ["judge", str(prog), str(target), "--sandbox", "process"])
        assert result.exit_code == 2, result.output
        assert words in " ".join(result.output.split()) and "Traceback" not in result.output


def test_a_cpp_solution_to_a_function_call_problem_is_refused_in_one_line(tmp_path: Path) -> None:
    from sstar.cli.main import app

    data = jsonl(tmp_path / "lcb.jsonl", [lcb_functional_record()])
    result = CliRunner().invoke(app, ["judge", str(write(tmp_path / "s.cpp", ADD_CPP)), str(data), "--sandbox", "process"])
    assert result.exit_code == 2 and "takes a Python solution" in " ".join(result.output.split())


def test_batch_takes_a_dataset_file(tmp_path: Path) -> None:
    from sstar.batch import select_problems

    data = jsonl(tmp_path / "lcb.jsonl", [lcb_stdin_record(), lcb_functional_record(), lcb_stdin_record(question_id="x")])
    assert [p.name for p in select_problems([data])] == ["lcb.jsonl#1", "lcb.jsonl#2", "lcb.jsonl#3"]
    assert [p.name for p in select_problems([data], limit=1)] == ["lcb.jsonl#1"]
    # One record by its number, as `sstar batch data.jsonl#2` names it (the file exists, the name not).
    assert [p.name for p in select_problems([Path(f"{data}#2")])] == ["lcb.jsonl#2"]


# ----------------------------------------------------------------------------- judged in a sandbox


def test_dataset_problems_are_judged(sandbox: Sandbox, tmp_path: Path) -> None:
    data = jsonl(tmp_path / "mixed.jsonl", [lcb_stdin_record(), lcb_functional_record(), cc_record()])
    stdin, func, cc = (load_problem(f"{data}#{n}") for n in (1, 2, 3))
    assert judge(ADD_PY, stdin, sandbox, tests="all").verdict is Verdict.AC
    assert judge(Program(ADD_CPP, "cpp"), cc, sandbox, tests="all").verdict is Verdict.AC
    report = judge(TWO_SUM, func, sandbox, tests="all")
    assert report.verdict is Verdict.AC and report.total == 2
    assert judge("class Solution:\n    def twoSum(self, nums, target):\n        return [0, 0]\n", func, sandbox).verdict is Verdict.WA
