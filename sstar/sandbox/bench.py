"""``sstar bench sandbox``: what one test costs in each backend, against plain python3.

The baseline is what a naive judge does: ``/usr/bin/python3 -I prog.py < in`` through
subprocess, once per test. The backends run the same trivial program on the same input,
``batch`` tests per ``run()`` call (a problem's tests go to the sandbox in one call), with
the sandbox opened beforehand (a session opens it once). The methods take turns in small
rounds, so load from other processes on the machine hits them alike.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sstar.errors import SandboxUnavailable
from sstar.sandbox.base import Limits, Program, RunSpec, RunStatus, Sandbox

PROGRAM = "import sys\nprint(sum(map(int, sys.stdin.read().split())))\n"
STDIN = b"1 2 3 4 5\n"
EXPECTED = b"15\n"
PYTHON = "/usr/bin/python3"


@dataclass
class BackendFigures:
    name: str
    identity: str = ""
    seconds: float = 0.0
    runs: int = 0
    error: str = ""  # why the backend was not measured

    @property
    def ms_per_test(self) -> float:
        return 1000 * self.seconds / self.runs if self.runs else float("nan")


@dataclass
class SandboxBench:
    runs: int
    batch: int
    parallel: int
    direct_seconds: float = 0.0
    backends: list[BackendFigures] = field(default_factory=list)
    cpus: int = 0
    loadavg_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    loadavg_after: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def direct_ms(self) -> float:
        return 1000 * self.direct_seconds / self.runs

    def ratio(self, figures: BackendFigures) -> float:
        return figures.ms_per_test / self.direct_ms

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "batch": self.batch,
            "parallel": self.parallel,
            "program": PROGRAM,
            "direct": {"command": f"{PYTHON} -I prog.py < in", "ms_per_run": round(self.direct_ms, 3)},
            "backends": {
                b.name: (
                    {"error": b.error}
                    if b.error
                    else {"identity": b.identity, "ms_per_test": round(b.ms_per_test, 3), "ratio": round(self.ratio(b), 3)}
                )
                for b in self.backends
            },
            "cpus": self.cpus,
            "loadavg_before": list(self.loadavg_before),
            "loadavg_after": list(self.loadavg_after),
        }


Progress = Callable[[str], None]


def run_sandbox_bench(
    runs: int = 500,
    *,
    batch: int = 10,
    parallel: int = 1,
    kinds: tuple[str, ...] = ("docker", "process"),
    progress: Progress | None = None,
) -> SandboxBench:
    """Time ``runs`` tests of a trivial program in each backend and directly (see module doc)."""
    from sstar.sandbox import DockerSandbox, ProcessSandbox

    say = progress or (lambda message: None)
    if not os.access(PYTHON, os.X_OK):
        raise SandboxUnavailable(f"the baseline needs {PYTHON}: apt-get install python3")
    batch = max(1, min(batch, runs))
    result = SandboxBench(runs=runs, batch=batch, parallel=parallel, cpus=os.cpu_count() or 1, loadavg_before=os.getloadavg())
    sandboxes: dict[str, Sandbox] = {}
    for kind in kinds:
        figures = BackendFigures(kind)
        result.backends.append(figures)
        try:
            say(f"opening the {kind} sandbox")
            sandbox: Sandbox = DockerSandbox(parallel=parallel) if kind == "docker" else ProcessSandbox(parallel=parallel)
        except SandboxUnavailable as err:
            figures.error = str(err)
            continue
        sandboxes[kind] = sandbox
        figures.identity = sandbox.identity
    limits = Limits(time_s=10.0)
    program = Program(PROGRAM)
    try:
        with tempfile.TemporaryDirectory(prefix="sstar-bench-") as tmp:
            prog = Path(tmp, "prog.py")
            prog.write_text(PROGRAM)
            stdin = Path(tmp, "in")
            stdin.write_bytes(STDIN)
            _direct(prog, stdin)  # warm the page cache
            for sandbox in sandboxes.values():
                _backend(sandbox, program, batch, limits)
            rounds = max(1, runs // (batch * 5))
            done = 0
            for index in range(rounds):
                count = (runs - done) // (rounds - index)
                start = time.perf_counter()
                for _ in range(count):
                    _direct(prog, stdin)
                result.direct_seconds += time.perf_counter() - start
                for figures in result.backends:
                    sandbox_ = sandboxes.get(figures.name)
                    if sandbox_ is None:
                        continue
                    left = count
                    start = time.perf_counter()
                    while left:
                        size = min(batch, left)
                        _backend(sandbox_, program, size, limits)
                        left -= size
                    figures.seconds += time.perf_counter() - start
                    figures.runs += count
                done += count
                say(f"{done}/{runs} runs of each")
    finally:
        for sandbox in sandboxes.values():
            sandbox.close()
    result.loadavg_after = os.getloadavg()
    return result


def _direct(prog: Path, stdin: Path) -> None:
    with stdin.open("rb") as f:
        done = subprocess.run([PYTHON, "-I", str(prog)], stdin=f, capture_output=True, check=False)
    if done.stdout != EXPECTED:
        raise RuntimeError(f"the baseline program printed {done.stdout!r}: {done.stderr[-300:]!r}")


def _backend(sandbox: Sandbox, program: Program, count: int, limits: Limits) -> None:
    specs = [RunSpec(f"t{i}", STDIN) for i in range(count)]
    for outcome in sandbox.run(program, specs, limits):
        if outcome.status is not RunStatus.OK or outcome.stdout != EXPECTED:
            raise RuntimeError(f"{sandbox.name}: the program gave {outcome.status.value} {outcome.stdout!r} {outcome.stderr_tail[-300:]!r}")


def figures_table_rows(result: SandboxBench) -> list[tuple[str, str, str, str]]:
    """(method, runs, ms per test, ratio) rows for a table."""
    rows = [(f"{PYTHON} -I prog.py (subprocess)", str(result.runs), f"{result.direct_ms:.2f}", "1.00x")]
    for figures in result.backends:
        if figures.error:
            rows.append((f"{figures.name} sandbox", "-", "-", f"unavailable: {figures.error}"))
        else:
            tests = f"{result.batch} test{'s' if result.batch > 1 else ''}/call"
            slots = f"{result.parallel} slot{'s' if result.parallel > 1 else ''}"
            label = f"{figures.name} sandbox ({tests}, {slots})"
            rows.append((label, str(figures.runs), f"{figures.ms_per_test:.2f}", f"{result.ratio(figures):.2f}x"))
    return rows


__all__ = ["BackendFigures", "SandboxBench", "figures_table_rows", "run_sandbox_bench"]
