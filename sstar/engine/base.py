"""The Engine interface: the pipeline only ever talks to this.

An engine turns chat messages into N completions. Implementations: llama.cpp through
llama-cpp-python (batched), an OpenAI-compatible HTTP endpoint, and a scripted engine
for tests of pipeline logic.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Sequence, TypeVar


@dataclass(frozen=True)
class Message:
    role: str  # system | user | assistant
    content: str


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 1024
    seed: int | None = None  # sequence i of a request uses seed + i; None: a fresh random seed
    stop: tuple[str, ...] = ()
    top_k: int = 40  # 0 disables; llama.cpp's default (also keeps top-p cheap over a 150k vocabulary)


@dataclass(frozen=True)
class Request:
    """N completions of one conversation."""

    messages: tuple[Message, ...]
    n: int = 1
    params: SamplingParams = field(default_factory=SamplingParams)


@dataclass
class Completion:
    text: str
    prompt_tokens: int = 0  # length of the prompt this completion continued
    completion_tokens: int = 0
    finish_reason: str = "stop"  # stop | length
    seconds: float = 0.0  # from the start of the call until this sequence finished


@dataclass
class EngineStats:
    """Running totals, for progress lines and reports."""

    prompt_tokens: int = 0  # prompt tokens actually evaluated (shared prompts count once)
    completion_tokens: int = 0
    seconds: float = 0.0
    calls: int = 0
    prompt_seconds: float = 0.0  # part of ``seconds`` spent evaluating prompts (0 when unknown)

    def record(self, prompt_tokens: int, completion_tokens: int, seconds: float, prompt_seconds: float = 0.0) -> None:
        """Add one generate() call to the totals."""
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        self.seconds += seconds
        self.prompt_seconds += prompt_seconds
        self.calls += 1

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds > 0 else 0.0


E = TypeVar("E", bound="Engine")


class Engine(abc.ABC):
    name: str = "engine"

    def __init__(self) -> None:
        self.stats = EngineStats()

    @abc.abstractmethod
    def generate(self, requests: Sequence[Request]) -> list[list[Completion]]:
        """Complete every request (each ``n`` times), as one batch where the backend allows.

        Returns one list of ``request.n`` completions per request, in order.
        """

    def complete(
        self, messages: Sequence[Message], n: int = 1, params: SamplingParams | None = None
    ) -> list[Completion]:
        return self.generate([Request(tuple(messages), n, params or SamplingParams())])[0]

    def close(self) -> None:
        pass

    def __enter__(self: E) -> E:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
