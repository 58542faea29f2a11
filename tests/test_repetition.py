"""The loop detector that ends degenerate generations early (engine.base.is_degenerate)."""

from __future__ import annotations

from hypothesis import given, strategies as st

from sstar.engine.base import is_degenerate

LINE = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), min_size=1, max_size=30).filter(
    lambda s: s.strip() != ""
)


def test_the_loop_small_models_fall_into_is_caught() -> None:
    code = "def f(n):\n" + "".join(f"    if n == {k}:\n        return {k - 1}\n" for k in range(1, 9))
    assert is_degenerate(code)


def test_a_normal_program_is_not() -> None:
    code = (
        "import sys\n\ndef main():\n    data = sys.stdin.read().split()\n    n = int(data[0])\n"
        "    a = list(map(int, data[1:1 + n]))\n    best = 0\n    for x in a:\n        best = max(best, x)\n"
        "    total = sum(a)\n    print(best, total)\n    print(n)\n    print(len(a))\n\nmain()\n"
    )
    assert not is_degenerate(code)


@given(st.lists(LINE, min_size=1, max_size=4), st.integers(min_value=1, max_value=30), st.text(max_size=200))
def test_any_block_repeated_to_twelve_lines_is_caught(block: list[str], reps: int, prefix: str) -> None:
    text = prefix + "\n" + "\n".join(block * reps) + "\n"
    if len(block) * reps >= 12:
        assert is_degenerate(text)
        assert not is_degenerate(text + "a line that breaks the loop\n")
    else:
        assert not is_degenerate("\n".join(block * reps) + "\n")


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=12, max_value=40))
def test_lines_that_differ_only_in_numbers_are_repeats(start: int, count: int) -> None:
    assert is_degenerate("".join(f"x{k} = a[{k}] + {k * 7}\n" for k in range(start, start + count)))
    assert not is_degenerate("".join(f"x{k} = a[{k}] + {k * 7}\n" for k in range(start, start + 11)))


@given(st.lists(LINE, min_size=12, max_size=40, unique_by=lambda s: s.strip()))
def test_distinct_lines_are_never_a_loop(lines: list[str]) -> None:
    import re

    masked = [re.sub(r"\d+", "0", line.strip()) for line in lines]
    if len(set(masked)) == len(masked):
        assert not is_degenerate("\n".join(lines) + "\n")
