"""``sstar doctor``: will ``sstar solve`` work on this machine, and if not, what to fix.

Four areas, each a list of checks that either pass or say in one line what to do:

- engine: llama-cpp-python installed and in the tested range, its build against this CPU,
  threads, GPU offload, and a real load of the model with a few decoded tokens, in a child
  process (a crash inside llama.cpp costs the child, never the doctor);
- model: the model ``solve`` would load is installed and its sha256 matches the registry;
- sandbox: every backend's requirements and a real test program (``sstar.sandbox.doctor``);
- caches: the directories sstar writes (models, probe verdicts, execution cache) are writable.

The report is a plain record: the CLI prints it, tests and other programs read it.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sstar.errors import SstarError

AREAS = ("engine", "model", "sandbox", "caches")


@dataclass(frozen=True)
class Check:
    area: str  # one of AREAS
    name: str
    ok: bool
    detail: str = ""
    fix: str = ""  # what to do when not ok
    required: bool = True  # False: information, or nice to have; solve works without it


@dataclass
class DoctorReport:
    model: str
    checks: list[Check] = field(default_factory=list)

    @property
    def failed(self) -> list[Check]:
        """The required checks that failed: each one alone stops ``solve``."""
        return [c for c in self.checks if c.required and not c.ok]

    @property
    def ready(self) -> bool:
        """Whether ``sstar solve --model MODEL`` will work here."""
        return not self.failed


Progress = Callable[[str], None]


def run_doctor(model: str = "qwen2.5-coder-1.5b", *, sandbox: str = "auto", run: bool = True,
               progress: Progress | None = None) -> DoctorReport:
    """Check everything ``solve`` needs for ``model`` and ``--sandbox sandbox``.

    ``run=False`` skips what executes something (the engine probe and the sandbox's test
    program): requirements only, in about a second.
    """
    say = progress or (lambda _message: None)
    report = DoctorReport(model=model)
    say("checking the caches")
    report.checks += cache_checks()
    say(f"checking the model {model}")
    model_path, model_checks = _model_checks(model)
    report.checks += model_checks
    say("checking the engine" + (" (loading the model in a child process)" if run and model_path else ""))
    report.checks += engine_checks(model, model_path, run=run)
    say("checking the sandbox" + (" (running a test program)" if run else ""))
    report.checks += sandbox_checks(sandbox, run=run)
    return report


# --- caches ----------------------------------------------------------------------------


def _writable(path: Path) -> str | None:
    """None if files can be created in ``path`` (made if missing), else why not."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".sstar-doctor-"):
            pass
    except OSError as err:
        return err.strerror or str(err)
    return None


def cache_checks() -> list[Check]:
    from sstar.cache import default_cache_dir
    from sstar.models import cache_dir

    dirs = [("models", cache_dir(), True), ("execution cache", default_cache_dir(), False)]
    from sstar.engine.safety import verdict_dir

    dirs.append(("engine verdicts", verdict_dir(), False))
    checks = []
    seen: set[Path] = set()
    for name, path, required in dirs:
        if path in seen:
            continue
        seen.add(path)
        problem = _writable(path)
        fix = f"make {path} writable, or point SSTAR_CACHE_DIR (or XDG_CACHE_HOME) at a writable directory"
        checks.append(Check("caches", name, problem is None, f"{path}" + (f": {problem}" if problem else " is writable"),
                            fix, required=required))
    return checks


# --- model -----------------------------------------------------------------------------


def _model_checks(model: str) -> tuple[Path | None, list[Check]]:
    from sstar.models import list_models, resolve_model

    if model == "scripted" or model.startswith("openai:"):
        return None, [Check("model", model, True, "not a local model: nothing to verify")]
    checks = []
    path: Path | None = None
    try:
        path = resolve_model(model, allow_download=False)  # verifies size and sha256
    except SstarError as err:
        checks.append(Check("model", model, False, "not usable", str(err)))
    else:
        size = path.stat().st_size / 1e6
        checks.append(Check("model", model, True, f"{path} ({size:.0f} MB), sha256 verified"))
    for info in list_models():
        if info.name == model:
            continue
        where = f"{info.found}" + (f" at {info.path}" if info.path else f": {info.install}")
        checks.append(Check("model", info.name, info.found != "not installed", where, info.install, required=False))
    return path, checks


# --- engine ----------------------------------------------------------------------------


def engine_checks(model: str, model_path: Path | None, *, run: bool = True) -> list[Check]:
    if model == "scripted":
        return [Check("engine", "scripted", True, "the built-in scripted engine needs nothing")]
    if model.startswith("openai:"):
        return [Check("engine", "openai", True, "an OpenAI-compatible server: not checked by the doctor", required=False)]
    from sstar.engine.llama import LLAMA_INSTALL_HINT
    from sstar.engine.safety import choose_load_options, engine_facts, probe

    facts = engine_facts()
    if not facts.installed:
        return [Check("engine", "llama-cpp-python", False, "not installed", LLAMA_INSTALL_HINT)]
    if facts.problem:
        return [Check("engine", "llama-cpp-python", False, facts.problem, facts.rebuild_command)]
    tested = _tested_llama_spec()
    in_range = tested is None or _version_in(facts.version or "", tested)
    checks = [
        Check("engine", "llama-cpp-python", in_range,
              f"{facts.version} at {facts.library_path}" + ("" if in_range else f", not the tested {tested}"),
              f"pip install --force-reinstall --no-cache-dir 'llama-cpp-python{tested}'", required=False),
    ]
    amx = facts.build_amx and facts.cpu_amx
    build = ", ".join(facts.build_cpu_features) or "no SIMD features"
    backends = ", ".join(facts.build_backends) or "CPU"
    checks.append(Check("engine", "build", True, f"{backends}; {build}" + (
        " (AMX kernels crash in llama.cpp: models load without extra buffer types)" if amx else ""), required=False))
    checks.append(Check("engine", "CPU", True, f"{facts.cpu_model}: {', '.join(facts.cpu_flags) or 'no AVX'}", required=False))
    checks.append(Check("engine", "threads", True, f"{facts.default_threads} (every core this process may use)", required=False))
    gpu_fix = 'for a GPU: CMAKE_ARGS="-DGGML_CUDA=on" pip install --force-reinstall --no-cache-dir llama-cpp-python'
    gpu = f"{', '.join(facts.gpu_backends)}: every layer offloaded" if facts.gpu_offload else "a CPU-only build"
    checks.append(Check("engine", "GPU offload", facts.gpu_offload, gpu, gpu_fix, required=False))
    name = "load and decode"
    if model_path is None:
        checks.append(Check("engine", name, False, "skipped: the model is not usable (see above)", "install the model first"))
        return checks
    if not run:
        checks.append(Check("engine", name, True, "not tried (--no-run)", required=False))
        return checks
    try:
        decision = choose_load_options(model_path)  # what solve does: the ladder, probed once and cached
    except SstarError as err:
        checks.append(Check("engine", name, False, "every load option crashed or failed", str(err)))
        return checks
    crashed = [t for t in decision.tried if not t.ok]
    last = decision.tried[-1] if decision.tried else None
    # A verdict just probed is the doctor's own look; only a cached one needs a fresh child.
    result = last if last is not None and not last.cached else probe(model_path, decision.options)
    detail = (f"{result.options.label}: loaded in {result.load_s:.1f} s, {result.decoded_tokens} tokens at "
              f"{result.tok_s:.1f} tok/s in a child process" if result.ok else result.message)
    if crashed:
        detail += "; crashed before: " + ", ".join(f"{t.options.label} ({t.signal or 'timed out'})" for t in crashed)
    checks.append(Check("engine", name, result.ok, detail, f"{facts.rebuild_command}; then run `sstar doctor` again"))
    return checks


def _tested_llama_spec() -> str | None:
    """The llama-cpp-python version range sstar's `llama` extra pins (the tested one)."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        for line in requires("sstar") or []:
            if line.startswith("llama-cpp-python") and "extra ==" in line and '"llama"' in line:
                return line.split(";")[0][len("llama-cpp-python"):].strip().strip("()")
    except PackageNotFoundError:
        return None
    return None


def _version_in(version: str, spec: str) -> bool:
    try:
        from packaging.specifiers import SpecifierSet
    except ImportError:  # pragma: no cover - packaging comes with pip
        return True
    return version in SpecifierSet(spec)


# --- sandbox ---------------------------------------------------------------------------


def sandbox_checks(kind: str = "auto", *, run: bool = True) -> list[Check]:
    from sstar.sandbox import doctor as sandbox_doctor

    report = sandbox_doctor(smoke=run)
    checks = [
        Check("sandbox", f"{c.backend}: {c.name}", c.ok, c.detail, c.fix, required=False) for c in report.checks
    ]
    if kind == "auto":
        chosen = "docker" if report.works("docker") else "process" if report.works("process") else None
        detail = f"`--sandbox auto` uses {chosen}" if chosen else "no backend works here"
        fix = "apply one of the sandbox fixes above (Docker, or run as root for the process sandbox)"
        checks.append(Check("sandbox", "a backend for solve", chosen is not None, detail, fix))
    else:
        works = report.works(kind)
        checks.append(Check("sandbox", f"--sandbox {kind}", works, "works" if works else "does not work here",
                            f"apply the {kind} fixes above, or use --sandbox auto"))
    return checks


def environment_summary() -> str:
    """One line about the machine, for the report's title."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{os.uname().sysname} {os.uname().machine}, {cores} cores, uid {os.geteuid()}"
