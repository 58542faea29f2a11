"""Function-call problems: argument parsing and the stdio harness (run with this Python)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sstar.functioncall import (
    harness,
    order_named,
    parse_arguments,
    parse_entry_point,
    parse_literal,
    signature_params,
)
from sstar.problem import FunctionSpec

TWO_SUM = FunctionSpec("twoSum", "Solution")


def call(source: str, spec: FunctionSpec, args: object) -> subprocess.CompletedProcess[str]:
    program = harness(source, spec)
    return subprocess.run([sys.executable, "-c", program], input=json.dumps(args), capture_output=True, text=True, timeout=30)


def test_parse_literal_accepts_python_and_json_spellings() -> None:
    assert parse_literal("[1, 2, 3]") == [1, 2, 3]
    assert parse_literal("true") is True and parse_literal("null") is None
    assert parse_literal('[true, "false", null]') == [True, "false", None]  # strings untouched
    assert parse_literal("(1, -2.5)") == (1, -2.5)
    assert parse_literal(' "a b" ') == "a b"
    for bad in ("foo", "[1,", "__import__('os')", "1 +"):
        with pytest.raises(ValueError):
            parse_literal(bad)


def test_parse_arguments_named_positional_and_ordered() -> None:
    assert parse_arguments("nums = [2,7,11,15], target = 9") == [[2, 7, 11, 15], 9]
    assert parse_arguments("target = 9, nums = [2, 7]", ["nums", "target"]) == [[2, 7], 9]
    assert parse_arguments("[1, 2], 3") == [[1, 2], 3]
    assert parse_arguments('s = "a,b", flag = false') == ["a,b", False]
    assert parse_arguments("") == []
    with pytest.raises(ValueError, match="do not match"):
        parse_arguments("x = 1", ["nums", "target"])
    with pytest.raises(ValueError):
        parse_arguments("nums = [1, 2")
    with pytest.raises(ValueError):
        parse_arguments("nums = len([1])")
    assert order_named({"b": 2, "a": 1}, ["a", "b"]) == [1, 2]
    assert order_named({"b": 2, "a": 1}, None) == [2, 1]


def test_signature_and_entry_point() -> None:
    starter = "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n        pass\n"
    assert signature_params(FunctionSpec("twoSum", "Solution", starter)) == ["nums", "target"]
    assert signature_params(FunctionSpec("f", None, "def f(a, b=2):\n    pass\n")) == ["a", "b"]
    assert signature_params(FunctionSpec("g", None, "def f(a): pass")) is None
    assert signature_params(FunctionSpec("f", None, "def f(:")) is None
    spec = parse_entry_point("Solution.twoSum")
    assert (spec.class_name, spec.name) == ("Solution", "twoSum")
    assert parse_entry_point(" two_sum ").class_name is None
    for bad in ("Solution.", "a.b.c", "1abc", ""):
        with pytest.raises(ValueError):
            parse_entry_point(bad)


def test_harness_runs_a_leetcode_solution_with_typing_and_demo_code() -> None:
    source = '''
class Solution:
    def twoSum(self, nums: List[int], target: int) -> List[int]:
        print("debugging", nums)  # goes to stderr, not into the answer
        seen = defaultdict(int)
        for j, v in enumerate(nums):
            if target - v in seen:
                return (seen[target - v], j)
            seen[v] = j

if __name__ == "__main__":
    print(Solution().twoSum(list(map(int, input().split())), int(input())))
'''
    res = call(source, TWO_SUM, [[2, 7, 11, 15], 9])
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == [0, 1]  # the tuple became a list
    assert "debugging" in res.stderr


def test_harness_plain_function_kwargs_and_future_import() -> None:
    source = "from __future__ import annotations\n\ndef add(a: int, b: int) -> int:\n    return a + b\n"
    res = call(source, FunctionSpec("add"), {"a": 2, "b": 3})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "5"


def test_harness_finds_method_written_as_function_and_the_reverse() -> None:
    res = call("def twoSum(nums, target):\n    return [0, 1]\n", TWO_SUM, [[1, 2], 3])
    assert res.stdout.strip() == "[0, 1]"
    res = call("class Solution:\n    def add(self, a, b):\n        return a + b\n", FunctionSpec("add"), [1, 2])
    assert res.stdout.strip() == "3"


def test_harness_converts_results_to_json() -> None:
    source = '''
from dataclasses import dataclass

@dataclass
class Point:
    x: int

def f(kind):
    return {"set": {3, 1, 2}, "dict": {1: (2, 3)}, "obj": Point(1), "none": None, "float": 0.5}[kind]
'''
    spec = FunctionSpec("f")
    assert json.loads(call(source, spec, ["set"]).stdout) == [1, 2, 3]
    assert json.loads(call(source, spec, ["dict"]).stdout) == {"1": [2, 3]}
    assert json.loads(call(source, spec, ["obj"]).stdout) == "Point(x=1)"
    assert json.loads(call(source, spec, ["none"]).stdout) is None
    assert json.loads(call(source, spec, ["float"]).stdout) == 0.5


def test_harness_failures_exit_non_zero_with_a_reason() -> None:
    res = call("def other():\n    pass\n", TWO_SUM, [[1], 1])
    assert res.returncode != 0 and "entry point Solution.twoSum is not defined" in res.stderr
    res = call("n = int(input())\ndef f():\n    return n\n", FunctionSpec("f"), [])
    assert res.returncode != 0 and "EOFError" in res.stderr  # stdin belongs to the harness
    res = call("def f(x):\n    return 1 // x\n", FunctionSpec("f"), [0])
    assert res.returncode != 0 and "ZeroDivisionError" in res.stderr and res.stdout == ""
