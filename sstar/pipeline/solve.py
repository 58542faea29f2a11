"""`solve`: run one strategy (S* or a baseline, from pipeline/strategies.py) on one problem and return the chosen program."""

from __future__ import annotations

from dataclasses import asdict

from sstar.engine.base import Engine
from sstar.pipeline.context import Candidate, RunContext
from sstar.pipeline.select import Selection, single_choice
from sstar.pipeline.strategies import best_so_far, lookup
from sstar.pipeline.types import ProgressFn, SolveConfig, SolveResult
from sstar.errors import SstarError
from sstar.problem import Problem, ProblemKind
from sstar.sandbox.base import Sandbox
from sstar.trace import Trace
from sstar.verdict import JudgeReport


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
    run = lookup(config.strategy_name)  # an unknown name fails before any work
    ctx = RunContext(problem, engine, sandbox, config, trace, progress)  # strips the hidden tests
    if trace is not None:
        trace.event("start", problem=problem.id, strategy=config.strategy_name, settings=asdict(config), engine=engine.name, sandbox=sandbox.name)
    candidates: list[Candidate] = []
    selection = Selection(None)
    interrupted = False
    try:
        candidates, selection = run(ctx)
    except KeyboardInterrupt:
        interrupted = True
        candidates = list(ctx.candidates)
        selection = single_choice(best_so_far(candidates))
    chosen = selection.chosen or best_so_far(candidates)
    # A fallback choice is judged on its public verdicts alone.
    conf = selection.confidence if selection.chosen is not None else single_choice(chosen).confidence
    result = SolveResult(
        problem_id=problem.id,
        strategy=config.strategy_name,
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
        settings={**asdict(config), "strategy": config.strategy_name, "engine": engine.name, "sandbox": sandbox.name},
        language=config.language,
        confidence=conf,
        unsure=conf < config.min_confidence,
        tests=list(selection.tests),
        judge_no_verdict=selection.decision.no_verdict if selection.decision is not None else 0,
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
            judge_no_verdict=result.judge_no_verdict,
            confidence=result.confidence,
            unsure=result.unsure,
            tokens=result.tokens,
            wall_s=result.wall_s,
            interrupted=interrupted,
        )
    ctx.emit("done", "interrupted: returning the best program so far" if interrupted else "done", candidates)
    return result
