"""A set-level budget for ``batch --set-budget TOKENS``: one pool of generated tokens for the whole set.

Pass 1: every problem is solved by the budgeted strategy with an equal share of the pool
(``TOKENS // problems``). An easy problem settles early and leaves part of its share unused.
Pass 2: what the set has not spent (the pool minus the generated tokens of each problem's
latest record) is split evenly among the problems still unsure, and each is solved again
with its pass-1 spending plus that extra. The same seeds draw the same first waves again, so
with ``--completion-cache`` the replay costs no model time, and the new waves go further.

Unsure: no program passes every public test, or the run stopped without settling (budget,
seconds, nothing left). A problem recorded with an error is not retried.

Records: pass 2 appends a second record for the problem, with ``budget.pass == 2``; in a run
file the last record of a problem is the one that counts (``--resume`` and ``sstar report``
read it so). Both records carry the batch's settings in ``config`` (what ``--resume``
compares); the per-problem budget is in ``budget.tokens``. ``--resume`` finishes pass 1
(problems without a record), then gives the pool still unspent to the unsure problems that
have no pass-2 record yet.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Sequence

from sstar.pipeline.types import SolveConfig, Strategy
from sstar.record import RunRecord


def pass_of(rec: RunRecord) -> int:
    return int((rec.budget or {}).get("pass", 1))


def is_unsure(rec: RunRecord) -> bool:
    """Worth more tokens: nothing passes the public tests, or the decision was not settled."""
    if rec.error is not None:
        return False
    passes = rec.public_total > 0 and rec.public_passed == rec.public_total and bool(rec.program)
    return not passes or (rec.budget or {}).get("stop") != "settled"


def first_pass_config(config: SolveConfig, problems: int) -> SolveConfig:
    """Each problem's equal share of the pool, for the budgeted strategy."""
    share = max(1, config.set_budget_tokens // max(1, problems))
    return replace(config, strategy=Strategy.BUDGET, budget_tokens=share)


@dataclass(frozen=True)
class SecondPass:
    path: Path
    budget_tokens: int  # the pass-1 spending plus the extra share
    extra: int


def plan_second_pass(config: SolveConfig, selected: Sequence[Path], latest: Mapping[Path, RunRecord]) -> list[SecondPass]:
    """The unsure problems still waiting for pass 2, each with its budget from the pool left.

    ``latest``: each selected problem's latest record (absent: not solved yet, not planned).
    """
    spent = sum(rec.completion_tokens for p in selected if (rec := latest.get(p)) is not None)
    left = config.set_budget_tokens - spent
    waiting = [p for p in selected if (rec := latest.get(p)) is not None and pass_of(rec) == 1 and is_unsure(rec)]
    if left <= 0 or not waiting:
        return []
    extra = left // len(waiting)
    if extra <= 0:
        return []
    return [SecondPass(p, latest[p].completion_tokens + extra, extra) for p in waiting]
