"""``python -m sstar.engine.serve --model M.gguf [llama_cpp.server options]``: llama-cpp-python's
OpenAI-compatible server, with the model loaded the way sstar loads it on this CPU.

llama-cpp-python's own server loads with llama.cpp's default options, which crash on CPUs
where the build's AMX kernels crash (see ``sstar.engine.safety``). This wrapper first
decides the load options as ``LlamaEngine`` does (probed in a child once, then cached), then
runs the unmodified server with those options applied to every model it loads.
"""

from __future__ import annotations

import sys

from sstar.engine.llama import model_params_patched, import_llama_cpp
from sstar.engine.safety import choose_load_options
from sstar.errors import SstarError


def model_argument(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--model" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--model="):
            return arg.split("=", 1)[1]
    return None


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    model = model_argument(args)
    if model is None:
        print("error: give the model file with --model PATH.gguf", file=sys.stderr)
        return 2
    try:
        options = choose_load_options(model).options
        lib = import_llama_cpp()
        from llama_cpp.server.__main__ import main as server_main
    except SstarError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ImportError as err:
        print(f"error: the llama.cpp server is not installed ({err}): pip install 'sstar[server]'", file=sys.stderr)
        return 2
    sys.argv = ["llama_cpp.server", *args]
    with model_params_patched(lib, options):  # for the server's whole life: it may load models later
        server_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
