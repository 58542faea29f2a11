"""Markdown statements: YAML front matter, sample tests, starter code, LeetCode examples.

Sample tests are recognised in three shapes:

* headings ``Sample Input 1`` / ``Sample Output 1`` (any level), the text being the first
  fenced block under the heading, or the heading's plain text when there is none;
* fenced blocks labelled ```` ```input ```` / ```` ```output ```` or right after a short
  paragraph ending in "Input"/"Output" (``**Sample input:**``);
* the CodeContests layout: an ``Examples`` line, then ``Input`` and ``Output`` lines
  each followed by raw text, up to ``Note`` or the next heading. It is read only when
  the first two shapes find nothing: CodeContests statements in ../shared repeat their
  samples as "Sample Input N" sections, which must not count twice.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from sstar.errors import ProblemFormatError
from sstar.functioncall import parse_arguments, parse_literal, signature_params, to_json
from sstar.problem import FunctionSpec, TestCase


@dataclass
class FrontMatter:
    data: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # key -> line in the file
    body: str = ""
    body_line: int = 1  # file line on which the body starts


_FENCE_END = re.compile(r"^(---|\.\.\.)\s*$")


def split_front_matter(text: str, path: Path) -> FrontMatter:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != "---":
        return FrontMatter(body=text)
    end = next((i for i in range(1, len(lines)) if _FENCE_END.match(lines[i])), None)
    if end is None:
        raise ProblemFormatError(path, "front matter opened with '---' is never closed by a '---' line", 1)
    yaml_text = "".join(lines[1:end])
    try:
        node = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(yaml_text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 2 if mark is not None else 1
        raise ProblemFormatError(path, f"bad YAML front matter: {err.problem or err.context}", line) from None
    except yaml.YAMLError as err:
        raise ProblemFormatError(path, f"bad YAML front matter: {err}", 1) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProblemFormatError(path, "front matter must be a mapping of key: value lines", 2)
    key_lines = {}
    if isinstance(node, yaml.MappingNode):
        key_lines = {str(k.value): k.start_mark.line + 2 for k, _ in node.value}
    return FrontMatter(data=data, lines=key_lines, body="".join(lines[end + 1:]), body_line=end + 2)


@dataclass(frozen=True)
class Block:
    label: str  # input | output
    text: str
    line: int  # 1-based, in the body
    heading: str = ""  # the heading it came from, for messages


_md = MarkdownIt("commonmark")
_SAMPLE_HEADING = re.compile(r"(?:sample|example)\s*(input|output)\s*#?\s*(\d*)\s*:?", re.IGNORECASE)
_LABEL_PARAGRAPH = re.compile(r"(?:^|\W)(input|output)\s*(?:\d+\s*)?[:.]?\s*[*_]*\s*$", re.IGNORECASE)
_FENCE_LABELS = {"input": "input", "in": "input", "stdin": "input", "output": "output", "out": "output", "stdout": "output"}
_EXAMPLES = re.compile(r"[*_]*examples?[*_]*\s*:?", re.IGNORECASE)
_NOTE = re.compile(r"[*_]*(notes?|explanations?)[*_]*\s*:?", re.IGNORECASE)
_STARTER = re.compile(r"starter\s+code", re.IGNORECASE)


def _as_text(raw: str) -> str:
    """A test's text: surrounding blank lines removed, one final newline."""
    lines = raw.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) >= 2 and lines[0].lstrip().startswith("```") and lines[-1].strip().startswith("```"):
        lines = lines[1:-1]
    return "\n".join(lines) + "\n" if lines else ""


def _headings(tokens: list[Token]) -> list[tuple[int, int, str, int]]:
    """(token index, heading level, text, first line) of every heading."""
    out = []
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.map:
            out.append((i, int(tok.tag[1:]), tokens[i + 1].content.strip(), tok.map[0]))
    return out


def _labelled_blocks(tokens: list[Token], lines: list[str]) -> list[Block]:
    """Sample blocks from Sample Input/Output headings and labelled fences, in document order."""
    blocks: list[Block] = []
    heads = _headings(tokens)
    fence_in_section: set[int] = set()
    for h, (i, _level, text, line) in enumerate(heads):
        m = _SAMPLE_HEADING.fullmatch(text)
        if not m:
            continue
        end_tok = heads[h + 1][0] if h + 1 < len(heads) else len(tokens)
        end_line = heads[h + 1][3] if h + 1 < len(heads) else len(lines)
        fence = next((j for j in range(i + 3, end_tok) if tokens[j].type in ("fence", "code_block")), None)
        if fence is not None:
            fence_in_section.add(fence)
            body = tokens[fence].content
        else:  # plain text under the heading
            body = "".join(lines[tokens[i].map[1] : end_line]) if tokens[i].map else ""
        blocks.append(Block(m.group(1).lower(), _as_text(body), line + 1, text))
    for j, tok in enumerate(tokens):
        if tok.type != "fence" or j in fence_in_section or not tok.map:
            continue
        label = _FENCE_LABELS.get(tok.info.strip().lower())
        if label is None and j >= 3 and tokens[j - 1].type == "paragraph_close":
            before = tokens[j - 2].content.strip()
            m = _LABEL_PARAGRAPH.search(before)
            if m and len(before) <= 40:
                label = m.group(1).lower()
        if label:
            blocks.append(Block(label, _as_text(tok.content), tok.map[0] + 1))
    return sorted(blocks, key=lambda b: b.line)


def _pair(blocks: list[Block], path: Path, line_offset: int) -> list[tuple[str, str, int]]:
    pairs = []
    pending: Block | None = None
    for b in blocks:
        if b.label == "input":
            if pending is not None and pending.heading:
                raise ProblemFormatError(path, f"'{pending.heading}' has no matching sample output", pending.line + line_offset)
            pending = b
        elif pending is not None:
            pairs.append((pending.text, b.text, pending.line + line_offset))
            pending = None
    if pending is not None and pending.heading:
        raise ProblemFormatError(path, f"'{pending.heading}' has no matching sample output", pending.line + line_offset)
    return pairs


def _examples_section(tokens: list[Token], lines: list[str]) -> list[tuple[str, str, int]]:
    """The CodeContests shape: Examples / Input / <text> / Output / <text> ... / Note."""
    start = None
    for i, tok in enumerate(tokens):
        if tok.level == 0 and tok.type in ("paragraph_open", "heading_open") and tok.map:
            if _EXAMPLES.fullmatch(tokens[i + 1].content.strip()):
                start = tok.map[1]
                break
    if start is None:
        return []
    # Where the section ends: a real heading (a "#####" line of a grid input is an empty one) or "Note".
    stops = [len(lines)]
    for i, tok in enumerate(tokens):
        if tok.map and tok.map[0] >= start and tok.level == 0:
            text = tokens[i + 1].content.strip() if i + 1 < len(tokens) else ""
            if (tok.type == "heading_open" and int(tok.tag[1:]) <= 3 and text) or (
                tok.type == "paragraph_open" and _NOTE.fullmatch(text)
            ):
                stops.append(tok.map[0])
    stop = min(stops)
    pairs: list[tuple[str, str, int]] = []
    label, buf, first = None, [], start
    chunks: list[tuple[str, list[str], int]] = []
    for n in range(start, stop):
        word = lines[n].strip().rstrip(":").strip("*_").lower()
        if word in ("input", "output"):
            if label:
                chunks.append((label, buf, first))
            label, buf, first = word, [], n + 1
        elif label:
            buf.append(lines[n])
    if label:
        chunks.append((label, buf, first))
    for (l1, b1, n1), (l2, b2, _) in zip(chunks, chunks[1:]):
        if l1 == "input" and l2 == "output":
            pairs.append((_as_text("".join(b1)), _as_text("".join(b2)), n1))
    return pairs


def statement_samples(body: str, path: Path, line_offset: int = 0) -> list[TestCase]:
    """The sample tests a stdio statement shows, named sample-1, sample-2, ..."""
    tokens = _md.parse(body)
    lines = body.splitlines(keepends=True)
    pairs = _pair(_labelled_blocks(tokens, lines), path, line_offset)
    if not pairs:  # CodeContests statements repeat their samples as sections; those win
        pairs = [(i, o, n + line_offset) for i, o, n in _examples_section(tokens, lines)]
    return [TestCase(f"sample-{k}", inp, out) for k, (inp, out, _) in enumerate(pairs, 1)]


def title_of(body: str) -> str | None:
    """The text of the first level-1 heading."""
    tokens = _md.parse(body)
    return next((text for _, level, text, _ in _headings(tokens) if level == 1 and text), None)


def starter_code(body: str, entry_name: str) -> str:
    """The fenced block under a "Starter Code" heading, else a python fence defining the entry point."""
    tokens = _md.parse(body)
    heads = _headings(tokens)
    for h, (i, _, text, _) in enumerate(heads):
        if _STARTER.search(text):
            end = heads[h + 1][0] if h + 1 < len(heads) else len(tokens)
            fence = next((tokens[j] for j in range(i, end) if tokens[j].type in ("fence", "code_block")), None)
            if fence is not None:
                return fence.content
    for tok in tokens:
        if tok.type == "fence" and tok.info.strip().lower() in ("python", "py", "python3"):
            if re.search(rf"\bdef\s+{re.escape(entry_name)}\s*\(", tok.content):
                return tok.content
    return ""


_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_IO_LINE = re.compile(r"^[\s>*_`-]*(input|output)\s*[*_]*\s*:\s*[*_]*\s*(.*)$", re.IGNORECASE)


def _clean_value(text: str) -> str:
    return text.strip().strip("`").strip()


def function_examples(body: str, spec: FunctionSpec, path: Path, line_offset: int = 0) -> list[TestCase]:
    """LeetCode-style examples: ``Input: nums = [2,7], target = 9`` then ``Output: [0,1]``.

    Inputs may continue on the following lines until the ``Output:`` line.
    """
    params = signature_params(spec)
    # LeetCode's own statements are HTML: <strong>Input:</strong> nums = [1,2], s = &quot;ab&quot;
    lines = [html.unescape(_TAG.sub("", line)) if "<" in line or "&" in line else line for line in body.splitlines()]
    tests: list[TestCase] = []
    n = 0
    while n < len(lines):
        m = _IO_LINE.match(lines[n])
        if not m or m.group(1).lower() != "input":
            n += 1
            continue
        start, parts = n, [m.group(2)]
        n += 1
        while n < len(lines) and not ((o := _IO_LINE.match(lines[n])) and o.group(1).lower() == "output"):
            if _IO_LINE.match(lines[n]) or not lines[n].strip() or lines[n].strip().startswith("```"):
                break
            parts.append(lines[n])
            n += 1
        o = _IO_LINE.match(lines[n]) if n < len(lines) else None
        if not o or o.group(1).lower() != "output":
            raise ProblemFormatError(path, "example 'Input:' is not followed by an 'Output:' line", start + 1 + line_offset)
        try:
            args = parse_arguments(_clean_value(" ".join(p.strip() for p in parts)), params)
        except ValueError as err:
            raise ProblemFormatError(path, f"example input: {err}", start + 1 + line_offset) from None
        try:
            value = parse_literal(_clean_value(o.group(2)))
        except ValueError as err:
            raise ProblemFormatError(path, f"example output: {err}", n + 1 + line_offset) from None
        tests.append(TestCase(f"example-{len(tests) + 1}", to_json(args), to_json(value)))
        n += 1
    return tests
