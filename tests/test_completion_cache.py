"""CachingEngine: seeded requests answered from disk, across strategies and processes."""

from __future__ import annotations

import json
from pathlib import Path

from sstar.engine import Completion, Message, Request, SamplingParams, ScriptedEngine
from sstar.engine.cache import CachingEngine, request_key
from sstar.pipeline.solve import solve
from sstar.pipeline.types import SolveConfig, Strategy
from sstar.problem import Problem, TestCase

MSG = (Message("user", "add two numbers"),)


def test_seeded_requests_are_answered_from_disk_with_their_token_counts(tmp_path: Path) -> None:
    inner = ScriptedEngine(lambda m, i, p: f"reply {i} seed {p.seed}")
    cache = CachingEngine(inner, tmp_path)
    seeded = Request(MSG, 3, SamplingParams(seed=5, max_tokens=50))
    first = cache.generate([seeded])[0]
    assert [c.text for c in first] == ["reply 0 seed 5", "reply 1 seed 5", "reply 2 seed 5"]
    again = CachingEngine(ScriptedEngine(lambda m, i, p: "a different model answer"), tmp_path)  # a new process, say
    assert [c.text for c in again.generate([seeded])[0]] == [c.text for c in first]
    assert again.cache_stats.hits == 1 and again.cache_stats.misses == 0
    assert again.stats.completion_tokens == sum(c.completion_tokens for c in first) > 0
    assert again.cache_stats.cached_completion_tokens == again.stats.completion_tokens


def test_every_parameter_and_the_engine_identity_are_part_of_the_key() -> None:
    base = Request(MSG, 2, SamplingParams(seed=1))
    keys = {
        request_key("m", base),
        request_key("other-model", base),
        request_key("m", Request(MSG, 3, SamplingParams(seed=1))),
        request_key("m", Request(MSG, 2, SamplingParams(seed=2))),
        request_key("m", Request(MSG, 2, SamplingParams(seed=1, temperature=0.3))),
        request_key("m", Request(MSG, 2, SamplingParams(seed=1, stop=("x",)))),
        request_key("m", Request((Message("user", "add three numbers"),), 2, SamplingParams(seed=1))),
    }
    assert len(keys) == 7


def test_unseeded_sampling_is_never_cached_and_a_corrupt_entry_is_a_miss(tmp_path: Path) -> None:
    calls = []
    inner = ScriptedEngine(lambda m, i, p: calls.append(1) or f"answer {len(calls)}")
    cache = CachingEngine(inner, tmp_path)
    unseeded = Request(MSG, 1, SamplingParams(seed=None, temperature=0.7))
    cache.generate([unseeded]), cache.generate([unseeded])
    assert len(calls) == 2 and cache.cache_stats.uncacheable == 2 and not list(tmp_path.glob("*/*.json"))
    greedy = Request(MSG, 1, SamplingParams(seed=None, temperature=0.0))
    cache.generate([greedy])
    [entry] = list(tmp_path.glob("*/*.json"))
    entry.write_text("{not json")
    assert cache.generate([greedy])[0][0].text == "answer 4"  # regenerated
    assert json.loads(entry.read_text())["completions"][0]["text"] == "answer 4"  # and rewritten


def _seeded_model(messages, index, params):  # as every engine does: sample i of a request draws with seed + i
    return f"sample with seed {params.seed + index}"


def test_samples_are_found_again_in_another_grouping_and_only_the_rest_is_generated(tmp_path: Path) -> None:
    # S*'s 16 samples, then the budgeted strategy's waves of 8 over the same seeds: the samples
    # both ask for come from disk; the model writes only the new ones, with their own seeds.
    inner = ScriptedEngine(_seeded_model)
    cache = CachingEngine(inner, tmp_path)
    cache.generate([Request(MSG, 4, SamplingParams(seed=10, max_tokens=50))])
    before = len(inner.requests)
    wider = Request(MSG, 6, SamplingParams(seed=8, max_tokens=50))
    (got,) = cache.generate([wider])
    assert [c.text for c in got] == [f"sample with seed {s}" for s in range(8, 14)]
    (asked,) = inner.requests[before:]
    assert asked.n == 2 and asked.params.seed == 8  # seeds 10 to 13 were on disk
    assert cache.cache_stats.misses == 2 and cache.cache_stats.cached_completion_tokens == sum(c.completion_tokens for c in got[2:])
    again = CachingEngine(ScriptedEngine(lambda m, i, p: "another model"), tmp_path)
    assert [c.text for c in again.generate([Request(MSG, 3, SamplingParams(seed=11, max_tokens=50))])[0]] == [
        f"sample with seed {s}" for s in (11, 12, 13)
    ]
    assert again.cache_stats.hits == 1 and again.stats.completion_tokens > 0


def test_an_entry_written_whole_by_an_earlier_version_is_read_and_split(tmp_path: Path) -> None:
    inner = ScriptedEngine(_seeded_model)
    cache = CachingEngine(inner, tmp_path)
    whole = Request(MSG, 3, SamplingParams(seed=20, max_tokens=50))
    key = request_key(inner.identity, whole)
    old = [Completion(f"old {j}", 5, 7) for j in range(3)]
    path = cache.path_for(key)
    path.parent.mkdir(parents=True)
    path.write_bytes(CachingEngine._encode(key, old))
    assert [c.text for c in cache.generate([whole])[0]] == ["old 0", "old 1", "old 2"]
    (one,) = cache.generate([Request(MSG, 1, SamplingParams(seed=21, max_tokens=50))])
    assert one[0].text == "old 1" and not inner.requests  # the model was never asked


def test_misses_of_one_call_stay_one_batch_in_request_order(tmp_path: Path) -> None:
    inner = ScriptedEngine(lambda m, i, p: f"{m[-1].content}/{i}")
    cache = CachingEngine(inner, tmp_path)
    a, b, c = (Request((Message("user", x),), 1, SamplingParams(seed=0)) for x in "abc")
    cache.generate([b])
    out = cache.generate([a, b, c])
    assert [r[0].text for r in out] == ["a/0", "b/0", "c/0"]
    assert len(inner.requests) == 3 and [r.messages[0].content for r in inner.requests[1:]] == ["a", "c"]


ADD = Problem(
    id="add", title="Add", statement="Read two integers and print their sum.",
    public_tests=[TestCase("1", "1 2\n", "3\n")],
)  # fmt: skip


def _script(messages, index, params):  # a model that gets it right only on the second try
    if messages[-1].content.startswith("Your code passed"):
        return "```python\nimport sys\nprint(sum(map(int, sys.stdin.read().split())))\n```"
    return f"```python\nprint({index})\n```"


def test_baselines_reuse_the_sstar_runs_requests(tmp_path: Path, process_sandbox) -> None:
    """zero-shot, self-debug and majority ask nothing S* did not already ask (same seed)."""
    engine = CachingEngine(ScriptedEngine(_script), tmp_path)
    solve(ADD, engine, process_sandbox, SolveConfig(strategy=Strategy.SSTAR, n=3, rounds=1))
    misses = engine.cache_stats.misses
    for strategy in (Strategy.ZERO_SHOT, Strategy.SELF_DEBUG):
        result = solve(ADD, engine, process_sandbox, SolveConfig(strategy=strategy, n=3, rounds=1))
        assert result.tokens > 0
    assert engine.cache_stats.misses == misses  # every request was a hit
    generated = len(engine.inner.requests)
    solve(ADD, engine, process_sandbox, SolveConfig(strategy=Strategy.MAJORITY, n=3, rounds=1))
    # Majority's samples are S*'s; only its input-synthesis prompt can be new (S* did not
    # need one here: every repaired candidate was the same program).
    new = [r for r in engine.inner.requests[generated:]]
    assert all("test inputs" in r.messages[-1].content or "new test" in r.messages[-1].content for r in new)
