"""Batch runs: solve every problem under some paths, one JSON line per finished problem.

The run file (``RUN.jsonl``) is append-only. Each finished problem becomes one line,
written with a single ``write`` and fsynced at once, so a kill at any moment leaves
every earlier line intact and at worst a torn (newline-less) last line.

Resuming (``resume=True``) reads the file first:

* problems already recorded (matched by their path) are skipped;
* a torn last line is reported and cut off (or, if it is a complete record that only
  lacks its newline, kept): that problem is solved again;
* a corrupt line anywhere else is NOT skipped: the batch refuses to start and names the
  file and line. Something other than sstar changed the file, and guessing which
  problem it held would risk recording a problem twice; the message says how to fix it.
  The file is never rewritten, only truncated past its last complete line.
* records made with other settings (strategy, model, n, ...) also stop the resume,
  so one file never mixes runs that a report would compare as one.

A problem that fails to load, or whose solve crashes, is recorded with ``error`` set and
the batch goes on. So is one where the sandbox failed while scoring it (SE outcomes: a
hostile candidate may exhaust the sandbox, which then restarts); SE outcomes met while
solving are counted in ``sandbox_errors``. An unusable sandbox (:class:`~sstar.errors.SandboxUnavailable`) stops
the batch instead: every later problem would fail the same way, and recording them
would make ``--resume`` skip them.

Workers: ``workers=K`` solves K problems at once in threads that share one engine and
one sandbox. Unless an object says ``thread_safe = True``, calls into it are serialised
with a lock, so the gain is overlap: one problem's generation runs while another's
programs are judged.
"""

from __future__ import annotations

import json
import os
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from sstar.engine.base import Engine, Generation, Request
from sstar.errors import SandboxUnavailable, SstarError
from sstar.pipeline.types import Progress, SolveConfig
from sstar.record import RECORD_VERSION, RESUME_KEYS, RunRecord, config_settings
from sstar.setbudget import first_pass_config, plan_second_pass
from sstar.sandbox.base import Limits, OnResult, Program, RunOutcome, RunSpec, RunStatus, Sandbox
from sstar.trace import Trace
from sstar.verdict import Verdict

try:  # POSIX: keeps two batches from appending to the same file at once
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]



# --------------------------------------------------------------------------------------
# Errors


# Solves ``todo`` elsewhere and calls the callback once per finished problem, in this thread.
RemoteSolver = Callable[[list[Path], Callable[[RunRecord], None]], None]


class BatchError(SstarError):
    """A batch cannot start or go on; the message says what to do."""


class RunFileCorrupt(BatchError):
    def __init__(self, path: Path, line: int, reason: str, good: int) -> None:
        super().__init__(
            f"{path}:{line}: not a batch record ({reason}). The other {good} record(s) are intact. "
            f"Delete or repair line {line} (e.g. `sed -i '{line}d' {path}`) and run again with --resume; "
            "a problem whose line was deleted is solved again."
        )
        self.path = path
        self.line = line


# --------------------------------------------------------------------------------------
# Reading run files (shared with sstar.report)


@dataclass
class RunFile:
    path: Path
    records: list[RunRecord]
    complete_bytes: int  # length of the prefix made of whole lines
    torn_tail: bytes = b""  # bytes after the last newline (a write cut short by a kill)
    tail_record: RunRecord | None = None  # the tail, when it is a whole record lacking only "\n"
    bad_lines: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason), strict=False only


def _parse_record(raw: bytes) -> RunRecord:
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"invalid JSON: {err.msg} at column {err.colno}") from None
    return RunRecord.from_json(doc)


def read_run_file(path: Path, *, strict: bool = True) -> RunFile:
    """Read a run file. ``strict``: raise :class:`RunFileCorrupt` on a bad complete line;
    otherwise collect it in ``bad_lines``. A torn last line never raises."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BatchError(f"{path} does not exist; check the file name") from None
    except OSError as err:
        raise BatchError(f"cannot read {path}: {err.strerror}") from None
    end = data.rfind(b"\n") + 1
    result = RunFile(path=path, records=[], complete_bytes=end, torn_tail=data[end:])
    lines = data[:end].split(b"\n")[:-1]
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            result.records.append(_parse_record(raw))
        except ValueError as err:
            if strict:
                good = sum(1 for other in lines if other.strip()) - 1
                raise RunFileCorrupt(path, number, str(err), good) from None
            result.bad_lines.append((number, str(err)))
    if result.torn_tail.strip():
        try:
            result.tail_record = _parse_record(result.torn_tail)
        except ValueError:
            pass
    return result


# --------------------------------------------------------------------------------------
# Progress events (the library never prints; the CLI draws a bar from these)


@dataclass(frozen=True)
class BatchEvent:
    kind: str  # start | begin | stage | record | warning
    total: int = 0  # problems selected
    finished: int = 0  # of those, recorded (earlier runs included)
    solved: int = 0
    unsolved: int = 0  # recorded without being solved (errors included)
    errors: int = 0
    problem: str = ""  # the problem's path
    message: str = ""
    record: RunRecord | None = None


BatchProgressFn = Callable[[BatchEvent], None]


@dataclass
class BatchSummary:
    out: Path
    selected: int  # problems found (after --limit)
    skipped: int  # already recorded before this call
    done: int  # recorded by this call
    solved: int  # among the selected problems, earlier runs included
    unsolved: int
    errors: int
    wall_s: float
    warnings: list[str] = field(default_factory=list)
    cache: dict[str, Any] | None = None  # CacheStats.to_json() when the sandbox caches

    @property
    def pass_rate(self) -> float:
        recorded = self.solved + self.unsolved
        return self.solved / recorded if recorded else 0.0


# --------------------------------------------------------------------------------------
# Thread-sharing wrappers


class LockedEngine(Engine):
    """Serialises ``generate`` of an engine that is not thread-safe; everything else delegates."""

    def __init__(self, inner: Engine) -> None:  # no super().__init__: stats are the inner's
        self.inner = inner
        self.name = inner.name
        self._lock = threading.Lock()

    @property
    def stats(self):  # type: ignore[override]
        return self.inner.stats

    @property
    def batch_size(self) -> int:
        return self.inner.batch_size

    def generate(self, requests: Sequence[Request]) -> Generation:
        with self._lock:
            return self.inner.generate(requests)  # its usage comes back with it, untouched

    def close(self) -> None:
        pass  # the caller owns the inner engine

    def __getattr__(self, attr: str) -> Any:  # e.g. tokenizer helpers of a backend
        return getattr(self.inner, attr)


class _PassThrough(Sandbox):
    """A sandbox that hands runs to ``inner``, which the caller owns (and closes)."""

    def __init__(self, inner: Sandbox) -> None:
        self.inner = inner
        self.name = inner.name

    @property
    def identity(self) -> str:
        return self.inner.identity

    def close(self) -> None:
        pass  # the caller owns the inner sandbox

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.inner, attr)


class SandboxWatch(_PassThrough):
    """Passes runs through, counting the SE outcomes (sandbox failures) of one problem."""

    def __init__(self, inner: Sandbox) -> None:
        super().__init__(inner)
        self.errors = 0
        self.first_reason = ""
        self._lock = threading.Lock()

    def run(
        self, program: Program, specs: Sequence[RunSpec], limits: Limits, on_result: OnResult | None = None
    ) -> list[RunOutcome]:
        outcomes = self.inner.run(program, specs, limits, on_result)
        failed = [o for o in outcomes if o.status is RunStatus.SE]
        if failed:
            with self._lock:
                self.errors += len(failed)
                self.first_reason = self.first_reason or failed[0].reason
        return outcomes


class LockedSandbox(_PassThrough):
    """Serialises ``run`` of a sandbox that is not thread-safe."""

    def __init__(self, inner: Sandbox) -> None:
        super().__init__(inner)
        self._lock = threading.Lock()

    def run(
        self, program: Program, specs: Sequence[RunSpec], limits: Limits, on_result: OnResult | None = None
    ) -> list[RunOutcome]:
        with self._lock:
            return self.inner.run(program, specs, limits, on_result)


# --------------------------------------------------------------------------------------
# The append-only writer


class _Appender:
    """One line per record: a single write of ``json + "\\n"``, then fsync."""

    def __init__(self, path: Path) -> None:
        self.path = path
        created = not path.exists()
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()
        if fcntl is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(self._fd)
                raise BatchError(
                    f"another sstar batch is writing {path}; wait for it to finish or choose another --out file"
                ) from None
        if created:  # make the new directory entry durable too
            _fsync_dir(path.parent)

    def append(self, record: RunRecord) -> None:
        # default=str: a stray non-JSON value in settings must not cost the record
        data = (json.dumps(record.to_json(), ensure_ascii=False, separators=(",", ":"), default=str) + "\n").encode("utf-8")
        with self._lock:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)  # also releases the flock


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------
# The batch


def problem_key(path: str | Path) -> str:
    """How a problem is matched between runs: its resolved path."""
    return os.path.realpath(os.fspath(path))


def _check_same_settings(out: Path, records: Iterable[RunRecord], settings: dict[str, Any]) -> None:
    for rec in records:
        theirs = rec.config
        if not isinstance(theirs, dict):
            continue
        # A SolveConfig field added after the file was written was at its default then (pool:
        # sampling...); strategy and model are only compared when the file says them.
        defaults = {k: v for k, v in config_settings(SolveConfig(), "").items() if k not in ("strategy", "model")}
        theirs = {**defaults, **theirs}
        differ = [k for k in RESUME_KEYS if k in theirs and theirs.get(k) != settings.get(k)]
        if differ:
            what = ", ".join(f"{k}={theirs.get(k)!r} (now {settings.get(k)!r})" for k in differ)
            raise BatchError(
                f"{out} was started with other settings: {what}. Resume with the same settings, "
                "or write this run to another --out file."
            )
        return  # one record with settings is enough: every record of a file passed this check


def _error_text(err: BaseException) -> str:
    if isinstance(err, SstarError):
        return str(err)
    return f"{type(err).__name__}: {err}"


def _traceback_tail(err: BaseException, limit: int = 4000) -> str:
    text = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    return text[-limit:]


class _Interrupted(Exception):
    """solve() reported an interrupted run: leave the problem unrecorded and stop."""


def solve_one(
    path: Path,
    engine: Engine,
    sandbox: Sandbox,
    config: SolveConfig,
    *,
    model_name: str,
    on_stage: Callable[[Progress], None] | None = None,
    trace_dir: Path | None = None,
) -> RunRecord:
    """Load, solve and score one problem; return its record (never raises for a problem's own faults).

    With ``trace_dir``, the whole solve run (prompts, replies, runs, clusters, judgements)
    is saved there as ``<problem id>.json``, plus the hidden-test score, for analysis.
    """
    from sstar.judge import judge
    from sstar.loaders import load_problem
    from sstar.pipeline.solve import solve

    started = time.monotonic()
    rec = RunRecord(
        v=RECORD_VERSION,
        path=os.fspath(path),
        abs_path=problem_key(path),
        strategy=config.strategy_name,
        model=model_name,
        config=config_settings(config, model_name),
        sandbox=sandbox.identity,
    )

    watch = SandboxWatch(sandbox)
    sandbox = watch

    def failed(stage: str, err: BaseException) -> RunRecord:
        rec.error = _error_text(err)
        rec.error_stage = stage
        if not isinstance(err, SstarError):  # a crash: keep where, for the bug report
            rec.traceback = _traceback_tail(err)
        rec.wall_s = round(time.monotonic() - started, 3)
        rec.finished_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return rec

    try:
        problem = load_problem(path)
    except SandboxUnavailable:
        raise
    except Exception as err:  # noqa: BLE001 - a broken problem is recorded, the batch goes on
        return failed("load", err)
    rec.id = problem.id
    rec.title = problem.title
    if problem.hidden_tests:
        rec.hidden_total = len(problem.hidden_tests)
        rec.hidden_passed = 0

    trace = Trace(problem=problem.id, path=os.fspath(path), model=model_name) if trace_dir is not None else None
    try:
        # solve() hands the pipeline the public view only (RunContext strips hidden tests).
        result = solve(problem, engine, sandbox, config, progress=on_stage, trace=trace)
    except SandboxUnavailable:
        raise
    except Exception as err:  # noqa: BLE001
        if trace is not None and trace_dir is not None:
            trace.event("error", message=_error_text(err))
            trace.save(trace_dir / f"{_safe_name(problem.id)}.json")
        return failed("solve", err)
    if result.interrupted:
        raise _Interrupted(os.fspath(path))

    rec.settings = dict(result.settings)
    rec.program = result.program
    rec.public_verdict = result.public.verdict.value if result.program else None
    rec.public_passed = result.public.passed
    rec.public_total = result.public.total if result.program else len(problem.public_tests)
    rec.prompt_tokens = result.prompt_tokens
    rec.completion_tokens = result.completion_tokens
    rec.tokens = result.tokens
    rec.judge_calls = result.judge_calls
    rec.clusters = result.clusters
    rec.candidates = result.candidates
    rec.candidates_passing_public = result.candidates_passing_public
    rec.confidence = result.confidence
    if result.judge_calls:
        rec.judge_no_verdict = result.judge_no_verdict
    if config.min_confidence > 0:  # only a threshold makes "unsure" mean something
        rec.unsure = result.unsure
    rec.budget = dict(result.budget) or None
    if getattr(engine, "cache_stats", None) is not None:  # a CachingEngine
        # Requests answered by the completion cache took no model time: wall_s is then not
        # the cost of a fresh run (tokens still are). This problem's own count, from its usage.
        rec.completion_cache_hits = result.completion_cache_hits
    public_ok = bool(result.program) and result.public.all_passed
    hidden_ok = True
    if problem.hidden_tests and result.program:
        # Scoring happens after selection: the pipeline never saw these tests.
        try:
            hidden = judge(Program(result.program, result.language), problem, sandbox, tests="hidden")
        except SandboxUnavailable:
            raise
        except Exception as err:  # noqa: BLE001
            return failed("score", err)
        rec.hidden_verdict, rec.hidden_passed, rec.hidden_total = hidden.verdict.value, hidden.passed, hidden.total
        hidden_ok = hidden.all_passed
        if hidden.sandbox_failed:
            first = next(t for t in hidden.tests if t.verdict is Verdict.SE)
            rec.error = f"the sandbox failed while scoring (test {first.name}: {first.message})"
            rec.error_stage = "score"
    elif problem.hidden_tests:
        hidden_ok = False
    rec.solved = public_ok and hidden_ok and rec.error is None
    if watch.errors:
        rec.sandbox_errors = watch.errors
        rec.sandbox_error = watch.first_reason
    rec.wall_s = round(time.monotonic() - started, 3)
    if trace is not None and trace_dir is not None:
        # Scored after the run ended: the trace shows what the pipeline saw, then the outcome.
        trace.event("scored", hidden_verdict=rec.hidden_verdict, hidden_passed=rec.hidden_passed,
                    hidden_total=rec.hidden_total, solved=rec.solved)  # fmt: skip
        trace.save(trace_dir / f"{_safe_name(problem.id)}.json")
    rec.finished_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return rec


def _safe_name(problem_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in problem_id) or "problem"


def select_problems(paths: Sequence[Path | str], limit: int | None = None) -> list[Path]:
    """Every problem under ``paths``, deduplicated, sorted by path; the first ``limit``."""
    from sstar.loaders import discover_problems
    from sstar.loaders.records import split_record_path

    # DATA.jsonl#N names one record of a dataset file: the file must exist, not the name.
    missing = [p for p in paths if not split_record_path(Path(p))[0].exists()]
    if missing:
        raise BatchError(f"{missing[0]} does not exist; pass a problem file or a directory of problems")
    found = discover_problems([Path(p) for p in paths])
    seen: set[str] = set()
    unique: list[Path] = []
    for path in sorted((Path(p) for p in found), key=lambda p: p.as_posix()):
        key = problem_key(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    if not unique:
        shown = " ".join(os.fspath(p) for p in paths)
        raise BatchError(f"no problems found under {shown}; see docs/problems.md for the formats sstar reads")
    if limit is not None:
        if limit < 1:
            raise BatchError("--limit must be at least 1")
        unique = unique[:limit]
    return unique


def _prepare_out(out: Path, resume: bool, settings: dict[str, Any], warn: Callable[[str], None]) -> list[RunRecord]:
    """Check the run file and repair a torn tail; return the records already in it.
    Called with the file locked (see _Appender), so no other batch is appending meanwhile."""
    if out.stat().st_size == 0:
        return []
    if not resume:
        raise BatchError(
            f"{out} already holds results; pass --resume to finish that run, or choose another --out file"
        )
    run = read_run_file(out, strict=True)
    records = list(run.records)
    if run.torn_tail:
        if run.tail_record is not None:
            with open(out, "ab") as fh:  # the record is whole; only its newline was lost
                fh.write(b"\n")
                fh.flush()
                os.fsync(fh.fileno())
            records.append(run.tail_record)
            warn(f"{out}: the last record lacked its newline (a run was killed); added it")
        else:
            with open(out, "r+b") as fh:  # cut only the incomplete bytes after the last newline
                fh.truncate(run.complete_bytes)
                fh.flush()
                os.fsync(fh.fileno())
            warn(
                f"{out}: dropped an incomplete last line ({len(run.torn_tail)} bytes, left by a killed run); "
                "that problem is solved again"
            )
    _check_same_settings(out, records, settings)
    return records


def run_batch(
    paths: Sequence[Path | str],
    out: Path | str,
    engine: Engine | None,
    sandbox: Sandbox | None,
    config: SolveConfig = SolveConfig(),
    *,
    resume: bool = False,
    workers: int = 1,
    limit: int | None = None,
    model_name: str | None = None,
    progress: BatchProgressFn | None = None,
    trace_dir: Path | str | None = None,
    remote: RemoteSolver | None = None,
) -> BatchSummary:
    """Solve every problem under ``paths`` and append one record per problem to ``out``.

    The caller owns ``engine`` and ``sandbox`` (they are not closed). See the module
    docstring for the file format guarantees, resuming and workers.

    ``remote`` (sstar.distributed): solves the problems elsewhere (engine and sandbox are then
    None) and hands each record to the callback it is given, which appends it here as always.
    """
    if remote is None and (engine is None or sandbox is None):
        raise BatchError("run_batch needs an engine and a sandbox unless the problems are solved remotely")
    started = time.monotonic()
    out = Path(out)
    if workers < 1:
        raise BatchError("--workers must be at least 1")
    if config.set_budget_tokens > 0 and remote is not None:
        raise BatchError("--set-budget runs on this machine only; drop --ray or use --budget (per problem)")
    model_name = model_name or getattr(engine, "name", "engine")
    settings = config_settings(config, model_name)
    warnings: list[str] = []

    def emit(event: BatchEvent) -> None:
        if progress is not None:
            progress(event)

    def warn(message: str) -> None:
        warnings.append(message)
        emit(BatchEvent("warning", message=message))

    selected = select_problems(paths, limit)
    traces = Path(trace_dir) if trace_dir is not None else None
    if traces is not None:
        traces.mkdir(parents=True, exist_ok=True)
    if out.is_dir():
        raise BatchError(f"{out} is a directory; --out takes a file name such as {out / 'run.jsonl'}")
    if not out.parent.is_dir():
        raise BatchError(f"the directory of {out} does not exist; create it or choose another --out file")
    created = not out.exists()
    writer = _Appender(out)  # takes the lock before anything reads or repairs the file
    try:
        existing = _prepare_out(out, resume, settings, warn)
    except BaseException:
        writer.close()
        if created and out.exists() and out.stat().st_size == 0:
            out.unlink()
        raise
    by_key: dict[str, RunRecord] = {}
    for rec in existing:
        by_key[problem_key(rec.key_path)] = rec
        by_key.setdefault(problem_key(rec.path), rec)  # the file may have moved with its problems
    todo = [p for p in selected if problem_key(p) not in by_key]
    earlier = [by_key[problem_key(p)] for p in selected if problem_key(p) in by_key]

    counts = {"finished": len(earlier), "solved": 0, "unsolved": 0, "errors": 0}
    for rec in earlier:
        counts["solved" if rec.solved else "unsolved"] += 1
        counts["errors"] += rec.error is not None
    count_lock = threading.Lock()

    def event(kind: str, **kw: Any) -> BatchEvent:
        return BatchEvent(kind, total=len(selected), **{k: counts[k] for k in counts}, **kw)

    emit(event("start", message=f"{len(todo)} to solve, {len(earlier)} already recorded"))

    shared_engine = engine
    shared_sandbox = sandbox
    if workers > 1 and remote is None:
        assert engine is not None and sandbox is not None
        if not getattr(engine, "thread_safe", False):
            shared_engine = LockedEngine(engine)
        if not getattr(sandbox, "thread_safe", False):
            shared_sandbox = LockedSandbox(sandbox)

    done = 0
    # --set-budget (sstar.setbudget): each problem's config; pass 2 replaces a problem's record.
    set_budget = config.set_budget_tokens > 0
    configs: dict[str, SolveConfig] = {}
    base_config = first_pass_config(config, len(selected)) if set_budget else config
    latest: dict[str, RunRecord] = {problem_key(p): by_key[problem_key(p)] for p in selected if problem_key(p) in by_key}

    def work(path: Path) -> RunRecord:
        emit(event("begin", problem=os.fspath(path)))

        def on_stage(p: Progress) -> None:
            emit(event("stage", problem=os.fspath(path), message=f"{p.stage}: {p.message}"))

        assert shared_engine is not None and shared_sandbox is not None
        key = problem_key(path)
        rec = solve_one(path, shared_engine, shared_sandbox, configs.get(key, base_config), model_name=model_name, on_stage=on_stage, trace_dir=traces)
        if set_budget:
            rec.config = settings  # the batch's settings, what --resume compares; the share is in rec.budget
            rec.budget = {**(rec.budget or {}), "pass": 2 if key in configs else 1}
        return rec

    def finish(rec: RunRecord) -> None:
        nonlocal done
        writer.append(rec)  # durable before it is counted
        with count_lock:
            done += 1
            key = problem_key(rec.key_path)
            replaced = latest.get(key)
            latest[key] = rec
            if replaced is not None:  # a second pass: the problem's earlier record no longer counts
                counts["finished"] -= 1
                counts["solved" if replaced.solved else "unsolved"] -= 1
                counts["errors"] -= replaced.error is not None
            counts["finished"] += 1
            counts["solved" if rec.solved else "unsolved"] += 1
            counts["errors"] += rec.error is not None
            ev = event("record", problem=rec.path, record=rec, message=rec.error or "")
        emit(ev)

    def run_all(paths: list[Path]) -> None:
        if remote is not None:
            remote(paths, finish)
        elif workers == 1:  # in the main thread: Ctrl-C and tracebacks behave as usual
            for path in paths:
                finish(work(path))
        else:
            _run_threads(paths, work, finish, workers)

    try:
        run_all(todo)
        if set_budget:
            by_path = {p: latest[problem_key(p)] for p in selected if problem_key(p) in latest}
            second = plan_second_pass(config, selected, by_path)
            for plan in second:
                configs[problem_key(plan.path)] = replace(base_config, budget_tokens=plan.budget_tokens)
            if second:
                emit(event("stage", message=f"set budget: {len(second)} unsure problem(s) get the unspent pool"))
            run_all([plan.path for plan in second])
    except _Interrupted:
        raise KeyboardInterrupt from None
    finally:
        writer.close()

    stats = getattr(sandbox, "stats", None)
    return BatchSummary(
        out=out,
        selected=len(selected),
        skipped=len(earlier),
        done=done,
        solved=counts["solved"],
        unsolved=counts["unsolved"],
        errors=counts["errors"],
        wall_s=round(time.monotonic() - started, 3),
        warnings=warnings,
        cache=stats.to_json() if hasattr(stats, "to_json") else None,
    )


def _run_threads(
    todo: list[Path],
    work: Callable[[Path], RunRecord],
    finish: Callable[[RunRecord], None],
    workers: int,
) -> None:
    """At most ``workers`` problems in flight; records written by this (main) thread as they finish.

    Each problem runs in a daemon thread. On Ctrl-C or a fatal error nothing new starts
    and problems still running are abandoned unrecorded (a thread cannot be stopped, and
    a daemon thread does not keep the process alive), so --resume solves them again.
    """
    queue = list(reversed(todo))
    running: set[Future[RunRecord]] = set()
    while queue or running:
        while queue and len(running) < workers:
            running.add(_start_daemon(work, queue.pop()))
        finished, running = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
        for fut in finished:
            finish(fut.result())  # re-raises a fatal error (SandboxUnavailable, an interrupted solve)


def _start_daemon(work: Callable[[Path], RunRecord], path: Path) -> Future[RunRecord]:
    fut: Future[RunRecord] = Future()
    fut.set_running_or_notify_cancel()

    def target() -> None:
        try:
            fut.set_result(work(path))
        except BaseException as err:  # noqa: BLE001 - handed to the main thread
            fut.set_exception(err)

    threading.Thread(target=target, name=f"sstar-batch:{path}", daemon=True).start()
    return fut
