"""What every command shares: consoles, error reporting, exit codes."""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable, TypeVar

import typer
from rich.console import Console

from sstar.errors import SstarError

F = TypeVar("F", bound=Callable[..., Any])

# Results go to stdout (pipeable); progress, tables meant for people and errors go to stderr.
stdout = Console(soft_wrap=True)
stderr = Console(stderr=True)


def fail(message: str, code: int = 2) -> "typer.Exit":
    stderr.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


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
