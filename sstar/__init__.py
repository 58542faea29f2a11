"""sstar: test-time scaling for code generation (S*) with a small local model.

The library API (the CLI is a thin layer over it)::

    from sstar import load_problem, open_sandbox, judge
    problem = load_problem("problems/two-sum")
    with open_sandbox("auto") as sandbox:
        report = judge(open("sol.py").read(), problem, sandbox, tests="all")
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sstar.judge import judge, limits_for, run_inputs
    from sstar.loaders import discover_problems, load_problem
    from sstar.problem import FunctionSpec, Problem, ProblemKind, TestCase
    from sstar.verdict import JudgeReport, TestResult, Verdict

# Imported on first use: the `sstar` entry point (sstar.cli.guard) imports this package
# before it starts the CLI in a child, and eager imports cost it ~90 ms per command.
_LAZY = {
    "judge": "sstar.judge", "limits_for": "sstar.judge", "run_inputs": "sstar.judge",
    "discover_problems": "sstar.loaders", "load_problem": "sstar.loaders",
    "FunctionSpec": "sstar.problem", "Problem": "sstar.problem", "ProblemKind": "sstar.problem", "TestCase": "sstar.problem",
    "JudgeReport": "sstar.verdict", "TestResult": "sstar.verdict", "Verdict": "sstar.verdict",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sstar' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

__all__ = [
    "FunctionSpec",
    "JudgeReport",
    "Problem",
    "ProblemKind",
    "TestCase",
    "TestResult",
    "Verdict",
    "discover_problems",
    "judge",
    "limits_for",
    "load_problem",
    "run_inputs",
]
