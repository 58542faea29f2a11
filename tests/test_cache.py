"""The on-disk execution cache: hits and misses, key sensitivity, corruption, concurrent writers."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
from pathlib import Path
from typing import Sequence

import pytest

from sstar.cache import CachingSandbox, default_cache_dir, run_key
from sstar.sandbox.base import Limits, OnResult, Program, RunOutcome, RunSpec, RunStatus, Sandbox


class CountingSandbox(Sandbox):
    """Echoes stdin upper-cased; stdin b"slow" times out. Records every batch it gets."""

    name = "counting"

    def __init__(self, identity: str = "counting:v1") -> None:
        self._identity = identity
        self.batches: list[list[str]] = []
        self.lock = threading.Lock()

    @property
    def identity(self) -> str:
        return self._identity

    def run(self, program: Program, specs: Sequence[RunSpec], limits: Limits, on_result: OnResult | None = None) -> list[RunOutcome]:
        with self.lock:
            self.batches.append([s.name for s in specs])
        outs = []
        for s in specs:
            if s.stdin == b"slow":
                o = RunOutcome(s.name, RunStatus.TLE, b"", time_s=limits.time_s)
            else:
                o = RunOutcome(s.name, RunStatus.OK, s.stdin.upper() + program.source.encode(), exit_code=0, time_s=0.01, memory_mb=3.5)
            if on_result:
                on_result(o)
            outs.append(o)
        return outs

    @property
    def runs(self) -> int:
        return sum(len(b) for b in self.batches)


PROG = Program("#p1")
LIM = Limits()


def specs(*stdins: str) -> list[RunSpec]:
    return [RunSpec(f"t{i}", s.encode()) for i, s in enumerate(stdins)]


def test_hits_and_misses_are_counted_and_misses_go_in_one_batch(tmp_path: Path) -> None:
    inner = CountingSandbox()
    box = CachingSandbox(inner, tmp_path)
    first = box.run(PROG, specs("a", "b", "c"), LIM)
    assert [o.stdout for o in first] == [b"A#p1", b"B#p1", b"C#p1"]
    assert inner.batches == [["t0", "t1", "t2"]]
    assert (box.stats.hits, box.stats.misses, box.stats.stored) == (0, 3, 3)

    seen: list[str] = []
    second = box.run(PROG, [RunSpec("x", b"b"), RunSpec("y", b"d"), RunSpec("z", b"a")], LIM, on_result=lambda o: seen.append(o.name))
    assert [o.name for o in second] == ["x", "y", "z"]  # names follow the specs, not the stored entry
    assert [o.stdout for o in second] == [b"B#p1", b"D#p1", b"A#p1"]
    assert inner.batches[-1] == ["y"]  # only the miss ran
    assert sorted(seen) == ["x", "y", "z"]
    assert (box.stats.hits, box.stats.misses) == (2, 4)
    assert second[0].memory_mb == 3.5 and second[0].exit_code == 0 and second[0].status is RunStatus.OK

    # A second cache object on the same directory (a later process) hits too.
    again = CachingSandbox(CountingSandbox(), tmp_path)
    again.run(PROG, specs("a", "b", "c", "d"), LIM)
    assert again.stats.hits == 4 and again.inner.runs == 0  # type: ignore[attr-defined]


def test_duplicate_inputs_in_one_call_run_once(tmp_path: Path) -> None:
    inner = CountingSandbox()
    box = CachingSandbox(inner, tmp_path)
    out = box.run(PROG, [RunSpec("a1", b"q"), RunSpec("a2", b"q"), RunSpec("b", b"r")], LIM)
    assert inner.batches == [["a1", "b"]]
    assert [o.name for o in out] == ["a1", "a2", "b"] and out[1].stdout == b"Q#p1"


@pytest.mark.parametrize(
    "change",
    [
        lambda p, s, l, i: (Program("#p2"), s, l, i),
        lambda p, s, l, i: (Program(p.source, "cpp"), s, l, i),
        lambda p, s, l, i: (p, RunSpec(s.name, b"other"), l, i),
        lambda p, s, l, i: (p, RunSpec(s.name, s.stdin, args=("-v",)), l, i),
        lambda p, s, l, i: (p, RunSpec(s.name, s.stdin, files={"in.txt": b"1"}), l, i),
        lambda p, s, l, i: (p, s, Limits(time_s=5.0), i),
        lambda p, s, l, i: (p, s, Limits(memory_mb=256), i),
        lambda p, s, l, i: (p, s, l, "docker:sha256:other-image"),
    ],
    ids=["source", "language", "stdin", "args", "files", "time-limit", "memory-limit", "image-identity"],
)
def test_key_changes_with_everything_that_changes_the_outcome(change) -> None:  # type: ignore[no-untyped-def]
    base = (PROG, RunSpec("t", b"in"), LIM, "docker:sha256:abc")
    assert run_key(base[3], base[0], base[1], base[2]) != run_key(*_reorder(change(*base)))
    # ... but not with the test's name
    assert run_key(base[3], base[0], base[1], base[2]) == run_key(base[3], base[0], RunSpec("renamed", b"in"), base[2])


def _reorder(t: tuple) -> tuple:  # type: ignore[type-arg]
    program, spec, limits, identity = t
    return identity, program, spec, limits


def test_identity_of_the_inner_sandbox_separates_entries(tmp_path: Path) -> None:
    CachingSandbox(CountingSandbox("img:1"), tmp_path).run(PROG, specs("a"), LIM)
    other = CachingSandbox(CountingSandbox("img:2"), tmp_path)
    other.run(PROG, specs("a"), LIM)
    assert other.stats.misses == 1 and other.inner.runs == 1  # type: ignore[attr-defined]
    assert other.identity == "img:2"  # the wrapper is transparent


def test_tle_is_not_cached_unless_configured(tmp_path: Path) -> None:
    inner = CountingSandbox()
    box = CachingSandbox(inner, tmp_path / "a")
    box.run(PROG, specs("slow", "ok"), LIM)
    box.run(PROG, specs("slow", "ok"), LIM)
    assert inner.batches == [["t0", "t1"], ["t0"]]
    assert box.stats.uncached == 2

    inner2 = CountingSandbox()
    tle_box = CachingSandbox(inner2, tmp_path / "b", cache_tle=True)
    tle_box.run(PROG, specs("slow"), LIM)
    assert tle_box.run(PROG, specs("slow"), LIM)[0].status is RunStatus.TLE
    assert inner2.runs == 1
    # A cache without cache_tle does not trust a TLE entry written by one with it.
    plain = CachingSandbox(CountingSandbox(), tmp_path / "b")
    plain.run(PROG, specs("slow"), LIM)
    assert plain.stats.hits == 0


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "wrong-key", "bad-base64"])
def test_a_corrupt_entry_is_a_miss_and_is_rewritten(tmp_path: Path, damage: str) -> None:
    inner = CountingSandbox()
    box = CachingSandbox(inner, tmp_path)
    box.run(PROG, specs("a"), LIM)
    key = run_key(inner.identity, PROG, specs("a")[0], LIM)
    entry = box.path_for(key)
    good = entry.read_bytes()
    if damage == "truncate":
        entry.write_bytes(good[: len(good) // 2])
    elif damage == "garbage":
        entry.write_bytes(b"\x00\xff" * 20)
    elif damage == "empty":
        entry.write_bytes(b"")
    elif damage == "wrong-key":
        entry.write_text(json.dumps({**json.loads(good), "key": "0" * 64}))
    else:
        entry.write_text(json.dumps({**json.loads(good), "stdout_b64": "!!!"}))
    out = box.run(PROG, specs("a"), LIM)
    assert out[0].stdout == b"A#p1"
    assert box.stats.corrupt == 1 and inner.runs == 2
    assert entry.read_bytes() == good  # rewritten whole
    box.run(PROG, specs("a"), LIM)
    assert inner.runs == 2  # and a hit again


def test_entries_are_json_under_a_two_character_fanout(tmp_path: Path) -> None:
    inner = CountingSandbox()
    CachingSandbox(inner, tmp_path).run(PROG, specs("a"), LIM)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 1  # no temporary file left behind
    key = run_key(inner.identity, PROG, specs("a")[0], LIM)
    assert files[0] == tmp_path / key[:2] / f"{key[2:]}.json"
    assert json.loads(files[0].read_text())["status"] == "ok"


def test_concurrent_threads_share_one_cache(tmp_path: Path) -> None:
    inner = CountingSandbox()
    box = CachingSandbox(inner, tmp_path)
    inputs = [f"in{i}" for i in range(20)]
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(3):
                out = box.run(PROG, specs(*inputs), LIM)
                assert [o.stdout for o in out] == [s.upper().encode() + b"#p1" for s in inputs]
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert box.stats.hits + box.stats.misses == 6 * 3 * 20
    assert box.stats.corrupt == 0


def _writer_process(cache_dir: str, rounds: int) -> None:
    box = CachingSandbox(CountingSandbox(), Path(cache_dir))
    for _ in range(rounds):
        out = box.run(PROG, specs(*[f"k{i}" for i in range(15)]), LIM)
        assert all(o.status is RunStatus.OK for o in out)
    assert box.stats.corrupt == 0, "a reader saw a half-written entry"


def test_concurrent_writer_processes_never_leave_a_corrupt_entry(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    procs = [ctx.Process(target=_writer_process, args=(str(tmp_path), 4)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    entries = list(tmp_path.glob("*/*.json"))
    assert len(entries) == 15
    for e in entries:
        json.loads(e.read_text())
    assert not list(tmp_path.glob("*/.tmp-*"))


def test_default_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SSTAR_CACHE_DIR", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x"
    monkeypatch.delenv("SSTAR_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "sstar" / "exec"


def test_an_unwritable_cache_dir_is_a_clear_error(tmp_path: Path) -> None:
    from sstar.cache import CacheDirError

    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(CacheDirError, match="SSTAR_CACHE_DIR"):
        CachingSandbox(CountingSandbox(), blocker / "cache")


class CompilingSandbox(CountingSandbox):
    """Every run is a CE: a compile that ran out of time for stdin b"slow", else a syntax error."""

    def run(self, program: Program, specs: Sequence[RunSpec], limits: Limits, on_result: OnResult | None = None) -> list[RunOutcome]:
        with self.lock:
            self.batches.append([s.name for s in specs])
        reasons = {b"slow": "compilation exceeded its time limit of 30 s"}
        return [RunOutcome(s.name, RunStatus.CE, b"", reason=reasons.get(s.stdin, "solution.cpp:1:1: error: expected ';'")) for s in specs]


def test_a_compile_that_ran_out_of_time_is_not_cached_but_a_compile_error_is(tmp_path: Path) -> None:
    inner = CompilingSandbox()
    box = CachingSandbox(inner, tmp_path)
    box.run(PROG, specs("slow", "bad"), LIM)
    box.run(PROG, specs("slow", "bad"), LIM)
    assert inner.batches == [["t0", "t1"], ["t0"]]  # the machine's load may have caused the first
