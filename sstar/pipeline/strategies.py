"""The strategy registry: a name ("sstar", "zero-shot", ...) -> ``run(ctx) -> (candidates, selection)``.

``solve`` dispatches through ``STRATEGIES`` and the CLI's ``--strategy`` choices come from
it, so a new strategy is one function and one ``register`` line here (or in a plugin).
A strategy adds every candidate it draws to ``ctx.candidates`` as soon as it has them:
Ctrl-C returns the best of those.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from sstar.pipeline.context import Candidate, RunContext
    from sstar.pipeline.select import Selection

StrategyFn = Callable[["RunContext"], "tuple[list[Candidate], Selection]"]

STRATEGIES: dict[str, StrategyFn] = {}


def register(name: str, run: StrategyFn) -> None:
    STRATEGIES[name] = run


def strategy_names() -> list[str]:
    return list(STRATEGIES)


def lookup(name: str) -> StrategyFn:
    from sstar.errors import SstarError

    try:
        return STRATEGIES[name]
    except KeyError:
        raise SstarError(f"unknown strategy {name!r}: use one of {', '.join(STRATEGIES)}") from None


def best_so_far(candidates: "list[Candidate]") -> "Candidate | None":
    """The program that passes most public tests, over every version of every candidate."""
    versions = [v for c in candidates if (v := c.best_version()) is not None]
    return max(versions, key=lambda c: (c.public_passed, -c.index), default=None)


def _draw(ctx: "RunContext", n: int) -> "list[Candidate]":
    from sstar.pipeline.generate import generate_candidates

    candidates = generate_candidates(ctx, n)
    ctx.candidates.extend(candidates)
    return candidates


# Stage modules are imported when a strategy runs: the CLI reads the names on every start.
def run_sstar(ctx: "RunContext") -> "tuple[list[Candidate], Selection]":
    """S*: N samples, R debug rounds, selection by synthesized inputs and the judge."""
    from sstar.pipeline.debug import debug_candidates
    from sstar.pipeline.select import select_sstar

    candidates = _draw(ctx, ctx.config.n)
    debug_candidates(ctx, candidates, ctx.config.rounds)
    return candidates, select_sstar(ctx, candidates)


def run_zero_shot(ctx: "RunContext") -> "tuple[list[Candidate], Selection]":
    """One greedy sample."""
    from sstar.pipeline.select import single_choice

    candidates = _draw(ctx, 1)
    return candidates, single_choice(candidates[0] if candidates else None)


def run_majority(ctx: "RunContext") -> "tuple[list[Candidate], Selection]":
    """N samples, the most common behaviour on synthesized and public inputs, no judge."""
    from sstar.pipeline.select import select_majority

    candidates = _draw(ctx, ctx.config.n)
    return candidates, select_majority(ctx, candidates)


def run_self_debug(ctx: "RunContext") -> "tuple[list[Candidate], Selection]":
    """One sample, R debug rounds; the version that passed most public tests."""
    from sstar.pipeline.debug import debug_candidates
    from sstar.pipeline.select import single_choice

    candidates = _draw(ctx, 1)
    debug_candidates(ctx, candidates, ctx.config.rounds)
    return candidates, single_choice(best_so_far(candidates))


register("sstar", run_sstar)
register("zero-shot", run_zero_shot)
register("majority", run_majority)
register("self-debug", run_self_debug)


def run_budget(ctx: "RunContext") -> "tuple[list[Candidate], Selection]":
    """S* under one token budget: waves, early stop, repairs where they pay (docs/budget.md)."""
    from sstar.pipeline.budgeted import run_budgeted

    return run_budgeted(ctx)


register("budget", run_budget)
