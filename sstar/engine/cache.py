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

A seeded sampling request of N > 1 is stored sample by sample: sample j of a request with
seed s is the one-sample request with seed s + j (every engine seeds sample j with s + j), so
a request that asks again for some of those samples in other groupings (the budgeted
strategy's waves of 8 over S*'s 16, a larger N over a smaller one) is answered from disk for
those and generates only the rest. An entry written whole for such a request by an earlier
version is still read, and split into samples on the way.

Requests without a seed at temperature > 0 are never cached (they are meant to differ).
Entries are written atomically (``sstar.cache.write_atomic``); an unreadable entry is a miss.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import asdict, dataclass, replace
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


def sample_requests(request: Request) -> list[Request] | None:
    """A seeded sampling request of N > 1 as its N one-sample requests (sample j: seed + j);
    None for any other request (greedy samples are all alike: kept whole)."""
    p = request.params
    if request.n <= 1 or p.seed is None or p.temperature <= 0:
        return None
    return [Request(request.messages, 1, replace(p, seed=p.seed + j)) for j in range(request.n)]


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
        rows: list[list[Completion | None]] = []
        # What the model must still write: (request, row, first sample, a key per sample or one for the whole).
        todo: list[tuple[Request, int, int, list[str | None]]] = []
        for i, request in enumerate(requests):
            rows.append(self._lookup(identity, request, i, todo))
        fresh_usage = Usage()
        if todo:
            fresh = self.inner.generate([t[0] for t in todo])  # the misses stay one batch
            fresh_usage = usage_of(fresh)
            for (request, i, first, keys), comps in zip(todo, fresh):
                rows[i][first : first + request.n] = comps
                if len(keys) == 1 and keys[0] is not None and request.n > 1:  # greedy: one entry for the whole
                    write_atomic(self.path_for(keys[0]), self._encode(keys[0], comps))
                else:
                    for key, comp in zip(keys, comps):
                        if key is not None:
                            write_atomic(self.path_for(key), self._encode(key, [comp]))
        pending = {t[1] for t in todo}
        fresh_slots = {(i, j) for request, i, first, _ in todo for j in range(first, first + request.n)}
        hits = sum(1 for i in range(len(requests)) if i not in pending)
        hit_prompt = hit_completion = 0
        for i, row in enumerate(rows):
            cached = [c for j, c in enumerate(row) if c is not None and (i, j) not in fresh_slots]
            hit_completion += sum(c.completion_tokens for c in cached)
            if cached and i not in pending:
                # A request's N samples share one prompt: count it once, as the engines do.
                hit_prompt += cached[0].prompt_tokens
        # Token counts of a hit are those of the original generation (the strategy's cost); its time is not.
        usage = fresh_usage + Usage(hit_prompt, hit_completion, cache_hits=hits)
        with self._lock:
            self.cache_stats.hits += hits
            self.cache_stats.misses += sum(1 for i in pending if cacheable(requests[i]))
            self.cache_stats.uncacheable += sum(1 for r in requests if not cacheable(r))
            self.cache_stats.cached_completion_tokens += hit_completion
            self.stats.add(usage)
        return Generation([[c for c in row if c is not None] for row in rows], usage)

    def _lookup(self, identity: str, request: Request, i: int, todo: list[tuple[Request, int, int, list[str | None]]]) -> list[Completion | None]:
        """The request's completions found on disk (None where missing); adds the misses to ``todo``."""
        if not cacheable(request):
            todo.append((request, i, 0, [None] * request.n))
            return [None] * request.n
        whole_key = request_key(identity, request)
        samples = sample_requests(request)
        whole = self._load(whole_key, request.n)
        if samples is None:
            if whole is None:
                todo.append((request, i, 0, [whole_key]))
            return list(whole) if whole is not None else [None] * request.n
        keys = [request_key(identity, s) for s in samples]
        if whole is not None:  # an earlier version's entry: split it, so other groupings find its samples
            for key, comp in zip(keys, whole):
                if not self.path_for(key).is_file():
                    write_atomic(self.path_for(key), self._encode(key, [comp]))
            return list(whole)
        row: list[Completion | None] = [got[0] if (got := self._load(key, 1)) else None for key in keys]
        j = 0
        while j < len(row):  # each run of missing samples is one request: seed s + j, consecutive
            if row[j] is not None:
                j += 1
                continue
            k = j
            while k < len(row) and row[k] is None:
                k += 1
            seed = request.params.seed + j  # type: ignore[operator]  # sample_requests: seeded
            todo.append((Request(request.messages, k - j, replace(request.params, seed=seed)), i, j, keys[j:k]))
            j = k
        return row

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
