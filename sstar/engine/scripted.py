"""A deterministic engine for tests of pipeline logic (no model involved).

Replies come from a function ``(messages, index_in_n, params) -> str`` or from canned
replies matched by substring of the last user message. Tokens are whitespace-separated
words, so ``max_tokens`` and token counts behave predictably. Every request is recorded,
so a test can assert what the pipeline sent.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from sstar.engine.base import (
    Completion, Engine, Generation, Message, Request, SamplingParams, Usage, best_choice, cut_after_block, normalise_choices,
)
from sstar.errors import EngineError

ScriptFn = Callable[[tuple[Message, ...], int, SamplingParams], str]
# Weights of each choice of a constrained answer, from the messages (normalised by the engine).
ChoiceFn = Callable[[tuple[Message, ...], tuple[str, ...]], Mapping[str, float]]
# A canned reply: one text for every sample, or one per index_in_n (cycled).
Reply = str | Sequence[str]
Canned = Mapping[str, Reply] | Iterable[tuple[str, Reply]]

_WORD = re.compile(r"\S+")

DEMO_PROGRAM = "```python\nimport sys\n\nsys.stdout.write(sys.stdin.read())\n```\n"


class ScriptedEngine(Engine):
    """Replies from a script; see the module docstring.

    ``ScriptedEngine(fn)`` calls ``fn(messages, index_in_n, params)`` for each sample.
    ``ScriptedEngine({"substring": reply, ...})`` (or a list of pairs) answers the first entry
    whose substring occurs in the last user message; ``default`` answers the rest (without
    one, an unmatched request raises EngineError so a test sees the gap).
    """

    name = "scripted"

    def __init__(self, script: ScriptFn | Canned | None = None, *, default: Reply | None = None, choice_fn: ChoiceFn | None = None) -> None:
        super().__init__()
        # Constrained answers (``SamplingParams.choices``): weights from ``choice_fn``, or,
        # without one, all the weight on the choice the scripted reply starts with.
        self._choice_fn = choice_fn
        self._fn: ScriptFn | None = script if callable(script) else None
        pairs = script.items() if isinstance(script, Mapping) else (script if not callable(script) else None)
        self._canned: list[tuple[str, Reply]] = list(pairs or [])
        self._default = default
        if self._fn is None and not self._canned and default is None:
            self._default = DEMO_PROGRAM
        self.requests: list[Request] = []  # every request seen, in order
        self.batches: list[list[Request]] = []  # the requests of each generate() call

    def generate(self, requests: Sequence[Request]) -> Generation:
        start = time.perf_counter()
        self.batches.append(list(requests))
        self.requests.extend(requests)
        results: list[list[Completion]] = []
        prompt_total = completion_total = 0
        for request in requests:
            prompt_tokens = sum(count_tokens(m.content) for m in request.messages)
            prompt_total += prompt_tokens
            outs: list[Completion] = []
            for i in range(request.n):
                if request.params.choices:
                    outs.append(self._choose(request, i, prompt_tokens, start))
                    completion_total += 1
                    continue
                text, finish = _apply_limits(self._reply(request, i), request.params)
                tokens = count_tokens(text)
                completion_total += tokens
                outs.append(Completion(text, prompt_tokens, tokens, finish, time.perf_counter() - start))
            results.append(outs)
        usage = self.stats.add(Usage(prompt_total, completion_total, time.perf_counter() - start))
        return Generation(results, usage)

    def _choose(self, request: Request, index: int, prompt_tokens: int, start: float) -> Completion:
        choices = request.params.choices
        if self._choice_fn is not None:
            weights = {c: float(self._choice_fn(request.messages, choices).get(c, 0.0)) for c in choices}
        else:
            said = self._reply(request, index).strip()
            weights = {c: float(said.startswith(c.strip())) for c in choices}
        probs = normalise_choices(weights)
        if probs is None:  # the script names no choice: the real engines always answer, so do we
            probs = {c: 1.0 / len(choices) for c in choices}
        return Completion(best_choice(probs, choices), prompt_tokens, 1, "stop", time.perf_counter() - start, probs)

    def _reply(self, request: Request, index: int) -> str:
        if self._fn is not None:
            return self._fn(request.messages, index, request.params)
        last_user = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
        for needle, reply in self._canned:
            if needle in last_user:
                return _pick(reply, index)
        if self._default is not None:
            return _pick(self._default, index)
        raise EngineError(
            f"ScriptedEngine has no reply for a request whose last user message starts with "
            f"{last_user[:80]!r}: add a canned reply for it or a default."
        )


def count_tokens(text: str) -> int:
    """The scripted engine's token count: whitespace-separated words."""
    return len(_WORD.findall(text))


def _pick(reply: Reply, index: int) -> str:
    if isinstance(reply, str):
        return reply
    if not reply:
        return ""
    return reply[index % len(reply)]


def _apply_limits(text: str, params: SamplingParams) -> tuple[str, str]:
    # Same contract as the real engines: text ends before the first stop string and after
    # the first closed ``stop_after_block`` block;
    # more than max_tokens words is cut after the max_tokens-th word (finish "length").
    cut = min((i for i in (text.find(s) for s in params.stop if s) if i >= 0), default=-1)
    if cut >= 0:
        text = text[:cut]
    text = cut_after_block(text, params) or text
    words = list(_WORD.finditer(text))
    if len(words) > params.max_tokens:
        end = words[params.max_tokens - 1].end() if params.max_tokens > 0 else 0
        return text[:end], "length"
    return text, "stop"
