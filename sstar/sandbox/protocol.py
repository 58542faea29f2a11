"""The host side of the runner protocol, shared by the Docker and process backends.

Both backends start the same runner (sstar/sandbox/runner.py) inside their sandbox, write
one JSON request line to its stdin, keep stdin open (closing it tells the runner to kill
everything and stop) and read one JSON line per finished test from its stdout.
"""

from __future__ import annotations

import base64
import json
import math
import os
import posixpath
import secrets
import threading
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from sstar.errors import SandboxUnavailable
from sstar.sandbox.base import COMPILE_MEMORY_MB, COMPILE_TIME_S, LANGUAGES, Limits, OnResult, Program, RunOutcome, RunSpec, RunStatus, Sandbox

PROTOCOL = 1
# Inside the sandbox, two tmpfs mounts in both backends: tests' working directories, and
# the runner's I/O files (apart, so a test that fills its disk still gets its output back).
TMP_MOUNT = "/tmp"
IO_MOUNT = "/run/sstar"
SCRATCH = "/tmp/sstar"
IO_DIR = "/run/sstar/run"
MB = 1024 * 1024
RUNNER_MARGIN_MB = 96  # the runner itself, its pre-imports and the request


class SandboxCrashed(SandboxUnavailable):
    """The runner inside the sandbox failed or stopped answering (a bug, or the sandbox
    was killed from outside); the message says what happened and what to try.

    ``outcomes`` (when the crash happened during a run): one per spec, in spec order, the
    tests the runner finished with their results and the others as SE outcomes; backends
    restart their sandbox and return these instead of raising."""

    def __init__(self, message: str, outcomes: "list[RunOutcome] | None" = None) -> None:
        super().__init__(message)
        self.outcomes = outcomes


def sandbox_errors(specs: Sequence[RunSpec], message: str) -> list[RunOutcome]:
    """SE outcomes for tests the sandbox could not judge."""
    return [RunOutcome(name=s.name, status=RunStatus.SE, stdout=b"", reason=message) for s in specs]


def default_parallel() -> int:
    return max(1, os.cpu_count() or 1)


def uid_base() -> int:
    """A random block of uids for one session's slots: far above any real account, and
    unlikely to collide with another session (RLIMIT_NPROC counts per uid machine-wide)."""
    return 1_000_000_000 + secrets.randbelow(1_000_000) * 256


def check_spec(spec: RunSpec) -> None:
    """Refuse file names that would leave the working directory (the runner could not
    write there anyway; this gives a clear error instead of a failed test)."""
    for name in spec.files:
        norm = posixpath.normpath(name)
        if not name or name.startswith("/") or norm.startswith("..") or norm in (".", ""):
            raise ValueError(f"test {spec.name!r}: file name {name!r} must be relative and stay in the working directory")


def encode_request(program: Program, specs: Sequence[RunSpec], limits: Limits, parallel: int, uids: int) -> bytes:
    if program.language not in LANGUAGES:
        raise ValueError(f"the sandbox runs {' and '.join(LANGUAGES)} programs, not {program.language!r}")
    for spec in specs:
        check_spec(spec)
    request = {
        "protocol": PROTOCOL,
        "source": program.source,
        "language": program.language,
        # C++ is compiled once per request, under limits of its own (a compile is not a test)
        "compile": {"time_s": COMPILE_TIME_S, "memory_mb": COMPILE_MEMORY_MB},
        "parallel": max(1, parallel),
        "uid_base": uids,
        "scratch": SCRATCH,
        "io": IO_DIR,
        "limits": {
            "time_s": float(limits.time_s),
            "memory_mb": int(limits.memory_mb),
            "output_bytes": int(limits.output_bytes),
            "processes": int(limits.processes),
            "tmp_mb": int(limits.tmp_mb),
        },
        "tests": [
            {
                "name": spec.name,
                "stdin": base64.b64encode(spec.stdin).decode(),
                "args": list(spec.args),
                "files": {name: base64.b64encode(data).decode() for name, data in spec.files.items()},
            }
            for spec in specs
        ],
    }
    return json.dumps(request, separators=(",", ":")).encode() + b"\n"


@dataclass(frozen=True)
class Sizing:
    """What the sandbox as a whole must hold for a run with ``slots`` parallel tests."""

    slots: int
    tmp_mb: int  # the /tmp tmpfs: working directories
    io_mb: int  # the /run/sstar tmpfs: stdin, stdout, stderr files and the program
    memory_mb: int
    pids: int
    shm_mb: int = 64  # the IPC namespace's cap on SysV shared memory, and /dev/shm's size

    def covers(self, other: "Sizing") -> bool:
        return all(getattr(self, f) >= getattr(other, f) for f in ("tmp_mb", "io_mb", "memory_mb", "pids", "shm_mb"))

    def union(self, other: "Sizing") -> "Sizing":
        fields = ("slots", "tmp_mb", "io_mb", "memory_mb", "pids", "shm_mb")
        return Sizing(**{f: max(getattr(self, f), getattr(other, f)) for f in fields})


def sizing(limits: Limits, slots: int, specs: Sequence[RunSpec] = (), source_bytes: int = 0) -> Sizing:
    output_mb = math.ceil(limits.output_bytes / MB)
    largest_stdin = max((len(s.stdin) for s in specs), default=0)
    largest_files = max((sum(len(d) for d in s.files.values()) for s in specs), default=0)
    # Per slot: its scratch space holds the test's files too; stdout and stderr are each
    # capped at output_bytes (+1, to see the overflow).
    tmp = slots * (limits.tmp_mb + math.ceil(largest_files / MB)) + 8
    io = slots * (2 * output_mb + math.ceil(largest_stdin / MB) + 1) + math.ceil(source_bytes / MB) + 8
    # Shared memory outlives the process that made it and no rlimit sees it: the IPC
    # namespace caps it (SysV through sysctls, POSIX through /dev/shm's size) at one
    # program's memory limit, and the sandbox's memory holds both caps on top.
    shm = limits.memory_mb
    # tmpfs and shared-memory pages count against the memory cgroup too.
    memory = slots * (limits.memory_mb + 32) + tmp + io + 2 * shm + RUNNER_MARGIN_MB
    pids = slots * limits.processes + 32
    return Sizing(slots=slots, tmp_mb=tmp, io_mb=io, memory_mb=memory, pids=pids, shm_mb=shm)


def ipc_sysctls(size: Sizing) -> dict[str, str]:
    """The IPC namespace's limits for a sandbox of this size (both backends set them when
    the namespace is made; a namespace's own sysctls need no privilege outside it)."""
    pages = size.shm_mb * MB // 4096
    return {
        "kernel.shmmax": str(size.shm_mb * MB),  # one SysV segment
        "kernel.shmall": str(pages),  # all SysV segments together, in pages
        "kernel.shmmni": "64",  # SysV segments
        "kernel.msgmni": "16",  # SysV message queues
        "kernel.msgmnb": str(1 * MB),  # bytes in one queue
        "kernel.sem": "250 8000 32 32",  # SEMMSL SEMMNS SEMOPM SEMMNI
        "fs.mqueue.queues_max": "16",  # POSIX message queues
    }


def outcome_from(message: dict) -> RunOutcome:
    return RunOutcome(
        name=str(message["name"]),
        status=RunStatus(message["status"]),
        stdout=base64.b64decode(message.get("stdout", "")),
        stderr_tail=str(message.get("stderr_tail", "")),
        exit_code=message.get("exit_code"),
        signal=message.get("signal"),
        time_s=float(message.get("time_s", 0.0)),
        cpu_s=float(message.get("cpu_s", 0.0)),
        memory_mb=float(message.get("memory_mb", 0.0)),
        reason=str(message.get("reason", "")),
    )


def collect(lines: Iterable[bytes], specs: Sequence[RunSpec], on_result: OnResult | None, where: str) -> list[RunOutcome]:
    """Turn the runner's output lines into outcomes in spec order, calling ``on_result``
    as each test finishes. ``where`` names the backend in error messages."""
    outcomes: list[RunOutcome | None] = [None] * len(specs)
    problem: str | None = None
    done = False
    try:
        for line in lines:
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except ValueError:
                problem = f"the {where} runner wrote something that is not JSON: {line[:200]!r}"
                break
            kind = message.get("type")
            if kind == "result":
                outcome = outcome_from(message)
                outcomes[int(message["index"])] = outcome
                if on_result is not None:
                    on_result(outcome)
            elif kind == "done":
                done = True
                break
            elif kind == "error":
                problem = f"the {where} runner failed: {message.get('message')}"
                break
    except SandboxCrashed as err:  # it stopped answering
        problem = str(err)
    except OSError as err:  # the connection to it broke
        problem = f"lost the {where} runner: {err}"
    missing = [i for i, o in enumerate(outcomes) if o is None]
    if missing and problem is None:
        problem = f"the {where} runner stopped before finishing ({len(missing)} test(s) without a result)"
    if problem is None and not done:
        problem = f"the {where} runner stopped after the last result"
    if problem is not None:
        # The tests that have a result keep it; the others get SE, reported as they are.
        for i in missing:
            [outcomes[i]] = sandbox_errors([specs[i]], problem)
            if on_result is not None:
                on_result(outcomes[i])  # type: ignore[arg-type]
        raise SandboxCrashed(f"{problem}; the sandbox restarts", [o for o in outcomes if o is not None])
    return [o for o in outcomes if o is not None]


def with_detail(outcomes: list[RunOutcome], detail: str) -> list[RunOutcome]:
    """SE outcomes with the runner's last stderr words added to their reason."""
    if detail:
        for outcome in outcomes:
            if outcome.status is RunStatus.SE:
                outcome.reason = f"{outcome.reason} (runner stderr: {detail[-300:]})"
    return outcomes


def split_lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Lines from a stream of byte chunks (the last line may lack its newline)."""
    pending = bytearray()  # amortised appends: one result line can be tens of MB
    for chunk in chunks:
        searched = len(pending)
        pending += chunk
        cut = pending.find(b"\n", searched)
        while cut >= 0:
            yield bytes(pending[:cut])
            del pending[: cut + 1]
            cut = pending.find(b"\n")
    if pending:
        yield bytes(pending)


class RunnerSandbox(Sandbox):
    """The run template of the backends that host the runner (Docker, process).

    One request at a time: encode it, make the runner's sandbox big enough, send it, read
    the results. A backend says how to fit (``_fit``), start-and-send (``_send``), stop
    (``_stop``) and what its runner left on stderr (``_runner_detail``).
    """

    where = "sandbox"  # names the backend in messages ("docker sandbox", "process sandbox")
    parallel: int
    uid_base: int
    _lock: threading.Lock
    _closed: bool

    def run(
        self,
        program: Program,
        specs: Sequence[RunSpec],
        limits: Limits,
        on_result: OnResult | None = None,
    ) -> list[RunOutcome]:
        if not specs:
            return []
        request = encode_request(program, specs, limits, self.parallel, self.uid_base)
        need = sizing(limits, self.parallel, specs, len(program.source.encode()))
        with self._lock:
            if self._closed:
                raise SandboxUnavailable("this sandbox is closed; open a new one")
            need = self._fit(need)
            try:
                lines = self._send(request, need, limits)
                outcomes = collect(lines, specs, on_result, self.where)
                if any(spec.secret for spec in specs):
                    # Tests are forked from the runner: a later program could read what its
                    # memory still holds. A fresh runner holds nothing of this request.
                    self._retire_runner()
                return outcomes
            except SandboxCrashed as err:
                # The runner died or misbehaved (a program may have exhausted the sandbox):
                # the tests without a result are SE, and the next run gets a fresh runner.
                detail = self._runner_detail()
                self._stop()
                if err.outcomes is not None:
                    return with_detail(err.outcomes, detail)
                error = self._crash_error(err, detail)
                if error is err:
                    raise
                raise error from None
            except BaseException:
                # Ctrl-C, a stuck runner: stopping it kills every test it runs; the next
                # run starts a fresh one.
                self._stop()
                raise

    def _fit(self, need: Sizing) -> Sizing:
        """Called with the lock held: make room for ``need`` (grow, never shrink); returns the
        sizing the runner must be started with if it is not running."""
        raise NotImplementedError

    def _send(self, request: bytes, need: Sizing, limits: Limits) -> Iterable[bytes]:
        """Start the runner if it is not running, send ``request``; return its output lines."""
        raise NotImplementedError

    def _stop(self) -> None:
        raise NotImplementedError

    def _retire_runner(self) -> None:
        """End the runner after a request that carried secrets; the next run starts a fresh
        one (a backend may keep the rest of its sandbox)."""
        self._stop()

    def _runner_detail(self) -> str:
        """The tail of the runner's stderr, for the reasons of SE outcomes."""
        return ""

    def _crash_error(self, err: SandboxCrashed, detail: str) -> SandboxCrashed:
        """What to raise when the runner failed before it gave any result: the error, with
        what the runner last wrote on stderr."""
        return SandboxCrashed(f"{err} (runner stderr: {detail})") if detail else err
