"""Output checkers: unit cases and property tests."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sstar.checking import (
    CustomChecker,
    FloatChecker,
    JsonChecker,
    check,
    close,
    parse_checker,
    parse_number,
)

# Printable tokens without whitespace (what a program prints between separators).
token = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=8)
tokens = st.lists(token, max_size=12)
gap = st.sampled_from([" ", "  ", "\t", "\n", " \n", "\r\n", "\n\n"])


@settings(deadline=None)  # shared CI cores: timing is not the property here
@given(tokens, st.data())
def test_tokens_ignore_how_tokens_are_separated(words: list[str], data: st.DataObject) -> None:
    expected = " ".join(words) + "\n"
    output = data.draw(gap) * data.draw(st.booleans())
    for w in words:
        output += w + data.draw(gap)
    assert check("tokens", expected, output).ok
    assert check("tokens:ci", expected, output).ok


@settings(deadline=None)
@given(tokens, token)
def test_tokens_reject_a_changed_extra_or_missing_token(words: list[str], extra: str) -> None:
    expected = " ".join(words)
    assert not check("tokens", expected, " ".join(words + [extra])).ok
    if words:
        assert not check("tokens", expected, " ".join(words[:-1])).ok
        changed = [*words[:-1], words[-1] + "x"]
        assert not check("tokens", expected, " ".join(changed)).ok


@settings(deadline=None)
@given(tokens)
def test_tokens_ci_ignores_case_but_tokens_does_not(words: list[str]) -> None:
    expected = " ".join(words)
    shouted = expected.upper()
    assert check("tokens:ci", expected, shouted).ok
    assert check("tokens", expected, shouted).ok == (shouted == expected)


lines = st.lists(st.text(alphabet="ab 1.", max_size=6).map(str.strip), max_size=6)


@settings(deadline=None)
@given(lines, st.lists(st.sampled_from(["", " ", "\t", "  "]), min_size=6, max_size=6), st.sampled_from(["", "\n", "\n\n", " \n "]))
def test_exact_ignores_trailing_whitespace(rows: list[str], pads: list[str], end: str) -> None:
    expected = "\n".join(rows) + "\n"
    output = "\n".join(r + p for r, p in zip(rows, pads)) + end
    assert check("exact", expected, output).ok


@settings(deadline=None)
@given(lines.filter(any), st.data())
def test_exact_sees_changes_inside_lines(rows: list[str], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(rows) - 1))
    assume(rows[i])
    changed = list(rows)
    changed[i] = " " + rows[i]  # a leading space is not trailing whitespace
    assert not check("exact", "\n".join(rows), "\n".join(changed)).ok
    assert check("tokens", "\n".join(rows), "\n".join(changed)).ok


def test_exact_and_tokens_messages_point_at_the_difference() -> None:
    res = check("exact", "1\n2\n3\n", "1\n2\n4\n")
    assert not res.ok and res.message == "line 3: expected '3', got '4'"
    assert "missing" in check("exact", "1\n2\n", "1\n").message
    res = check("tokens", "1 2\n3 4\n", "1 2\n3 5\n")
    assert res.message == "token 4 (line 2): expected '4', got '5'"
    assert "ended after 1 tokens" in check("tokens", "1 2", "1").message
    assert "extra output" in check("tokens", "1", "1 2").message
    long = "x" * 100
    assert len(check("tokens", long, long + "y").message) < 120  # long tokens are cut


finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)
eps_values = st.sampled_from([1e-9, 1e-6, 1e-4, 1e-2])


@settings(deadline=None)
@given(finite, eps_values, st.floats(min_value=-0.9, max_value=0.9))
def test_float_accepts_within_absolute_error(want: float, eps: float, frac: float) -> None:
    got = want + frac * eps
    assert check(f"float:{eps}", repr(want), repr(got)).ok


@settings(deadline=None)
@given(finite, eps_values, st.floats(min_value=-0.9, max_value=0.9))
def test_float_accepts_within_relative_error(want: float, eps: float, frac: float) -> None:
    got = want * (1 + frac * eps)
    assert check(f"float:{eps}", repr(want), repr(got)).ok


@settings(deadline=None)
@given(finite, eps_values, st.floats(min_value=1.5, max_value=1e6), st.sampled_from([-1, 1]))
def test_float_rejects_beyond_both_errors(want: float, eps: float, factor: float, sign: int) -> None:
    got = want + sign * factor * max(eps, eps * abs(want))
    assume(math.isfinite(got) and got != want)
    assert not check(f"float:{eps}", repr(want), repr(got)).ok


def test_float_details() -> None:
    assert check("float:1e-6", "1.000000", "1.000001").ok  # exactly EPS away
    assert check("float:1e-6", "0.5", ".5").ok and check("float:1e-6", "2", "2.0000000001").ok
    assert check("float:1e-6", "YES 0.5", "YES 0.5000001").ok
    assert not check("float:1e-6", "YES 0.5", "yes 0.5").ok  # words compare exactly
    assert not check("float:1e-6", "0.5", "abc").ok
    assert check("float:1e-6", "nan", "NaN").ok and not check("float:1e-6", "nan", "0").ok
    assert not check("float:1e-6", "0", "nan").ok
    assert check("float:1e-6", "inf", "Infinity").ok and not check("float:1e-6", "inf", "-inf").ok
    assert not check("float:1e-6", "1e300", "inf").ok
    assert not check("float:1e-6", "1000", "1_000").ok  # Python-only number syntax is not a number
    assert parse_number("1_000") is None and parse_number("-2.5e3") == -2500.0
    assert close(1e9, 1e9 + 500, 1e-6) and not close(1e9, 1e9 + 5000, 1e-6)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(-1e6, 1e6, allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=12,
)


@settings(deadline=None)
@given(json_values, json_values)
def test_json_equality_is_symmetric(a: object, b: object) -> None:
    ja, jb = json.dumps(a), json.dumps(b)
    assert check("json", ja, jb).ok == check("json", jb, ja).ok


@settings(deadline=None)
@given(json_values)
def test_json_accepts_itself_and_any_formatting(value: object) -> None:
    assert check("json", json.dumps(value), json.dumps(value, indent=2) + "\n").ok


def test_json_details() -> None:
    assert check("json", "[1, 2]", "[1,2]").ok
    assert check("json", "0.1", "0.1000000001").ok and not check("json", "0.1", "0.11").ok
    assert check("json", "3", "3.0").ok
    assert not check("json", "true", "1").ok and not check("json", "1", "true").ok
    assert not check("json", '"1"', "1").ok
    res = check("json", "[[1, 2], [3, 4]]", "[[1, 2], [3, 5]]")
    assert res.message == "[1][1]: expected '4', got '5'"
    assert "list of 2 items" in check("json", "[1, 2]", "[1]").message
    assert check("json", "[1]", "").message == "no output"
    assert "not JSON" in check("json", "[1]", "[1, 2").message
    assert JsonChecker().check("[1]", "[1]")


def test_parse_checker() -> None:
    assert isinstance(parse_checker("float:1e-6"), FloatChecker)
    assert parse_checker("float:1e-6").eps == 1e-6  # type: ignore[attr-defined]
    assert isinstance(parse_checker("custom"), CustomChecker)
    for bad in ("token", "float", "float:abc", "float:-1", "float:0", "float:nan", ""):
        with pytest.raises(ValueError):
            parse_checker(bad)
    with pytest.raises(TypeError):
        parse_checker("custom").check("1", "1")
