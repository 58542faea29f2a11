"""Benchmark datasets as published: JSON lines of LiveCodeBench and CodeContests records.

A file (``.jsonl``, or ``.json`` holding one record or a list) is a set of problems; one
problem is ``FILE#N`` (the N-th record, from 1) or ``FILE#ID`` (its id), which is what
:func:`record_paths` hands to ``sstar batch``. The format is told per record by its fields:

* **LiveCodeBench** (``livecodebench/code_generation_lite``): ``question_title``,
  ``question_content``, ``question_id``, ``platform``, ``starter_code``, ``metadata``
  (a JSON string: ``{"func_name": ...}`` for LeetCode problems), ``public_test_cases``
  and ``private_test_cases``: JSON strings of ``[{"input", "output", "testtype"}]``, the
  private ones in later releases base64 of zlib of a pickled JSON string. ``testtype``
  ``stdin`` tests are stdin/stdout; ``functional`` ones give one JSON argument per line
  and the JSON of the return value (a function-call problem, ``class Solution`` usually).
* **CodeContests** (``deepmind/code_contests``): ``name``, ``description``,
  ``public_tests``, ``private_tests``, ``generated_tests`` (each ``{"input": [...],
  "output": [...]}``), ``time_limit`` (``{"seconds", "nanos"}``), ``memory_limit_bytes``.
  Public tests are public; private and generated ones hidden.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import re
import zlib
from pathlib import Path
from typing import Any, Iterator

from sstar.errors import ProblemFormatError
from sstar.loaders.common import read_text, unique_names
from sstar.problem import FunctionSpec, Problem, ProblemKind, TestCase

RECORD_SUFFIXES = (".jsonl", ".json")
SEPARATOR = "#"


def split_record_path(path: Path) -> tuple[Path, str | None]:
    """``data/lcb.jsonl#12`` -> (data/lcb.jsonl, "12"); a plain path -> (path, None)."""
    text = str(path)
    base, sep, key = text.rpartition(SEPARATOR)
    if sep and Path(base).suffix.lower() in RECORD_SUFFIXES and not Path(text).exists():
        return Path(base), key
    return path, None


def is_record_file(path: Path) -> bool:
    return path.suffix.lower() in RECORD_SUFFIXES


def _records(path: Path, wanted: str | None = None) -> Iterator[tuple[int, int, Any]]:
    """(record number from 1, line number, value) of every record in the file.

    With ``wanted`` (a record number or id) a JSON-lines file parses only the lines that
    can be that record: batch loads ``FILE#N`` once per record, and parsing every line
    each time made a large dataset quadratic. Other records come back as None.
    """
    text = read_text(path)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except ValueError as err:
            raise ProblemFormatError(path, f"not valid JSON ({err})") from None
        for n, record in enumerate(data if isinstance(data, list) else [data], 1):
            yield n, 1, record
        return
    # An id JSON would escape (quotes, backslashes, non-ASCII) may not appear verbatim in its line.
    plain = wanted is not None and wanted.isascii() and not any(c in wanted for c in '"\\')
    number = 0
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        number += 1
        if plain and wanted != str(number) and wanted not in line:
            yield number, line_no, None  # cannot be the one asked for: an id would appear in its text
            continue
        try:
            yield number, line_no, json.loads(line)
        except ValueError as err:
            raise ProblemFormatError(path, f"record {number} is not valid JSON ({err})", line_no) from None


def record_id(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    for key in ("question_id", "name", "id", "task_id"):
        if record.get(key) not in (None, ""):
            return str(record[key])
    return None


def record_paths(path: Path) -> list[Path]:
    """One ``FILE#N`` path per record of a dataset file (what discovery hands to batch)."""
    return [Path(f"{path}{SEPARATOR}{n}") for n, _, _ in _records(path)]


def load_record_file(path: Path, key: str | None = None) -> Problem:
    """The record ``key`` (a number from 1, or an id) of a dataset file; without a key the
    file must hold exactly one record."""
    chosen: tuple[int, int, Any] | None = None
    count = 0
    for number, line, record in _records(path, key):
        count += 1
        if key is None or key == str(number) or key == record_id(record):
            if key is None and chosen is not None:
                raise ProblemFormatError(path, f"holds several problems; name one as {path}{SEPARATOR}N (N from 1) or {path}{SEPARATOR}ID")
            chosen = (number, line, record)
            if key is not None:
                break
    if chosen is None:
        if key is None:
            raise ProblemFormatError(path, "holds no records")
        raise ProblemFormatError(path, f"has no record {key!r} ({count} records: use {SEPARATOR}1 to {SEPARATOR}{count}, or an id)")
    number, line, record = chosen
    return load_record(record, path, number, line)


def load_record(record: Any, path: Path, number: int = 1, line: int | None = None) -> Problem:
    if not isinstance(record, dict):
        raise ProblemFormatError(path, f"record {number} is not a JSON object", line)
    if "question_content" in record or "public_test_cases" in record:
        return _livecodebench(record, path, number, line)
    if "description" in record and ("public_tests" in record or "private_tests" in record):
        return _code_contests(record, path, number, line)
    keys = ", ".join(sorted(record)[:8])
    raise ProblemFormatError(
        path, f"record {number} is neither a LiveCodeBench nor a CodeContests record (its fields: {keys})", line
    )


# ----------------------------------------------------------------------------- LiveCodeBench


class _StringsOnly(pickle.Unpickler):
    """Unpickles plain data only: a dataset's pickle must not run code (no globals at all)."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset")


def _lcb_tests(value: Any, field: str, path: Path, number: int, line: int | None) -> list[dict[str, Any]]:
    def bad(why: str) -> ProblemFormatError:
        return ProblemFormatError(path, f"record {number}: {field} {why}", line)

    if value is None or value == "":
        return []
    if isinstance(value, list):
        tests = value
    elif isinstance(value, str):
        try:
            tests = json.loads(value)
        except ValueError:
            # Later releases: base64(zlib(pickle(json string))), as LiveCodeBench's loader reads it.
            try:
                raw = zlib.decompress(base64.b64decode(value.encode(), validate=False))
                decoded = _StringsOnly(io.BytesIO(raw)).load()
                tests = json.loads(decoded) if isinstance(decoded, (str, bytes)) else decoded
            except (binascii.Error, zlib.error, pickle.UnpicklingError, ValueError, EOFError, TypeError) as err:
                raise bad(f"is neither JSON nor LiveCodeBench's compressed form ({err})") from None
    else:
        raise bad(f"must be a JSON string or a list, not {type(value).__name__}")
    if not isinstance(tests, list) or not all(isinstance(t, dict) and "input" in t and "output" in t for t in tests):
        raise bad("must be a list of {input, output, testtype} objects")
    return tests


def _functional_args(text: str, path: Path, number: int, line: int | None) -> str:
    """LiveCodeBench's functional input (one JSON value per line) as sstar's JSON array."""
    try:
        return json.dumps([json.loads(part) for part in text.split("\n") if part.strip()])
    except ValueError as err:
        raise ProblemFormatError(path, f"record {number}: a functional test input is not JSON lines ({err})", line) from None


def _livecodebench(record: dict[str, Any], path: Path, number: int, line: int | None) -> Problem:
    public = _lcb_tests(record.get("public_test_cases"), "public_test_cases", path, number, line)
    private = _lcb_tests(record.get("private_test_cases"), "private_test_cases", path, number, line)
    if not public and not private:
        raise ProblemFormatError(path, f"record {number} ({record_id(record) or 'no id'}) has no tests (public_test_cases and private_test_cases are empty)", line)
    metadata = record.get("metadata") or {}
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata) if metadata.strip() else {}
        except ValueError:
            raise ProblemFormatError(path, f"record {number}: metadata is not JSON", line) from None
    functional = any(t.get("testtype") == "functional" for t in public + private)
    starter = str(record.get("starter_code") or "")
    spec = None
    if functional:
        name = metadata.get("func_name") if isinstance(metadata, dict) else None
        if not name:
            found = re.findall(r"def\s+(\w+)\s*\(", starter)
            name = found[-1] if found else None
        if not name:
            raise ProblemFormatError(path, f"record {number}: functional tests but no metadata.func_name", line)
        cls = re.search(r"class\s+(\w+)", starter)
        spec = FunctionSpec(name=str(name), class_name=cls.group(1) if cls else None, starter_code=starter)

    def cases(tests: list[dict[str, Any]], prefix: str) -> list[TestCase]:
        out = []
        for i, t in enumerate(tests, 1):
            inp, expected = str(t["input"]), str(t["output"])
            if functional:
                inp = _functional_args(inp, path, number, line)
            out.append(TestCase(f"{prefix}/{i}", inp, expected))
        return out

    pid = record_id(record) or f"{path.stem}-{number}"
    statement = str(record.get("question_content") or "")
    if starter:
        statement += f"\n\n## Starter code\n\n```python\n{starter.rstrip()}\n```\n"
    return Problem(
        id=pid,
        title=str(record.get("question_title") or pid),
        statement=statement,
        public_tests=unique_names(cases(public, "public")),
        hidden_tests=unique_names(cases(private, "private")),
        kind=ProblemKind.FUNCTION if functional else ProblemKind.STDIO,
        checker="json" if functional else "tokens",
        function=spec,
        source=Path(f"{path}{SEPARATOR}{number}"),
        meta={
            "format": "livecodebench",
            **{k: record[k] for k in ("platform", "contest_id", "contest_date", "difficulty") if k in record},
        },
    )


# ----------------------------------------------------------------------------- CodeContests


def _cc_tests(record: dict[str, Any], field: str, path: Path, number: int, line: int | None) -> list[tuple[str, str]]:
    value = record.get(field)
    if value is None:
        return []
    if not isinstance(value, dict) or not isinstance(value.get("input", []), list) or not isinstance(value.get("output", []), list):
        raise ProblemFormatError(path, f"record {number}: {field} must be {{\"input\": [...], \"output\": [...]}}", line)
    inputs, outputs = value.get("input", []), value.get("output", [])
    if len(inputs) != len(outputs):
        raise ProblemFormatError(path, f"record {number}: {field} has {len(inputs)} inputs but {len(outputs)} outputs", line)
    return [(str(i), str(o)) for i, o in zip(inputs, outputs)]


def _code_contests(record: dict[str, Any], path: Path, number: int, line: int | None) -> Problem:
    for field in ("input_file", "output_file"):
        if str(record.get(field) or "").strip():
            raise ProblemFormatError(path, f"record {number}: {field}={record[field]!r}: problems that read or write files instead of stdin/stdout are not supported", line)
    public = _cc_tests(record, "public_tests", path, number, line)
    hidden = [
        (f"{prefix}/{i}", inp, out)
        for field, prefix in (("private_tests", "private"), ("generated_tests", "generated"))
        for i, (inp, out) in enumerate(_cc_tests(record, field, path, number, line), 1)
    ]
    if not public and not hidden:
        raise ProblemFormatError(path, f"record {number} ({record_id(record) or 'no id'}) has no tests (public_tests, private_tests and generated_tests are empty)", line)
    limit = record.get("time_limit")
    time_s = None
    if isinstance(limit, dict):
        time_s = float(limit.get("seconds") or 0) + float(limit.get("nanos") or 0) / 1e9 or None
    elif isinstance(limit, (int, float)) and limit > 0:
        time_s = float(limit)
    memory = record.get("memory_limit_bytes")
    name = record_id(record) or f"{path.stem}-{number}"
    return Problem(
        id=name,
        title=name,
        statement=str(record.get("description") or ""),
        public_tests=unique_names(TestCase(f"public/{i}", inp, out) for i, (inp, out) in enumerate(public, 1)),
        hidden_tests=unique_names(TestCase(n, inp, out) for n, inp, out in hidden),
        time_limit_s=time_s,
        memory_limit_mb=int(memory) // (1024 * 1024) if isinstance(memory, int) and memory > 0 else None,
        source=Path(f"{path}{SEPARATOR}{number}"),
        meta={"format": "code_contests", **{k: record[k] for k in ("source", "difficulty", "cf_rating") if k in record}},
    )
