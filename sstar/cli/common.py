"""What every command shares: consoles, error reporting, exit codes."""

from __future__ import annotations

import enum
import functools
import sys
from typing import Any, Callable, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from sstar.errors import SstarError
from sstar.models import DEFAULT_MODEL
from sstar.pipeline.types import SolveConfig

F = TypeVar("F", bound=Callable[..., Any])

# Results go to stdout (pipeable); progress, tables meant for people and errors go to stderr.
stdout = Console(soft_wrap=True)
stderr = Console(stderr=True)


def fail(message: str, code: int = 2) -> "typer.Exit":
    # Messages carry paths and pip extras ("sstar[llama]") that rich would read as markup.
    stderr.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


def warn(message: str) -> None:
    stderr.print(f"[yellow]warning:[/] {escape(message)}", highlight=False)


def note(message: str) -> None:
    """A dim line for people on stderr; ``message`` is plain text, never markup."""
    stderr.print(f"[dim]{escape(message)}[/]", highlight=False)


def user_errors(func: F) -> F:
    """Turn SstarError into one clear message and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SstarError as err:
            raise fail(str(err), err.exit_code) from None
        except KeyboardInterrupt:
            stderr.print("[yellow]interrupted[/]")
            raise typer.Exit(130) from None
        except BrokenPipeError:  # e.g. `sstar ... | head`
            sys.stderr.close()
            raise typer.Exit(0) from None

    return wrapper  # type: ignore[return-value]


# Options shared by the commands that run the pipeline (solve, batch): one definition, so
# their defaults and help cannot drift apart. Defaults come from SolveConfig.
_D = SolveConfig()
N_OPTION = typer.Option(_D.n, "-n", "--n", min=1, help="Candidates to sample.")
ROUNDS_OPTION = typer.Option(_D.rounds, "--rounds", min=0, help="Debug rounds per failing candidate.")


def _strategy_choice() -> type[enum.Enum]:
    # typer takes choices from an Enum: this one is made from the strategy registry, so a
    # registered strategy is a --strategy choice without an edit here.
    from sstar.pipeline.strategies import strategy_names

    return enum.Enum("StrategyChoice", [(name, name) for name in strategy_names()], type=str)  # type: ignore[return-value]


StrategyChoice = _strategy_choice()
STRATEGY_OPTION = typer.Option(StrategyChoice(_D.strategy_name), "--strategy", help="sstar, or a baseline.")
MODEL_OPTION = typer.Option(DEFAULT_MODEL, "--model", help="Registry name, path to a .gguf, or openai:MODEL@URL.")
SANDBOX_OPTION = typer.Option("auto", "--sandbox", help="auto, docker or process.")
SEED_OPTION = typer.Option(_D.seed, "--seed", help="Sampling seed (same seed, same run).")
TEMPERATURE_OPTION = typer.Option(_D.temperature, "--temperature", min=0.0)
MAX_TOKENS_OPTION = typer.Option(_D.max_tokens, "--max-tokens", min=16)


def _language(value: str) -> str:
    from sstar.sandbox.base import normalize_language

    try:
        return normalize_language(value)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None


LANGUAGE_OPTION = typer.Option(
    _D.language,
    "--language",
    callback=_language,
    help="The candidates' language: python, or cpp (C++17, compiled in the sandbox; stdin/stdout problems only).",
)
MIN_CONFIDENCE_OPTION = typer.Option(
    _D.min_confidence,
    "--min-confidence",
    min=0.0,
    max=1.0,
    help="Below this confidence (0..1, docs/selection.md) the result is unsure: solve marks the program and exits 1.",
)
COMPLETION_CACHE_OPTION = typer.Option(
    None,
    "--completion-cache",
    help="Reuse the model's answers to identical seeded requests from DIR (to compare strategies on the same samples).",
)
BUDGET_OPTION = typer.Option(
    None,
    "--budget",
    metavar="TOKENS[,SECONDSs]",
    help="Run the budgeted S*: generated tokens per problem (20000, 20k), optionally with seconds (20000,600s); replaces -n and --rounds.",
)


# pool (POOL): how the N candidates are asked for (sstar.pipeline.generate).
def _sampling(value: str) -> str:
    from sstar.pipeline.generate import SAMPLING_MODES

    if value not in SAMPLING_MODES:
        raise typer.BadParameter(f"unknown sampling {value!r}: use one of {', '.join(SAMPLING_MODES)}")
    return value


def parse_temperatures(value: str | None) -> tuple[float, ...]:
    """``"0,0.6,0.8,1.0"`` -> (0.0, 0.6, 0.8, 1.0); empty -> (): every sample at --temperature."""
    if not value or not value.strip():
        return ()
    try:
        temps = tuple(float(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a comma-separated list of temperatures, e.g. 0,0.6,0.8,1.0") from None
    if any(t < 0 or t > 2 for t in temps) or not any(t > 0 for t in temps):
        raise typer.BadParameter(f"{value!r}: temperatures go from 0 to 2 and at least one must be above 0")
    return temps


SAMPLING_OPTION = typer.Option(
    _D.sampling,
    "--sampling",
    callback=_sampling,
    help="How the N candidates are asked for: plain (N samples of one prompt), plans (short different approaches first, one program each), hints (approach framings: brute force, greedy, DP...), mixed (half plain, half plans and hints). The greedy answer stays candidate 0.",
)
TEMPERATURES_OPTION = typer.Option(
    None,
    "--temperatures",
    help="Temperatures the sampled candidates cycle through, e.g. 0,0.6,0.8,1.0 (0 is the greedy candidate, always first) \\[default: --temperature for all].",
)
MIN_P_OPTION = typer.Option(_D.min_p, "--min-p", min=0.0, max=1.0, help="min-p sampling for the sampled candidates (0: off).")
