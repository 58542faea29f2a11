"""The typed run record: round trips, every recorded run file loads, resume keys, atomic writes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sstar.batch import read_run_file
from sstar.fsutil import atomic_file, atomic_write
from sstar.pipeline.types import SolveConfig, Strategy
from sstar.record import RECORD_VERSION, NOT_RESUME_KEYS, RESUME_KEYS, RunRecord, config_settings

REPO = Path(__file__).resolve().parents[1]
RUN_FILES = sorted((REPO / "bench" / "runs").glob("*.jsonl"))

text = st.text(max_size=20)
maybe_int = st.none() | st.integers(0, 10**6)
records = st.builds(
    RunRecord,
    path=text,
    abs_path=st.none() | text,
    id=st.none() | text,
    strategy=st.sampled_from([s.value for s in Strategy]),
    program=text,
    public_verdict=st.none() | st.sampled_from(["AC", "WA", "TLE"]),
    public_passed=st.integers(0, 100),
    hidden_passed=maybe_int,
    solved=st.booleans(),
    tokens=st.integers(0, 10**7),
    wall_s=st.floats(0, 1e5, allow_nan=False),
    error=st.none() | text,
    completion_cache_hits=maybe_int,
    sandbox_errors=maybe_int,
    config=st.none() | st.dictionaries(st.sampled_from(RESUME_KEYS), st.integers()),
    extra=st.dictionaries(st.text(min_size=1, max_size=8).map(lambda k: "x-" + k), st.integers() | text),
)


@settings(max_examples=200)
@given(records)
def test_a_record_survives_its_json_line(rec: RunRecord) -> None:
    line = json.dumps(rec.to_json())
    assert RunRecord.from_json(json.loads(line)) == rec


@pytest.mark.parametrize("path", RUN_FILES, ids=[p.name for p in RUN_FILES])
def test_every_recorded_run_file_loads_and_writes_back_the_same_lines(path: Path) -> None:
    run = read_run_file(path, strict=False)
    docs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    batch_docs = [d for d in docs if isinstance(d, dict) and isinstance(d.get("path"), str)]
    assert len(run.records) == len(batch_docs)
    for rec, doc in zip(run.records, batch_docs):
        assert rec.v == RECORD_VERSION and rec.to_json() == doc and list(rec.to_json()) == list(doc)


def test_unknown_keys_are_kept_and_bad_records_refused() -> None:
    rec = RunRecord.from_json({"path": "p", "tokens": 5, "future_field": [1]})
    assert rec.tokens == 5 and rec.extra == {"future_field": [1]} and rec.to_json()["future_field"] == [1]
    for bad in ([], {"id": "no path"}, {"path": 3}, {"path": "p", "config": "x"}, {"path": "p", "v": "1"}):
        with pytest.raises(ValueError):
            RunRecord.from_json(bad)


def test_resume_keys_are_every_solve_setting_and_the_model() -> None:
    # Less the settings that only mark a result (min_confidence): resuming may change them.
    assert set(RESUME_KEYS) == ({f.name for f in dataclasses.fields(SolveConfig)} | {"model"}) - NOT_RESUME_KEYS
    assert NOT_RESUME_KEYS == {"min_confidence"}
    settings = config_settings(SolveConfig(strategy=Strategy.MAJORITY, n=3), "m")
    assert settings["strategy"] == "majority" and settings["n"] == 3 and settings["model"] == "m"
    assert set(settings) == set(RESUME_KEYS) | NOT_RESUME_KEYS
    assert config_settings(SolveConfig(strategy="zero-shot"), "m")["strategy"] == "zero-shot"


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.json"
    atomic_write(target, "first")
    with pytest.raises(RuntimeError):
        with atomic_file(target) as fh:
            fh.write(b"half")
            raise RuntimeError("disk gone")
    assert target.read_text() == "first" and [p.name for p in target.parent.iterdir()] == ["f.json"]
    atomic_write(target, b"second")
    assert target.read_bytes() == b"second" and len(list(target.parent.iterdir())) == 1
