"""Domain exceptions.

Every error a user can cause (a bad file, a bad parameter, a missing download)
is a :class:`NaoError`. Its ``str()`` is one line that names the file or
parameter, what was wrong, and what to do; the CLI prints exactly that line.
"""

from __future__ import annotations

from pathlib import Path


class NaoError(Exception):
    """Base class: a problem the user can act on, reported in one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class EditionError(NaoError):
    """An edition file or a ``--set`` override is invalid."""


class SourceError(NaoError):
    """A raw source cannot be resolved, downloaded or verified."""


class SourceUnavailableError(SourceError):
    """The source is not cached, not in the mirror, and cannot be downloaded here."""


class HashMismatchError(SourceError):
    """A file's sha256 differs from the one pinned in the registry."""


class DownloadError(SourceError):
    """A download failed (network, HTTP status, truncated body, wrong content)."""


class UnsafeArchiveError(SourceError):
    """An archive would write outside its folder or expand beyond the size limit."""


class ReaderError(NaoError):
    """A raw file does not have the layout or content its reader expects."""

    def __init__(self, path: str | Path, problem: str, fix: str = "", *, sheet: str | None = None, column: str | None = None) -> None:
        where = str(path)
        if sheet:
            where += f" [sheet {sheet!r}]"
        if column:
            where += f" [column {column!r}]"
        message = f"{where}: {problem}"
        if fix:
            message += f" - {fix}"
        super().__init__(message)
        self.path = Path(path)


class CrosswalkError(NaoError):
    """An authority code cannot be mapped to the target boundary vintage."""


class AnalysisError(NaoError):
    """An analysis assumption does not hold for the data given."""
