"""sstar: test-time scaling for code generation (S*) with a small local model.

The library API (the CLI is a thin layer over it)::

    import sstar

    with sstar.Session(model="qwen2.5-coder-1.5b", sandbox="auto") as session:
        problem = sstar.load_problem("problems/range-sums")
        result = session.solve(problem, sstar.SolveConfig(n=8, rounds=2))
        report = session.judge(result.program, problem, tests="hidden")

``Session`` opens the model and the sandbox on first use (``judge`` alone never loads a
model). The pieces it is made of are exported too: ``open_engine``, ``open_sandbox``,
``solve``, ``judge``, ``run_batch``.
"""

from __future__ import annotations

__version__ = "0.1.0"

import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sstar.batch import run_batch
    from sstar.engine import Engine, Usage, open_engine
    from sstar.judge import judge, limits_for, run_inputs
    from sstar.loaders import discover_problems, load_problem
    from sstar.pipeline.solve import solve
    from sstar.pipeline.types import SolveConfig, SolveResult, Strategy
    from sstar.problem import FunctionSpec, Problem, ProblemKind, TestCase
    from sstar.record import RunRecord
    from sstar.sandbox import Sandbox, open_sandbox
    from sstar.session import Session
    from sstar.verdict import JudgeReport, TestResult, Verdict

# Imported on first use: the `sstar` entry point (sstar.cli.guard) imports this package
# before it starts the CLI in a child, and eager imports cost it ~90 ms per command.
_LAZY = {
    "Session": "sstar.session",
    "solve": "sstar.pipeline.solve",
    "SolveConfig": "sstar.pipeline.types", "SolveResult": "sstar.pipeline.types", "Strategy": "sstar.pipeline.types",
    "open_engine": "sstar.engine", "Engine": "sstar.engine", "Usage": "sstar.engine",
    "open_sandbox": "sstar.sandbox", "Sandbox": "sstar.sandbox",
    "run_batch": "sstar.batch", "RunRecord": "sstar.record",
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


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """``import sstar.judge`` (the module) would bind it over ``sstar.judge`` (the function):
    the import system sets a package attribute per submodule. Keep the function's name for
    the function; the module stays reachable as ``sys.modules["sstar.judge"]``."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _LAZY.get(name) == value.__name__:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = [
    "Engine",
    "FunctionSpec",
    "JudgeReport",
    "Problem",
    "ProblemKind",
    "RunRecord",
    "Sandbox",
    "Session",
    "SolveConfig",
    "SolveResult",
    "Strategy",
    "TestCase",
    "TestResult",
    "Usage",
    "Verdict",
    "discover_problems",
    "judge",
    "limits_for",
    "load_problem",
    "open_engine",
    "open_sandbox",
    "run_batch",
    "run_inputs",
    "solve",
]
