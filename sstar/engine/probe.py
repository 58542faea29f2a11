"""The child side of sstar.engine.safety: ``python -m sstar.engine.probe TARGET JSON``.

TARGET is "module:function"; the function takes the decoded JSON request and returns a
dict, printed on stdout after a marker line prefix. llama.cpp may kill this process with a
signal: that is the point, the parent reads the signal from the exit status.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from typing import Any

from sstar.engine.safety import RESULT_MARK, LoadOptions

# A prompt long enough that its evaluation runs the matrix kernels on a batch of tokens
# (the prompt path) and then several sequences decode together (the step path).
_PROBE_PROMPT = (
    "Given an array of n integers, find the length of the longest contiguous subarray whose sum is "
    "divisible by k. The first line has n and k, the second line the array. Print one integer. "
    "Write a complete Python 3 program that reads standard input."
)
PROBE_SEQUENCES = 4
PROBE_TOKENS = 8


def run_facts(_request: dict[str, Any]) -> dict[str, Any]:
    """The build's facts (this import is what dies of SIGILL on a CPU it was not built for)."""
    from sstar.engine.llama import import_llama_cpp

    lib = import_llama_cpp()
    mparams = lib.llama_model_default_params()
    base = getattr(getattr(lib, "llama_cpp", None), "_base_path", None)
    return {
        "version": str(getattr(lib, "__version__", "?")),
        "library_path": str(base / "libllama.so") if base is not None else "",
        "system_info": lib.llama_print_system_info().decode("utf-8", errors="replace").strip(),
        "gpu_offload": bool(lib.llama_supports_gpu_offload()),
        "has_extra_bufts_field": hasattr(mparams, "use_extra_bufts"),
    }


def run_probe(request: dict[str, Any]) -> dict[str, Any]:
    """Load the model with the given options and decode through LlamaEngine's batched path."""
    from sstar.engine.base import Message, Request, SamplingParams
    from sstar.engine.llama import LlamaEngine

    options = LoadOptions(**request["options"])
    t0 = time.perf_counter()
    with LlamaEngine(request["model"], load_options=options, n_ctx=2048) as engine:
        load_s = time.perf_counter() - t0
        params = SamplingParams(temperature=0.8, max_tokens=PROBE_TOKENS, seed=1)
        t1 = time.perf_counter()
        [row] = engine.generate([Request((Message("user", _PROBE_PROMPT),), n=PROBE_SEQUENCES, params=params)])
        # Decoding only: the prompt's evaluation is timed apart by the engine.
        decode_s = time.perf_counter() - t1 - engine.stats.prompt_seconds
    tokens = sum(c.completion_tokens for c in row)
    return {"load_s": round(load_s, 3), "decoded_tokens": tokens, "tok_s": round(tokens / decode_s, 2) if decode_s > 0 else 0.0}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m sstar.engine.probe MODULE:FUNCTION JSON", file=sys.stderr)
        return 2
    module, _, name = argv[0].partition(":")
    try:
        result = getattr(importlib.import_module(module), name)(json.loads(argv[1]))
        code = 0
    except Exception as err:  # reported to the parent as a message, not a crash
        result = {"error": str(err) or type(err).__name__}
        code = 1
    sys.stdout.write(RESULT_MARK + json.dumps(result) + "\n")
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
