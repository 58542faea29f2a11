"""Atomic file writes: a reader sees the old file or the new one, never a part of it.

The one implementation behind the execution and completion caches, model files, engine
probe verdicts and traces: write a temporary file in the target's folder, fsync it, then
``os.replace`` it into place. On any failure the temporary file is removed.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator


@contextmanager
def atomic_file(path: Path | str, *, prefix: str | None = None, suffix: str = ".tmp") -> Iterator[IO[bytes]]:
    """A binary file to write that becomes ``path`` when the block ends without an error.

    ``path``'s folder must exist. Raises OSError as the disk does; the caller decides
    whether a failed write matters.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix if prefix is not None else f".{path.name}.", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: Path | str, data: bytes | str, *, prefix: str | None = None, suffix: str = ".tmp") -> None:
    """Write ``data`` (str as UTF-8) to ``path`` atomically; creates the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path, prefix=prefix, suffix=suffix) as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)
