"""The CLI as a whole: help texts reach the user as written."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from rich.text import Text
from typer.testing import CliRunner

from sstar.cli.main import app


def _commands(cmd: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    # Typer ships its own click, so walk groups by shape rather than by class.
    yield path, cmd
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _commands(sub, (*path, name))


ROOT = typer.main.get_command(app)
COMMANDS = list(_commands(ROOT))


def _help_texts(cmd: Any) -> Iterator[str]:
    if cmd.help:
        yield cmd.help
    for param in cmd.params:
        help_text = getattr(param, "help", None)
        if help_text:
            yield help_text


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=[" ".join(p) or "sstar" for p, _ in COMMANDS])
def test_help_text_survives_rich_markup(path: tuple[str, ...], cmd: Any) -> None:
    """Typer renders help as rich markup: an unescaped "[plot]" or "[default: ...]" vanishes.

    Brackets meant literally must be written "\\[" in the source.
    """
    for text in _help_texts(cmd):
        meant = text.replace("\\[", "[")
        assert Text.from_markup(text).plain == meant, f"{' '.join(path)}: rich markup eats part of {text!r}"


def test_rendered_help_shows_bracketed_text() -> None:
    # The rendered form, end to end: the extra's name and the default path are on screen.
    result = CliRunner().invoke(app, ["report", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    flat = re.sub(r"[\s│]+", " ", result.output)
    assert "sstar[plot]" in flat
    result = CliRunner().invoke(app, ["check", "--help"], env={"COLUMNS": "200"})
    assert "[default: $SSTAR_CACHE_DIR or ~/.cache/sstar/exec]" in re.sub(r"[\s│]+", " ", result.output)


def test_the_summary_says_no_program_rather_than_a_verdict_on_no_tests() -> None:
    from rich.console import Console

    from sstar.cli.solve_cmd import summary_table
    from sstar.pipeline.types import SolveResult
    from sstar.verdict import JudgeReport

    def render(result: SolveResult) -> str:
        console = Console(width=120, record=True)
        console.print(summary_table(result))
        return console.export_text()

    empty = render(SolveResult(problem_id="p", strategy="sstar", program="", public=JudgeReport(), interrupted=True))
    assert "no program" in empty and "(AC)" not in empty
    assert "0/0" not in empty
