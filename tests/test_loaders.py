"""Problem loading: every format, error messages, the real benchmark sets and problems/."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from sstar.errors import ProblemFormatError
from sstar.loaders import discover_problems, load_problem
from sstar.loaders.directory import load_markdown
from sstar.problem import ProblemKind

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO.parent / "shared" / "benchmarks"
PROBLEMS = REPO / "problems"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def pairs(problem_tests: tuple) -> list[tuple[str, str | None]]:
    return [(t.input, t.expected) for t in problem_tests]


# ---------------------------------------------------------------- single Markdown files


def test_markdown_with_front_matter_and_sample_headings(tmp_path: Path) -> None:
    md = write(tmp_path / "sum.md", """
        ---
        title: Sum It
        time_limit: 1.5
        memory_limit: 128
        checker: float:1e-4
        author: someone
        ---

        # Ignored Heading Title

        Add two numbers.

        ## Sample Input 1

        ```
        1 2
        ```

        ## Sample Output 1

        ```
        3
        ```

        ### Sample input 2
        ```text
        5 5
        ```
        ### Sample output 2
        ```
        10
        ```
        """)
    p = load_problem(md)
    assert (p.id, p.title, p.time_limit_s, p.memory_limit_mb, p.checker) == ("sum", "Sum It", 1.5, 128, "float:1e-4")
    assert pairs(p.public_tests) == [("1 2\n", "3\n"), ("5 5\n", "10\n")]
    assert [t.name for t in p.public_tests] == ["sample-1", "sample-2"]
    assert p.hidden_tests == () and p.kind is ProblemKind.STDIO
    assert p.statement.startswith("# Ignored Heading Title") and "---" not in p.statement
    assert p.meta["author"] == "someone" and p.meta["format"] == "markdown"


def test_markdown_title_defaults_and_unfenced_sample_sections(tmp_path: Path) -> None:
    md = write(tmp_path / "echo" / "problem.md", """
        # Echo

        ## Sample Input

        hello world

        ## Sample Output

        hello world

        ## Notes
        Nothing here.
        """)
    p = load_problem(md)
    assert (p.id, p.title, p.checker) == ("echo", "Echo", "tokens")
    assert pairs(p.public_tests) == [("hello world\n", "hello world\n")]


def test_codecontests_examples_layout(tmp_path: Path) -> None:
    md = write(tmp_path / "grid.md", """
        # 1_A. Grid

        Count walls.

        Input

        The first line contains n.

        Output

        Print the answer.

        Examples

        Input


        2 3
        #.#
        #####


        Output


        5


        Input


        1 1
        .


        Output

        0

        Note

        The first sample has 5 walls.
        """)
    p = load_problem(md)
    # "#####" would be a Markdown heading; the raw lines are kept, and "Input" in the
    # description (before "Examples") is not a sample.
    assert pairs(p.public_tests) == [("2 3\n#.#\n#####\n", "5\n"), ("1 1\n.\n", "0\n")]


def test_sample_sections_win_over_a_repeated_examples_section(tmp_path: Path) -> None:
    md = write(tmp_path / "p.md", """
        Examples

        Input

        1

        Output

        YES

        ## Sample Input 1

        ```
        1
        ```

        ## Sample Output 1

        ```
        Yes
        ```
        """)
    assert pairs(load_problem(md).public_tests) == [("1\n", "Yes\n")]


def test_labelled_fences(tmp_path: Path) -> None:
    md = write(tmp_path / "p.md", """
        # P

        **Sample input:**

        ```
        3
        ```

        **Sample output:**

        ```
        9
        ```

        ```input
        4
        ```

        ```output
        16
        ```

        ```python
        print("not a test")
        ```
        """)
    assert pairs(load_problem(md).public_tests) == [("3\n", "9\n"), ("4\n", "16\n")]


# ---------------------------------------------------------------- problem directories


def make_dir_problem(root: Path, *, public: bool = True) -> Path:
    write(root / "problem.md", """
        ---
        checker: exact
        time_limit: 3
        ---
        # Squares

        ## Sample Input 1
        ```
        7
        ```
        ## Sample Output 1
        ```
        49
        ```
        """)
    if public:
        write(root / "tests/public/1.in", "2\n")
        write(root / "tests/public/1.out", "4\n")
    for k in (2, 10, 1):  # natural order: 1, 2, 10
        write(root / f"tests/hidden/{k}.in", f"{k}\n")
        write(root / f"tests/hidden/{k}.ans", f"{k * k}\n")
    write(root / "tests/hidden/big/1.in", "1000\n")
    write(root / "tests/hidden/big/1.out", "1000000\n")
    return root


def test_problem_directory(tmp_path: Path) -> None:
    root = make_dir_problem(tmp_path / "squares")
    (root / "meta.json").write_text(json.dumps({"title": "Squares!", "checker": "tokens", "time_limit_s": None, "source": "x"}))
    p = load_problem(root)
    assert (p.id, p.title, p.checker, p.time_limit_s) == ("squares", "Squares!", "tokens", 3.0)  # meta wins; null keeps
    assert pairs(p.public_tests) == [("2\n", "4\n")]
    assert [t.name for t in p.hidden_tests] == ["hidden/1", "hidden/2", "hidden/10", "hidden/big/1"]
    assert p.tests("all") == p.public_tests + p.hidden_tests
    assert p.source == root and p.meta["format"] == "directory" and p.meta["source"] == "x"
    # problem.md of a directory loads the whole directory (its tests come along)
    assert load_problem(root / "problem.md").hidden_tests == p.hidden_tests


def test_problem_directory_falls_back_to_statement_samples(tmp_path: Path) -> None:
    p = load_problem(make_dir_problem(tmp_path / "squares", public=False))
    assert pairs(p.public_tests) == [("7\n", "49\n")] and len(p.hidden_tests) == 4


# ---------------------------------------------------------------- Kattis packages


def make_kattis(root: Path, yaml_text: str = "name: Hello\n") -> Path:
    write(root / "problem.yaml", yaml_text)
    write(root / "problem_statement/problem.en.md", "# Hello Kattis\n\nPrint hello.\n")
    write(root / "data/sample/1.in", "\n")
    write(root / "data/sample/1.ans", "hello\n")
    write(root / "data/secret/group1/01.in", "x\n")
    write(root / "data/secret/group1/01.ans", "hello\n")
    write(root / "data/secret/02.in", "y\n")
    write(root / "data/secret/02.ans", "hello\n")
    return root


@pytest.mark.parametrize(
    ("flags", "checker"),
    [
        ("", "tokens:ci"),
        ("validator_flags: case_sensitive\n", "tokens"),
        ("validator_flags: space_change_sensitive\n", "exact"),
        ("validator_flags: float_tolerance 1e-6\n", "float:1e-06"),
        ("validator_flags: float_absolute_tolerance 1e-5 float_relative_tolerance 1e-7\n", "float:1e-05"),
    ],
)
def test_kattis_package(tmp_path: Path, flags: str, checker: str) -> None:
    root = make_kattis(tmp_path / "hello", "name: Hello\nlimits:\n  memory: 1024\n  time_multiplier: 5\n" + flags)
    p = load_problem(root)
    assert (p.id, p.title, p.checker, p.memory_limit_mb, p.time_limit_s) == ("hello", "Hello", checker, 1024, None)
    assert [t.name for t in p.public_tests] == ["sample/1"]
    assert [t.name for t in p.hidden_tests] == ["secret/02", "secret/group1/01"]
    assert p.statement.startswith("# Hello Kattis") and p.meta["format"] == "kattis"
    assert load_problem(root / "problem.yaml").id == "hello"


def test_kattis_tex_statement_timelimit_and_python_validator(tmp_path: Path) -> None:
    root = make_kattis(tmp_path / "v", "validation: custom\nvalidator_flags: strict\nlimits:\n  time_limit: 2.5\n")
    (root / "problem_statement/problem.en.md").unlink()
    write(root / "problem_statement/problem.en.tex", "\\problemname{Tex Title}\nSay hello.\n")
    write(root / "output_validators/check/check.py", "import sys\nsys.exit(42)\n")
    p = load_problem(root)
    assert (p.title, p.checker, p.time_limit_s) == ("Tex Title", "custom", 2.5)
    assert p.validator == root / "output_validators/check/check.py"
    assert p.meta["validator_flags"] == ["strict"]


def test_kattis_errors(tmp_path: Path) -> None:
    root = make_kattis(tmp_path / "cpp", "validation: custom\n")
    write(root / "output_validators/v/validator.cpp", "int main() { return 42; }\n")
    assert load_problem(root).validator == root / "output_validators/v/validator.cpp"  # C++ is compiled in the sandbox
    write(root / "output_validators/v/other.cc", "int main() { return 42; }\n")
    write(root / "output_validators/v/validator.cpp", "").rename(root / "output_validators/v/judge.cpp")
    with pytest.raises(ProblemFormatError, match="single-file Python or C\\+\\+ output validator.*judge.cpp"):
        load_problem(root)
    root = make_kattis(tmp_path / "inter", "name: I\nvalidation: custom interactive\n")
    with pytest.raises(ProblemFormatError, match=r"problem.yaml:2: interactive problems are not supported"):
        load_problem(root)
    root = make_kattis(tmp_path / "noans")
    (root / "data/secret/02.ans").unlink()
    with pytest.raises(ProblemFormatError, match=r"02.in: test input has no expected output \(02.ans is missing\)"):
        load_problem(root)
    root = make_kattis(tmp_path / "badyaml", "name: [unclosed\n")
    with pytest.raises(ProblemFormatError, match=r"problem.yaml:2: bad YAML"):
        load_problem(root)


# ---------------------------------------------------------------- function-call problems

FUNCTION_MD = """
    ---
    kind: function
    entry_point: Solution.maxPair
    ---
    # Max Pair

    **Example 1:**

    ```
    Input: target = 5, nums = [1, 2, 3]
    Output: [2, 3]
    ```

    **Example 2:**

    **Input:** nums = [true, false],
      target = null
    **Output:** `null`

    <pre><strong>Input:</strong> nums = [], target = -1
    <strong>Output:</strong> [&quot;a&lt;b&quot;]</pre>

    ## Starter Code

    ```python
    class Solution:
        def maxPair(self, nums: List[int], target: int) -> List[int]:
            pass
    ```
    """


def test_function_problem_from_examples(tmp_path: Path) -> None:
    p = load_problem(write(tmp_path / "maxpair.md", FUNCTION_MD))
    assert p.kind is ProblemKind.FUNCTION and p.checker == "json"
    assert p.function is not None and (p.function.class_name, p.function.name) == ("Solution", "maxPair")
    assert "def maxPair" in p.function.starter_code
    # named arguments follow the starter code's signature, not the example's order
    assert [(json.loads(t.input), json.loads(t.expected or "")) for t in p.public_tests] == [
        ([[1, 2, 3], 5], [2, 3]),
        ([[True, False], None], None),
        ([[], -1], ["a<b"]),
    ]


def test_function_problem_directory_with_json_tests(tmp_path: Path) -> None:
    root = tmp_path / "maxpair"
    write(root / "problem.md", FUNCTION_MD)
    write(root / "tests/hidden.json", '[{"input": {"target": 1, "nums": [4]}, "output": []},\n {"input": [[9], 2], "output": [9], "name": "big"}]\n')
    p = load_problem(root)
    assert len(p.public_tests) == 3  # no public.json: the examples
    assert [(t.name, json.loads(t.input)) for t in p.hidden_tests] == [("hidden/1", [[4], 1]), ("hidden/big", [[9], 2])]
    write(root / "tests/public.json", '[{"input": [[1], 1], "output": [1]}]')
    assert [t.name for t in load_problem(root).public_tests] == ["public/1"]


# ---------------------------------------------------------------- errors name file and line


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\ntitle: x\nbad: [unclosed\n---\n# T\n", r"p.md:4: bad YAML front matter"),
        ("---\ntitle: x\n# T\n", r"p.md:1: front matter opened with '---' is never closed"),
        ("---\ntitle: x\nchecker: token\n---\n# T\n", r"p.md:3: checker: unknown checker 'token'; expected one of exact, tokens"),
        ("---\ntime_limit: -1\n---\n# T\n", r"p.md:2: time_limit: must be a positive number of seconds"),
        ("---\nkind: procedure\n---\n", r"p.md:2: kind: must be stdio or function"),
        ("---\n- a list\n---\n", r"p.md:2: front matter must be a mapping"),
        ("---\nkind: function\n---\n", r"p.md:2: kind: function needs an entry_point"),
        ("---\nkind: function\nentry_point: a.b.c\n---\n", r"p.md:3: entry_point 'a.b.c' must be"),
        ("# T\n\nNo samples at all.\n", r"p.md: no tests found: add 'Sample Input 1' / 'Sample Output 1' sections"),
        ("# T\n\n## Sample Input 1\n```\n1\n```\n\n## Sample Input 2\n```\n2\n```\n", r"p.md:3: 'Sample Input 1' has no matching sample output"),
        ("---\nchecker: custom\n---\n## Sample Input\n1\n## Sample Output\n1\n", r"p.md:2: checker: custom needs a validator"),
        ("---\nvalidator: nope.py\n---\n", r"p.md:2: validator: no such file"),
        ("---\nkind: function\nentry_point: f\n---\n\nsome text\n\nInput: x = [1, 2\nOutput: 3\n", r"p.md:8: example input: cannot read"),
        ("---\nkind: function\nentry_point: f\n---\n\nInput: x = 1\nOutput: nope\n", r"p.md:7: example output: not a literal"),
        ("---\nkind: function\nentry_point: f\n---\n\nInput: x = 1\n\nmore text\n", r"p.md:6: example 'Input:' is not followed by an 'Output:'"),
    ],
)
def test_markdown_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    md = tmp_path / "p.md"
    md.write_text(text)
    with pytest.raises(ProblemFormatError, match=message):
        load_problem(md)


def test_directory_errors_name_file_and_line(tmp_path: Path) -> None:
    root = make_dir_problem(tmp_path / "sq")
    (root / "tests/public/1.out").unlink()
    with pytest.raises(ProblemFormatError, match=r"tests/public/1.in: test input has no expected output \(1.out or 1.ans is missing\)"):
        load_problem(root)
    (root / "tests/public/1.in").unlink()
    write(root / "tests/public/3.out", "9\n")
    with pytest.raises(ProblemFormatError, match=r"3.out: expected output has no test input"):
        load_problem(root)
    (root / "tests/public/3.out").unlink()
    (root / "meta.json").write_text('{\n  "title": "x",\n  "checker": "fuzzy"\n}\n')
    with pytest.raises(ProblemFormatError, match=r"meta.json:3: checker: unknown checker 'fuzzy'"):
        load_problem(root)
    (root / "meta.json").write_text('{\n  "title": "x",\n  oops\n}\n')
    with pytest.raises(ProblemFormatError, match=r"meta.json:3: bad JSON"):
        load_problem(root)
    (root / "meta.json").unlink()
    write(tmp_path / "fn/problem.md", FUNCTION_MD)
    write(tmp_path / "fn/tests/hidden.json", '[\n  {"input": [1], "output": 1},\n  {"input": 5, "output": 1}\n]\n')
    with pytest.raises(ProblemFormatError, match=r"hidden.json:3: test 2: \"input\" must be a list"):
        load_problem(tmp_path / "fn")
    with pytest.raises(ProblemFormatError, match=r"nowhere: no such file or directory"):
        load_problem(tmp_path / "nowhere")
    with pytest.raises(ProblemFormatError, match=r"not a problem"):
        load_problem(tmp_path)
    with pytest.raises(ProblemFormatError, match=r"must be Markdown"):
        load_problem(write(tmp_path / "x.txt", "hi\n"))


# ---------------------------------------------------------------- discovery


def test_discover_problems_finds_every_format(tmp_path: Path) -> None:
    make_dir_problem(tmp_path / "set/b-dir")
    make_kattis(tmp_path / "set/a-kattis")
    write(tmp_path / "set/loose/c.md", "## Sample Input\n1\n## Sample Output\n1\n")
    write(tmp_path / "set/README.md", "# About these problems\n")
    write(tmp_path / "set/.hidden/problem.md", "# hidden\n")
    found = discover_problems([tmp_path / "set", tmp_path / "set/b-dir"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["set/a-kattis", "set/b-dir", "set/loose/c.md"]
    assert discover_problems([tmp_path / "set/loose/c.md"]) == [tmp_path / "set/loose/c.md"]
    with pytest.raises(ProblemFormatError, match="no problems found"):
        discover_problems([write(tmp_path / "empty/README.md", "x").parent])
    with pytest.raises(ProblemFormatError, match="no such file"):
        discover_problems([tmp_path / "missing"])


# ---------------------------------------------------------------- the project's problems/


def test_example_problems() -> None:
    found = discover_problems([PROBLEMS])
    assert len(found) >= 5
    problems = [load_problem(p) for p in found]
    for p in problems:
        assert p.public_tests and 5 <= len(p.hidden_tests) <= 10, p.id
        assert (PROBLEMS / p.id / "solution.py").is_file()
        assert p.time_limit_s is not None
    assert sum(p.kind is ProblemKind.FUNCTION for p in problems) == 1
    assert any(p.checker.startswith("float:") for p in problems)
    # the statement's samples are the public tests
    for p in problems:
        if p.kind is ProblemKind.STDIO:
            statement = load_markdown(p.source / "problem.md")  # type: ignore[operator]
            assert pairs(statement.public_tests) == pairs(p.public_tests), p.id


# ---------------------------------------------------------------- ../shared/benchmarks

needs_benchmarks = pytest.mark.skipif(not BENCHMARKS.is_dir(), reason=f"benchmark problems not found at {BENCHMARKS}")


@needs_benchmarks
def test_all_benchmark_problems_load_with_public_and_hidden_tests() -> None:
    found = discover_problems([BENCHMARKS])
    assert len(found) == 334
    for path in found:
        p = load_problem(path)
        assert p.public_tests and p.hidden_tests, p.id
        assert p.id == path.name and p.title
        meta = json.loads((path / "meta.json").read_text())
        assert p.checker == meta["checker"]


def _tokens(tests: tuple) -> list[tuple[list[str], list[str]]]:
    return [(t.input.split(), (t.expected or "").split()) for t in tests]


@needs_benchmarks
def test_benchmark_statements_give_their_samples_once() -> None:
    """problem.md alone (no tests/ dir) gives exactly the samples of tests/public: the
    CodeContests ones show each sample twice (Examples and Sample Input N)."""
    for md in sorted(BENCHMARKS.glob("*/*/problem.md")):
        alone = load_markdown(md)
        assert _tokens(alone.public_tests) == _tokens(load_problem(md.parent).public_tests), md
