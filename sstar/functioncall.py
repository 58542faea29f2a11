"""Function-call (LeetCode style) problems: argument parsing and the stdio harness.

A function-call test's input is the JSON array of the positional arguments and its
expected output the JSON of the return value. :func:`harness` turns a candidate's source
into an ordinary stdin/stdout program that the sandbox can run like any other.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any, Sequence

from sstar.problem import FunctionSpec

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_ENTRY = re.compile(rf"(?:({_IDENT})\.)?({_IDENT})")
# JSON spellings a LeetCode example may use for Python's constants.
_JSON_NAMES = {"true": True, "false": False, "null": None}


def parse_entry_point(entry_point: str, starter_code: str = "") -> FunctionSpec:
    """``"Solution.twoSum"`` or ``"two_sum"`` as a FunctionSpec; ValueError when malformed."""
    m = _ENTRY.fullmatch(entry_point.strip())
    if not m:
        raise ValueError(f"entry_point {entry_point!r} must be a function name or Class.method")
    return FunctionSpec(name=m.group(2), class_name=m.group(1), starter_code=starter_code)


class _JsonNames(ast.NodeTransformer):
    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in _JSON_NAMES:
            return ast.copy_location(ast.Constant(_JSON_NAMES[node.id]), node)
        return node


def _literal(node: ast.AST) -> Any:
    return ast.literal_eval(_JsonNames().visit(node))


def parse_literal(text: str) -> Any:
    """A Python literal, also accepting JSON's true/false/null; ValueError when it is not one."""
    try:
        return _literal(ast.parse(text.strip(), mode="eval").body)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError) as err:
        raise ValueError(f"not a literal value: {text.strip()[:60]!r}") from err


def parse_arguments(text: str, params: Sequence[str] | None = None) -> list[Any]:
    """``nums = [2,7], target = 9`` (or plain ``[2,7], 9``) as the positional argument list.

    Named arguments are put in ``params`` order when the signature is known; otherwise
    they keep the order in which the example lists them.
    """
    try:  # parse as the argument list of a call, so commas inside values need no special care
        call = ast.parse(f"f({text.strip()})", mode="eval").body
    except SyntaxError as err:
        raise ValueError(f"cannot read arguments {text.strip()[:60]!r}") from err
    assert isinstance(call, ast.Call)
    try:
        args = [_literal(a) for a in call.args]
        named = {kw.arg: _literal(kw.value) for kw in call.keywords if kw.arg is not None}
    except (ValueError, TypeError) as err:
        raise ValueError(f"arguments must be literal values: {text.strip()[:60]!r}") from err
    if len(named) != len(call.keywords):
        raise ValueError(f"cannot read arguments {text.strip()[:60]!r}")
    return args + order_named(named, params, skip=len(args))


def order_named(named: dict[str, Any], params: Sequence[str] | None, skip: int = 0) -> list[Any]:
    """Keyword arguments as positional ones, in signature order when ``params`` is known."""
    if not named:
        return []
    if params is None:
        return list(named.values())
    rest = list(params[skip:])
    if set(named) != set(rest):
        raise ValueError(f"arguments {sorted(named)} do not match the parameters {rest}")
    return [named[p] for p in rest]


def signature_params(spec: FunctionSpec) -> list[str] | None:
    """Parameter names of the entry point in the starter code (``self`` dropped), if found."""
    try:
        tree = ast.parse(spec.starter_code)
    except SyntaxError:
        return None
    scopes: list[ast.AST] = [tree]
    if spec.class_name:
        scopes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == spec.class_name]
    for scope in scopes:
        for node in getattr(scope, "body", []):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == spec.name:
                names = [a.arg for a in node.args.posonlyargs + node.args.args]
                return names[1:] if spec.class_name and names and names[0] in ("self", "cls") else names
    return None


def to_json(value: Any) -> str:
    """The JSON text of a value as the harness would print it (tuples become lists)."""
    return json.dumps(value)


# Prepended to the candidate. It reads the arguments before the candidate's own code runs
# (a stray input() then sees EOF instead of eating them), sends the candidate's prints to
# stderr so only the result reaches stdout, and renames the module so a
# `if __name__ == "__main__":` demo block does not run.
_HEADER = '''\
import sys as _sstar_sys
_sstar_args_text = _sstar_sys.stdin.read()
_sstar_sys.stdin = __import__("io").StringIO("")
_sstar_stdout = _sstar_sys.stdout
_sstar_sys.stdout = _sstar_sys.stderr
__name__ = "__sstar_candidate__"
_sstar_sys.modules[__name__] = _sstar_sys.modules["__main__"]
from typing import *
import bisect, collections, functools, heapq, itertools, math, operator, random, re, string
from bisect import bisect_left, bisect_right, insort
from collections import Counter, defaultdict, deque, OrderedDict
from functools import lru_cache, cache, reduce, cmp_to_key
from heapq import heappush, heappop, heapify, heappushpop, heapreplace, nlargest, nsmallest
from itertools import accumulate, combinations, permutations, product, groupby, chain, count
from math import inf, gcd, sqrt, comb, factorial, isqrt, ceil, floor, log2
# ---- candidate ----
'''

_FOOTER = '''
# ---- sstar harness ----
def _sstar_jsonable(value):
    import json, math
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, (list, tuple)):
        return [_sstar_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [_sstar_jsonable(v) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, dict):
        return {k if isinstance(k, str) else json.dumps(_sstar_jsonable(k)): _sstar_jsonable(v) for k, v in value.items()}
    return repr(value)


def _sstar_entry(class_name, name):
    scope = globals()
    owner = scope.get(class_name) if class_name else None
    if isinstance(owner, type) and callable(getattr(owner, name, None)):
        return getattr(owner(), name)
    if callable(scope.get(name)):  # e.g. the class was dropped and the method written as a function
        return scope[name]
    for value in list(scope.values()):  # e.g. a plain function written as a method of Solution
        if isinstance(value, type) and value.__module__ == __name__ and callable(getattr(value, name, None)):
            return getattr(value(), name)
    where = f"{class_name}.{name}" if class_name else name
    print(f"entry point {where} is not defined", file=_sstar_sys.stderr)
    raise SystemExit(1)


def _sstar_main():
    import json
    args = json.loads(_sstar_args_text)
    fn = _sstar_entry(%(class_name)r, %(name)r)
    result = fn(**args) if isinstance(args, dict) else fn(*args)
    _sstar_sys.stdout.flush()
    _sstar_stdout.write(json.dumps(_sstar_jsonable(result)) + "\\n")
    _sstar_stdout.flush()


_sstar_main()
'''

_FUTURE = re.compile(r"^from\s+__future__\s+import\s+[^\n]*$", re.MULTILINE)


def harness(source: str, spec: FunctionSpec) -> str:
    """A stdio program: the candidate plus a footer that reads the JSON arguments on stdin,
    calls the entry point and prints the JSON of the result."""
    # `from __future__` must stay the first statement, so it moves above the header.
    futures = _FUTURE.findall(source)
    body = _FUTURE.sub("", source)
    footer = _FOOTER % {"class_name": spec.class_name, "name": spec.name}
    return "".join(f + "\n" for f in futures) + _HEADER + body.rstrip() + "\n" + footer
