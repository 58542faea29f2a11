"""sstar: test-time scaling for code generation (S*) with a small local model.

The library API (the CLI is a thin layer over it)::

    from sstar import load_problem, open_sandbox, judge
    problem = load_problem("problems/two-sum")
    with open_sandbox("auto") as sandbox:
        report = judge(open("sol.py").read(), problem, sandbox, tests="all")
"""

from __future__ import annotations

__version__ = "0.1.0"

from sstar.judge import judge, limits_for, run_inputs
from sstar.loaders import discover_problems, load_problem
from sstar.problem import FunctionSpec, Problem, ProblemKind, TestCase
from sstar.verdict import JudgeReport, TestResult, Verdict

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
