"""An on-disk execution cache: a Sandbox that remembers what programs did.

``CachingSandbox(inner, cache_dir)`` wraps any backend the way an httpx transport
wraps another. A run is identified by everything that can change its outcome: the
program (source + language), the spec's stdin / argv / files, the limits and the inner
sandbox's ``identity`` (backend + image digest). That identity is hashed (sha256) into
a content-addressed store, one JSON file per entry::

    cache_dir/ab/cdef0123...json      # the key's hex digest, split after 2 characters

Hits are answered from disk; the misses of one ``run`` call go to the inner sandbox as
ONE batch (so its parallelism is kept) and are stored afterwards.

Crash safety: an entry is written to a temporary file in the same directory, fsynced,
then ``os.replace``-d into place, so a reader sees either no entry or a complete one,
even after SIGKILL or several processes writing the same key at once. An entry that is
unreadable anyway (disk trouble, a hand edit, a different format version) is treated
as a miss and rewritten.

What is not cached:

* TLE outcomes, by default. Whether a program times out depends on how loaded the
  machine is (a batch with several workers, a busy CI runner); remembering one noisy
  TLE would fail that program forever. Pass ``cache_tle=True`` to cache them anyway
  (e.g. when re-scoring a finished run on a quiet machine).
* SE outcomes, ever, and no outcome of a call in which the sandbox failed: a sandbox
  that broke down may have broken the other tests of that call too.
* Nothing else is special-cased: the cache assumes programs are deterministic given
  their input, which is what judging assumes too. Timing figures in a hit are those of
  the original run.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from sstar.errors import SstarError
from sstar.fsutil import atomic_write
from sstar.sandbox.base import Limits, OnResult, Program, RunOutcome, RunSpec, RunStatus, Sandbox

# Bump when the key or the entry layout changes: old entries become misses. 2: entries
# made before sandboxes stopped leaking IPC between programs may hold wrong verdicts.
FORMAT_VERSION = 2


class CacheDirError(SstarError):
    """The cache directory cannot be created or written."""


def default_cache_dir() -> Path:
    """$SSTAR_CACHE_DIR, else $XDG_CACHE_HOME/sstar/exec, else ~/.cache/sstar/exec."""
    env = os.environ.get("SSTAR_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "sstar" / "exec"


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    stored: int = 0
    corrupt: int = 0  # unreadable entries met (counted as misses too, then rewritten)
    uncached: int = 0  # outcomes deliberately not stored (TLE unless cache_tle)

    @property
    def lookups(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float:
        return self.hits / self.lookups if self.lookups else 0.0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "hit_rate": round(self.hit_rate, 4)}


def write_atomic(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` through a fsynced temporary file and ``os.replace``.

    Readers see the old file or the new one, never a part; returns False (and leaves no
    temporary file) when the disk refuses, so a cache failure never fails the caller.
    """
    try:
        atomic_write(path, data, prefix=".tmp-", suffix=".json")
        return True
    except OSError:
        return False


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run_key(identity: str, program: Program, spec: RunSpec, limits: Limits) -> str:
    """The sha256 hex key of one execution. The spec's ``name`` is not part of it:
    the same input under another test name is the same run."""
    material = {
        "v": FORMAT_VERSION,
        "identity": identity,
        "language": program.language,
        "source": _sha(program.source.encode("utf-8")),
        "stdin": _sha(spec.stdin),
        "args": list(spec.args),
        "files": {name: _sha(bytes(data)) for name, data in sorted(spec.files.items())},
        "limits": asdict(limits),
    }
    return _sha(json.dumps(material, sort_keys=True, separators=(",", ":")).encode("utf-8"))


def _encode(key: str, outcome: RunOutcome) -> bytes:
    entry = {
        "v": FORMAT_VERSION,
        "key": key,  # checked on read: a file renamed or copied to the wrong place is a miss
        "status": outcome.status.value,
        "stdout_b64": base64.b64encode(outcome.stdout).decode("ascii"),
        "stderr_tail": outcome.stderr_tail,
        "exit_code": outcome.exit_code,
        "signal": outcome.signal,
        "time_s": outcome.time_s,
        "cpu_s": outcome.cpu_s,
        "memory_mb": outcome.memory_mb,
        "reason": outcome.reason,
    }
    return json.dumps(entry, separators=(",", ":")).encode("utf-8")


def _decode(key: str, name: str, raw: bytes) -> RunOutcome:
    """Raises ValueError / KeyError / TypeError on anything but a well-formed entry."""
    entry = json.loads(raw.decode("utf-8"))
    if not isinstance(entry, dict) or entry.get("v") != FORMAT_VERSION or entry.get("key") != key:
        raise ValueError("not an entry of this key and format")
    return RunOutcome(
        name=name,
        status=RunStatus(entry["status"]),
        stdout=base64.b64decode(entry["stdout_b64"], validate=True),
        stderr_tail=str(entry["stderr_tail"]),
        exit_code=None if entry["exit_code"] is None else int(entry["exit_code"]),
        signal=None if entry["signal"] is None else int(entry["signal"]),
        time_s=float(entry["time_s"]),
        cpu_s=float(entry["cpu_s"]),
        memory_mb=float(entry["memory_mb"]),
        reason=str(entry.get("reason", "")),
    )


def _renamed(outcome: RunOutcome, name: str) -> RunOutcome:
    return RunOutcome(
        name=name,
        status=outcome.status,
        stdout=outcome.stdout,
        stderr_tail=outcome.stderr_tail,
        exit_code=outcome.exit_code,
        signal=outcome.signal,
        time_s=outcome.time_s,
        cpu_s=outcome.cpu_s,
        memory_mb=outcome.memory_mb,
        reason=outcome.reason,
    )


class CachingSandbox(Sandbox):
    """A Sandbox that answers repeated runs from an on-disk store (see the module doc).

    Safe to share between threads and between processes using the same directory.
    ``close`` closes the inner sandbox too (it owns it, like an httpx client its transport).
    """

    name = "cache"

    def __init__(self, inner: Sandbox, cache_dir: Path | str | None = None, *, cache_tle: bool = False) -> None:
        self.inner = inner
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.cache_tle = cache_tle
        self.stats = CacheStats()
        self._lock = threading.Lock()  # guards stats only; the store itself needs no lock
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise CacheDirError(
                f"cannot create the execution cache directory {self.cache_dir} ({err.strerror}); "
                "set SSTAR_CACHE_DIR to a writable directory or pass --no-cache"
            ) from None

    # -- the Sandbox interface -------------------------------------------------------

    @property
    def identity(self) -> str:
        return self.inner.identity  # caching changes nothing about results

    @property
    def thread_safe(self) -> bool:
        return bool(getattr(self.inner, "thread_safe", False))

    def close(self) -> None:
        self.inner.close()

    def run(
        self,
        program: Program,
        specs: Sequence[RunSpec],
        limits: Limits,
        on_result: OnResult | None = None,
    ) -> list[RunOutcome]:
        identity = self.inner.identity
        keys = [run_key(identity, program, spec, limits) for spec in specs]
        results: list[RunOutcome | None] = [None] * len(specs)
        # Misses grouped by key: identical inputs inside one call run once.
        pending: dict[str, list[int]] = {}
        hits = corrupt = 0
        for i, (spec, key) in enumerate(zip(specs, keys)):
            if key in pending:
                pending[key].append(i)
                continue
            found, was_corrupt = self._load(key, spec.name)
            corrupt += was_corrupt
            if found is None:
                pending[key] = [i]
                continue
            hits += 1
            results[i] = found
            if on_result is not None:
                on_result(found)
        with self._lock:
            self.stats.hits += hits
            self.stats.misses += len(specs) - hits
            self.stats.corrupt += corrupt

        if pending:
            first = {indexes[0]: key for key, indexes in pending.items()}
            order = sorted(first)
            miss_specs = [specs[i] for i in order]
            outcomes = self.inner.run(program, miss_specs, limits, on_result)
            if len(outcomes) != len(miss_specs):
                raise RuntimeError(f"{self.inner.name} returned {len(outcomes)} outcomes for {len(miss_specs)} runs")
            stored = uncached = 0
            healthy = all(o.status is not RunStatus.SE for o in outcomes)
            for i, outcome in zip(order, outcomes):
                key = first[i]
                if healthy and self._cacheable(outcome):
                    stored += self._store(key, outcome)
                else:
                    uncached += 1
                for j in pending[key]:
                    results[j] = outcome if j == i else _renamed(outcome, specs[j].name)
                    if j != i and on_result is not None:
                        on_result(results[j])  # type: ignore[arg-type]
            with self._lock:
                self.stats.stored += stored
                self.stats.uncached += uncached
        return [r for r in results if r is not None]

    # -- the store --------------------------------------------------------------------

    def path_for(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key[2:]}.json"

    def _cacheable(self, outcome: RunOutcome) -> bool:
        if outcome.status is RunStatus.SE:
            return False
        if outcome.status is RunStatus.CE and "time limit" in outcome.reason:
            return self.cache_tle  # a compile that ran out of time is load as much as code, like TLE
        return outcome.status is not RunStatus.TLE or self.cache_tle

    def _load(self, key: str, name: str) -> tuple[RunOutcome | None, bool]:
        """(outcome, False) on a hit, (None, False) when absent, (None, True) when corrupt."""
        path = self.path_for(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None, False
        except OSError:
            return None, True
        try:
            outcome = _decode(key, name, raw)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return None, True  # rewritten after the inner run
        if not self._cacheable(outcome):
            return None, False  # stored under cache_tle=True; this instance does not trust it
        return outcome, False

    def _store(self, key: str, outcome: RunOutcome) -> bool:
        """Write one entry atomically; a failure to write only costs the cache, never the run."""
        return write_atomic(self.path_for(key), _encode(key, outcome))

    def clear(self) -> int:
        """Delete every entry (and stray temporary files); returns how many files went."""
        removed = 0
        for path in self.cache_dir.glob("*/*.json"):
            try:
                path.unlink()
                removed += 1
            except OSError:
                pass
        return removed
