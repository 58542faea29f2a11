"""`sstar judge PROGRAM PROBLEM`: run a program on a problem's tests and show the verdicts."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from enum import Enum
from pathlib import Path
from typing import Any, Optional

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
    Verdict.CE: "bold red",
    Verdict.PE: "bold red",
}
DETAIL_LINES = 30  # lines of input, expected and actual output shown per failing test
DETAIL_CHARS = 2000


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


def program_language(path: Path, language: str | None = None) -> str:
    """The language of the program at ``path``: ``language`` when given, else from the
    extension (.py, .cpp/.cc/.cxx; a file without one is Python)."""
    from sstar.sandbox.base import language_of, normalize_language

    if language:
        try:
            return normalize_language(language)
        except ValueError as err:
            raise SstarError(f"--language: {err}") from None
    found = language_of(path)
    if found is None and path.suffix:
        raise SstarError(f"{path}: unknown language of {path.suffix} files; use .py, .cpp, .cc or .cxx, or pass --language python|cpp")
    return found or "python"


def read_program(path: Path, language: str | None = None) -> Any:
    """The program at ``path`` as a sandbox Program (language from --language or the extension)."""
    from sstar.sandbox.base import Program

    if not path.is_file():
        raise SstarError(f"{path}: no such program file")
    lang = program_language(path, language)
    try:
        return Program(path.read_text(encoding="utf-8"), lang)
    except (OSError, UnicodeDecodeError) as err:
        raise SstarError(f"{path}: cannot read the program ({err})") from None


def clip_block(text: str, lines: int = DETAIL_LINES, chars: int = DETAIL_CHARS) -> str:
    """``text`` cut to its first ``lines`` lines and ``chars`` characters, saying what was cut."""
    all_lines = text.splitlines()
    joined = "\n".join(all_lines[:lines])
    if len(all_lines) <= lines and len(joined) <= chars:
        return joined
    shown = joined[:chars]
    hidden_lines = len(all_lines) - len(shown.splitlines())
    return shown + f"\n… [{len(text) - len(shown)} more characters, {hidden_lines} more lines]"


def failure_details(report: JudgeReport, cases: Any, limit: int) -> list[str]:
    """Like `oj test`: for the first ``limit`` failing tests, the input, the expected output
    and what the program printed (or, for CE/RE, the compiler's or the program's stderr)."""
    blocks: list[str] = []
    failing = [(t, c) for t, c in zip(report.tests, cases) if not t.passed and t.verdict is not Verdict.SE]
    for result, case in failing[:limit]:
        parts = [f"── {result.name}: {result.verdict.value}" + (f"  {result.message}" if result.message else "")]
        if result.verdict is Verdict.CE:
            parts.append("compiler output:\n" + clip_block(result.stderr_tail, 40, 4000))
            blocks.append("\n".join(parts))
            return blocks  # the same for every test
        parts.append("input:\n" + clip_block(case.input))
        if case.expected is not None:
            parts.append("expected:\n" + clip_block(case.expected))
        parts.append("got:\n" + (clip_block(result.output) if result.output.strip() else "(nothing)"))
        if result.stderr_tail.strip() and result.verdict in (Verdict.RE, Verdict.MLE, Verdict.WA, Verdict.PE):
            parts.append("stderr:\n" + clip_block(result.stderr_tail.strip(), 15, 1500))
        blocks.append("\n".join(parts))
    if len(failing) > limit:
        blocks.append(f"… and {len(failing) - limit} more failing tests (--details N shows more)")
    return blocks


def register(app: typer.Typer) -> None:
    @app.command("judge")
    @user_errors
    def judge_command(
        program: Path = typer.Argument(..., help="The program to judge: .py or .cpp/.cc/.cxx (for function-call problems: the Python solution code)."),
        problem: Path = typer.Argument(..., help="problem.md, a problem directory, a Kattis or Polygon package, or DATA.jsonl#N (LiveCodeBench, CodeContests)."),
        tests: Which = typer.Option(Which.public, "--tests", help="Which tests: public, hidden or all."),
        sandbox: str = SANDBOX_OPTION,
        time_limit: Optional[float] = typer.Option(None, "--time-limit", min=0.01, help="Seconds per test (default: the problem's, else 4)."),
        memory_limit: Optional[int] = typer.Option(None, "--memory-limit", min=16, help="MB per test (default: the problem's, else 512)."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON instead of a table."),
        language: Optional[str] = typer.Option(None, "--language", help="python or cpp (default: from the file extension)."),
        checker: Optional[str] = typer.Option(None, "--checker", help="exact, tokens, tokens:ci, float:EPS, or a testlib checker program (CHECKER input output answer; .cpp or .py) instead of the problem's."),
        jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Tests run in parallel (default: the number of cores)."),
        details: int = typer.Option(3, "--details", min=0, help="Failing tests shown with their input, expected and actual output."),
    ) -> None:
        """Judge PROGRAM on PROBLEM's tests. Exit 0 when every test passes, 1 when one fails, 2 on input errors
        or when the sandbox failed on some tests (SE) and no test failed."""
        from sstar.judge import limits_for, with_checker
        from sstar.loaders import load_problem
        from sstar.session import Session

        source = read_program(program, language)
        prob = load_problem(problem)
        if checker is not None:
            prob = with_checker(prob, checker)
        if prob.kind.value == "function" and source.language != "python":
            raise SstarError(f"{problem}: a function-call problem takes a Python solution (a class or function), not {source.language}")
        cases = prob.tests(tests.value)
        if not cases:
            raise SstarError(f"{problem}: the problem has no {tests.value} tests")
        limits = limits_for(prob, time_s=time_limit, memory_mb=memory_limit)

        bar = Progress(TextColumn("judging"), BarColumn(), MofNCompleteColumn(), console=stderr, transient=True)
        task = bar.add_task("judge", total=len(cases))

        def advance(_: TestResult) -> None:
            bar.advance(task)

        with Session(sandbox=sandbox, parallel=jobs, warn=warn) as session:  # no model is loaded to judge
            with bar if stderr.is_terminal and not as_json else nullcontext():
                report = session.judge(source, prob, tests=tests.value, limits=limits, on_result=advance)

        if as_json:
            sys.stdout.write(json.dumps(report.to_json()) + "\n")
        else:
            stdout.print(report_table(report, f"{prob.title} ({tests.value} tests, {limits.time_s:g} s, {limits.memory_mb} MB)"))
            style = VERDICT_STYLE[report.verdict]
            for block in failure_details(report, cases, details):
                stdout.print(block, highlight=False, markup=False)
            stdout.print(f"[{style}]{report.verdict.value}[/]  {report.passed}/{report.total} tests passed", highlight=False)
        if report.sandbox_failed:
            count = sum(t.verdict is Verdict.SE for t in report.tests)
            warn(f"{count} test(s) got SE: the sandbox failed on them, not the program; it was restarted, run `sstar judge` again")
        failed = any(t.verdict not in (Verdict.AC, Verdict.SE) for t in report.tests)
        raise typer.Exit(0 if report.all_passed else 1 if failed else 2)

