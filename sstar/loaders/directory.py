"""Single ``problem.md`` files and problem directories (problem.md + tests/ + meta.json)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sstar.errors import ProblemFormatError
from sstar.functioncall import order_named, parse_entry_point, signature_params, to_json
from sstar.loaders.common import (
    Options,
    json_key_line,
    parse_options,
    read_json,
    read_text,
    test_pairs,
    unique_names,
)
from sstar.loaders.markdown import (
    FrontMatter,
    function_examples,
    split_front_matter,
    starter_code,
    statement_samples,
    title_of,
)
from sstar.problem import FunctionSpec, Problem, ProblemKind, TestCase


def _function_spec(opts: Options, fm: FrontMatter, path: Path) -> FunctionSpec:
    if not opts.entry_point:
        raise ProblemFormatError(path, "kind: function needs an entry_point (e.g. Solution.twoSum or two_sum)", fm.lines.get("kind"))
    try:
        spec = parse_entry_point(opts.entry_point)
    except ValueError as err:
        raise ProblemFormatError(path, str(err), fm.lines.get("entry_point")) from None
    return FunctionSpec(spec.name, spec.class_name, starter_code(fm.body, spec.name))


def json_tests(path: Path, prefix: str, spec: FunctionSpec) -> list[TestCase]:
    """Function-call tests from ``[{"input": [args] | {"name": value}, "output": value}]``."""
    data = read_json(path)
    text = read_text(path)
    if not isinstance(data, list):
        raise ProblemFormatError(path, 'must be a JSON list of {"input": ..., "output": ...} objects', 1)
    params = signature_params(spec)
    tests = []
    for k, item in enumerate(data, 1):
        line = _item_line(text, k)
        if not isinstance(item, dict) or "input" not in item or "output" not in item:
            raise ProblemFormatError(path, f'test {k} must be an object with "input" and "output"', line)
        args: Any = item["input"]
        if isinstance(args, dict):
            try:
                args = order_named(args, params)
            except ValueError as err:
                raise ProblemFormatError(path, f"test {k}: {err}", line) from None
        elif not isinstance(args, list):
            raise ProblemFormatError(path, f'test {k}: "input" must be a list of arguments or an object of named ones', line)
        name = str(item.get("name") or k)
        tests.append(TestCase(f"{prefix}/{name}", to_json(args), to_json(item["output"])))
    return tests


def _item_line(text: str, k: int) -> int | None:
    """Line of the k-th top-level object in a JSON list (best effort, for messages)."""
    depth, seen = 0, 0
    for i, ch in enumerate(text):
        if ch in "[{":
            depth += 1
            if ch == "{" and depth == 2:
                seen += 1
                if seen == k:
                    return text.count("\n", 0, i) + 1
        elif ch in "]}":
            depth -= 1
    return None


def load_markdown(path: Path) -> Problem:
    """A single Markdown file: statement, samples and front-matter settings."""
    fm = split_front_matter(read_text(path), path)
    opts = parse_options(fm.data, path, fm.lines)
    return _build(path, path.parent.name if path.name == "problem.md" else path.stem, fm, opts, tests_dir=None)


def load_directory(folder: Path) -> Problem:
    """problem.md with tests/public, tests/hidden (.in/.out or public.json/hidden.json) and meta.json."""
    md = folder / "problem.md"
    if not md.is_file():
        raise ProblemFormatError(folder, "not a problem directory: problem.md is missing")
    fm = split_front_matter(read_text(md), md)
    opts = parse_options(fm.data, md, fm.lines)
    meta_path = folder / "meta.json"
    if meta_path.is_file():
        meta = read_json(meta_path)
        if not isinstance(meta, dict):
            raise ProblemFormatError(meta_path, "must be a JSON object", 1)
        text = read_text(meta_path)
        lines = {k: line for k in meta if (line := json_key_line(text, k)) is not None}
        opts.update(parse_options(meta, meta_path, lines))
    return _build(md, folder.name, fm, opts, tests_dir=folder / "tests")


def _build(md: Path, pid: str, fm: FrontMatter, opts: Options, tests_dir: Path | None) -> Problem:
    spec = _function_spec(opts, fm, md) if opts.kind is ProblemKind.FUNCTION else None
    public: list[TestCase] = []
    hidden: list[TestCase] = []
    if tests_dir is not None:
        for which, bucket in (("public", public), ("hidden", hidden)):
            if spec is not None and (tests_dir / f"{which}.json").is_file():
                bucket += json_tests(tests_dir / f"{which}.json", which, spec)
            if (tests_dir / which).is_dir():
                bucket += test_pairs(tests_dir / which, which)
    if not public:  # no test files: the statement's own samples
        if spec is not None:
            public = function_examples(fm.body, spec, md, fm.body_line - 1)
        else:
            public = statement_samples(fm.body, md, fm.body_line - 1)
    if not public:
        where = "tests/public/NN.in + NN.out, or " if tests_dir is not None else ""
        what = "'Input: ... / Output: ...' examples" if spec else "'Sample Input 1' / 'Sample Output 1' sections"
        raise ProblemFormatError(md, f"no tests found: add {where}{what}")
    # Function-call answers are JSON values; an explicit checker (e.g. exact) still wins.
    checker = opts.checker or ("json" if spec is not None else "tokens")
    if checker == "custom" and opts.validator is None:
        raise ProblemFormatError(md, "checker: custom needs a validator: path/to/validator.py", fm.lines.get("checker"))
    return Problem(
        id=pid,
        title=opts.title or title_of(fm.body) or pid,
        statement=fm.body.strip() + "\n",
        public_tests=unique_names(public),
        hidden_tests=unique_names(hidden),
        kind=opts.kind,
        checker=checker,
        validator=opts.validator,
        time_limit_s=opts.time_limit_s,
        memory_limit_mb=opts.memory_limit_mb,
        function=spec,
        source=md.parent if tests_dir is not None else md,
        meta={"format": "directory" if tests_dir is not None else "markdown", **opts.extra},
    )
