"""Kattis problem packages (problem.yaml, problem_statement/, data/, output_validators/)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from sstar.errors import ProblemFormatError
from sstar.loaders.common import read_text, test_pairs, unique_names
from sstar.loaders.markdown import title_of
from sstar.problem import Problem
from sstar.sandbox.base import language_of

STATEMENTS = (
    "problem_statement/problem.en.md",
    "problem_statement/problem.md",
    "statement/problem.en.md",
    "statement/problem.md",
    "problem_statement/problem.en.tex",
    "problem_statement/problem.tex",
    "statement/problem.en.tex",
    "problem.md",
)


def is_kattis(folder: Path) -> bool:
    return (folder / "problem.yaml").is_file() or (folder / "problem_statement").is_dir()


def _yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(read_text(path))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise ProblemFormatError(path, f"bad YAML: {err.problem or err.context}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as err:
        raise ProblemFormatError(path, f"bad YAML: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ProblemFormatError(path, "must be a YAML mapping", 1)
    return data


def _line(path: Path, key: str) -> int | None:
    """The line of a top-level key in a YAML file (for error messages)."""
    try:
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if re.match(rf"{re.escape(key)}\s*:", line):
                return n
    except OSError:
        pass
    return None


def checker_from_flags(flags: str, path: Path) -> str:
    """The checker the Kattis default validator would be with these flags.

    Kattis compares tokens case-insensitively unless ``case_sensitive``; float tolerances
    (absolute, relative or both) become ``float:EPS``, which accepts either kind of error.
    """
    words = flags.split()
    eps = None
    for i, word in enumerate(words):
        if word in ("float_tolerance", "float_absolute_tolerance", "float_relative_tolerance"):
            try:
                value = float(words[i + 1])
            except (IndexError, ValueError):
                raise ProblemFormatError(path, f"validator_flags: {word} needs a number", _line(path, "validator_flags")) from None
            eps = value if eps is None else max(eps, value)
    if eps is not None:
        return f"float:{eps:g}"
    if "space_change_sensitive" in words:
        return "exact"
    return "tokens" if "case_sensitive" in words else "tokens:ci"


def _flags(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return str(value)


def _validator(folder: Path, yaml_path: Path) -> Path:
    roots = [p for p in (folder / "output_validators", folder / "output_validator") if p.is_dir()]
    if not roots:
        raise ProblemFormatError(yaml_path, "validation: custom, but there is no output_validators/ directory", _line(yaml_path, "validation"))
    candidates = [p for root in roots for p in sorted(root.rglob("*")) if p.is_file()]
    # One Python or C++ source file (C++ headers beside it are inlined when it is compiled).
    sources = [p for p in candidates if language_of(p) is not None]
    if len(sources) == 1:
        return sources[0]
    named = [p for p in sources if p.stem in ("validator", "output_validator", "checker", "main")]
    if len(named) == 1:
        return named[0]
    others = ", ".join(p.name for p in candidates[:5]) or "no files"
    raise ProblemFormatError(
        roots[0],
        f"only a single-file Python or C++ output validator is supported (found: {others}); "
        "keep one source file or give the problem a checker such as tokens or float:1e-6",
    )


def load_kattis(folder: Path) -> Problem:
    yaml_path = folder / "problem.yaml"
    conf = _yaml(yaml_path) if yaml_path.is_file() else {}
    statement_path = next((folder / s for s in STATEMENTS if (folder / s).is_file()), None)
    if statement_path is None:
        raise ProblemFormatError(folder, "no problem statement (looked for problem_statement/problem.en.md, problem.md or problem.tex)")
    statement = read_text(statement_path)

    name = conf.get("name")
    if isinstance(name, dict):  # newer format: {en: ..., sv: ...}
        name = name.get("en") or next(iter(name.values()), None)
    if not name and statement_path.suffix == ".tex":
        m = re.search(r"\\problemname\{([^}]*)\}", statement)
        name = m.group(1) if m else None
    title = str(name or (title_of(statement) if statement_path.suffix == ".md" else None) or folder.name)

    validation = str(conf.get("validation") or "default").split()
    if "interactive" in validation or "multi-pass" in validation:
        raise ProblemFormatError(yaml_path, "interactive problems are not supported", _line(yaml_path, "validation"))
    flags = _flags(conf.get("validator_flags"))
    testdata = folder / "data" / "testdata.yaml"
    if testdata.is_file():
        td = _yaml(testdata)
        flags = " ".join(filter(None, [flags, _flags(td.get("output_validator_flags") or td.get("output_validator_args"))]))
    validator = None
    if validation[0] == "custom":
        checker, validator = "custom", _validator(folder, yaml_path)
    else:
        checker = checker_from_flags(flags, yaml_path)

    limits = conf.get("limits") or {}
    if not isinstance(limits, dict):
        raise ProblemFormatError(yaml_path, "limits must be a mapping", _line(yaml_path, "limits"))
    time_limit = limits.get("time_limit")
    timelimit_file = folder / ".timelimit"
    if time_limit is None and timelimit_file.is_file():  # written by Kattis' problemtools
        time_limit = read_text(timelimit_file).strip() or None
    try:
        time_limit_s = float(time_limit) if time_limit is not None else None
        memory_mb = int(limits["memory"]) if limits.get("memory") is not None else None
    except (TypeError, ValueError):
        raise ProblemFormatError(yaml_path, "limits: time_limit and memory must be numbers", _line(yaml_path, "limits")) from None

    data = folder / "data"
    public = test_pairs(data / "sample", "sample", (".ans",)) if (data / "sample").is_dir() else []
    hidden = test_pairs(data / "secret", "secret", (".ans",)) if (data / "secret").is_dir() else []
    if not public:
        raise ProblemFormatError(folder, "no tests found: data/sample/ has no .in/.ans pairs")
    return Problem(
        id=folder.name,
        title=title,
        statement=statement.strip() + "\n",
        public_tests=unique_names(public),
        hidden_tests=unique_names(hidden),
        checker=checker,
        validator=validator,
        time_limit_s=time_limit_s,
        memory_limit_mb=memory_mb,
        source=folder,
        meta={"format": "kattis", "validator_flags": flags.split() if validator else [], **{
            k: v for k, v in conf.items() if k in ("source", "author", "license", "rights_owner", "source_url")
        }},
    )
