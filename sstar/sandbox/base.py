"""The Sandbox interface: every backend (Docker, process, caching wrapper) implements it.

Like an httpx transport, a backend only knows how to execute a program on a batch of
inputs under limits; checking outputs is the judge's business.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Callable, Mapping, Sequence


class RunStatus(str, enum.Enum):
    OK = "ok"  # exited 0 within every limit
    RE = "re"  # non-zero exit or killed by a signal (not one of ours)
    TLE = "tle"  # wall or CPU time limit
    MLE = "mle"  # memory limit
    OLE = "ole"  # stdout larger than the output limit
    SE = "se"  # the sandbox failed, not the program: no verdict on the program (never cached)
    CE = "ce"  # the program did not compile (C++): the compiler's message is in stderr_tail


@dataclass(frozen=True)
class Limits:
    time_s: float = 2.0  # wall clock per run; CPU time is capped at the same figure
    memory_mb: int = 512  # address-space style cap for the program
    output_bytes: int = 16 * 1024 * 1024  # stdout beyond this is OLE
    processes: int = 32  # processes/threads a run may hold at once
    tmp_mb: int = 64  # writable scratch space per run


LANGUAGES = ("python", "cpp")
# File extensions of each language's source files (the first is what sstar writes).
EXTENSIONS = {"python": (".py",), "cpp": (".cpp", ".cc", ".cxx")}
LANGUAGE_ALIASES = {"py": "python", "python3": "python", "c++": "cpp", "cxx": "cpp", "cc": "cpp", "c++17": "cpp"}
COMPILE_TIME_S = 30.0  # a C++ compile, once per run request, inside the sandbox
COMPILE_MEMORY_MB = 1024


@dataclass(frozen=True)
class Program:
    source: str
    language: str = "python"  # one of LANGUAGES


def normalize_language(name: str) -> str:
    """``python`` or ``cpp`` from a name a user may type (py, c++, cxx...); ValueError otherwise."""
    key = name.strip().lower()
    key = LANGUAGE_ALIASES.get(key, key)
    if key not in LANGUAGES:
        raise ValueError(f"unknown language {name!r}; expected one of {', '.join(LANGUAGES)}")
    return key


def language_of(path: str | PurePath) -> str | None:
    """The language of a source file from its extension (None when it is not a known one)."""
    suffix = PurePath(path).suffix.lower()
    for language, suffixes in EXTENSIONS.items():
        if suffix in suffixes:
            return language
    return None


@dataclass(frozen=True)
class RunSpec:
    """One execution: stdin, optional argv and files placed in the working directory."""

    name: str
    stdin: bytes
    args: tuple[str, ...] = ()
    files: Mapping[str, bytes] = field(default_factory=dict)
    # Its stdin or files must never reach a later program (a hidden test's input, a
    # checker's answer): the runner that held them is replaced after the run. Tests fork
    # from the runner, so whatever its memory held is readable by them.
    secret: bool = False


@dataclass
class RunOutcome:
    name: str
    status: RunStatus
    stdout: bytes
    stderr_tail: str = ""
    exit_code: int | None = None
    signal: int | None = None
    time_s: float = 0.0
    cpu_s: float = 0.0
    memory_mb: float = 0.0  # resident peak of what the program added to a fresh interpreter
    reason: str = ""  # why this status, in words (which limit, which signal, what failed)


OnResult = Callable[[RunOutcome], None]


class Sandbox(abc.ABC):
    """Runs untrusted programs. Use as a context manager; ``close`` leaves nothing behind."""

    name: str = "sandbox"

    @abc.abstractmethod
    def run(
        self,
        program: Program,
        specs: Sequence[RunSpec],
        limits: Limits,
        on_result: OnResult | None = None,
    ) -> list[RunOutcome]:
        """Run ``program`` once per spec (in parallel up to the cores); results in spec order."""

    def close(self) -> None:  # pragma: no cover - trivial default
        pass

    @property
    def identity(self) -> str:
        """What makes results reproducible (backend + image digest); used as a cache key part."""
        return self.name

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
