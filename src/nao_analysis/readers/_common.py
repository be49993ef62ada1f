"""Helpers shared by the readers: opening workbooks safely and validating output schemas."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from nao_analysis.errors import ReaderError

HTML_START = re.compile(rb"^\s*(<!doctype html|<html|<head|<body)", re.IGNORECASE)


def check_not_html_or_empty(path: Path) -> None:
    """Catch the two commonest bad downloads before a parser produces a confusing message."""
    path = Path(path)
    if not path.exists():
        raise ReaderError(path, "file not found", "run `nao-analysis fetch` for its source")
    if path.stat().st_size == 0:
        raise ReaderError(path, "file is empty (0 bytes)", "delete it and fetch the source again")
    with open(path, "rb") as handle:
        head = handle.read(512)
    if HTML_START.match(head):
        raise ReaderError(
            path,
            "is an HTML page, not a data file (probably an error page saved under this name)",
            "delete it and fetch the source again from the official URL",
        )


def read_workbook(path: Path, sheet_name=None, **kwargs) -> dict[str, pd.DataFrame] | pd.DataFrame:
    """Read xls/xlsx/ods with the calamine engine (fast, and no XML parsing in Python)."""
    check_not_html_or_empty(path)
    try:
        return pd.read_excel(path, sheet_name=sheet_name, header=None, engine="calamine", **kwargs)
    except ValueError as exc:
        raise ReaderError(
            path,
            f"cannot be read as a spreadsheet ({str(exc).splitlines()[0][:120]})",
            "check the file is the official workbook, then fetch it again",
        ) from None
    except Exception as exc:  # calamine raises its own error types for corrupt files
        raise ReaderError(
            path,
            f"cannot be read as a spreadsheet ({exc.__class__.__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''})",
            "delete it and fetch the source again",
        ) from None


def find_sheet(path: Path, sheets: dict[str, pd.DataFrame], pattern: str, what: str) -> str:
    """The one sheet whose name matches ``pattern`` (a regex, case-insensitive)."""
    regex = re.compile(pattern, re.IGNORECASE)
    matches = [name for name in sheets if regex.search(str(name))]
    if not matches:
        raise ReaderError(
            path,
            f"no sheet for {what} (looked for a name matching /{pattern}/ among {list(sheets)[:12]})",
            "the layout has changed: update the reader or use the official file",
        )
    return matches[0]


def clean_label(value) -> str:
    """Lower-case, collapse spaces, drop trailing footnote digits ("Any Class A drug6" -> "any class a drug")."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = re.sub(r"\s+", " ", str(value)).strip()
    text = re.sub(r"(?<=[A-Za-z\)])\d+(,\d+)*$", "", text)
    return text.lower()


def validate(schema, frame: pd.DataFrame, path: Path, sheet: str | None = None) -> pd.DataFrame:
    """Validate a reader's output; the error names file, sheet and column."""
    import pandera.errors

    try:
        return schema.validate(frame, lazy=False)
    except pandera.errors.SchemaError as exc:
        column = getattr(exc.schema, "name", None)
        failure = str(exc).splitlines()[0][:160]
        raise ReaderError(
            path, f"unexpected content: {failure}", "check the file is the official release", sheet=sheet, column=column
        ) from None


def read_manual_yaml(path: Path, model, *, missing_fix: str, invalid_fix: str):
    """Load a hand-transcribed YAML file from ``data/manual/`` and validate it with a pydantic ``model``.

    Every problem (missing file, YAML syntax, a failed rule) is a one-line :class:`ReaderError`
    naming the file and the first offending entry.
    """
    import yaml
    from pydantic import ValidationError

    path = Path(path)
    if not path.exists():
        raise ReaderError(path, "file not found", missing_fix)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ReaderError(path, f"not valid YAML ({str(exc).splitlines()[0]})", "fix the YAML syntax") from None
    if not isinstance(data, dict):
        raise ReaderError(path, "expected a mapping at the top level", invalid_fix)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        raise ReaderError(path, f"{where}: {first['msg']} ({exc.error_count()} problem(s) in all)", invalid_fix) from None
