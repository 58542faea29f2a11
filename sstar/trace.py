"""A JSON record of a whole solve run: prompts, replies, programs, runs, inputs, clusters, decisions."""

from __future__ import annotations

import dataclasses
import enum
import json
import threading
import time
from pathlib import Path
from typing import Any

from sstar.fsutil import atomic_write


def _plain(value: Any) -> Any:
    """Dataclasses, enums, bytes and paths as JSON-friendly values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class Trace:
    """Collects events in order; ``save`` writes them atomically as one JSON document."""

    def __init__(self, **header: Any) -> None:
        self._start = time.monotonic()
        self._lock = threading.Lock()
        self.header: dict[str, Any] = _plain(header)
        self.events: list[dict[str, Any]] = []

    def event(self, kind: str, **data: Any) -> None:
        record = {"t": round(time.monotonic() - self._start, 3), "kind": kind, **_plain(data)}
        with self._lock:
            self.events.append(record)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["kind"] == kind]

    def to_json(self) -> dict[str, Any]:
        return {"header": self.header, "events": self.events}

    def save(self, path: str | Path) -> None:
        atomic_write(path, json.dumps(self.to_json(), indent=1, ensure_ascii=False), suffix="")
