"""``python -m sstar.engine.serve --model M.gguf [llama_cpp.server options]``: llama-cpp-python's
OpenAI-compatible server, with the model loaded the way sstar loads it on this CPU.

llama-cpp-python's own server loads with llama.cpp's default options, which crash on CPUs
where the build's AMX kernels crash (see ``sstar.engine.safety``). This wrapper first
decides the load options as ``LlamaEngine`` does (probed in a child once, then cached), then
runs the unmodified server with those options applied to every model it loads.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sstar.engine.llama import model_params_patched, import_llama_cpp
from sstar.engine.safety import choose_load_options
from sstar.errors import SstarError


def option_value(argv: list[str], name: str) -> str | None:
    """The value of ``--name VALUE`` or ``--name=VALUE`` in ``argv``."""
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    model = option_value(args, "--model")
    if model is None or not Path(model).is_file():
        what = "give the model file with --model PATH.gguf" if model is None else f"no model file at {model}"
        print(f"error: {what}", file=sys.stderr)
        return 2
    layers = option_value(args, "--n_gpu_layers")
    if layers is not None and not layers.lstrip("-").isdigit():
        print(f"error: --n_gpu_layers takes a whole number (-1: all layers), not {layers!r}", file=sys.stderr)
        return 2
    try:
        # The options verified are the ones loaded: the server's own --n_gpu_layers when given,
        # else the ladder's (which falls back to the CPU when offloading crashes).
        options = choose_load_options(model, n_gpu_layers=int(layers) if layers is not None else None).options
        lib = import_llama_cpp()
        from llama_cpp.server.__main__ import main as server_main
    except SstarError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ImportError as err:
        print(f"error: the llama.cpp server is not installed ({err}): pip install 'sstar[server]'", file=sys.stderr)
        return 2
    if layers is None:
        args += ["--n_gpu_layers", str(options.n_gpu_layers)]
    sys.argv = ["llama_cpp.server", *args]
    with model_params_patched(lib, options):  # for the server's whole life: it may load models later
        server_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
