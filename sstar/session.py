"""`Session`: the library's front door, one object that owns a model, a sandbox and the caches.

Shaped like ``httpx.Client``: make one, use it for many calls, close it (or use ``with``)::

    import sstar

    with sstar.Session(model="qwen2.5-coder-1.5b", sandbox="auto") as session:
        problem = sstar.load_problem("problems/range-sums")
        result = session.solve(problem, sstar.SolveConfig(n=8, rounds=2))
        print(session.judge(result.program, problem, tests="hidden").verdict)

The engine and the sandbox are opened on first use (``judge`` never loads a model) and
closed by ``close``. ``model`` and ``sandbox`` take what ``open_engine`` and
``open_sandbox`` take, or an Engine / Sandbox object the caller made; the session then
uses it and leaves closing it to the caller. ``exec_cache`` wraps the sandbox in the
execution cache (True: the default folder; a path: that folder), ``completion_cache``
wraps the engine in the completion cache (a folder).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from sstar.errors import SstarError
from sstar.models import DEFAULT_MODEL
from sstar.pipeline.types import ProgressFn, SolveConfig, SolveResult
from sstar.problem import Problem

if TYPE_CHECKING:
    from sstar.batch import BatchProgressFn, BatchSummary
    from sstar.check import CheckEventFn, CheckSummary, CheckTarget
    from sstar.engine.base import Engine
    from sstar.judge import OnTestResult
    from sstar.sandbox.base import Limits, Program, Sandbox
    from sstar.trace import Trace
    from sstar.verdict import JudgeReport



class Session:
    def __init__(
        self,
        model: "str | Engine" = DEFAULT_MODEL,
        sandbox: "str | Sandbox" = "auto",
        *,
        config: SolveConfig = SolveConfig(),
        exec_cache: bool | Path | str = False,
        completion_cache: Path | str | None = None,
        engine_options: Mapping[str, Any] | None = None,
        parallel: int | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.model_name = model if isinstance(model, str) else model.name
        self._model_spec = model
        self._sandbox_spec = sandbox
        self._exec_cache = exec_cache
        self._completion_cache = Path(completion_cache) if completion_cache is not None else None
        self._engine_options = dict(engine_options or {})
        self._parallel = parallel
        self._warn = warn
        self._engine: Engine | None = None
        self._sandbox: Sandbox | None = None
        self._owned: list[Any] = []  # what close() closes: only what this session opened
        self._lock = threading.Lock()
        self._closed = False

    # -- what it owns ----------------------------------------------------------------

    @property
    def engine(self) -> "Engine":
        """The model engine (loaded on first use), behind the completion cache when one was asked for."""
        with self._lock:
            self._check_open()
            if self._engine is None:
                engine = self._model_spec
                if isinstance(engine, str):
                    from sstar.engine import open_engine

                    engine = open_engine(engine, **self._engine_options)
                    self._owned.append(engine)
                if self._completion_cache is not None:
                    from sstar.engine.cache import CachingEngine

                    engine = CachingEngine(engine, self._completion_cache)
                self._engine = engine
            return self._engine

    @property
    def sandbox(self) -> "Sandbox":
        """The sandbox (started on first use), behind the execution cache when one was asked for."""
        with self._lock:
            self._check_open()
            if self._sandbox is None:
                box = self._sandbox_spec
                if isinstance(box, str):
                    from sstar.sandbox import open_sandbox

                    box = open_sandbox(box, parallel=self._parallel, warn=self._warn)
                    self._owned.append(box)
                if self._exec_cache is not False:
                    from sstar.cache import CachingSandbox

                    box = CachingSandbox(box, None if self._exec_cache is True else self._exec_cache)
                self._sandbox = box
            return self._sandbox

    def open(self, *, engine: bool = True) -> "Session":
        """Start the sandbox and (with ``engine``) load the model now rather than on first use."""
        self.sandbox
        if engine:
            self.engine
        return self

    def close(self) -> None:
        """Close the engine and sandbox this session opened (never those it was given)."""
        with self._lock:
            self._closed = True
            owned, self._owned = self._owned, []
            self._engine = self._sandbox = None
        errors: list[BaseException] = []
        for thing in reversed(owned):
            try:
                thing.close()
            except Exception as err:  # noqa: BLE001 - close the rest, then report the first
                errors.append(err)
        if errors:
            raise errors[0]

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise SstarError("this sstar Session is closed; make a new one")

    # -- the operations --------------------------------------------------------------

    def solve(
        self,
        problem: Problem | Path | str,
        config: SolveConfig | None = None,
        *,
        progress: ProgressFn | None = None,
        trace: "Trace | None" = None,
        language: str | None = None,
    ) -> SolveResult:
        """Generate, debug and select a program for ``problem`` (a Problem or a path to one);
        the pipeline never sees its hidden tests. ``language`` ("python" or "cpp") overrides
        the config's; ``result.language`` says which language ``result.program`` is in."""
        from dataclasses import replace

        from sstar.pipeline.solve import solve

        config = config or self.config
        if language is not None:
            config = replace(config, language=language)
        return solve(self._problem(problem), self.engine, self.sandbox, config, progress=progress, trace=trace)

    def judge(
        self,
        program: "str | Program",
        problem: Problem | Path | str,
        *,
        tests: str = "public",
        limits: "Limits | None" = None,
        on_result: "OnTestResult | None" = None,
    ) -> "JudgeReport":
        """Verdicts of ``program`` (source text, or a Program naming its language) on
        ``problem``'s tests ("public", "hidden" or "all"); ``on_result`` sees each test's
        result as soon as it is known."""
        from sstar.judge import judge

        return judge(program, self._problem(problem), self.sandbox, tests=tests, limits=limits, on_result=on_result)

    def batch(
        self,
        paths: Sequence[Path | str],
        out: Path | str,
        config: SolveConfig | None = None,
        *,
        resume: bool = False,
        workers: int = 1,
        limit: int | None = None,
        progress: "BatchProgressFn | None" = None,
        trace_dir: Path | str | None = None,
    ) -> "BatchSummary":
        """Solve every problem under ``paths``, one record per problem in ``out`` (see sstar.batch)."""
        from sstar.batch import run_batch, select_problems

        # A bad path fails before the model loads; the problems found are what run_batch gets
        # (a dataset file is parsed once, not again there).
        selected = select_problems(paths, limit)
        return run_batch(
            selected, out, self.engine, self.sandbox, config or self.config,
            resume=resume, workers=workers, model_name=self.model_name, progress=progress, trace_dir=trace_dir,
        )  # fmt: skip

    def check(
        self,
        path: Path | str = ".",
        config: SolveConfig | None = None,
        *,
        solve_missing: bool = False,
        require_solutions: bool = False,
        on_event: "CheckEventFn | None" = None,
        targets: "Sequence[CheckTarget] | None" = None,
        checker: str | None = None,
    ) -> "CheckSummary":
        """Judge every solution of a problem repository (see sstar.check); with ``solve_missing``,
        problems without a solution are solved with this session's model; ``checker``
        replaces every problem's checker (exact, tokens, float:EPS, a testlib program)."""
        from sstar.check import check_repository

        return check_repository(
            path, self.sandbox, solve_missing=solve_missing, engine=self.engine if solve_missing else None,
            config=config or self.config, model_name=self.model_name, require_solutions=require_solutions,
            on_event=on_event, targets=targets, checker=checker,
        )  # fmt: skip

    @staticmethod
    def _problem(problem: Problem | Path | str) -> Problem:
        if isinstance(problem, Problem):
            return problem
        from sstar.loaders import load_problem

        return load_problem(os.fspath(problem))
