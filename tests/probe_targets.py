"""Child targets for tests/test_engine_safety.py: stand-ins for the real probe
(sstar.engine.probe:run_probe) that crash the way llama.cpp does, or not.

Imported in the probe's child process (the tests put this folder on PYTHONPATH)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

_OK = {"load_s": 0.25, "decoded_tokens": 32, "tok_s": 100.0}


def segfault(_request: dict[str, Any]) -> dict[str, Any]:
    os.kill(os.getpid(), signal.SIGSEGV)
    raise AssertionError("unreachable")


def segfault_with_extra_bufts(request: dict[str, Any]) -> dict[str, Any]:
    """Like llama.cpp's AMX kernels: only the default load (extra buffer types) crashes."""
    _mark(request)
    if request["options"]["extra_bufts"]:
        os.kill(os.getpid(), signal.SIGSEGV)
    return dict(_OK)


def sigill(_request: dict[str, Any]) -> dict[str, Any]:
    os.kill(os.getpid(), signal.SIGILL)
    raise AssertionError("unreachable")


def python_error(_request: dict[str, Any]) -> dict[str, Any]:
    raise ValueError("not a GGUF file")


def hang(_request: dict[str, Any]) -> dict[str, Any]:
    time.sleep(600)
    return dict(_OK)


def _mark(request: dict[str, Any]) -> None:
    """Count the children that ran: one line per probe in $PROBE_MARKS."""
    marks = os.environ.get("PROBE_MARKS")
    if marks:
        with Path(marks).open("a") as f:
            f.write(f"{request['options']['extra_bufts']}\n")
