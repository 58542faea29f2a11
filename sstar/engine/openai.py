"""An OpenAI-compatible chat-completions endpoint (vLLM, llama.cpp's server, OpenAI, ...).

N samples: the first request that asks for several sends ``n`` in one request (vLLM answers
it with N choices that share the prompt's prefill); a server that answers with fewer choices
(llama.cpp's server ignores ``n``) is remembered as one without ``n``, and its samples go as
one request each with its own seed (seed + i), which a server with parallel slots decodes
together. At most ``concurrency`` HTTP requests are in flight per engine; ``cache_prompt`` asks
llama.cpp's server to reuse the prompt's KV cache (other servers ignore the field).

Failures: 429, 5xx, timeouts, connection resets and refused connections are retried with
exponential backoff (``Retry-After`` honoured) up to ``retries`` times, so a server that
restarts mid-batch costs the requests in flight a retry, not the batch. A server that was
never reached is not waited for: the first refused connection is one clear error.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

import math

from sstar.engine.base import Completion, Engine, Generation, Request, SamplingParams, Usage, best_choice, cut_after_block, normalise_choices
from sstar.errors import EngineError

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class OpenAIEngine(Engine):
    """``base_url`` is the API root, e.g. ``http://127.0.0.1:8080/v1``; the API key, if any,
    is read from the environment variable named ``api_key_env``."""

    name = "openai"
    thread_safe = True  # httpx.Client is thread-safe; the slot semaphore bounds the requests

    @property
    def identity(self) -> str:
        return self._identity

    def __init__(
        self,
        model: str,
        base_url: str = "http://127.0.0.1:8080/v1",
        *,
        api_key_env: str = "OPENAI_API_KEY",
        concurrency: int = 8,
        timeout_s: float = 600.0,
        retries: int = 6,
        backoff_s: float = 0.5,
        max_backoff_s: float = 16.0,
        use_n: bool | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.base_url = base_url.rstrip("/")
        self._identity = f"openai:{model}@{self.base_url}"
        self.api_key_env = api_key_env
        self.concurrency = max(1, concurrency)
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        # None: try ``n`` once and learn from the answer; True/False: the caller knows.
        self.use_n = use_n
        self.retried = 0  # requests sent again after a failure (for tests and reports)
        self._reached = False  # a server that never answered is not waited for
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._state = threading.Lock()
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=10.0),
            limits=httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency),
        )

    def check(self) -> None:
        """Fail now, in one line, when the server cannot be reached (before a batch starts)."""
        try:
            response = self._client.get("/models", timeout=10.0)
        except httpx.TransportError as err:
            raise self._unreachable(err) from None
        if response.status_code in (401, 403):
            raise self._refused(response.status_code)
        self._reached = True

    def generate(self, requests: Sequence[Request]) -> Generation:
        start = time.perf_counter()
        results: list[list[Completion]] = [[] for _ in requests]
        if self.use_n is None:  # learn whether the server honours n from the first request that needs it
            first = next((ri for ri, r in enumerate(requests) if r.n > 1), None)
            if first is not None:
                got = self._sample(requests[first], 0, requests[first].n, start)
                with self._state:
                    self.use_n = len(got) == requests[first].n
                results[first] = got[: requests[first].n]
        # jobs: (request index, first sample index, samples in this HTTP request)
        jobs: list[tuple[int, int, int]] = []
        for ri, r in enumerate(requests):
            have = len(results[ri])
            if have >= r.n:
                continue
            if self.use_n:
                jobs.append((ri, have, r.n - have))
            else:
                jobs.extend((ri, i, 1) for i in range(have, r.n))
        if jobs:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(jobs))) as pool:
                futures = [(pool.submit(self._sample, requests[ri], i, k, start), ri) for ri, i, k in jobs]
                for future, ri in futures:
                    results[ri].extend(future.result())
        for ri, r in enumerate(requests):  # a server that capped n: the rest one request each
            for i in range(len(results[ri]), r.n):
                results[ri].extend(self._sample(r, i, 1, start))
        out = [row[: r.n] for row, r in zip(results, requests)]
        usage = Usage(
            sum(c.prompt_tokens for row in out for c in row),
            sum(c.completion_tokens for row in out for c in row),
            time.perf_counter() - start,
        )
        with self._state:  # problems of a batch share the engine from several threads
            self.stats.add(usage)
        return Generation(out, usage)

    def _sample(self, request: Request, index: int, k: int, start: float) -> list[Completion]:
        """``k`` samples of ``request`` in one HTTP request (``n=k`` when k > 1)."""
        p = request.params
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "temperature": p.temperature,
            "top_p": p.top_p,
            "max_tokens": p.max_tokens,
            "cache_prompt": True,
        }
        if k > 1:
            body["n"] = k
        if p.min_p > 0:  # llama.cpp's and vLLM's servers take it; sent only when asked for
            body["min_p"] = p.min_p
        if p.seed is not None:
            body["seed"] = p.seed + index
        if p.stop:
            body["stop"] = list(p.stop)
        if p.choices:
            # A constrained answer, best effort: one token, greedy, with the most likely
            # tokens' log-probabilities (llama.cpp's server, vLLM and OpenAI return them).
            body.update(max_tokens=1, temperature=0.0, logprobs=True, top_logprobs=20)
            body.pop("n", None)
        if p.continue_reply and request.messages and request.messages[-1].role == "assistant":
            # vLLM continues the last assistant message only when told; llama.cpp's server
            # does it by itself (and ignores the fields).
            body.update(continue_final_message=True, add_generation_prompt=False)
        with self._slots:
            data = self._post(body)
        try:
            choices = data["choices"]
            usage = data.get("usage") or {}
            prompt_tokens = int(usage.get("prompt_tokens") or 0)
            completion_tokens = int(usage.get("completion_tokens") or 0)
            out: list[Completion] = []
            for j, choice in enumerate(choices):
                text = choice["message"].get("content") or ""
                finish = "length" if choice.get("finish_reason") == "length" else "stop"
                if p.choices:
                    probs = choice_probs_from(choice, text, p)
                    text = best_choice(probs, p.choices) if probs is not None else text
                    out.append(Completion(text, prompt_tokens if j == 0 else 0, completion_tokens, "stop", time.perf_counter() - start, probs))
                    continue
                cut = cut_after_block(text, p)
                if cut is not None:  # the server cannot stop there: the tokens after it are paid, not kept
                    text, finish = cut, "stop"
                # One usage per response: the prompt is counted once (n samples share its prefill),
                # the completion tokens are split over the choices.
                share = completion_tokens // len(choices) + (1 if j < completion_tokens % len(choices) else 0)
                out.append(Completion(
                    text=text,
                    prompt_tokens=prompt_tokens if j == 0 else 0,
                    completion_tokens=share,
                    finish_reason=finish,
                    seconds=time.perf_counter() - start,
                ))  # fmt: skip
            if not out:
                raise ValueError("no choices")
            return out
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as err:
            raise EngineError(f"{self.base_url} answered something that is not a chat completion ({err!r}): {str(data)[:200]}") from None

    def _unreachable(self, err: Exception) -> EngineError:
        return EngineError(
            f"cannot reach the OpenAI-compatible server at {self.base_url} ({type(err).__name__}: {err}): "
            "start it, or check the URL (it must end with the API root, e.g. /v1)."
        )

    def _refused(self, status: int) -> EngineError:
        return EngineError(
            f"{self.base_url} refused the request ({status}): set the API key in the environment variable {self.api_key_env}."
        )

    def _wait(self, attempt: int, retry_after: str | None = None) -> None:
        delay = min(self.max_backoff_s, self.backoff_s * 2**attempt)
        if retry_after:
            try:
                delay = min(self.max_backoff_s, max(delay, float(retry_after)))
            except ValueError:
                pass  # an HTTP date: keep our own backoff
        with self._state:
            self.retried += 1
        time.sleep(delay)

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        last = ""
        for attempt in range(self.retries + 1):
            try:
                response = self._client.post("/chat/completions", json=body)
            except httpx.TransportError as err:
                # Refused before the server ever answered: a wrong URL or a server not started,
                # not a restart; waiting would only delay the one line the user needs.
                if not isinstance(err, httpx.ConnectError):
                    self._reached = True  # it accepted the connection, then went away: a restart
                never_reached = isinstance(err, httpx.ConnectError) and not self._reached
                if attempt < self.retries and not never_reached:
                    last = f"{type(err).__name__}: {err}"
                    self._wait(attempt)
                    continue
                raise self._unreachable(err) from None
            self._reached = True
            if response.status_code in _RETRY_STATUS and attempt < self.retries:
                last = f"HTTP {response.status_code}"
                self._wait(attempt, response.headers.get("Retry-After"))
                continue
            if response.status_code in (401, 403):
                raise self._refused(response.status_code)
            if response.status_code == 404:
                raise EngineError(
                    f"{self.base_url}/chat/completions was not found (404): check the base URL (e.g. ending in /v1) "
                    f"and the model name {self.model!r}."
                )
            if response.status_code >= 400:
                raise EngineError(
                    f"{self.base_url} answered {response.status_code} after {attempt + 1} tries: {response.text[:300]}"
                )
            try:
                return response.json()  # type: ignore[no-any-return]
            except ValueError:
                raise EngineError(f"{self.base_url} answered with something that is not JSON: {response.text[:200]}") from None
        raise EngineError(f"{self.base_url} kept failing after {self.retries + 1} tries ({last}).")  # pragma: no cover

    def close(self) -> None:
        self._client.close()


def choice_probs_from(choice: dict[str, Any], text: str, params: SamplingParams) -> dict[str, float] | None:
    """The choices' probabilities from the first token's top log-probabilities; without
    them, all the weight on the choice the reply starts with; None when it names none."""
    weights = {c: 0.0 for c in params.choices}
    try:
        top = choice["logprobs"]["content"][0]["top_logprobs"]
        for entry in top:
            token = str(entry["token"]).strip()
            for c in params.choices:
                if token and token == c.strip():
                    weights[c] += math.exp(float(entry["logprob"]))
    except (KeyError, IndexError, TypeError, ValueError):
        pass
    probs = normalise_choices(weights)
    if probs is not None:
        return probs
    said = text.strip()
    named = [c for c in params.choices if c.strip() and said.startswith(c.strip())]
    return {c: float(c == named[0]) for c in params.choices} if named else None
