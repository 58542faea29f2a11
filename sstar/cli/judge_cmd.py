"""`sstar judge PROGRAM PROBLEM`: run a program on a problem's tests and show the verdicts."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from sstar.cli.common import SANDBOX_OPTION, stderr, stdout, user_errors, warn
from sstar.errors import SstarError
from sstar.verdict import JudgeReport, TestResult, Verdict

VERDICT_STYLE = {
    Verdict.AC: "bold green",
    Verdict.WA: "bold red",
    Verdict.TLE: "bold yellow",
    Verdict.MLE: "bold magenta",
    Verdict.RE: "bold red",
    Verdict.OLE: "bold magenta",
    Verdict.SE: "bold blue",
}


class Which(str, Enum):
    public = "public"
    hidden = "hidden"
    all = "all"


def report_table(report: JudgeReport, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("test")
    table.add_column("verdict")
    table.add_column("time", justify="right")
    table.add_column("memory", justify="right")
    table.add_column("message", overflow="fold")
    for t in report.tests:
        style = VERDICT_STYLE[t.verdict]
        table.add_row(t.name, f"[{style}]{t.verdict.value}[/]", f"{t.time_s:.2f} s", f"{t.memory_mb:.0f} MB", t.message, end_section=False)
    return table


def read_program(path: Path) -> str:
    if not path.is_file():
        raise SstarError(f"{path}: no such program file")
    if path.suffix not in (".py", ""):
        raise SstarError(f"{path}: only Python programs (.py) can be judged")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SstarError(f"{path}: cannot read the program ({err})") from None


def register(app: typer.Typer) -> None:
    @app.command("judge")
    @user_errors
    def judge_command(
        program: Path = typer.Argument(..., help="The Python program to judge (for function-call problems: the solution code)."),
        problem: Path = typer.Argument(..., help="problem.md, a problem directory or a Kattis package."),
        tests: Which = typer.Option(Which.public, "--tests", help="Which tests: public, hidden or all."),
        sandbox: str = SANDBOX_OPTION,
        time_limit: Optional[float] = typer.Option(None, "--time-limit", min=0.01, help="Seconds per test (default: the problem's, else 4)."),
        memory_limit: Optional[int] = typer.Option(None, "--memory-limit", min=16, help="MB per test (default: the problem's, else 512)."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON instead of a table."),
    ) -> None:
        """Judge PROGRAM on PROBLEM's tests. Exit 0 when every test passes, 1 when one fails, 2 on input errors
        or when the sandbox failed on some tests (SE) and no test failed."""
        from sstar.judge import judge, limits_for
        from sstar.loaders import load_problem
        from sstar.sandbox import open_sandbox

        source = read_program(program)
        prob = load_problem(problem)
        cases = prob.tests(tests.value)
        if not cases:
            raise SstarError(f"{problem}: the problem has no {tests.value} tests")
        limits = limits_for(prob, time_s=time_limit, memory_mb=memory_limit)

        bar = Progress(TextColumn("judging"), BarColumn(), MofNCompleteColumn(), console=stderr, transient=True)
        task = bar.add_task("judge", total=len(cases))

        def advance(_: TestResult) -> None:
            bar.advance(task)

        with open_sandbox(sandbox, warn=warn) as box:
            with bar if stderr.is_terminal and not as_json else nullcontext():
                report = judge(source, prob, box, tests=tests.value, limits=limits, on_result=advance)

        if as_json:
            sys.stdout.write(json.dumps(report.to_json()) + "\n")
        else:
            stdout.print(report_table(report, f"{prob.title} ({tests.value} tests, {limits.time_s:g} s, {limits.memory_mb} MB)"))
            style = VERDICT_STYLE[report.verdict]
            stdout.print(f"[{style}]{report.verdict.value}[/]  {report.passed}/{report.total} tests passed", highlight=False)
        if report.sandbox_failed:
            count = sum(t.verdict is Verdict.SE for t in report.tests)
            warn(f"{count} test(s) got SE: the sandbox failed on them, not the program; it was restarted, run `sstar judge` again")
        failed = any(t.verdict not in (Verdict.AC, Verdict.SE) for t in report.tests)
        raise typer.Exit(0 if report.all_passed else 1 if failed else 2)

