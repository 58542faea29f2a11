"""The Engine interface: the pipeline only ever talks to this.

An engine turns chat messages into N completions. Implementations: llama.cpp through
llama-cpp-python (batched), an OpenAI-compatible HTTP endpoint, and a scripted engine
for tests of pipeline logic.
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence, TypeVar

from sstar.extract import closed_block_end


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
    # End a sequence that has fallen into a loop (see `is_degenerate`) instead of letting it
    # run to max_tokens: small models do this often and the tokens are pure waste.
    stop_on_repetition: bool = False
    # A language tag ("python"): end the sequence just after the first closed fenced block
    # with that tag. Unlike a stop string it ignores fences around quoted samples, and the
    # reply keeps its closing fence.
    stop_after_block: str = ""
    # min-p sampling: keep tokens whose probability is at least min_p times the top one's
    # (scales with the model's confidence, unlike top-p); 0 disables it.
    min_p: float = 0.0
    # A constrained answer: the reply is exactly one of these strings, the one the model
    # finds most likely, and ``Completion.choice_probs`` holds the probability of each
    # (renormalised over the choices). One token of decoding, never "no answer".
    choices: tuple[str, ...] = ()
    # The last message is the assistant's unfinished reply: continue it, in the same turn,
    # instead of starting a new assistant message (e.g. a reasoning that ends in "Answer:").
    continue_reply: bool = False


# Fields added after completion caches were filled: a cache keys on them only when they are
# set, so the entries of every earlier request stay valid.
NEW_PARAM_DEFAULTS: dict[str, object] = {"choices": (), "continue_reply": False, "min_p": 0.0}


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
    finish_reason: str = "stop"  # stop | length | repetition
    seconds: float = 0.0  # from the start of the call until this sequence finished
    # With ``SamplingParams.choices``: each choice's probability (they sum to 1); None when
    # the engine could not read them (the text is then the model's own answer, if any).
    choice_probs: dict[str, float] | None = None


@dataclass
class Usage:
    """What one ``generate`` call cost, returned with its completions.

    Callers add these up (``RunContext`` does, per problem) instead of diffing the
    engine's running totals, which other threads sharing the engine also move.
    """

    prompt_tokens: int = 0  # prompt tokens actually evaluated (shared prompts count once)
    completion_tokens: int = 0
    seconds: float = 0.0
    prompt_seconds: float = 0.0
    cache_hits: int = 0  # requests answered by a completion cache (no model time spent)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.seconds + other.seconds,
            self.prompt_seconds + other.prompt_seconds,
            self.cache_hits + other.cache_hits,
        )


class Generation(list[list[Completion]]):
    """The result of ``Engine.generate``: one list of completions per request, plus ``usage``.

    A list, so callers that only want the completions index and unpack it as before.
    """

    def __init__(self, completions: Iterable[list[Completion]] = (), usage: Usage | None = None) -> None:
        super().__init__(completions)
        self.usage = usage if usage is not None else Usage()


def usage_of(results: Sequence[list[Completion]]) -> Usage:
    """The usage an engine returned; for an engine that returns plain lists, what its
    completions say (each request's prompt counted once: its samples share it)."""
    usage = getattr(results, "usage", None)
    if isinstance(usage, Usage):
        return usage
    return Usage(
        prompt_tokens=sum(row[0].prompt_tokens for row in results if row),
        completion_tokens=sum(c.completion_tokens for row in results for c in row),
    )


@dataclass
class EngineStats:
    """Running totals over every call, for benchmarks and ``sstar doctor``. Shared by
    every caller of the engine: per-run figures come from each call's ``Usage``."""

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

    def add(self, usage: Usage) -> Usage:
        """Add one generate() call's usage to the totals; returns it."""
        self.record(usage.prompt_tokens, usage.completion_tokens, usage.seconds, usage.prompt_seconds)
        return usage

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds > 0 else 0.0


E = TypeVar("E", bound="Engine")


class Engine(abc.ABC):
    name: str = "engine"

    def __init__(self) -> None:
        self.stats = EngineStats()

    @abc.abstractmethod
    def generate(self, requests: Sequence[Request]) -> Generation:
        """Complete every request (each ``n`` times), as one batch where the backend allows.

        Returns one list of ``request.n`` completions per request, in order, with the
        call's ``usage`` (also added to ``self.stats``).
        """

    @property
    def identity(self) -> str:
        """What must match for two runs to give the same completions (model, backend)."""
        return self.name

    @property
    def batch_size(self) -> int:
        """Samples this engine decodes well together: the size of one wave of the budgeted strategy."""
        return 8

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


def cut_after_block(text: str, params: SamplingParams) -> str | None:
    """``text`` up to the end of its first closed ``params.stop_after_block`` block, or None.

    For engines that cannot stop there while decoding (an HTTP endpoint): the reply is
    trimmed afterwards, so every engine returns the same text for the same tokens.
    """
    if not params.stop_after_block:
        return None
    end = closed_block_end(text + "\n", params.stop_after_block)
    return None if end is None else text[:end]


_NUMBER = re.compile(r"\d+")


def is_degenerate(text: str, *, min_lines: int = 12, max_block: int = 4) -> bool:
    """True when ``text`` ends in a block of 1-``max_block`` lines repeated to ``min_lines`` lines.

    Lines are compared with numbers masked, so ``if n == 7: return 6`` followed by
    ``if n == 8: return 7`` counts as a repeat: that is how small models loop on code.
    Blank lines are ignored. Only the tail is inspected, so the cost does not grow with
    the text.
    """
    limit = min_lines * 3
    parts = text.rsplit("\n", limit)
    # Complete lines only: the last part is the line being written, and the first may be
    # cut by the split limit.
    complete = parts[1:-1] if len(parts) > limit else parts[:-1]
    lines = [_NUMBER.sub("0", line.strip()) for line in complete]
    lines = [line for line in lines if line]
    if len(lines) < min_lines:
        return False
    for block in range(1, max_block + 1):
        unit = lines[-block:]
        covered = block
        while covered + block <= len(lines) and lines[-covered - block : len(lines) - covered] == unit:
            covered += block
        if covered >= min_lines:
            return True
    return False


def split_unfinished(messages: Sequence[Message], params: SamplingParams) -> tuple[Sequence[Message], str]:
    """The conversation before an unfinished assistant reply, and that reply's text.

    With ``params.continue_reply`` and a last assistant message, a chat template renders
    the messages before it (with the prompt for a new assistant turn) and the engine appends
    the unfinished text itself: the model continues that reply instead of starting another.
    """
    if params.continue_reply and messages and messages[-1].role == "assistant":
        return messages[:-1], messages[-1].content
    return messages, ""


def normalise_choices(scores: dict[str, float]) -> dict[str, float] | None:
    """Probabilities over the choices from unnormalised non-negative weights; None if all zero."""
    total = sum(scores.values())
    if not total > 0:
        return None
    return {k: v / total for k, v in scores.items()}


def best_choice(probs: dict[str, float], choices: Sequence[str]) -> str:
    """The most likely choice; ties go to the first listed (deterministic)."""
    return max(choices, key=lambda c: (probs.get(c, 0.0), -choices.index(c)))
