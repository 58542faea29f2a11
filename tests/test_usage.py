"""Usage comes back with each generate call, so a problem's tokens and cache hits are its own,
even when two workers share one engine; usage of engines that return plain lists."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Sequence


from sstar.batch import run_batch
from sstar.engine.base import Completion, Engine, Generation, Message, Request, SamplingParams, Usage, usage_of
from sstar.engine.cache import CachingEngine
from sstar.engine.scripted import ScriptedEngine
from sstar.pipeline.context import RunContext
from sstar.pipeline.types import SolveConfig, Strategy
from sstar.problem import Problem, TestCase

from tests.test_batch import sandbox, script, write_problem  # noqa: F401 - sandbox: the module-scoped "auto" sandbox fixture

CONFIG = SolveConfig(strategy=Strategy.SSTAR, n=2, rounds=1)


class Rendezvous(Engine):
    """Shared by two workers unlocked (thread_safe): the first generate() call of each
    problem start together and neither returns before both are done, so the engine's
    running totals move under each of them. Calls into the inner engine are serialised."""

    thread_safe = True

    def __init__(self, inner: Engine) -> None:  # no super().__init__: the totals are the inner's
        self.inner = inner
        self.name = inner.name
        self.arrive = threading.Barrier(2)
        self.leave = threading.Barrier(2)
        self.lock = threading.Lock()
        self.calls = 0

    @property
    def stats(self):  # type: ignore[override]
        return self.inner.stats

    @property
    def identity(self) -> str:
        return self.inner.identity

    def generate(self, requests: Sequence[Request]) -> Generation:
        with self.lock:
            first = self.calls < 2
            self.calls += 1
        if first:  # a guard against a hang only: a broken barrier fails the solve, and the test
            self.arrive.wait(timeout=300)
        with self.lock:
            out = self.inner.generate(requests)
        if first:
            self.leave.wait(timeout=300)
        return out

    def __getattr__(self, attr: str) -> Any:  # cache_stats of the inner CachingEngine
        if attr == "inner":
            raise AttributeError(attr)
        return getattr(self.inner, attr)


def _records(path: Path) -> dict[str, dict]:
    return {Path(r["path"]).name: r for r in map(json.loads, path.read_text().splitlines())}


def test_two_workers_get_exact_per_problem_tokens_and_cache_hits(tmp_path: Path, sandbox) -> None:
    root = tmp_path / "set"
    add = write_problem(root, "a-add", "ADD", [("1 2\n", "3\n")], [("10 20 30\n", "60\n")])
    echo = write_problem(root, "b-echo", "ECHO", [("hello\n", "hello\n")])
    cache = tmp_path / "completions"

    # Each problem alone: its own figures. a-add's answers go into the completion cache.
    warm = CachingEngine(ScriptedEngine(script), cache)
    run_batch([add], tmp_path / "a.jsonl", warm, sandbox, CONFIG)
    add_requests = warm.cache_stats.misses
    alone_add = _records(tmp_path / "a.jsonl")["a-add"]
    run_batch([echo], tmp_path / "b.jsonl", CachingEngine(ScriptedEngine(script), tmp_path / "other"), sandbox, CONFIG)
    alone_echo = _records(tmp_path / "b.jsonl")["b-echo"]
    assert add_requests >= 2 and alone_add["completion_cache_hits"] == 0 and alone_echo["tokens"] > 0

    # Both at once, the first calls overlapping: a-add is answered from the cache, b-echo by the model.
    engine = Rendezvous(CachingEngine(ScriptedEngine(script), cache))
    run_batch([root], tmp_path / "both.jsonl", engine, sandbox, CONFIG, workers=2)
    both = _records(tmp_path / "both.jsonl")
    assert both["a-add"]["error"] is None and both["b-echo"]["error"] is None
    for name, alone in (("a-add", alone_add), ("b-echo", alone_echo)):
        for key in ("prompt_tokens", "completion_tokens", "tokens"):
            assert both[name][key] == alone[key], (name, key)
    assert both["a-add"]["completion_cache_hits"] == add_requests
    assert both["b-echo"]["completion_cache_hits"] == 0


class PlainListEngine(Engine):
    """A third-party engine written before Generation: returns lists and reports no usage."""

    def generate(self, requests: Sequence[Request]) -> list[list[Completion]]:  # type: ignore[override]
        return [[Completion("x y", prompt_tokens=5, completion_tokens=2) for _ in range(r.n)] for r in requests]


def test_usage_of_a_plain_list_counts_each_prompt_once() -> None:
    out = PlainListEngine().generate([Request((Message("user", "q"),), n=3), Request((Message("user", "r"),))])
    assert usage_of(out) == Usage(prompt_tokens=10, completion_tokens=8)


def test_run_context_adds_up_the_usage_it_is_given() -> None:
    problem = Problem(id="p", title="p", statement="s", public_tests=(TestCase("1", "1\n", "1\n"),), hidden_tests=(TestCase("h", "2\n", "2\n"),))
    engine = ScriptedEngine(default="one two three")
    ctx = RunContext(problem, engine, sandbox=None, config=SolveConfig())  # type: ignore[arg-type]
    assert ctx.problem.hidden_tests == ()  # the one place hidden tests are stripped
    engine.generate([Request((Message("user", "not this run's"),), n=4)])  # someone else's call
    req = Request((Message("user", "a b"),), n=2, params=SamplingParams())
    ctx.generate([req], "generate")
    ctx.generate([req, req], "generate")
    assert (ctx.prompt_tokens, ctx.completion_tokens) == (2 + 4, 6 + 12)
    assert ctx.usage.cache_hits == 0 and engine.stats.completion_tokens == 12 + 6 + 12


def test_caching_engine_returns_hits_in_its_usage(tmp_path: Path) -> None:
    req = Request((Message("user", "q"),), n=2, params=SamplingParams(seed=3))
    first = CachingEngine(ScriptedEngine(default="a b c"), tmp_path).generate([req])
    again = CachingEngine(ScriptedEngine(default="a b c"), tmp_path).generate([req, req])
    assert first.usage.cache_hits == 0 and first.usage.completion_tokens == 6
    assert again.usage.cache_hits == 2 and again.usage.completion_tokens == 12 and again.usage.prompt_tokens == 2
