"""The run record: one problem's outcome in a batch run file, typed and versioned.

``sstar batch`` writes one per line (``to_json``), ``sstar report`` and ``--resume`` read
them back (``from_json``). Every run file sstar has written loads: version 1 is the only
format so far, and keys a record lacks take the defaults below. Keys this version does not
know (a newer sstar, a hand-added note) are kept in ``extra`` and written back unchanged.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from sstar.pipeline.types import SolveConfig

RECORD_VERSION = 1

# Settings that must match between a run file's records and a resumed batch: every field of
# SolveConfig, plus the model (not a SolveConfig field: the engine is chosen apart from it),
# less those that only mark a result without changing how it is found.
NOT_RESUME_KEYS = frozenset({"min_confidence"})
RESUME_KEYS: tuple[str, ...] = tuple(
    k for k in dict.fromkeys(["strategy", "model", *(f.name for f in dataclasses.fields(SolveConfig))]) if k not in NOT_RESUME_KEYS
)


def config_settings(config: SolveConfig, model_name: str) -> dict[str, Any]:
    """The ``config`` of a record: the SolveConfig's fields as JSON values, and the model."""
    settings = dataclasses.asdict(config)
    settings["strategy"] = config.strategy_name
    settings["model"] = model_name
    # As a run file gives them back: a tuple (a temperature schedule) is a JSON list there,
    # and resume must not see the same schedule as a change.
    return {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}


@dataclass
class RunRecord:
    path: str  # the problem as the batch was given it
    abs_path: str | None = None  # its resolved path (how resume matches problems)
    id: str | None = None
    title: str | None = None
    strategy: str | None = None
    model: str | None = None
    config: dict[str, Any] | None = None  # config_settings(): what --resume compares
    settings: dict[str, Any] = field(default_factory=dict)  # SolveResult.settings (engine, sandbox...)
    sandbox: str | None = None
    program: str = ""
    public_verdict: str | None = None
    public_passed: int = 0
    public_total: int = 0
    hidden_verdict: str | None = None
    hidden_passed: int | None = None
    hidden_total: int | None = None
    solved: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens: int = 0
    judge_calls: int = 0
    clusters: int = 0
    candidates: int = 0
    candidates_passing_public: int = 0
    wall_s: float = 0.0
    error: str | None = None
    error_stage: str | None = None  # load | solve | score
    # Written only when they apply (None: the key is left out of the line).
    traceback: str | None = None  # a crash's traceback tail
    completion_cache_hits: int | None = None  # with --completion-cache: requests answered from it
    sandbox_errors: int | None = None  # SE outcomes met while solving
    sandbox_error: str | None = None  # the first one's reason
    finished_at: str | None = None
    confidence: float | None = None  # SolveResult.confidence (records before it lack the key)
    unsure: bool | None = None  # with --min-confidence: below it
    judge_no_verdict: int | None = None  # judge calls on pairs left without a winner (when judged)
    budget: dict[str, Any] | None = None  # the budgeted strategy's account (SolveResult.budget); "pass" with --set-budget
    v: int = RECORD_VERSION
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know

    _OPTIONAL = ("traceback", "completion_cache_hits", "sandbox_errors", "sandbox_error", "finished_at", "confidence", "unsure", "judge_no_verdict", "budget")

    def to_json(self) -> dict[str, Any]:
        """The record as written on its line (key order as sstar has always written it)."""
        doc: dict[str, Any] = {"v": self.v}
        for f in dataclasses.fields(self):
            if f.name in ("v", "extra") or f.name in self._OPTIONAL:
                continue
            doc[f.name] = getattr(self, f.name)
        for name in self._OPTIONAL:
            value = getattr(self, name)
            if value is not None:
                doc[name] = value
        for key, value in self.extra.items():
            doc.setdefault(key, value)
        return doc

    @classmethod
    def from_json(cls, doc: Any) -> "RunRecord":
        """A record from one decoded line; ValueError when it is not one."""
        if not isinstance(doc, dict) or not isinstance(doc.get("path"), str):
            raise ValueError("a JSON object with a 'path' field was expected")
        known = {f.name: f for f in dataclasses.fields(cls) if f.name != "extra"}
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in doc.items():
            if key in known:
                values[key] = value
            else:
                extra[key] = value
        if not isinstance(values.get("v", RECORD_VERSION), int):
            raise ValueError(f"bad record version {values.get('v')!r}")
        for name in ("config", "settings"):
            if name in values and values[name] is not None and not isinstance(values[name], dict):
                raise ValueError(f"'{name}' is not an object")
        if values.get("settings") is None:
            values.pop("settings", None)
        return cls(**values, extra=extra)

    @property
    def key_path(self) -> str:
        """The path that identifies the problem across runs (resolved when recorded)."""
        return self.abs_path or self.path
