"""Model engines: what turns chat messages into N completions.

``open_engine(spec)`` picks one from a string:

- a registry name (``sstar models`` lists them; default ``qwen2.5-coder-1.5b``) or a path
  to a ``.gguf`` file: the batched llama.cpp engine (LlamaEngine);
- ``openai:<model>@<base_url>``, e.g. ``openai:qwen2.5-coder@http://127.0.0.1:8080/v1``:
  an OpenAI-compatible endpoint (API key from ``$OPENAI_API_KEY`` when set; another
  variable with ``api_key_env=``);
- ``scripted``: a built-in scripted engine whose every reply is a program echoing its
  input (for demos and dry runs of the pipeline, no model needed).
"""

from __future__ import annotations

from typing import Any

from sstar.engine.base import Completion, Engine, EngineStats, Message, Request, SamplingParams
from sstar.engine.scripted import ScriptedEngine
from sstar.errors import EngineError

__all__ = [
    "Completion",
    "Engine",
    "EngineStats",
    "LlamaEngine",
    "Message",
    "OpenAIEngine",
    "Request",
    "SamplingParams",
    "ScriptedEngine",
    "open_engine",
]


def open_engine(
    spec: str = "qwen2.5-coder-1.5b",
    *,
    n_ctx: int | None = None,
    n_threads: int | None = None,
    n_gpu_layers: int | None = None,
    verbose: bool = False,
    kv_unified: bool = False,
    api_key_env: str = "OPENAI_API_KEY",
    concurrency: int = 8,
) -> Engine:
    """An engine for ``spec`` (see the module docstring). Raises ModelNotFound or EngineError
    with a message saying what to do."""
    spec = spec.strip()
    if spec == "scripted":
        return ScriptedEngine()
    if spec.startswith("openai:"):
        model, sep, base_url = spec[len("openai:") :].partition("@")
        if not model or not sep or not base_url:
            raise EngineError(
                f"bad engine spec {spec!r}: write openai:<model>@<base_url>, e.g. openai:qwen2.5-coder@http://127.0.0.1:8080/v1"
            )
        from sstar.engine.openai import OpenAIEngine

        return OpenAIEngine(model, base_url, api_key_env=api_key_env, concurrency=concurrency)

    from sstar.engine.llama import LlamaEngine
    from sstar.models import resolve_model

    path = resolve_model(spec)
    return LlamaEngine(
        path, n_ctx=n_ctx, n_threads=n_threads, n_gpu_layers=n_gpu_layers, verbose=verbose, label=spec,
        kv_unified=kv_unified,
    )


def __getattr__(name: str) -> Any:
    # LlamaEngine and OpenAIEngine are imported on first use: importing sstar.engine must
    # not load llama.cpp (slow, and optional for the scripted and HTTP engines).
    if name == "LlamaEngine":
        from sstar.engine.llama import LlamaEngine

        return LlamaEngine
    if name == "OpenAIEngine":
        from sstar.engine.openai import OpenAIEngine

        return OpenAIEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
