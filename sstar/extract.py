"""Getting the program out of a model's reply.

Rules (in this order; each is a decision, documented so the pipeline can rely on it):

1. Fenced blocks (```lang or ~~~lang) are parsed line by line, CommonMark style: a block
   closes at a fence line of the same character at least as long as the opening one.
   A fence left open (a reply cut off at max_tokens) runs to the end of the reply.
2. Candidates are the blocks tagged with the wanted language (```python, ```py, ...) and
   the untagged blocks; blocks tagged with another language (```text, ```bash, sample
   input shown as ```plaintext) and interactive transcripts (``>>>`` lines) are never
   programs. If there are tagged blocks, untagged ones are used only when no tagged block
   is program-like.
3. Among the candidates the one chosen is the best by, in order: program-like (reads
   stdin or has an entry point), compiles, fence closed, position (later wins: a model that
   corrects itself puts the corrected version last).
4. Helpers: if the chosen block calls functions or classes that it does not define and an
   earlier candidate block defines them, those top-level definitions (and the imports of
   that block) are prepended: small models often split "the function" and "the main part"
   over two blocks. Nothing else from earlier blocks is merged, so code is never run twice.
5. No fence at all: the whole reply if it compiles; otherwise the reply with leading and
   trailing prose lines removed (a prose line is one that is not valid Python on its own).
6. Missing standard-library imports are added: a name the program uses but binds nowhere
   (no assignment, import, definition, argument, builtin; no ``import *``) that is a module
   of ``_MODULE_IMPORTS`` used as ``name.attr``, or a function or class of
   ``_NAME_IMPORTS`` (``ceil``, ``defaultdict``, ...), gets its import line. Small models
   write ``sys.stdin.read()`` without ``import sys`` often enough to matter (4 % of the
   programs in the session-5 traces crashed on exactly this; docs/benchmarks.md).

The result always ends with exactly one newline and has no leading or trailing blank lines,
so ``extract_code(extract_code(r)) == extract_code(r)``.
"""

from __future__ import annotations

import ast
import builtins
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

__all__ = ["CodeBlock", "add_missing_imports", "add_missing_includes", "closed_block_end", "extract_code", "find_blocks", "prepend_statements"]

_LANGUAGE_TAGS: dict[str, frozenset[str]] = {
    "python": frozenset({"python", "python3", "py", "py3", "pypy", "pypy3"}),
    "cpp": frozenset({"cpp", "c++", "cc", "cxx"}),
    "c": frozenset({"c"}),
    "java": frozenset({"java"}),
}

_OPEN_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\n]*?)\s*$")
_STDIN_HINTS = re.compile(r"\binput\s*\(|sys\.stdin|open\s*\(\s*0\s*[,)]|fileinput|stdin\.")
_ENTRY_HINTS = re.compile(r"^\s*def\s+(main|solve)\s*\(|__name__\s*==\s*['\"]__main__['\"]", re.MULTILINE)
_CONTINUATION_KEYWORDS = re.compile(r"^\s*(else|elif\b.*|except\b.*|finally|try|with\b.*)\s*:")
_SENTENCE_START = re.compile(r"^(\*\*|[-*+] |\d+[.)] |#{1,6} |>|[A-Z][a-z']*(\b[ ,:;.!?]|$)|[A-Z]\b)")
_BUILTIN_NAMES = frozenset(dir(builtins))

# Rule 6. Modules are imported only when used as ``module.attr``; the names are the
# unambiguous ones of contest code (not ``count`` or ``chain``, which programs also use
# as plain variables).
_MODULE_IMPORTS = frozenset(
    "sys math bisect collections heapq itertools functools re string random decimal fractions "
    "operator copy statistics os io time array typing".split()
)
_NAME_IMPORTS: dict[str, str] = {
    name: module
    for module, names in {
        "math": "ceil floor gcd sqrt isqrt lcm factorial comb perm log2 log10 hypot inf pi",
        "collections": "defaultdict Counter deque OrderedDict namedtuple",
        "itertools": "permutations combinations combinations_with_replacement product accumulate groupby",
        "heapq": "heappush heappop heapify heappushpop heapreplace nlargest nsmallest",
        "bisect": "bisect_left bisect_right insort insort_left insort_right",
        "functools": "lru_cache reduce cmp_to_key",
        "fractions": "Fraction",
        "decimal": "Decimal getcontext",
        "typing": "List Dict Tuple Set Optional",
    }.items()
    for name in names.split()
}


@dataclass(frozen=True)
class CodeBlock:
    """One fenced block of a reply."""

    info: str  # the fence's info string, e.g. "python"; "" when untagged
    code: str
    closed: bool  # False when the reply ended inside the block
    index: int  # position among the reply's blocks

    @property
    def tag(self) -> str:
        return self.info.split()[0].lower() if self.info.strip() else ""


def _fences(lines: list[str]) -> Iterator[tuple[re.Match[str], int, int]]:
    """(opening fence match, its line, its closing line) for each fenced block of ``lines``.

    The closing line is ``len(lines)`` for a block left open. Blocks do not nest: scanning
    goes on after the closing line.
    """
    i = 0
    while i < len(lines):
        m = _OPEN_FENCE.match(lines[i])
        if m is None or (m["fence"][0] == "`" and "`" in m["info"]):
            i += 1
            continue
        fence = m["fence"]
        closer = re.compile(r"^ {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
        j = i + 1
        while j < len(lines) and not closer.match(lines[j]):
            j += 1
        yield m, i, j
        i = j + 1


def find_blocks(reply: str) -> list[CodeBlock]:
    """Every fenced block of ``reply``, in order (see rule 1 in the module docstring)."""
    lines = reply.splitlines()
    blocks: list[CodeBlock] = []
    for m, start, end in _fences(lines):
        indent = len(m["indent"])
        body = "\n".join(_strip_indent(line, indent) for line in lines[start + 1 : end])
        blocks.append(CodeBlock(m["info"].strip(), body, end < len(lines), len(blocks)))
    return blocks


def closed_block_end(reply: str, language: str = "python") -> int | None:
    """Where the first closed block tagged ``language`` ends (just after its closing fence).

    None while no such block has closed. Engines stop a sequence there when asked to
    (``SamplingParams.stop_after_block``): what follows the program is never used. Blocks
    with another tag or none (a sample quoted as ```` ``` ````) do not count, so a reply that
    quotes the input before its program is not cut short.
    """
    if "```" not in reply and "~~~" not in reply:
        return None
    tags = _LANGUAGE_TAGS.get(language.lower(), frozenset({language.lower()}))
    # The last line may still be growing ("``" of a closing "```"): only complete lines count.
    lines = reply.split("\n")[:-1]
    for m, start, end in _fences(lines):
        if end == len(lines):
            return None
        info = m["info"].strip()
        if info and info.split()[0].lower() in tags:
            return sum(len(line) + 1 for line in lines[:end]) + len(lines[end])
    return None


def extract_code(reply: str, language: str = "python") -> str | None:
    """The program in a model's reply, or None when the reply has no code at all."""
    language = language.lower()
    tags = _LANGUAGE_TAGS.get(language, frozenset({language}))
    is_python = language == "python"
    if language == "cpp":
        return _extract_cpp(reply, tags)
    blocks = find_blocks(reply)
    if not blocks:
        if not is_python:
            return _normalize(reply) or None
        return _normalize(add_missing_imports(_unfenced(reply))) or None

    tagged = [b for b in blocks if b.tag in tags and _normalize(b.code)]
    untagged = [b for b in blocks if not b.tag and _normalize(b.code)]
    if is_python:
        tagged = [b for b in tagged if not _is_transcript(b.code)]
        untagged = [b for b in untagged if not _is_transcript(b.code) and _looks_like_python(b.code)]
    if not is_python:
        pool = tagged or untagged
        return _normalize(pool[-1].code) if pool else None

    if tagged and any(_is_program(b.code) for b in tagged):
        pool = tagged
    else:
        pool = tagged + untagged
    if not pool:
        return None
    best = max(pool, key=lambda b: (_is_program(b.code), _compiles(b.code), b.closed, b.index))
    earlier = sorted((b for b in pool if b.index < best.index), key=lambda b: -b.index)
    return _normalize(add_missing_imports(_with_helpers(best.code, [b.code for b in earlier])))


# --- C++ -----------------------------------------------------------------------------

_CPP_HINTS = re.compile(r"^\s*#\s*include\b|\bmain\s*\(", re.MULTILINE)
_CPP_MAIN = re.compile(r"\bmain\s*\(")
_CPP_INCLUDE = re.compile(r"^\s*#\s*include\b", re.MULTILINE)
_CPP_USING_STD = re.compile(r"\busing\s+namespace\s+std\s*;")
# Names a contest program uses unqualified, relying on ``using namespace std``.
_CPP_STD_NAMES = re.compile(r"(?<![\w:])(cin|cout|cerr|endl|vector|string|map|set|pair|sort|min|max|swap|ios|queue|deque|priority_queue)\b")
_CPP_CODE_END = (";", "{", "}", ")", ",", "\\")


def _extract_cpp(reply: str, tags: frozenset[str]) -> str | None:
    """The C++ program of a reply: the ```cpp block with a main (the last such one), else an
    untagged block or unfenced text that looks like C++ (an include or a main), never prose or
    a quoted sample. No Python post-processing: only a missing include is added."""
    blocks = find_blocks(reply)
    if blocks:
        tagged = [b for b in blocks if b.tag in tags and _normalize(b.code)]
        untagged = [b for b in blocks if not b.tag and _CPP_HINTS.search(b.code)]
        pool = tagged or untagged
        if not pool:
            return None
        best = max(pool, key=lambda b: (bool(_CPP_MAIN.search(b.code)), b.closed, b.index))
        return _normalize(add_missing_includes(_normalize(best.code))) or None
    if not _CPP_HINTS.search(reply):
        return None
    return _normalize(add_missing_includes(_unfenced_cpp(reply))) or None


def _is_cpp_prose(line: str) -> bool:
    # A sentence around the code ("Here is the program:"); code lines end like code.
    stripped = line.strip()
    return bool(_SENTENCE_START.match(stripped)) and not stripped.endswith(_CPP_CODE_END) and not stripped.startswith("#")


def _unfenced_cpp(reply: str) -> str:
    lines = reply.replace("\r\n", "\n").split("\n")
    start, end = 0, len(lines)
    while start < end and (not lines[start].strip() or _is_cpp_prose(lines[start])):
        start += 1
    while end > start and (not lines[end - 1].strip() or _is_cpp_prose(lines[end - 1])):
        end -= 1
    return "\n".join(lines[start:end])


def add_missing_includes(code: str) -> str:
    """``code`` with ``#include <bits/stdc++.h>`` first when it includes nothing (a small
    model often writes only main), and ``using namespace std;`` when it then uses standard
    names unqualified; code that has an include is left alone (its error is the compiler's
    to report)."""
    if not code.strip() or _CPP_INCLUDE.search(code):
        return code
    head = ["#include <bits/stdc++.h>"]
    if not _CPP_USING_STD.search(code) and _CPP_STD_NAMES.search(code):
        head.append("using namespace std;")
    return "\n".join(head) + "\n" + code


# --- helpers -------------------------------------------------------------------------


def program_fingerprint(code: str) -> str:
    """Equal for programs that differ only in comments, blank lines and formatting.

    The syntax tree when the code parses (docstrings included: they rarely change alone),
    else the code with blank lines and trailing spaces removed.
    """
    tree = _parse(code)
    if tree is not None:
        return ast.dump(tree, annotate_fields=False)
    return "\n".join(line.rstrip() for line in code.strip().splitlines() if line.strip())


def _strip_indent(line: str, indent: int) -> str:
    # CommonMark: an indented opening fence removes up to that much indentation from the body.
    k = 0
    while k < indent and k < len(line) and line[k] == " ":
        k += 1
    return line[k:]


def _normalize(code: str) -> str:
    lines = [ln.rstrip() for ln in code.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def _parse(code: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():  # e.g. SyntaxWarning for "\d" in model-written strings
            warnings.simplefilter("ignore")
            return ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def _compiles(code: str) -> bool:
    return _parse(code) is not None


def _is_program(code: str) -> bool:
    return bool(_STDIN_HINTS.search(code) or _ENTRY_HINTS.search(code))


def _is_transcript(code: str) -> bool:
    lines = [ln for ln in code.splitlines() if ln.strip()]
    prompts = sum(1 for ln in lines if ln.lstrip().startswith(">>>"))
    return bool(lines) and prompts * 2 >= len(lines)


def _looks_like_python(code: str) -> bool:
    # An untagged block could be sample input ("3\n1 2 3") or output: those compile too,
    # so ask for some statement that data never has.
    tree = _parse(code)
    if tree is None:
        return _is_program(code) or bool(re.search(r"^\s*(def|class|import|from|for|while|if)\b", code, re.MULTILINE))
    return any(not isinstance(node, ast.Expr) or isinstance(node.value, ast.Call) for node in tree.body)


def _is_prose_line(line: str) -> bool:
    # Prose: starts like a sentence or a Markdown list item, and is not Python on its own.
    # A truncated code line ("print(ans") is not prose: it starts like code.
    stripped = line.strip()
    if not _SENTENCE_START.match(stripped) or _CONTINUATION_KEYWORDS.match(stripped):
        return False
    candidate = stripped + ("\n    pass" if stripped.endswith(":") else "")
    return not _compiles(candidate)


def _unfenced(reply: str) -> str:
    if _compiles(reply):
        return reply if _normalize(reply) and _looks_like_python(reply) else ""
    lines = reply.replace("\r\n", "\n").split("\n")
    start, end = 0, len(lines)
    while start < end and (_is_prose_line(lines[start]) or not lines[start].strip()):
        start += 1
    while end > start and (_is_prose_line(lines[end - 1]) or not lines[end - 1].strip()):
        end -= 1
    body = "\n".join(lines[start:end])
    return body if _normalize(body) and _looks_like_python(body) else ""


def _defined_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        # Binders that hold a plain string, not a Name node.
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
    return names


def _called_names(tree: ast.AST) -> set[str]:
    return {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }


def _with_helpers(code: str, earlier: list[str]) -> str:
    tree = _parse(code)
    if tree is None:
        return code
    defined = _defined_names(tree)
    missing = _called_names(tree) - defined - _BUILTIN_NAMES
    prefix: list[str] = []
    for other in earlier:  # nearest block first
        if not missing:
            break
        other_tree = _parse(other)
        if other_tree is None:
            continue
        wanted = [
            node
            for node in other_tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in missing
        ]
        if not wanted:
            continue
        # Pull in what the helpers themselves call, from the same block, until closed.
        by_name = {
            n.name: n for n in other_tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        }
        chosen: dict[str, ast.stmt] = {}
        queue = list(wanted)
        while queue:
            node = queue.pop()
            name = node.name  # type: ignore[attr-defined]
            if name in chosen or name in defined:
                continue
            chosen[name] = node
            queue.extend(by_name[c] for c in _called_names(node) if c in by_name and c not in chosen)
        keep = [
            n
            for n in other_tree.body
            if isinstance(n, (ast.Import, ast.ImportFrom)) or any(n is c for c in chosen.values())
        ]
        parts = [_source_lines(other, n) for n in keep]
        prefix = [p for p in parts if p] + prefix
        defined |= set(chosen)
        missing -= set(chosen)
    if not prefix:
        return code
    merged = "\n\n".join(prefix) + "\n\n\n" + code
    return merged if _compiles(merged) else code


def add_missing_imports(code: str) -> str:
    """``code`` with the standard-library imports it uses but lacks (rule 6), else unchanged."""
    tree = _parse(code)
    if tree is None:
        return code
    nodes = list(ast.walk(tree))
    if any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in nodes):
        return code  # anything may come from a star import
    bound = _defined_names(tree) | _BUILTIN_NAMES
    attribute_bases = {id(n.value) for n in nodes if isinstance(n, ast.Attribute)}
    only_attribute: dict[str, bool] = {}  # free name -> every use is ``name.attr``
    for n in nodes:
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in bound:
            only_attribute[n.id] = only_attribute.get(n.id, True) and id(n) in attribute_bases
    free = sorted(only_attribute)
    lines = [f"import {name}" for name in free if name in _MODULE_IMPORTS and only_attribute[name]]
    lines += [f"from {_NAME_IMPORTS[name]} import {name}" for name in free if name in _NAME_IMPORTS]
    if not lines:
        return code
    return _insert_at_top(code, tree, lines)


def prepend_statements(code: str, lines: Sequence[str]) -> str | None:
    """``code`` with ``lines`` run first (after its docstring and ``__future__`` imports).

    None when ``code`` does not parse.
    """
    tree = _parse(code)
    return None if tree is None else _insert_at_top(code, tree, lines)


def _insert_at_top(code: str, tree: ast.Module, lines: Sequence[str]) -> str:
    # After a docstring and ``from __future__`` imports, which must come first.
    at = 0
    for node in tree.body:
        is_docstring = at == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        if not (is_docstring or (isinstance(node, ast.ImportFrom) and node.module == "__future__")):
            break
        at = node.end_lineno or 0
    source = code.splitlines()
    return "\n".join(source[:at] + list(lines) + source[at:]) + "\n"


def _source_lines(source: str, node: ast.stmt) -> str:
    """The full lines of a top-level statement, decorators included."""
    lines = source.splitlines()
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
    return "\n".join(lines[first : node.end_lineno])
