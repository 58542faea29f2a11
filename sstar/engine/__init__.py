"""Model engines: what turns chat messages into N completions.

``open_engine(spec)`` picks one from a string:

- a registry name (``sstar models`` lists them; default ``qwen2.5-coder-1.5b``) or a path
  to a ``.gguf`` file: the batched llama.cpp engine (LlamaEngine);
- ``openai:<model>@<base_url>``, e.g. ``openai:qwen2.5-coder@http://127.0.0.1:8080/v1``:
  an OpenAI-compatible endpoint (API key from ``$OPENAI_API_KEY`` when set; another
  variable with ``api_key_env=``);
- ``scripted``: a built-in scripted engine whose every reply is a program echoing its
  input (for demos and dry runs of the pipeline, no model needed);
- ``NAME:ARG``: an engine another package registered (``sstar.registry``).
"""

from __future__ import annotations

from typing import Any, Callable

from sstar.engine.base import Completion, Engine, EngineStats, Generation, Message, Request, SamplingParams, Usage
from sstar.engine.scripted import ScriptedEngine
from sstar.errors import EngineError
from sstar.registry import ENGINE_GROUP, Registry

__all__ = [
    "Completion",
    "Engine",
    "EngineStats",
    "Generation",
    "LlamaEngine",
    "Message",
    "OpenAIEngine",
    "Request",
    "SamplingParams",
    "ScriptedEngine",
    "Usage",
    "ENGINES",
    "open_engine",
]

# An engine factory: (the spec after "NAME:", or "" for a bare "NAME"; **options) -> Engine.
# Options are open_engine's keywords; a factory takes those it needs and ignores the rest.
EngineFactory = Callable[..., Engine]
ENGINES: Registry[EngineFactory] = Registry(ENGINE_GROUP)
LOCAL = "llama"  # the backend of a spec that names no registered engine: a model name or a .gguf path


def _scripted(arg: str, **_: Any) -> Engine:
    return ScriptedEngine()


def _openai(arg: str, *, api_key_env: str = "OPENAI_API_KEY", concurrency: int = 8, **_: Any) -> Engine:
    model, sep, base_url = arg.partition("@")
    if not model or not sep or not base_url:
        raise EngineError(
            f"bad engine spec {'openai:' + arg!r}: write openai:<model>@<base_url>, e.g. openai:qwen2.5-coder@http://127.0.0.1:8080/v1"
        )
    from sstar.engine.openai import OpenAIEngine

    return OpenAIEngine(model, base_url, api_key_env=api_key_env, concurrency=concurrency)


def _llama(
    arg: str,
    *,
    n_ctx: int | None = None,
    n_threads: int | None = None,
    n_gpu_layers: int | None = None,
    verbose: bool = False,
    kv_unified: bool = False,
    **_: Any,
) -> Engine:
    from sstar.engine.llama import LlamaEngine
    from sstar.models import REGISTRY, resolve_model

    path = resolve_model(arg)
    # A registry model was verified against its pinned sha256 by resolve_model: that names its content.
    spec = REGISTRY.get(arg)
    return LlamaEngine(
        path, n_ctx=n_ctx, n_threads=n_threads, n_gpu_layers=n_gpu_layers, verbose=verbose, label=arg,
        kv_unified=kv_unified, content_id=spec.sha256 if spec is not None else None,
    )  # fmt: skip


ENGINES.register("scripted", _scripted)
ENGINES.register("openai", _openai)
ENGINES.register(LOCAL, _llama)


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
    with a message saying what to do.

    ``NAME`` or ``NAME:ARG`` picks the engine registered as NAME (``sstar.registry``: a
    package adds one with an ``sstar.engines`` entry point); any other spec is a model
    name or a ``.gguf`` path for the llama.cpp engine.
    """
    spec = spec.strip()
    name, _, arg = spec.partition(":")
    factory = ENGINES.get(name) if name and "/" not in name and (arg or name != LOCAL) else None
    if factory is None and name in ENGINES.plugin_errors:
        raise EngineError(f"the engine plugin {name!r} failed to load ({ENGINES.plugin_errors[name]}): fix or uninstall it")
    if factory is None:  # a model name or a .gguf path
        factory, arg = ENGINES.get(LOCAL), spec
    assert factory is not None
    return factory(
        arg, n_ctx=n_ctx, n_threads=n_threads, n_gpu_layers=n_gpu_layers, verbose=verbose, kv_unified=kv_unified,
        api_key_env=api_key_env, concurrency=concurrency,
    )  # fmt: skip


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
