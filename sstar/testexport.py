"""`solve --export-tests DIR`: the inputs selection ran, with the chosen program's outputs, as tests.

The oj layout (``DIR/test/gen-1.in`` / ``gen-1.out`` ...), which ``sstar check`` and
online-judge-tools read: a user's CI keeps what selection learned. Each file is written
atomically; files of other names in ``DIR/test`` (the samples, a user's own tests) are
left alone, and ``gen-N`` files of an earlier export are replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from sstar.errors import SstarError
from sstar.fsutil import atomic_write
from sstar.pipeline.types import DistinguishingTest


@dataclass(frozen=True)
class ExportedTest:
    input_path: Path
    output_path: Path
    test: DistinguishingTest


def check_export_dir(directory: Path | str) -> Path:
    """Refuse, in one line, a target that is not (or cannot become) a directory."""
    directory = Path(directory)
    for path in (directory, directory / "test"):
        if path.exists() and not path.is_dir():
            raise SstarError(f"--export-tests: {path} is a file; give a directory (the tests go in DIR/test/)")
    return directory


def export_tests(directory: Path | str, tests: Sequence[DistinguishingTest]) -> list[ExportedTest]:
    """Write ``tests`` as ``directory/test/gen-N.in`` / ``.out``; returns what was written."""
    folder = check_export_dir(directory) / "test"
    written: list[ExportedTest] = []
    for n, test in enumerate(tests, 1):
        inp, out = folder / f"gen-{n}.in", folder / f"gen-{n}.out"
        for path, text in ((inp, test.input), (out, test.output)):
            try:
                atomic_write(path, text)
            except OSError as err:
                raise SstarError(f"--export-tests: cannot write {path}: {err.strerror or err}") from None
        written.append(ExportedTest(inp, out, test))
    return written
