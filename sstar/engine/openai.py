"""An OpenAI-compatible chat-completions endpoint (vLLM, llama.cpp's server, OpenAI, ...).

Each of a request's N samples is its own HTTP request with its own seed (seed + i):
llama.cpp's server ignores ``n > 1``, and separate requests let a batching server (vLLM,
llama-server with parallel slots) schedule them together. All of a call's HTTP requests
are in flight at once, up to ``concurrency``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from sstar.engine.base import Completion, Engine, Generation, Request, Usage, cut_after_block
from sstar.errors import EngineError

_RETRY_STATUS = {429, 500, 502, 503, 504}


class OpenAIEngine(Engine):
    """``base_url`` is the API root, e.g. ``http://127.0.0.1:8080/v1``; the API key, if any,
    is read from the environment variable named ``api_key_env``."""

    name = "openai"

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
        retries: int = 2,
    ) -> None:
        super().__init__()
        self.model = model
        self.base_url = base_url.rstrip("/")
        self._identity = f"openai:{model}@{self.base_url}"
        self.api_key_env = api_key_env
        self.concurrency = max(1, concurrency)
        self.retries = max(0, retries)
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

    def generate(self, requests: Sequence[Request]) -> Generation:
        start = time.perf_counter()
        jobs = [(ri, i) for ri, r in enumerate(requests) for i in range(r.n)]
        results: list[list[Completion | None]] = [[None] * r.n for r in requests]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, max(1, len(jobs)))) as pool:
            futures = {pool.submit(self._one, requests[ri], i, start): (ri, i) for ri, i in jobs}
            for future, (ri, i) in futures.items():
                results[ri][i] = future.result()
        out = [[c for c in row if c is not None] for row in results]
        usage = self.stats.add(
            Usage(
                sum(c.prompt_tokens for row in out for c in row),
                sum(c.completion_tokens for row in out for c in row),
                time.perf_counter() - start,
            )
        )
        return Generation(out, usage)

    def _one(self, request: Request, index: int, start: float) -> Completion:
        p = request.params
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "temperature": p.temperature,
            "top_p": p.top_p,
            "max_tokens": p.max_tokens,
        }
        if p.seed is not None:
            body["seed"] = p.seed + index
        if p.stop:
            body["stop"] = list(p.stop)
        data = self._post(body)
        try:
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
            usage = data.get("usage") or {}
            finish = "length" if choice.get("finish_reason") == "length" else "stop"
            cut = cut_after_block(text, p)
            if cut is not None:  # the server cannot stop there: the tokens after it are paid, not kept
                text, finish = cut, "stop"
            return Completion(
                text=text,
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                finish_reason=finish,
                seconds=time.perf_counter() - start,
            )
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as err:
            raise EngineError(f"{self.base_url} answered something that is not a chat completion ({err!r}): {str(data)[:200]}") from None

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        delay = 1.0
        for attempt in range(self.retries + 1):
            try:
                response = self._client.post("/chat/completions", json=body)
            except httpx.TransportError as err:
                if attempt < self.retries and not isinstance(err, httpx.ConnectError):
                    time.sleep(delay)
                    delay *= 2
                    continue
                raise EngineError(
                    f"cannot reach the OpenAI-compatible server at {self.base_url} ({type(err).__name__}: {err}): "
                    "start it, or check the URL (it must end with the API root, e.g. /v1)."
                ) from None
            if response.status_code in _RETRY_STATUS and attempt < self.retries:
                time.sleep(delay)
                delay *= 2
                continue
            if response.status_code in (401, 403):
                raise EngineError(
                    f"{self.base_url} refused the request ({response.status_code}): set the API key in the "
                    f"environment variable {self.api_key_env}."
                )
            if response.status_code == 404:
                raise EngineError(
                    f"{self.base_url}/chat/completions was not found (404): check the base URL (e.g. ending in /v1) "
                    f"and the model name {self.model!r}."
                )
            if response.status_code >= 400:
                raise EngineError(
                    f"{self.base_url} answered {response.status_code}: {response.text[:300]}"
                )
            try:
                return response.json()  # type: ignore[no-any-return]
            except ValueError:
                raise EngineError(f"{self.base_url} answered with something that is not JSON: {response.text[:200]}") from None
        raise EngineError(f"{self.base_url} kept failing after {self.retries + 1} tries.")  # pragma: no cover

    def close(self) -> None:
        self._client.close()
