"""Polygon problem packages (Codeforces' problem-preparation system).

A package is a directory with ``problem.xml``; sstar reads from it:

* the first testset (``<judging><testset name="tests">``): time limit (ms), memory limit
  (bytes), the test count and the path patterns of inputs (``tests/%02d``) and answers
  (``tests/%02d.a``); ``<test sample="true">`` tests are public, the others hidden;
* the checker (``<assets><checker><source path="files/check.cpp">``): Polygon's standard
  checkers become sstar's own (``std::wcmp.cpp`` compares tokens, ``std::rcmp6.cpp``
  numbers within 1e-6...), any other runs as a testlib checker in the sandbox, with the
  package's ``files/testlib.h`` inlined;
* the statement: ``statement-sections/english/`` (legend, input, output, notes) or
  ``statements/english/problem.tex``;
* the solutions with their tags (``<solutions><solution tag="main">``), for ``sstar check``.

Generated tests exist in the package only when it was built with them ("full" packages,
or after ``doall.sh``); a missing test file is an error that says so.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from sstar.errors import ProblemFormatError
from sstar.loaders.common import read_text
from sstar.problem import Problem, TestCase

PROBLEM_XML = "problem.xml"
# Polygon's standard checkers that sstar's own checkers match (the rest run as programs).
STANDARD_CHECKERS = {
    "wcmp": "tokens",  # sequences of tokens
    "ncmp": "tokens",  # sequences of integers
    "lcmp": "tokens",  # lines of tokens (line breaks are not compared by sstar's tokens)
    "fcmp": "exact",  # lines, exactly
    "yesno": "tokens:ci",  # one YES or NO, any case
    "nyesno": "tokens:ci",
    "rcmp4": "float:1e-4",
    "rcmp6": "float:1e-6",
    "rcmp9": "float:1e-9",
    "dcmp": "float:1e-6",
}
# Solution tags of Polygon, as sstar check expectations (others are not judged).
SOLUTION_TAGS = {
    "main": "AC",
    "accepted": "AC",
    "wrong-answer": "WA",
    "time-limit-exceeded": "TLE",
    "rejected": "fail",
    "presentation-error": "fail",
    "memory-limit-exceeded": "fail",
}
SECTIONS = (("legend", ""), ("input", "Input"), ("output", "Output"), ("notes", "Notes"))
LANGUAGES = ("english", "russian")


@dataclass(frozen=True)
class PolygonSolution:
    path: Path
    expect: str  # an sstar check expectation: AC, WA, TLE, fail


def is_polygon(folder: Path) -> bool:
    return (folder / PROBLEM_XML).is_file()


def _parse(folder: Path) -> ET.Element:
    path = folder / PROBLEM_XML
    try:
        return ET.fromstring(read_text(path))
    except ET.ParseError as err:
        line = err.position[0] if err.position else None
        raise ProblemFormatError(path, f"not valid XML ({err}); re-export the Polygon package", line) from None


def _pattern_path(folder: Path, pattern: str, index: int, xml: Path) -> Path:
    try:
        return folder / (pattern % index)
    except (TypeError, ValueError):
        raise ProblemFormatError(xml, f"bad path pattern {pattern!r}: expected something like tests/%02d") from None


def _int(node: ET.Element | None, what: str, xml: Path) -> int | None:
    if node is None or node.text is None or not node.text.strip():
        return None
    try:
        return int(node.text.strip())
    except ValueError:
        raise ProblemFormatError(xml, f"<{what}> must be a whole number, not {node.text.strip()!r}") from None


def _statement(folder: Path) -> str:
    for language in LANGUAGES:
        sections = folder / "statement-sections" / language
        if sections.is_dir():
            parts = []
            for name, heading in SECTIONS:
                file = sections / f"{name}.tex"
                if file.is_file():
                    text = read_text(file).strip()
                    if text:
                        parts.append(f"## {heading}\n\n{text}" if heading else text)
            if parts:
                return "\n\n".join(parts)
        tex = folder / "statements" / language / "problem.tex"
        if tex.is_file():
            return read_text(tex).strip()
    return ""


def _checker(root: ET.Element, folder: Path, xml: Path) -> tuple[str, Path | None]:
    node = root.find("./assets/checker")
    if node is None:
        return "tokens", None  # Polygon's default is a token comparison too
    name = (node.get("name") or "").strip()
    standard = re.fullmatch(r"std::(\w+)\.cpp", name)
    if standard and standard.group(1) in STANDARD_CHECKERS:
        return STANDARD_CHECKERS[standard.group(1)], None
    source = node.find("source")
    if source is None or not source.get("path"):
        raise ProblemFormatError(xml, f"the checker {name or '(unnamed)'} has no <source path=...>")
    path = folder / str(source.get("path"))
    if not path.is_file():
        raise ProblemFormatError(xml, f"the checker's source {source.get('path')} is missing from the package")
    kind = node.get("type") or "testlib"
    if kind != "testlib":
        raise ProblemFormatError(xml, f"checker type {kind!r} is not supported (only testlib checkers)")
    return "testlib", path.resolve()


def load_polygon(folder: Path) -> Problem:
    xml = folder / PROBLEM_XML
    root = _parse(folder)
    if root.tag != "problem":
        raise ProblemFormatError(xml, f"the root element is <{root.tag}>, not <problem>: is this a Polygon package?")
    if root.find("./assets/interactor") is not None:
        raise ProblemFormatError(xml, "interactive problems (an <interactor>) are not supported")
    judging = root.find("./judging")
    for attr in ("input-file", "output-file"):
        if judging is not None and (judging.get(attr) or "").strip():
            raise ProblemFormatError(xml, f"{attr}={judging.get(attr)!r}: problems that read or write files instead of stdin/stdout are not supported")
    testset = root.find("./judging/testset")
    if testset is None:
        raise ProblemFormatError(xml, "no <judging><testset>: the package has no tests")
    time_ms = _int(testset.find("time-limit"), "time-limit", xml)
    memory = _int(testset.find("memory-limit"), "memory-limit", xml)
    declared = testset.findall("./tests/test")
    count = _int(testset.find("test-count"), "test-count", xml)
    count = len(declared) if count is None else count
    if count == 0:
        raise ProblemFormatError(xml, "the testset has no tests")
    input_pattern = (testset.findtext("input-path-pattern") or "tests/%02d").strip()
    answer_pattern = (testset.findtext("answer-path-pattern") or "tests/%02d.a").strip()
    public: list[TestCase] = []
    hidden: list[TestCase] = []
    for index in range(1, count + 1):
        inp = _pattern_path(folder, input_pattern, index, xml)
        ans = _pattern_path(folder, answer_pattern, index, xml)
        for file, what in ((inp, "input"), (ans, "answer")):
            if not file.is_file():
                raise ProblemFormatError(
                    xml, f"test {index}'s {what} {file.relative_to(folder)} is missing: use a full package (with tests), or run doall.sh in it"
                )
        case = TestCase(f"{'sample' if _is_sample(declared, index) else 'test'}/{index:02d}", read_text(inp), read_text(ans))
        (public if _is_sample(declared, index) else hidden).append(case)
    if not public:  # no test is marked as a sample: the first one is shown, as Codeforces shows it
        public, hidden = hidden[:1], hidden[1:]
    checker, validator = _checker(root, folder, xml)
    name_node = root.find("./names/name")
    short = root.get("short-name") or folder.name
    title = name_node.get("value") if name_node is not None and name_node.get("value") else short
    return Problem(
        id=short,
        title=title,
        statement=_statement(folder),
        public_tests=tuple(public),
        hidden_tests=tuple(hidden),
        checker=checker,
        validator=validator,
        time_limit_s=time_ms / 1000 if time_ms else None,
        memory_limit_mb=memory // (1024 * 1024) if memory else None,
        source=folder,
        meta={"format": "polygon"},
    )


def _is_sample(declared: list[ET.Element], index: int) -> bool:
    return index <= len(declared) and declared[index - 1].get("sample") == "true"


def polygon_solutions(folder: Path) -> list[PolygonSolution]:
    """The package's solutions whose tag sstar check can judge, with what each must get."""
    from sstar.sandbox.base import language_of

    root = _parse(folder)
    found = []
    for node in root.findall("./assets/solutions/solution"):
        expect = SOLUTION_TAGS.get(node.get("tag") or "")
        source = node.find("source")
        if expect is None or source is None or not source.get("path"):
            continue
        path = folder / str(source.get("path"))
        if path.is_file() and language_of(path) is not None:
            found.append(PolygonSolution(path, expect))
    return found
