"""Stage 2: repair failing candidates from public-test feedback, all candidates of a round in one batch."""

from __future__ import annotations

from sstar.engine.base import Message, Request
from sstar.extract import program_fingerprint
from sstar.pipeline.context import Candidate, RunContext
from sstar.pipeline.prompts import debug_feedback, fresh_repair_messages, no_code_feedback
from sstar.verdict import JudgeReport, Verdict


def feedback_for(ctx: RunContext, cand: Candidate, repeated: bool = False) -> str:
    if cand.code is None or cand.public is None:
        return no_code_feedback(ctx.language)
    return debug_feedback(ctx.problem, ctx.problem.public_tests, cand.public.tests, repeated=repeated, language=ctx.language)


def _same_behaviour(a: JudgeReport | None, b: JudgeReport | None) -> bool:
    """Same verdict and output on every public test: a repair the feedback cannot tell apart."""
    if a is None or b is None or len(a.tests) != len(b.tests):
        return False
    # A C++ repair that moves the compile error elsewhere is progress: compare the message too.
    return all(
        (x.verdict, x.output) == (y.verdict, y.output) and (x.verdict is not Verdict.CE or x.stderr_tail == y.stderr_tail)
        for x, y in zip(a.tests, b.tests)
    )


def debug_candidates(ctx: RunContext, candidates: list[Candidate], rounds: int) -> None:
    """Up to ``rounds`` rounds; a candidate stops as soon as it passes every public test.

    Earlier rounds stay in the conversation (the S* ablation found that keeping only the
    last round does worse). Debugging uses a lower temperature than sampling: the diversity
    was already bought in stage 1, a repair should be the model's best guess. But a small
    model often answers feedback with the very program it was shown, or with a change that
    prints the same: given the same feedback again it then repeats itself word for word. Such
    a candidate is told so in a fresh conversation (statement, its program, the feedback:
    nothing of its own to copy), and its next repair is sampled at the sampling temperature.
    """
    repeated: set[int] = set()
    for round_no in range(1, rounds + 1):
        failing = [c for c in candidates if not c.passes_public]
        if not failing:
            break
        ctx.emit("debug", f"round {round_no}: repairing {len(failing)} candidate{'s' * (len(failing) != 1)}", candidates)
        requests = []
        for cand in failing:
            again = cand.index in repeated
            feedback = feedback_for(ctx, cand, repeated=again)
            if again and cand.code is not None:
                cand.messages = fresh_repair_messages(ctx.problem, cand.code, feedback, ctx.language)
            else:
                cand.messages.append(Message("user", feedback))
            temperature = ctx.config.temperature if again else min(ctx.config.temperature, 0.3)
            requests.append(Request(tuple(cand.messages), 1, ctx.params(temperature=temperature, seed_offset=100 * round_no + cand.index, code=ctx.language)))
        for cand, (completion,) in zip(failing, ctx.generate(requests, f"debug-{round_no}")):
            previous = cand.code
            ctx.take_reply(cand, completion)
            got_code = cand.code is not None
            if not got_code:
                cand.code = previous  # a reply without code keeps the last program in the running
            tried = {program_fingerprint(code) for code, _ in cand.versions}
            if got_code and program_fingerprint(cand.code or "") in tried:
                repeated.add(cand.index)
            else:
                repeated.discard(cand.index)
            cand.rounds = round_no
            before = cand.public
            ctx.test_public(cand, f"debug-{round_no}")
            if got_code and _same_behaviour(before, cand.public):
                repeated.add(cand.index)
        ctx.emit("debug", f"round {round_no}: {sum(c.passes_public for c in candidates)}/{len(candidates)} pass", candidates)
