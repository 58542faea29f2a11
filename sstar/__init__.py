"""sstar: test-time scaling for code generation (S*) with a small local model.

The library API (the CLI is a thin layer over it)::

    from sstar import load_problem, open_sandbox, judge
    problem = load_problem("problems/two-sum")
    with open_sandbox("auto") as sandbox:
        report = judge(open("sol.py").read(), problem, sandbox, tests="all")
"""

from __future__ import annotations

__version__ = "0.1.0"
