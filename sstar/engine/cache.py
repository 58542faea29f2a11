"""A completion cache: an Engine that remembers what the model answered to a request.

``CachingEngine(inner, cache_dir)`` wraps any engine, as ``CachingSandbox`` wraps a
sandbox. A request is identified by the inner engine's ``identity`` (backend, model
file), the messages, every sampling parameter and ``n``; a hit is an answer the model
gave to exactly this request (the batch it ran in is not part of the key: see the
batch-invariance note in ``sstar.engine.llama``).

What it is for: comparing strategies on the same samples. The baselines reuse S*'s
requests exactly (the greedy candidate is zero-shot's program; candidate 0's repairs
are self-debug's; the N samples and the synthesized-input prompt are majority's), so a
batch of every strategy with one ``--completion-cache`` pays for the model once and
compares the strategies on identical samples. Token counts of a hit are those of the
original generation (they are the strategy's cost); wall time is not: a hit takes no
model time, which each call's ``usage.cache_hits`` and the run record's ``completion_cache_hits`` say.

Requests without a seed at temperature > 0 are never cached (they are meant to differ).
Entries are written atomically (``sstar.cache.write_atomic``); an unreadable entry is a miss.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from sstar.cache import write_atomic
from sstar.engine.base import NEW_PARAM_DEFAULTS, Completion, Engine, Generation, Request, Usage, usage_of

FORMAT_VERSION = 1


@dataclass
class CompletionCacheStats:
    hits: int = 0  # requests answered from disk
    misses: int = 0
    uncacheable: int = 0  # unseeded sampling: always generated
    cached_completion_tokens: int = 0  # tokens the hits would have cost

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def request_key(identity: str, request: Request) -> str:
    doc = {
        "v": FORMAT_VERSION,
        "engine": identity,
        "messages": [[m.role, m.content] for m in request.messages],
        "n": request.n,
        "params": _params_doc(request),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _params_doc(request: Request) -> dict[str, Any]:
    # Fields added later count only when set: an earlier cache keeps every entry.
    doc = asdict(request.params)
    for name, default in NEW_PARAM_DEFAULTS.items():
        if doc.get(name) == default or (isinstance(default, tuple) and doc.get(name) == list(default)):
            doc.pop(name, None)
    return doc


def cacheable(request: Request) -> bool:
    return request.params.seed is not None or request.params.temperature <= 0


class CachingEngine(Engine):
    """Answers seeded requests from ``cache_dir`` and passes the rest to ``inner`` as one batch."""

    def __init__(self, inner: Engine, cache_dir: Path | str) -> None:
        super().__init__()
        self.inner = inner
        self.cache_dir = Path(cache_dir).expanduser()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.cache_stats = CompletionCacheStats()
        self.name = inner.name
        self._lock = threading.Lock()

    @property
    def thread_safe(self) -> bool:  # type: ignore[override]
        # Its own counters are locked and each call's usage comes back with it: as safe as the inner engine.
        return bool(getattr(self.inner, "thread_safe", False))

    @property
    def identity(self) -> str:
        return self.inner.identity

    @property
    def batch_size(self) -> int:
        return self.inner.batch_size

    def path_for(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key[2:]}.json"

    def generate(self, requests: Sequence[Request]) -> Generation:
        identity = self.inner.identity
        keys = [request_key(identity, r) if cacheable(r) else None for r in requests]
        results: list[list[Completion] | None] = [self._load(k, r.n) if k else None for k, r in zip(keys, requests)]
        todo = [i for i, got in enumerate(results) if got is None]
        hit_prompt = hit_completion = 0
        for got in results:
            if got is not None:
                # A request's N samples share one prompt: count it once, as the engines do.
                hit_prompt += got[0].prompt_tokens if got else 0
                hit_completion += sum(c.completion_tokens for c in got)
        fresh_usage = Usage()
        if todo:
            fresh = self.inner.generate([requests[i] for i in todo])  # the misses stay one batch
            fresh_usage = usage_of(fresh)
            for i, comps in zip(todo, fresh):
                results[i] = comps
                if keys[i] is not None:
                    write_atomic(self.path_for(keys[i]), self._encode(keys[i], comps))
        hits = len(requests) - len(todo)
        # Token counts of a hit are those of the original generation (the strategy's cost); its time is not.
        usage = fresh_usage + Usage(hit_prompt, hit_completion, cache_hits=hits)
        with self._lock:
            self.cache_stats.hits += hits
            self.cache_stats.misses += sum(1 for i in todo if keys[i] is not None)
            self.cache_stats.uncacheable += sum(1 for k in keys if k is None)
            self.cache_stats.cached_completion_tokens += hit_completion
            self.stats.add(usage)
        return Generation([r for r in results if r is not None], usage)

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, attr: str) -> Any:  # tokenizer helpers and such of the inner engine
        if attr == "inner":  # not set yet (during __init__): no recursion
            raise AttributeError(attr)
        return getattr(self.inner, attr)

    # -- the store --------------------------------------------------------------------

    @staticmethod
    def _encode(key: str, completions: list[Completion]) -> bytes:
        return json.dumps({"v": FORMAT_VERSION, "key": key, "completions": [asdict(c) for c in completions]}).encode()

    def _load(self, key: str, n: int) -> list[Completion] | None:
        try:
            doc = json.loads(self.path_for(key).read_bytes())
            if doc.get("v") != FORMAT_VERSION or doc.get("key") != key:
                return None
            comps = [Completion(**c) for c in doc["completions"]]
        except (OSError, ValueError, TypeError, KeyError):
            return None
        return comps if len(comps) == n else None
