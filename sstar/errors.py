"""Errors that carry a message meant for the user (the CLI prints it and exits 2)."""

from __future__ import annotations


class SstarError(Exception):
    """Base class: ``str(err)`` is a complete sentence telling the user what to do."""

    exit_code = 2


class ProblemFormatError(SstarError):
    """A problem file or directory could not be read; names the file and, where known, the line."""

    def __init__(self, path: object, message: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


class SandboxUnavailable(SstarError):
    """No sandbox backend can run programs here; the message says how to get one."""


class ModelNotFound(SstarError):
    """A model name or path could not be resolved; the message names the pip install that fixes it."""


class EngineError(SstarError):
    """The model engine failed (load error, server error)."""
