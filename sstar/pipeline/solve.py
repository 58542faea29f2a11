"""`solve`: run one strategy (S* or a baseline) on one problem and return the chosen program."""

from __future__ import annotations

from dataclasses import asdict

from sstar.engine.base import Engine
from sstar.pipeline.context import Candidate, RunContext
from sstar.pipeline.budgeted import run_budgeted
from sstar.pipeline.debug import debug_candidates
from sstar.pipeline.generate import generate_candidates
from sstar.pipeline.select import Selection, select_majority, select_sstar
from sstar.pipeline.types import ProgressFn, SolveConfig, SolveResult, Strategy
from sstar.errors import SstarError
from sstar.problem import Problem, ProblemKind
from sstar.sandbox.base import Sandbox
from sstar.trace import Trace
from sstar.verdict import JudgeReport


def _best_so_far(candidates: list[Candidate]) -> Candidate | None:
    """The program that passes most public tests, over every version of every candidate."""
    versions = [v for c in candidates if (v := c.best_version()) is not None]
    return max(versions, key=lambda c: (c.public_passed, -c.index), default=None)


def check_language(problem: Problem, config: SolveConfig) -> None:
    """Refuse, in one line, a problem the candidates' language cannot solve."""
    if config.language != "python" and problem.kind is ProblemKind.FUNCTION:
        # The judge calls the entry point from a Python harness: another language cannot be tested.
        raise SstarError(
            f"{problem.id} is a function-call problem, which takes Python solutions only: "
            f"solve it without --language {config.language}"
        )


def solve(
    problem: Problem,
    engine: Engine,
    sandbox: Sandbox,
    config: SolveConfig = SolveConfig(),
    progress: ProgressFn | None = None,
    trace: Trace | None = None,
) -> SolveResult:
    """Generate, debug and select with ``config.strategy``; never sees ``problem.hidden_tests``.

    Ctrl-C (KeyboardInterrupt) stops the run and returns the best program found so far
    with ``interrupted=True``; the caller's context managers clean up sandbox and engine.
    """
    check_language(problem, config)
    ctx = RunContext(problem, engine, sandbox, config, trace, progress)  # strips the hidden tests
    if trace is not None:
        trace.event("start", problem=problem.id, strategy=config.strategy, settings=asdict(config), engine=engine.name, sandbox=sandbox.name)
    candidates: list[Candidate] = []
    selection = Selection(None)
    interrupted = False
    strategy = Strategy(config.strategy)
    try:
        if strategy is Strategy.ZERO_SHOT:
            candidates = generate_candidates(ctx, 1)
            selection = Selection(candidates[0] if candidates else None)
        elif strategy is Strategy.SELF_DEBUG:
            candidates = generate_candidates(ctx, 1)
            debug_candidates(ctx, candidates, config.rounds)
            selection = Selection(_best_so_far(candidates))
        elif strategy is Strategy.BUDGET:
            candidates, selection = run_budgeted(ctx)
        elif strategy is Strategy.MAJORITY:
            candidates = generate_candidates(ctx, config.n)
            selection = select_majority(ctx, candidates)
        else:
            candidates = generate_candidates(ctx, config.n)
            debug_candidates(ctx, candidates, config.rounds)
            selection = select_sstar(ctx, candidates)
    except KeyboardInterrupt:
        interrupted = True
        selection = Selection(_best_so_far(candidates))
    chosen = selection.chosen or _best_so_far(candidates)
    result = SolveResult(
        problem_id=problem.id,
        strategy=strategy.value,
        program=(chosen.code or "") if chosen else "",
        public=(chosen.public if chosen and chosen.public else JudgeReport()),
        candidates=len(candidates),
        candidates_passing_public=sum(c.passes_public for c in candidates),
        clusters=len(selection.clusters),
        judge_calls=ctx.judge_calls,
        prompt_tokens=ctx.prompt_tokens,
        completion_tokens=ctx.completion_tokens,
        completion_cache_hits=ctx.usage.cache_hits,
        wall_s=round(ctx.elapsed, 3),
        interrupted=interrupted,
        settings={**asdict(config), "strategy": strategy.value, "engine": engine.name, "sandbox": sandbox.name},
        language=config.language,
        budget=dict(ctx.budget),
    )
    if trace is not None:
        trace.event(
            "result",
            chosen=chosen.index if chosen else None,
            program=result.program,
            public_passed=result.public.passed,
            public_total=result.public.total,
            clusters=result.clusters,
            judge_calls=result.judge_calls,
            tokens=result.tokens,
            wall_s=result.wall_s,
            interrupted=interrupted,
        )
    ctx.emit("done", "interrupted: returning the best program so far" if interrupted else "done", candidates)
    return result
