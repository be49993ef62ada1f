"""Manual-data parameters name files under ``data/manual/`` only.

A parameter such as ``fig07.table`` or ``fig03.line_mapping`` is a file *name* inside ``data/manual/``: an absolute
path, a ``..`` or a symlink that leads out of the folder would let an edition (or ``--set``) read any file on the
machine, and a file outside the project edited later would leave a figure "up to date" and stale.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

from nao_analysis.errors import EditionError
from nao_analysis.settings import Settings


def resolve_manual(name: str, settings: Settings) -> Path:
    """The file ``data/manual/<name>``, refused unless it really lies inside ``data/manual/``.

    Parameters
    ----------
    name
        A file name relative to ``data/manual/``, e.g. ``funding_fig07_disrupting_supply.csv`` or
        ``published/fig03.yaml``.
    settings
        Says where the project's ``data/manual/`` is.

    Returns
    -------
    Path
        The resolved path of an existing file inside ``data/manual/``.

    Raises
    ------
    EditionError
        One line: the name is empty, absolute, contains ``..``, leaves the folder through a symlink, or names no file.
    """
    folder = settings.manual_dir.resolve()
    text = str(name or "")
    fix = "name a file inside data/manual/ (copy the table there, with its citation)"
    if not text.strip() or "\x00" in text or "\n" in text:
        raise EditionError(f"manual file {text!r}: not a file name - {fix}")
    if PurePosixPath(text).is_absolute() or PureWindowsPath(text).is_absolute() or text.startswith(("~", "\\")):
        raise EditionError(f"manual file {text!r}: an absolute path is not allowed - {fix}")
    if ".." in PurePosixPath(text.replace("\\", "/")).parts:
        raise EditionError(f"manual file {text!r}: '..' is not allowed - {fix}")
    candidate = folder / text
    resolved = candidate.resolve()
    if not resolved.is_relative_to(folder):
        raise EditionError(f"manual file {text!r}: a symlink leads outside data/manual/ (to {resolved}) - {fix}")
    if not resolved.is_file():
        raise EditionError(f"manual file {text!r}: no such file in {folder} - {fix}")
    return resolved
