"""Getting the program out of a model's reply (sstar.extract)."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from sstar.extract import add_missing_imports, closed_block_end, extract_code, find_blocks, prepend_statements

# --- examples ------------------------------------------------------------------------


def test_one_python_block_with_prose_around() -> None:
    reply = "Here is the solution:\n```python\nn = int(input())\nprint(n * 2)\n```\nThis doubles n."
    assert extract_code(reply) == "n = int(input())\nprint(n * 2)\n"


def test_prefers_python_fence_over_sample_io_and_other_languages() -> None:
    reply = (
        "Input:\n```\n3\n1 2 3\n```\nOutput:\n```text\n6\n```\n"
        "Run it with:\n```bash\npython3 sol.py < in.txt\n```\n"
        "```python\nimport sys\nprint(sum(map(int, sys.stdin.read().split()[1:])))\n```\n"
    )
    assert extract_code(reply) == "import sys\nprint(sum(map(int, sys.stdin.read().split()[1:])))\n"


def test_last_program_wins_when_the_model_corrects_itself() -> None:
    reply = (
        "```python\nn = int(input())\nprint(n)\n```\nOops, that is wrong. Corrected:\n"
        "```python\nn = int(input())\nprint(n + 1)\n```\n"
    )
    assert extract_code(reply) == "n = int(input())\nprint(n + 1)\n"


def test_program_beats_a_later_usage_example() -> None:
    reply = (
        "```python\ndef main():\n    print(input()[::-1])\n\nmain()\n```\n"
        "For example:\n```python\nprint('abc'[::-1])\n```\n"
    )
    assert extract_code(reply) == "def main():\n    print(input()[::-1])\n\nmain()\n"


def test_helpers_from_an_earlier_block_are_merged() -> None:
    reply = (
        "First the helper:\n```python\nimport math\n\ndef solve(n):\n    return math.isqrt(n)\n\nprint(solve(10))\n```\n"
        "Then the main part:\n```python\nn = int(input())\nprint(solve(n))\n```\n"
    )
    code = extract_code(reply)
    assert code == "import math\n\ndef solve(n):\n    return math.isqrt(n)\n\n\nn = int(input())\nprint(solve(n))\n"
    # Only the definition: the earlier block's own top-level print is not run again.
    assert "print(solve(10))" not in code


def test_unterminated_fence_from_a_truncated_reply() -> None:
    reply = "Sure.\n```python\nimport sys\nn = int(sys.stdin.readline())\nfor i in range(n"
    assert extract_code(reply) == "import sys\nn = int(sys.stdin.readline())\nfor i in range(n\n"


def test_unfenced_code_with_prose_before_and_after() -> None:
    reply = "To solve it we read n.\nn = int(input())\nprint(n * n)\nThis runs in O(1)."
    assert extract_code(reply) == "n = int(input())\nprint(n * n)\n"


def test_no_code_at_all() -> None:
    assert extract_code("I cannot solve this problem.") is None
    assert extract_code("") is None
    assert extract_code("```\n3\n1 2 3\n```") is None  # sample data, not a program


def test_repl_transcripts_are_not_programs() -> None:
    reply = "```python\n>>> f(3)\n6\n```\n```python\nprint(int(input()) * 2)\n```"
    assert extract_code(reply) == "print(int(input()) * 2)\n"
    assert extract_code("```python\n>>> 1 + 1\n2\n```") is None


def test_tilde_fences_longer_fences_and_indented_fences() -> None:
    assert extract_code("~~~python\nprint(input())\n~~~") == "print(input())\n"
    # A ``` line inside a ```` block does not close it.
    assert extract_code("````python\ns = '''\n```\n'''\nprint(input())\n````") == "s = '''\n```\n'''\nprint(input())\n"
    assert extract_code("1. Code:\n   ```python\n   print(input())\n   ```") == "print(input())\n"


def test_other_language() -> None:
    reply = "```cpp\n#include <cstdio>\nint main(){}\n```\n```python\nprint(1)\n```"
    assert extract_code(reply, language="cpp") == "#include <cstdio>\nint main(){}\n"


def test_find_blocks_reports_closed_and_tags() -> None:
    blocks = find_blocks("```Python3 title\nx = 1\n```\n```\ny\n")
    assert [(b.tag, b.code, b.closed) for b in blocks] == [("python3", "x = 1", True), ("", "y", False)]


# --- properties ----------------------------------------------------------------------

_identifier = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=6).filter(
    lambda s: s not in {"if", "in", "is", "or", "and", "def", "for", "not", "del", "try", "as", "else", "elif",
                        "from", "with", "pass", "while", "class", "break", "raise", "yield", "async", "await",
                        "global", "lambda", "return", "assert", "except", "import", "finally", "continue",
                        "nonlocal"}
)
_statement = st.one_of(
    st.builds(lambda a, b: f"{a} = {b}", _identifier, st.integers(-1000, 1000)),
    st.builds(lambda a: f"{a} = input().split()", _identifier),
    st.builds(lambda a: f"print({a})", _identifier),
    st.builds(lambda a, b: f"for {a} in range({b}):\n    print({a})", _identifier, st.integers(0, 9)),
    st.builds(lambda a: f"def {a}(x):\n    return x * 2", _identifier),
    st.builds(lambda a: f"# {a} comment", _identifier),
    st.just("import sys"),
    st.just("data = sys.stdin.read()"),
)
# Ends with a statement: a block of comments alone is not a program.
_program = st.builds(
    lambda lines, last: "\n".join([*lines, f"print({last})"]) + "\n", st.lists(_statement, max_size=7), _identifier
)
# Prose: anything without a fence or a line that opens one.
_prose = st.text(alphabet=string.ascii_letters + string.digits + " .,:;!?'()-*\n", max_size=80)


@settings(max_examples=200, deadline=None)
@given(program=_program, before=_prose, after=_prose, tag=st.sampled_from(["python", "py", "python3", ""]))
def test_fenced_program_is_recovered_exactly(program: str, before: str, after: str, tag: str) -> None:
    reply = f"{before}\n```{tag}\n{program}```\n{after}"
    # Exactly, apart from rule 6 (an identifier may be a stdlib name such as ``ceil``).
    assert extract_code(reply) == add_missing_imports(program)


@settings(max_examples=200, deadline=None)
@given(program=_program, before=_prose, after=_prose)
def test_extraction_is_idempotent(program: str, before: str, after: str) -> None:
    for reply in (f"{before}\n```python\n{program}```\n{after}", f"{before}\n{program}{after}", program):
        once = extract_code(reply)
        if once is not None:
            assert extract_code(once) == once


@settings(max_examples=100, deadline=None)
@given(program=_program, junk=_prose)
def test_truncated_reply_keeps_what_was_written(program: str, junk: str) -> None:
    reply = f"{junk}\n```python\n{program}"  # max_tokens hit before the closing fence
    assert extract_code(reply) == add_missing_imports(program)


@settings(max_examples=300, deadline=None)
@given(reply=st.text(max_size=300))
def test_never_crashes_and_always_normalized(reply: str) -> None:
    code = extract_code(reply)
    if code is not None:
        assert code.endswith("\n") and not code.endswith("\n\n") and code.strip()


# --- closed_block_end: where an engine may stop a reply ---------------------------------

_sample = st.text(alphabet=string.digits + " \n", min_size=1, max_size=30).map(lambda t: t.strip("\n") or "1")


@settings(max_examples=200, deadline=None)
@given(program=_program, before=_prose, sample=_sample, between=_prose, after=_prose, tag=st.sampled_from(["", "text", "plaintext"]))
def test_reply_cut_after_the_python_block_keeps_the_program(
    program: str, before: str, sample: str, between: str, after: str, tag: str
) -> None:
    # A plan that quotes a sample in a fence, then the program, then more prose: the cut
    # lands just after the program's closing fence, never inside the quoted sample.
    head = f"{before}\n```{tag}\n{sample}\n```\n\n{between}\n```python\n{program}```"
    reply = f"{head}\n\n{after}"
    end = closed_block_end(reply)
    assert end == len(head)
    assert extract_code(reply[:end]) == add_missing_imports(program)


@settings(max_examples=200, deadline=None)
@given(program=_program, before=_prose)
def test_no_cut_until_the_closing_fence_line_is_complete(program: str, before: str) -> None:
    reply = f"{before}\n```python\n{program}```"
    for k in range(len(reply)):  # every prefix a decoder could have produced so far
        assert closed_block_end(reply[:k]) is None
    assert closed_block_end(reply + "\n") == len(reply)


def test_closed_block_end_ignores_other_languages_and_untagged_blocks() -> None:
    assert closed_block_end("```\nprint(1)\n```\n\n```bash\nls\n```\n") is None
    assert closed_block_end("~~~py\nprint(1)\n~~~\nafter") == len("~~~py\nprint(1)\n~~~")
    # A longer fence only closes at a fence at least as long.
    text = "````python\nx = '```'\n```\nprint(x)\n````\ntail"
    assert closed_block_end(text) == len(text) - len("\ntail")


# --- rule 6: missing standard-library imports -------------------------------------------


def test_missing_sys_and_math_imports_are_added() -> None:
    reply = "Plan: read n.\n```python\ndata = sys.stdin.read().split()\nprint(ceil(int(data[0]) / 2), math.pi > 3)\n```\n"
    assert extract_code(reply) == (
        "import math\nimport sys\nfrom math import ceil\n"
        "data = sys.stdin.read().split()\nprint(ceil(int(data[0]) / 2), math.pi > 3)\n"
    )


def test_names_the_program_binds_are_left_alone() -> None:
    programs = [
        "import sys\nprint(sys.argv)\n",
        "def f(deque):\n    return deque\nprint(f(1))\n",
        "for ceil in range(3):\n    print(ceil)\n",
        "print([gcd for gcd in range(3)])\n",
        "try:\n    pass\nexcept ValueError as sys:\n    print(sys)\n",
        "def f():\n    global Counter\n    Counter = 1\nf()\nprint(Counter)\n",
        "import collections as math\nprint(math.Counter)\n",
        "from math import *\nprint(ceil(2.5), sys.argv)\n",  # anything may come from a star import
        "print(string)\n",  # a module used as a plain value is more likely a missing variable
        "def broken(:\n    sys.exit()\n",  # does not parse: left to the judge to report
    ]
    for code in programs:
        assert add_missing_imports(code) == code, code


def test_imports_go_after_the_docstring_and_future_imports() -> None:
    code = '"""Doc."""\nfrom __future__ import annotations\nprint(heappop([1]))\n'
    fixed = add_missing_imports(code)
    assert fixed == '"""Doc."""\nfrom __future__ import annotations\nfrom heapq import heappop\nprint(heappop([1]))\n'
    compile(fixed, "<fixed>", "exec")


_stdlib_use = st.sampled_from([
    "print(sys.maxsize > 0)", "print(ceil(2.5))", "print(math.gcd(4, 6))", "print(len(deque([1, 2])))",
    "print(Counter('aab')['a'])", "print(list(permutations([1, 2])))", "print(bisect_left([1, 3], 2))",
    "print(defaultdict(int)[0])", "print(lru_cache(None)(abs)(-1))", "print(Fraction(1, 3))",
    "print(heapq.nsmallest(1, [3, 1]))", "print(re.sub('a', 'b', 'aa'))", "print(reduce(max, [1, 5, 2]))",
])


@settings(max_examples=150, deadline=None)
@given(uses=st.lists(_stdlib_use, min_size=1, max_size=5), program=_program)
def test_fixed_programs_run_without_name_errors(uses: list[str], program: str) -> None:
    code = "\n".join(uses) + "\n"
    fixed = add_missing_imports(code)
    exec(compile(fixed, "<fixed>", "exec"), {"print": lambda *a: None})  # a NameError fails the test
    assert add_missing_imports(fixed) == fixed
    # Only import lines are added, at the top; the program itself is untouched.
    added = fixed[: len(fixed) - len(code)]
    assert fixed.endswith(code) and all(line.startswith(("import ", "from ")) for line in added.splitlines())
    # A program that needs nothing stays exactly as it was.
    full = add_missing_imports(program)
    assert full.endswith(program) and add_missing_imports(full) == full


def test_prepend_statements_runs_first_but_after_docstring_and_future_imports():
    code = '"""Doc."""\nfrom __future__ import annotations\nimport random\nprint(random.random())\n'
    out = prepend_statements(code, ["import random as _r; _r.seed(5)"])
    assert out is not None
    assert out.splitlines()[:3] == ['"""Doc."""', "from __future__ import annotations", "import random as _r; _r.seed(5)"]
    compile(out, "<generator>", "exec")  # a __future__ import after other code would not compile
    assert prepend_statements("x = 1\n", ["y = 2"]) == "y = 2\nx = 1\n"
    assert prepend_statements("def broken(:\n", ["y = 2"]) is None
