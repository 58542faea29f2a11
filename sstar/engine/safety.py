"""Loading llama.cpp safely on whatever CPU and build this is.

Why: a llama.cpp build can crash the whole process (a signal, not an exception) on some
CPUs. Seen: llama-cpp-python 0.3.36 built with default flags (-march=native) on an Intel
Xeon with AMX segfaults in ``llama_decode`` (llama.cpp's AMX kernels, upstream issue
"segfault in ggml_backend_amx_mul_mat"); loading with ``use_extra_bufts = False`` (no
weight repacking) avoids it. A build made for another CPU dies of SIGILL.

So before a model is loaded in this process:

1. the build's facts (version, system info, GPU offload) come from a child process, once
   per build (an import that dies of SIGILL kills only the child);
2. ``load_ladder`` orders the load options from the CPU's flags and the build's features
   (an AMX build on an AMX CPU starts without extra buffer types);
3. each option is *verified* by a probe in a child (``python -m sstar.engine.probe``:
   load the model, decode a few tokens through LlamaEngine's batched path); a child
   killed by a signal or a timeout means that option crashes: the next one is tried;
4. verdicts are kept in the user cache, keyed by the build's libraries, the model file,
   the CPU flags that matter and the options: later loads need no child.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sstar.errors import EngineError
from sstar.fsutil import atomic_write

FORMAT = 1  # of the cache records below; a record of another format is ignored
PROBE_TIMEOUT_S = 300.0  # a loaded 2-core machine loads the 1.5B model in seconds, not minutes
FACTS_TIMEOUT_S = 120.0
PROBE_TARGET = "sstar.engine.probe:run_probe"
FACTS_TARGET = "sstar.engine.probe:run_facts"
RESULT_MARK = "@@sstar-probe-result@@ "

# Flags that decide which llama.cpp kernels run (x86 and Arm); others do not matter here.
RELEVANT_CPU_FLAGS = frozenset(
    {
        "sse3", "ssse3", "avx", "avx2", "fma", "f16c", "bmi2", "avx_vnni",
        "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd", "avx512_vnni", "avx512vbmi",
        "avx512_bf16", "avx512_fp16", "amx_tile", "amx_int8", "amx_bf16", "amx_fp16",
        "asimd", "asimddp", "sve", "sve2", "i8mm", "bf16", "fphp", "asimdhp",
    }
)
# Signals that native code raises when it goes wrong; SIGKILL (the OOM killer), SIGTERM or
# SIGINT say nothing about the load options.
# The `sstar` entry point (sstar/cli/guard.py) turns the same signals into one line.
CRASH_SIGNALS = frozenset({signal.SIGSEGV, signal.SIGILL, signal.SIGBUS, signal.SIGFPE, signal.SIGABRT, signal.SIGSYS, signal.SIGTRAP})
CRASH_SIGNAL_NAMES = frozenset(s.name for s in CRASH_SIGNALS)
GPU_BACKENDS = ("CUDA", "ROCm", "HIP", "Metal", "Vulkan", "SYCL", "OpenCL", "CANN", "MUSA", "Kompute", "BLAS")


# --- the CPU -------------------------------------------------------------------------


def read_cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> frozenset[str]:
    """All flags of the first CPU (x86 "flags", Arm "Features"); empty when unreadable."""
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def cpu_model_name(cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return ""
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() in ("model name", "Model", "cpu model"):
            return value.strip()
    return ""


def relevant_flags(flags: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(flags & RELEVANT_CPU_FLAGS))


def cpu_has_amx(flags: frozenset[str]) -> bool:
    return any(f.startswith("amx") for f in flags)


# --- the build -----------------------------------------------------------------------


def parse_system_info(text: str) -> dict[str, dict[str, str]]:
    """``llama_print_system_info()``, e.g. "CPU : SSE3 = 1 | AVX2 = 1 | AMX_INT8 = 1 |
    CUDA : ARCHS = 890 |", as {section: {key: value}}. A section starts at "NAME : KEY = V"."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for part in text.split("|"):
        part = part.strip()
        if not part:
            continue
        head = re.match(r"^([A-Za-z0-9_\- ]+?)\s*:\s*(.*)$", part)
        if head and "=" in head.group(2) and "=" not in head.group(1):
            current = sections.setdefault(head.group(1).strip(), {})
            part = head.group(2)
        key, sep, value = part.partition("=")
        if current is None:
            current = sections.setdefault("", {})
        current[key.strip()] = value.strip() if sep else "1"
    return sections


@dataclass(frozen=True)
class BuildFeatures:
    """What the build was compiled with, from its system-info string."""

    cpu: tuple[str, ...]  # CPU features enabled (value not "0"), e.g. ("AVX2", "AMX_INT8", ...)
    backends: tuple[str, ...]  # sections of the system info: "CPU", "CUDA", "Metal", ...
    amx: bool
    gpu_backends: tuple[str, ...]

    @classmethod
    def from_system_info(cls, text: str) -> BuildFeatures:
        sections = parse_system_info(text)
        cpu = tuple(k for k, v in sections.get("CPU", {}).items() if v not in ("0", ""))
        backends = tuple(s for s in sections if s)
        gpus = tuple(b for b in backends if any(b.upper().startswith(g.upper()) for g in GPU_BACKENDS))
        return cls(cpu=cpu, backends=backends, amx=any(k.startswith("AMX") for k in cpu), gpu_backends=gpus)


def library_dir() -> Path | None:
    """Where llama-cpp-python loads libllama from (its LLAMA_CPP_LIB_PATH override wins),
    found without importing it."""
    override = os.environ.get("LLAMA_CPP_LIB_PATH")
    if override:
        return Path(override)
    try:
        spec = importlib.util.find_spec("llama_cpp")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "lib"


def library_identity(lib_dir: Path | None) -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime_ns) of every shared library of the build (libllama and the ggml
    backends: the AMX kernels live in libggml-cpu). A rebuild changes these."""
    if lib_dir is None or not lib_dir.is_dir():
        return ()
    seen: dict[str, tuple[str, int, int]] = {}
    for entry in sorted(lib_dir.iterdir()):
        if not re.search(r"\.(so(\.\d+)*|dylib|dll)$", entry.name):
            continue
        real = entry.resolve()
        try:
            st = real.stat()
        except OSError:
            continue
        seen.setdefault(str(real), (str(real), st.st_size, st.st_mtime_ns))
    return tuple(sorted(seen.values()))


def llama_cpp_version() -> str | None:
    try:
        return importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        return None


# --- load options and the decision --------------------------------------------------


@dataclass(frozen=True)
class LoadOptions:
    """How the model is loaded. ``extra_bufts``: let llama.cpp repack weights into extra
    buffer types (AMX, CPU_REPACK): faster, and what crashes on AMX CPUs; ``n_gpu_layers``:
    layers offloaded (-1 all, 0 none)."""

    extra_bufts: bool = True
    n_gpu_layers: int = 0

    @property
    def label(self) -> str:
        parts = ["default" if self.extra_bufts else "no extra buffer types"]
        if self.n_gpu_layers:
            parts.append("all layers on the GPU" if self.n_gpu_layers < 0 else f"{self.n_gpu_layers} layers on the GPU")
        return ", ".join(parts)

    def apply(self, mparams: Any) -> None:
        """Set these options on a ``llama_model_params`` (a field this version lacks is left)."""
        mparams.n_gpu_layers = self.n_gpu_layers
        if hasattr(mparams, "use_extra_bufts"):
            mparams.use_extra_bufts = self.extra_bufts


def load_ladder(
    cpu_flags: frozenset[str],
    features: BuildFeatures,
    *,
    has_extra_bufts_field: bool,
    n_gpu_layers: int,
) -> list[LoadOptions]:
    """Load options to try, fastest first, each one safer than the one before.

    - an AMX build on an AMX CPU skips the default (its AMX kernels segfault);
    - then without extra buffer types (no repacking; ~13 % slower decoding);
    - then, where layers were to be offloaded, CPU only (a GPU driver that crashes).
    A version without ``use_extra_bufts`` can only be loaded the default way.
    """
    ladder: list[LoadOptions] = []
    known_crash = features.amx and cpu_has_amx(cpu_flags) and has_extra_bufts_field
    if not known_crash:
        ladder.append(LoadOptions(True, n_gpu_layers))
    if has_extra_bufts_field:
        ladder.append(LoadOptions(False, n_gpu_layers))
    if n_gpu_layers != 0:
        ladder.append(LoadOptions(not has_extra_bufts_field, 0))
    return ladder


def portable_cmake_args(cpu_flags: frozenset[str]) -> str:
    """CMAKE_ARGS for a build of llama.cpp that uses what this CPU has, without AMX and
    without -march=native (x86; elsewhere just not native)."""
    args = ["-DGGML_NATIVE=OFF"]
    if "avx2" in cpu_flags:
        args += ["-DGGML_AVX2=ON", "-DGGML_FMA=ON", "-DGGML_F16C=ON"]
    elif "avx" in cpu_flags:
        args += ["-DGGML_AVX=ON"]
    if "avx512f" in cpu_flags:
        args.append("-DGGML_AVX512=ON")
        if "avx512_vnni" in cpu_flags:
            args.append("-DGGML_AVX512_VNNI=ON")
    return " ".join(args)


def rebuild_command(cpu_flags: frozenset[str], version: str | None) -> str:
    pin = f"=={version}" if version else ""
    return (
        f"CMAKE_ARGS=\"{portable_cmake_args(cpu_flags)}\" pip install --force-reinstall --no-cache-dir "
        f"'llama-cpp-python{pin}'"
    )


# --- records -------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildInfo:
    """Facts of one llama-cpp-python build, as its child process reported them."""

    version: str
    library_path: str
    system_info: str
    gpu_offload: bool
    has_extra_bufts_field: bool

    @property
    def features(self) -> BuildFeatures:
        return BuildFeatures.from_system_info(self.system_info)


@dataclass
class ProbeResult:
    """One probe: a child loaded the model with ``options`` and decoded a few tokens."""

    ok: bool
    options: LoadOptions
    signal: str | None = None  # e.g. "SIGSEGV" when the child was killed by one
    timed_out: bool = False
    load_s: float = 0.0
    decoded_tokens: int = 0
    tok_s: float = 0.0
    seconds: float = 0.0  # the whole child, start to end
    message: str = ""
    cached: bool = False  # read from the cache: no child ran

    @property
    def crashed(self) -> bool:
        return self.timed_out or self.signal in CRASH_SIGNAL_NAMES

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProbeResult:
        data = dict(data)
        data["options"] = LoadOptions(**data["options"])
        return cls(**data)


@dataclass
class LoadDecision:
    """The options a model is loaded with, and how they were chosen."""

    options: LoadOptions
    verified: bool  # a probe (now or cached) decoded with these options
    tried: list[ProbeResult] = field(default_factory=list)


@dataclass
class EngineFacts:
    """What ``sstar doctor`` shows about the engine; gathered without loading a model and in a
    child process (a build for another CPU dies of SIGILL on import: the child, not us)."""

    installed: bool
    version: str | None
    library_path: str | None
    system_info: str
    build_cpu_features: tuple[str, ...]
    build_backends: tuple[str, ...]
    build_amx: bool
    gpu_backends: tuple[str, ...]
    gpu_offload: bool
    has_extra_bufts_field: bool
    cpu_model: str
    cpu_flags: tuple[str, ...]  # the relevant ones
    cpu_amx: bool
    default_threads: int
    load_ladder: list[LoadOptions]
    rebuild_command: str
    problem: str | None = None  # one line when the build cannot be used here


# --- the cache of verdicts -----------------------------------------------------------


def verdict_dir() -> Path:
    from sstar.models import cache_dir

    return cache_dir() / "engine-probes"


def _digest(kind: str, key: dict[str, Any]) -> str:
    canon = json.dumps({"kind": kind, "key": key}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()[:40]


def _read_record(kind: str, key: dict[str, Any], directory: Path | None = None) -> dict[str, Any] | None:
    path = (directory or verdict_dir()) / f"{kind}-{_digest(kind, key)}.json"
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    # The key is stored whole and compared: a stale or foreign file is never trusted.
    if not isinstance(record, dict) or record.get("format") != FORMAT or record.get("key") != key:
        return None
    value = record.get("value")
    return value if isinstance(value, dict) else None


def _write_record(kind: str, key: dict[str, Any], value: dict[str, Any], directory: Path | None = None) -> None:
    folder = directory or verdict_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"format": FORMAT, "kind": kind, "key": key, "value": value, "written": time.time()}, indent=1)
        atomic_write(folder / f"{kind}-{_digest(kind, key)}.json", data, prefix=".tmp-", suffix=".json")  # never half a record
    except OSError:
        pass  # a read-only cache costs a probe next time, nothing else


def build_key(cpu_flags: frozenset[str]) -> dict[str, Any]:
    return {
        "llama_cpp": llama_cpp_version(),
        "libraries": [list(x) for x in library_identity(library_dir())],
        "cpu_flags": list(relevant_flags(cpu_flags)),
        "python": sys.executable,
    }


def model_identity(model_path: Path) -> list[Any]:
    st = model_path.stat()
    return [str(model_path.resolve()), st.st_size, st.st_mtime_ns]


def probe_key(build: dict[str, Any], model_path: Path, options: LoadOptions) -> dict[str, Any]:
    return {**build, "model": model_identity(model_path), "options": asdict(options)}


# --- child processes -------------------------------------------------------------------


@dataclass
class ChildOutcome:
    result: dict[str, Any] | None  # what the target returned
    signal: str | None
    timed_out: bool
    returncode: int | None
    stderr_tail: str
    seconds: float


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # The child must import this same sstar (a worktree on PYTHONPATH, or the installed one).
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join([root, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    env.pop("PYTHONFAULTHANDLER", None)  # the parent reports the signal; no C traceback noise
    return env


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def run_child(target: str, request: dict[str, Any], timeout: float) -> ChildOutcome:
    """Run ``target(request) -> dict`` (a "module:function") in a fresh Python process."""
    cmd = [sys.executable, "-m", "sstar.engine.probe", target, json.dumps(request)]
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace",
            env=_child_env(), timeout=timeout,
        )
    except subprocess.TimeoutExpired as err:  # subprocess.run killed it
        tail = (err.stderr or b"")
        text = tail.decode(errors="replace") if isinstance(tail, bytes) else tail
        return ChildOutcome(None, None, True, None, _tail(text), time.monotonic() - t0)
    seconds = time.monotonic() - t0
    result = None
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            try:
                result = json.loads(line[len(RESULT_MARK) :])
            except ValueError:
                result = None
            break
    sig = signal_name(-proc.returncode) if proc.returncode < 0 else None
    return ChildOutcome(result, sig, False, proc.returncode, _tail(proc.stderr), seconds)


def _tail(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


# --- build facts ---------------------------------------------------------------------


def build_info(cpu_flags: frozenset[str] | None = None, *, use_cache: bool = True) -> BuildInfo:
    """This build's facts, from the cache or a child. EngineError (one line) when
    llama-cpp-python is missing or its import crashes."""
    from sstar.engine.llama import LLAMA_INSTALL_HINT

    flags = read_cpu_flags() if cpu_flags is None else cpu_flags
    version = llama_cpp_version()
    if version is None or library_dir() is None:
        raise EngineError(f"llama-cpp-python is not installed: {LLAMA_INSTALL_HINT}")
    key = build_key(flags)
    if use_cache:
        cached = _read_record("build", key)
        if cached is not None:
            try:
                return BuildInfo(**cached)
            except TypeError:
                pass
    out = run_child(FACTS_TARGET, {}, FACTS_TIMEOUT_S)
    if out.signal or out.timed_out:
        what = out.signal or "a timeout"
        raise EngineError(
            f"importing llama-cpp-python {version} crashed ({what}): it was built for another CPU; rebuild it for this "
            f"one: {rebuild_command(flags, version)}; then run `sstar doctor`."
        )
    if out.result is None or "error" in out.result:
        detail = (out.result or {}).get("error") or out.stderr_tail or f"exit code {out.returncode}"
        raise EngineError(f"llama-cpp-python {version} cannot be used: {detail}; reinstall it: {LLAMA_INSTALL_HINT}")
    info = BuildInfo(**out.result)
    _write_record("build", key, asdict(info))
    return info


def engine_facts() -> EngineFacts:
    """The engine's facts for ``sstar doctor``; never raises for a broken build (``problem``
    says what is wrong) and never loads llama.cpp into this process."""
    from sstar.engine.llama import default_threads

    flags = read_cpu_flags()
    version = llama_cpp_version()
    lib = library_dir()
    problem = None
    info: BuildInfo | None = None
    try:
        info = build_info(flags)
    except EngineError as err:
        problem = str(err)
    features = info.features if info else BuildFeatures((), (), False, ())
    gpu = bool(info and info.gpu_offload)
    return EngineFacts(
        installed=version is not None,
        version=version,
        library_path=info.library_path if info else (str(lib / "libllama.so") if lib else None),
        system_info=info.system_info if info else "",
        build_cpu_features=features.cpu,
        build_backends=features.backends,
        build_amx=features.amx,
        gpu_backends=features.gpu_backends,
        gpu_offload=gpu,
        has_extra_bufts_field=bool(info and info.has_extra_bufts_field),
        cpu_model=cpu_model_name(),
        cpu_flags=relevant_flags(flags),
        cpu_amx=cpu_has_amx(flags),
        default_threads=default_threads(),
        load_ladder=load_ladder(flags, features, has_extra_bufts_field=bool(info and info.has_extra_bufts_field),
                                n_gpu_layers=-1 if gpu else 0) if info else [],
        rebuild_command=rebuild_command(flags, version),
        problem=problem,
    )


# --- probes --------------------------------------------------------------------------


def _probe_child(model_path: Path, options: LoadOptions, timeout: float, target: str) -> ProbeResult:
    out = run_child(target, {"model": str(model_path), "options": asdict(options)}, timeout)
    if out.timed_out:
        return ProbeResult(False, options, timed_out=True, seconds=out.seconds,
                           message=f"the probe did not finish in {timeout:.0f} s")
    if out.signal is not None:
        why = "" if out.signal in CRASH_SIGNAL_NAMES else " (not a crash: out of memory, or stopped by someone)"
        return ProbeResult(False, options, signal=out.signal, seconds=out.seconds,
                           message=f"killed by {out.signal} loading or decoding {model_path.name}{why}")
    r = out.result or {}
    if "error" in r or out.returncode != 0 or not r:
        detail = r.get("error") or out.stderr_tail or f"exit code {out.returncode}"
        return ProbeResult(False, options, seconds=out.seconds, message=str(detail))
    return ProbeResult(
        True, options, load_s=float(r.get("load_s", 0.0)), decoded_tokens=int(r.get("decoded_tokens", 0)),
        tok_s=float(r.get("tok_s", 0.0)), seconds=out.seconds, message="decoded without crashing",
    )


def probe(
    model_path: str | Path,
    options: LoadOptions | None = None,
    *,
    timeout: float = PROBE_TIMEOUT_S,
    target: str = PROBE_TARGET,
) -> ProbeResult:
    """Load ``model_path`` with ``options`` (default: the first the ladder picks here) in a
    child and decode a few tokens; the verdict is cached. Never crashes this process;
    raises EngineError only when llama-cpp-python is missing or unusable."""
    path = Path(model_path)
    if not path.is_file():
        raise EngineError(f"model file {path} does not exist.")
    flags = read_cpu_flags()
    info = build_info(flags)
    if options is None:
        options = load_ladder(flags, info.features, has_extra_bufts_field=info.has_extra_bufts_field,
                              n_gpu_layers=-1 if info.gpu_offload else 0)[0]
    result = _probe_child(path, options, timeout, target)
    _remember(build_key(flags), path, result)
    return result


def _remember(build: dict[str, Any], path: Path, result: ProbeResult) -> None:
    # Only a clean decode or a crash by a signal is a verdict on the options; a timeout or a
    # Python error may be the machine's load or a broken file, so the next load probes again.
    if result.ok or (result.crashed and not result.timed_out):
        _write_record("probe", probe_key(build, path, result.options), result.to_json())


def cached_verdict(
    model_path: Path, options: LoadOptions, cpu_flags: frozenset[str] | None = None, *, build: dict[str, Any] | None = None
) -> ProbeResult | None:
    """The cached probe verdict for these options, or None. ``build``: this build's key when
    the caller has it (it stats every shared library: once per decision, not per rung)."""
    if build is None:
        build = build_key(read_cpu_flags() if cpu_flags is None else cpu_flags)
    value = _read_record("probe", probe_key(build, model_path, options))
    if value is None:
        return None
    try:
        result = ProbeResult.from_json(value)
    except (TypeError, KeyError):
        return None
    result.cached = True
    return result


def choose_load_options(
    model_path: str | Path,
    *,
    n_gpu_layers: int | None = None,
    verify: bool = True,
    timeout: float = PROBE_TIMEOUT_S,
    target: str = PROBE_TARGET,
) -> LoadDecision:
    """The first option of the ladder that decodes without crashing (cached, else probed).
    ``verify=False``: the ladder's first choice, no child (tests, or a caller that knows).
    Raises EngineError with one line when every option crashes."""
    path = Path(model_path)
    flags = read_cpu_flags()
    info = build_info(flags)
    gpu_layers = (-1 if info.gpu_offload else 0) if n_gpu_layers is None else n_gpu_layers
    ladder = load_ladder(flags, info.features, has_extra_bufts_field=info.has_extra_bufts_field, n_gpu_layers=gpu_layers)
    if not verify:
        return LoadDecision(ladder[0], verified=False)
    build = build_key(flags)
    tried: list[ProbeResult] = []
    for options in ladder:
        result = cached_verdict(path, options, build=build)
        if result is None:
            result = _probe_child(path, options, timeout, target)
            _remember(build, path, result)
        tried.append(result)
        if result.ok:
            return LoadDecision(options, verified=True, tried=tried)
        if not result.crashed:
            # Not a crash (a bad file, a Python error): other options would fail alike.
            raise EngineError(f"llama.cpp could not load {path}: {result.message}")
    crashes = ", ".join(f"{r.options.label}: {r.signal or 'timed out'}" for r in tried)
    amx = " (its AMX kernels)" if info.features.amx and cpu_has_amx(flags) else ""
    raise EngineError(
        f"llama.cpp crashed with {path.name} under every load option tried ({crashes}) in llama-cpp-python "
        f"{info.version}{amx} on this CPU; rebuild it without AMX or -march=native: {rebuild_command(flags, info.version)}; "
        "then run `sstar doctor`."
    )
