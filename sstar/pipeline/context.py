"""State shared by the stages of one solve: the problem's public view, engine, sandbox, counters."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from sstar.engine.base import Completion, Engine, Message, Request, SamplingParams, Usage, usage_of
from sstar.extract import extract_code
from sstar.judge import judge, limits_for
from sstar.pipeline.types import Progress, ProgressFn, SolveConfig
from sstar.problem import Problem
from sstar.sandbox.base import Limits, Program, Sandbox
from sstar.trace import Trace
from sstar.verdict import JudgeReport


@dataclass
class Candidate:
    """One line of work: a conversation with the model and the code it last produced."""

    index: int
    messages: list[Message]
    code: str | None = None
    public: JudgeReport | None = None
    rounds: int = 0  # debug rounds spent on it
    finish_reason: str = ""
    versions: list[tuple[str, JudgeReport]] = field(default_factory=list)  # every judged program
    # How generation asked for it (sstar.pipeline.generate): "plain", "plan:K", "hint:NAME";
    # "hint:brute-force" marks a program meant to be right on small inputs, however slow.
    tag: str = ""

    def best_version(self) -> "Candidate | None":
        """This candidate as its program that passed most public tests (a repair can make things worse)."""
        if not self.versions:
            return None
        code, report = max(reversed(self.versions), key=lambda v: v[1].passed)
        return Candidate(self.index, self.messages, code, report, self.rounds, self.finish_reason, self.versions, self.tag)

    @property
    def public_passed(self) -> int:
        return self.public.passed if self.public else 0

    @property
    def passes_public(self) -> bool:
        return self.code is not None and self.public is not None and self.public.all_passed


@dataclass
class RunContext:
    problem: Problem  # always the public view: hidden tests removed
    engine: Engine
    sandbox: Sandbox
    config: SolveConfig
    trace: Trace | None = None
    progress_fn: ProgressFn | None = None
    limits: Limits = field(init=False)
    started: float = field(default_factory=time.monotonic)
    usage: Usage = field(default_factory=Usage)  # this run's model usage: the sum of its calls' usage
    judge_calls: int = 0
    llm_seconds: float = 0.0
    # Every candidate drawn so far (strategies add them): what Ctrl-C falls back on.
    candidates: list[Candidate] = field(default_factory=list)
    budget: dict[str, Any] = field(default_factory=dict)  # the budgeted strategy's account (SolveResult.budget)

    def __post_init__(self) -> None:
        # The one place hidden tests are stripped: every stage reaches the problem through
        # this context, so the pipeline never sees them, whatever the caller passed in.
        self.problem = self.problem.without_hidden()
        self.limits = limits_for(self.problem)

    @property
    def prompt_tokens(self) -> int:
        return self.usage.prompt_tokens

    @property
    def completion_tokens(self) -> int:
        return self.usage.completion_tokens

    # -- model -------------------------------------------------------------------------
    def generate(self, requests: Sequence[Request], stage: str) -> list[list[Completion]]:
        if not requests:
            return []
        t0 = time.monotonic()
        results = self.engine.generate(list(requests))
        self.llm_seconds += time.monotonic() - t0
        # The call's own usage (engines count a shared prompt once), never a difference of the
        # engine's running totals: other problems sharing the engine move those too.
        self.usage = self.usage + usage_of(results)
        if self.trace is not None:
            for req, comps in zip(requests, results):
                self.trace.event(
                    "llm",
                    stage=stage,
                    messages=[{"role": m.role, "content": m.content} for m in req.messages],
                    params=req.params,
                    replies=[{"text": c.text, "finish_reason": c.finish_reason, "tokens": c.completion_tokens} for c in comps],
                )
        return results

    def params(
        self, *, temperature: float | None = None, max_tokens: int | None = None, seed_offset: int = 0, code: bool | str = False
    ) -> SamplingParams:
        """Sampling for one request; ``code``: the reply is a program in a ```python block
        (``code="cpp"``: a ```cpp block; the candidates' programs ask for ``self.language``)."""
        cfg = self.config
        return SamplingParams(
            temperature=cfg.temperature if temperature is None else temperature,
            top_p=cfg.top_p,
            max_tokens=cfg.max_tokens if max_tokens is None else max_tokens,
            seed=cfg.seed * 1000 + seed_offset,
            # What small models write after the program (a restated explanation) costs
            # tokens and is never used. A stop string ("\n```\n\n") also ended replies
            # that quoted a sample in a fence before the program (3 of 64 plan-first replies).
            stop_after_block=(code if isinstance(code, str) else "python") if code else "",
            stop_on_repetition=True,
        )

    @property
    def language(self) -> str:
        """The candidates' language (model-written input generators are Python whatever it is)."""
        return self.config.language

    def program(self, code: str) -> Program:
        """A candidate's code as the sandbox runs it: compiled once per request when C++."""
        return Program(code, self.language)

    # -- sandbox ------------------------------------------------------------------------
    def test_public(self, cand: Candidate, stage: str) -> JudgeReport | None:
        """Judge a candidate's code on the public tests and remember the report."""
        if cand.code is None:
            cand.public = None
            return None
        program = self.program(cand.code)
        cand.public = judge(program, self.problem, self.sandbox, tests="public", limits=self.limits)
        if cand.public.sandbox_failed:  # the sandbox failed, not the program: once more, on a fresh one
            cand.public = judge(program, self.problem, self.sandbox, tests="public", limits=self.limits)
        cand.versions.append((cand.code, cand.public))
        if self.trace is not None:
            self.trace.event(
                "public_tests",
                stage=stage,
                candidate=cand.index,
                round=cand.rounds,
                program=cand.code,
                verdict=cand.public.verdict,
                passed=cand.public.passed,
                total=cand.public.total,
                tests=[
                    {"name": t.name, "verdict": t.verdict, "output": t.output[:2000], "stderr": t.stderr_tail, "message": t.message}
                    for t in cand.public.tests
                ],
            )
        return cand.public

    def take_reply(self, cand: Candidate, completion: Completion) -> None:
        """Append the model's reply to the conversation and extract its code."""
        cand.messages.append(Message("assistant", completion.text))
        cand.code = extract_code(completion.text, self.language)
        cand.finish_reason = completion.finish_reason

    # -- progress -----------------------------------------------------------------------
    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def emit(self, stage: str, message: str, candidates: Sequence[Candidate] = ()) -> None:
        if self.trace is not None:
            self.trace.event("progress", stage=stage, message=message)
        if self.progress_fn is None:
            return
        tok_s = self.completion_tokens / self.llm_seconds if self.llm_seconds > 0 else 0.0
        self.progress_fn(
            Progress(
                stage=stage,
                message=message,
                alive=sum(c.code is not None for c in candidates),
                passing=sum(c.passes_public for c in candidates),
                tokens=self.prompt_tokens + self.completion_tokens,
                tok_s=tok_s,
                elapsed_s=self.elapsed,
            )
        )
