"""`sstar batch PATH... --out RUN.jsonl`: solve a problem set, one JSON line per problem."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, List, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from sstar.cli.common import BUDGET_OPTION, COMPLETION_CACHE_OPTION, LANGUAGE_OPTION, MAX_TOKENS_OPTION, MODEL_OPTION, N_OPTION, ROUNDS_OPTION, SANDBOX_OPTION, SEED_OPTION, MIN_CONFIDENCE_OPTION, STRATEGY_OPTION, TEMPERATURE_OPTION, StrategyChoice, note, stderr, stdout, user_errors, warn
from sstar.cli.common import MIN_P_OPTION, SAMPLING_OPTION, TEMPERATURES_OPTION, parse_temperatures  # pool (POOL)
from sstar.pipeline.types import SolveConfig


class BatchBar:
    """A rich progress bar on stderr: finished/total, solved and failed counts, ETA."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("[bold]batch[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[green]solved {task.fields[solved]}[/] [red]failed {task.fields[failed]}[/]"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("[dim]{task.fields[current]}[/]"),
            console=stderr,
            transient=False,
        )
        self.task: Any = None

    def __enter__(self) -> "BatchBar":
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, ev: Any) -> None:  # a sstar.batch.BatchEvent
        if ev.kind == "warning":
            warn(ev.message)  # the bar draws on the same console: it stays intact
            return
        fields = {"solved": ev.solved, "failed": ev.unsolved}
        if ev.kind == "start":
            # Earlier records count as done from the start; the ETA only learns from this run.
            self.task = self.progress.add_task("batch", total=ev.total, completed=ev.finished, current=ev.message, **fields)
            return
        if self.task is None:
            return
        if ev.kind in ("begin", "stage"):
            self.progress.update(self.task, current=_short(f"{Path(ev.problem).name}: {ev.message}"), **fields)
        elif ev.kind == "record":
            rec = ev.record
            if rec is not None:
                mark = "[green]solved[/]" if rec.solved else "[yellow]error[/]" if rec.error else "[red]unsolved[/]"
                detail = f" - {rec.error}" if rec.error else ""
                self.progress.console.print(
                    f"{mark} {rec.id or rec.path} ({rec.tokens} tok, {rec.wall_s:.1f} s){detail}", highlight=False
                )
            self.progress.update(self.task, completed=ev.finished, current="", **fields)


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def register(app: typer.Typer) -> None:
    @app.command("batch")
    @user_errors
    def batch_command(
        paths: List[Path] = typer.Argument(..., help="Problem files or directories (every problem under them is solved)."),
        out: Path = typer.Option(..., "--out", "-o", help="The run file: one JSON line per finished problem."),
        resume: bool = typer.Option(False, "--resume", help="Finish a run file: skip the problems it already records."),
        workers: int = typer.Option(1, "--workers", min=1, help="Problems solved at once (sharing one model and one sandbox)."),
        limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first M problems (sorted by path)."),
        n: int = N_OPTION,
        rounds: int = ROUNDS_OPTION,
        strategy: StrategyChoice = STRATEGY_OPTION,  # type: ignore[valid-type]
        model: str = MODEL_OPTION,
        sandbox: str = SANDBOX_OPTION,
        seed: int = SEED_OPTION,
        temperature: float = TEMPERATURE_OPTION,
        max_tokens: int = MAX_TOKENS_OPTION,
        language: str = LANGUAGE_OPTION,
        sampling: str = SAMPLING_OPTION,
        temperatures: Optional[str] = TEMPERATURES_OPTION,
        min_p: float = MIN_P_OPTION,
        cache: bool = typer.Option(True, "--cache/--no-cache", help="Reuse results of identical program runs (see docs/batch.md)."),
        completion_cache: Optional[Path] = COMPLETION_CACHE_OPTION,
        trace_dir: Optional[Path] = typer.Option(None, "--trace-dir", help="Save each problem's whole run (prompts, replies, runs, judgements) as DIR/<id>.json."),
        cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Execution cache directory \\[default: $SSTAR_CACHE_DIR or ~/.cache/sstar/exec]."),
        ray: Optional[str] = typer.Option(None, "--ray", metavar="ADDRESS", help="Solve the problems as Ray tasks: 'local' (a Ray instance on this machine), 'auto', or the head's HOST:PORT (pip install 'sstar\\[ray]'; docs/scale.md)."),
        ray_cpus: Optional[int] = typer.Option(None, "--ray-cpus", min=1, help="With --ray local: worker processes (CPUs) of the local Ray instance."),
        min_confidence: float = MIN_CONFIDENCE_OPTION,
        budget: Optional[str] = BUDGET_OPTION,
        set_budget: Optional[int] = typer.Option(None, "--set-budget", metavar="TOKENS", help="One pool of generated tokens for the whole set: equal shares first, then what easy problems left goes to the unsure ones (docs/batch.md)."),
    ) -> None:
        """Solve every problem under PATHS and append one JSON line per problem to --out (resumable)."""
        from sstar.batch import select_problems
        from sstar.errors import SstarError
        from sstar.pipeline.budgeted import apply_budget
        from sstar.session import Session

        config = SolveConfig(strategy=strategy.value, n=n, rounds=rounds, seed=seed, temperature=temperature, max_tokens=max_tokens, language=language, min_confidence=min_confidence)
        config = dataclasses.replace(config, sampling=sampling, temperatures=parse_temperatures(temperatures), min_p=min_p)  # pool (POOL)
        config = apply_budget(config, budget, set_budget)
        if config.set_budget_tokens and ray is not None:
            raise SstarError("--set-budget runs on this machine only; drop --ray or use --budget (per problem)")
        selected = select_problems(paths, limit)  # fail fast on a bad path, before loading a model
        exec_cache = (cache_dir or True) if cache else False
        if ray is not None:
            _batch_on_ray(paths, out, ray, ray_cpus, config, model, sandbox, exec_cache, completion_cache, trace_dir, resume, limit)
            return
        note(f"loading model {model} ...")
        with Session(model, sandbox, config=config, exec_cache=exec_cache, completion_cache=completion_cache, warn=warn) as session:
            session.open()  # the sandbox, then the model: now, not inside the progress bar
            check_endpoint(session.engine)
            with BatchBar() as bar:
                summary = session.batch(selected, out, resume=resume, workers=workers, progress=bar, trace_dir=trace_dir)
        _print_summary(summary)


def check_endpoint(engine: Any) -> None:
    """A served engine that cannot be reached fails now, in one line, not once per problem."""
    inner = getattr(engine, "inner", engine)  # behind the completion cache
    check = getattr(inner, "check", None)
    if callable(check):
        check()


def _batch_on_ray(
    paths: List[Path], out: Path, address: str, cpus: Optional[int], config: SolveConfig, model: str, sandbox: str,
    exec_cache: Any, completion_cache: Optional[Path], trace_dir: Optional[Path], resume: bool, limit: Optional[int],
) -> None:
    from sstar.distributed import RayOptions, RemoteSpec, run_batch_ray

    from sstar.distributed import is_local_model

    if is_local_model(model):  # a missing model is one line here, not a failed actor on every node
        from sstar.models import resolve_model

        resolve_model(model)
    if model.startswith("openai:"):  # every node uses it: check it once here
        from sstar.engine import open_engine

        with open_engine(model) as engine:
            check_endpoint(engine)
    spec = RemoteSpec(
        model=model, sandbox=sandbox, config=config,
        exec_cache=exec_cache if isinstance(exec_cache, bool) else str(exec_cache),
        completion_cache=str(completion_cache) if completion_cache else None,
        trace_dir=str(trace_dir) if trace_dir else None,
    )  # fmt: skip
    options = RayOptions(address=None if address == "local" else address, num_cpus=cpus)
    note(f"solving on Ray ({address}) with {model} ...")
    with BatchBar() as bar:
        summary = run_batch_ray(paths, out, spec, options, resume=resume, limit=limit, progress=bar)
    _print_summary(summary)


def _print_summary(summary: Any) -> None:
    stdout.print(
        f"{summary.out}: {summary.solved}/{summary.solved + summary.unsolved} solved "
        f"({100 * summary.pass_rate:.1f}%), {summary.errors} errors; "
        f"{summary.done} finished in this run, {summary.skipped} recorded earlier, {summary.wall_s:.0f} s",
        highlight=False,
    )
    if summary.cache:
        c = summary.cache
        stderr.print(f"[dim]execution cache: {c['hits']} hits, {c['misses']} misses[/]")
    note(f"next: sstar report {summary.out}")
