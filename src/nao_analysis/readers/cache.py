"""A parsed-file cache: each raw file is parsed once, and every figure shares the result.

Entries are parquet files in ``settings.processed_dir / "parsed"``, keyed by

- the raw file's sha256 (taken from the provenance record that :func:`nao_analysis.sources.fetch`
  writes beside it, or computed when there is none),
- the reader's qualified name and its ``reader_version`` (bump it whenever the reader's output changes),
- a fingerprint of the reader's code (every module in ``nao_analysis/readers/``), so an edit without a
  version bump is never served stale output, and the pandas, pyarrow and python-calamine versions,
- the keyword arguments of the call, and
- :data:`CACHE_FORMAT` (this module's own layout).

Only files resolved by ``fetch`` (verified, with a provenance record beside them) are cached; any other
path is parsed afresh every time and leaves nothing in ``data/processed``. Entries are written atomically
(temporary file, then rename), so parallel builds can share the folder, and only when they read back
identical to the reader's output. An entry that cannot be read back is treated as absent: deleted and rebuilt. A reader
that raises leaves nothing behind.

Each entry's own sha256 is recorded beside it when it is written (``<entry>.sha256``) and checked before the
entry is used: an entry edited in place (or whose record is missing) is never served, the raw file is parsed
again and the entry rewritten. ``force=True`` always parses afresh.

Two levels share these rules. A reader's output is cached per call (:func:`cached_read`, keyed by its arguments),
and a workbook's cell grids are cached per file (:func:`cached_value`, used by
:func:`nao_analysis.readers._common.load_cells`): a reader that declares keyword-only ``settings`` and ``force``
parameters receives them (never as part of its key) and passes them on, so two calls asking different questions
of one file (Figure 3 and the area profiles reading different revenue-account lines) parse it only once.

The cache is used only when the caller hands in the run's ``settings`` (``settings.processed_dir``,
``settings.parsed_cache``); without settings a reader simply parses. ``settings.parsed_cache`` False
(``NAO_PARSED_CACHE=0`` at the command line) bypasses it, for timing the bare compute.

A process about to parse a file for an entry holds a lock on it (``<entry>.lock``, removed when done), so two
kernels of one build needing the same parse at the same moment (Figure 3 and the area profiles both read the
revenue-account workbooks, and start together) parse it once: the second waits, then reads the entry.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import pandas as pd

if TYPE_CHECKING:
    from nao_analysis.settings import Settings

#: Bump when the layout or keying of the cache itself changes.
CACHE_FORMAT = 2

P = ParamSpec("P")
R = TypeVar("R")


def _canonical(value: Any) -> Any:
    """A JSON-ready form of a keyword argument, identical for equal values across runs."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Path):
        return {"path": str(value)}
    if isinstance(value, dt.date | dt.datetime):
        return {"date": value.isoformat()}
    if isinstance(value, Mapping):
        return {"mapping": sorted((str(k), _canonical(v)) for k, v in value.items())}
    if isinstance(value, set | frozenset):
        return {"set": sorted(json.dumps(_canonical(v), sort_keys=True) for v in value)}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    # A parameter model (pydantic) has a stable dump; anything else has no trustworthy identity.
    if hasattr(value, "model_dump"):
        return {type(value).__name__: _canonical(value.model_dump(mode="json"))}
    raise TypeError(
        f"cached_read: keyword argument of type {type(value).__name__} cannot be part of a cache key - "
        "pass plain values (str, int, list, Path...)"
    )


def _reader_name(reader_fn: Callable[..., Any]) -> str:
    module = getattr(reader_fn, "__module__", None) or "unknown"
    qualname = getattr(reader_fn, "__qualname__", None) or type(reader_fn).__name__
    return f"{module}.{qualname}"


@functools.lru_cache(maxsize=32)
def _code_fingerprint(module_name: str) -> str:
    """sha256 of the reader's own module and, for the package's readers, of every module beside it.

    A reader edited without a ``reader_version`` bump must not be served its old output: helpers such as
    ``readers/_common.py`` change results too, so the whole readers folder is part of the key.
    """
    import importlib
    import inspect
    import sys

    module = sys.modules.get(module_name)
    if module is None:
        with contextlib.suppress(Exception):
            module = importlib.import_module(module_name)
    try:
        source_file = Path(inspect.getsourcefile(module) or "")
    except TypeError:
        return "no-source"
    files = [source_file]
    if source_file.parent == Path(__file__).parent:
        files = sorted(source_file.parent.glob("*.py"))
    digest = hashlib.sha256()
    for file in files:
        if file.is_file():
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def raw_sha256(path: Path) -> str:
    """The raw file's sha256: from its provenance record when that still describes it, else computed.

    Parameters
    ----------
    path
        A raw file, normally one returned by ``fetch``.

    Returns
    -------
    str
        64 hex digits.
    """
    path = Path(path)
    record_path = path.with_name(path.name + ".provenance.json")
    with contextlib.suppress(OSError, ValueError, TypeError):
        record = json.loads(record_path.read_text(encoding="utf-8"))
        sha, size = record.get("sha256"), record.get("bytes")
        # fetch verified the file against this hash; the size check catches a file edited since.
        if isinstance(sha, str) and len(sha) == 64 and size == path.stat().st_size:
            return sha
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_entry_path(reader_fn: Callable[..., Any], path: Path, *, settings: Settings, reader_version: str, **kwargs: Any) -> Path:
    """Where the parsed result of ``reader_fn(path, **kwargs)`` is (or would be) cached.

    Parameters
    ----------
    reader_fn
        The reader function.
    path
        The raw file it reads.
    settings
        The run's settings (``processed_dir``).
    reader_version
        The reader's output version.
    **kwargs
        The keyword arguments the reader is called with.

    Returns
    -------
    Path
        ``settings.processed_dir/parsed/<reader name>/<key>.parquet``.
    """
    name = _reader_name(reader_fn)
    key = {
        "format": CACHE_FORMAT,
        "raw_sha256": raw_sha256(path),
        "reader": name,
        "reader_version": str(reader_version),
        "reader_code": _code_fingerprint(getattr(reader_fn, "__module__", None) or ""),
        "libraries": [pd.__version__, _pyarrow_version(), _calamine_version()],
        "kwargs": _canonical(dict(kwargs)),
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    return Path(settings.processed_dir) / "parsed" / name / f"{digest[:32]}.parquet"


#: attrs key carrying the names of ``object`` columns, which parquet would otherwise return as ``str``.
_OBJECT_COLUMNS_KEY = "_nao_parsed_cache_object_columns"


def _read_entry(entry: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    metadata = pq.read_schema(entry).metadata or {}
    if b"geo" in metadata:
        # GeoParquet written from a GeoDataFrame: read it back as one, geometry and CRS included.
        import geopandas as gpd

        frame = gpd.read_parquet(entry)
    else:
        frame = pd.read_parquet(entry)
    object_columns = frame.attrs.pop(_OBJECT_COLUMNS_KEY, [])
    for column in object_columns:
        # Readers use object columns for "text or None"; pandas 3 would read them back as str with NaN.
        values = frame[column].astype(object)
        frame[column] = values.where(values.notna(), None)
    return frame


@functools.lru_cache(maxsize=1)
def _calamine_version() -> str:
    """The workbook parser's version: a new calamine may read some cells differently."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("python-calamine")
    except PackageNotFoundError:
        return "none"


def _pyarrow_version() -> str:
    import pyarrow

    return pyarrow.__version__


def _digest_path(entry: Path) -> Path:
    return entry.with_name(entry.name + ".sha256")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _discard_entry(entry: Path) -> None:
    entry.unlink(missing_ok=True)
    _digest_path(entry).unlink(missing_ok=True)


def _load(entry: Path) -> pd.DataFrame | None:
    """The cached frame, only if the entry's bytes still have the sha256 recorded when it was written."""
    if not entry.is_file():
        return None
    try:
        recorded = _digest_path(entry).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        recorded = ""
    if recorded != _file_sha256(entry):
        # Edited, truncated or written by something else: never trusted, parsed again.
        _discard_entry(entry)
        return None
    try:
        return _read_entry(entry)
    except Exception:  # any unreadable entry (foreign, wrong engine) is rebuilt, never trusted
        _discard_entry(entry)
        return None


def _store(entry: Path, frame: pd.DataFrame) -> None:
    """Write ``frame`` atomically, and keep it only if it reads back identical (dtypes and attrs included)."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-", suffix=".parquet")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        to_write = frame.copy(deep=False)
        object_columns = [str(c) for c in frame.columns if frame[c].dtype == object and getattr(frame, "_geometry_column_name", None) != c]
        to_write.attrs = {**frame.attrs, _OBJECT_COLUMNS_KEY: object_columns}
        to_write.to_parquet(tmp)
        # The cache must never change a result: refuse an entry that does not round-trip exactly.
        again = _read_entry(tmp)
        pd.testing.assert_frame_equal(again, frame)
        if again.attrs != frame.attrs:
            raise ValueError("attrs do not round-trip")
        from nao_analysis.safe_io import write_text_atomic

        # The digest goes first: an entry is only ever visible with a record that vouches for it.
        _digest_path(entry).unlink(missing_ok=True)
        sha = _file_sha256(tmp)
        os.replace(tmp, entry)
        write_text_atomic(_digest_path(entry), sha + "\n")
    except Exception as exc:
        # The cache only saves time: a frame parquet cannot hold exactly is returned uncached, not an error.
        reason = " ".join(str(exc).split())[:160]
        warnings.warn(f"parsed cache: not storing {entry.name} ({exc.__class__.__name__}: {reason}); continuing uncached", stacklevel=3)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _parsing(entry: Path) -> Iterator[None]:
    """Held while this process parses the raw file for ``entry``; another process wanting it waits here.

    The lock file goes when the parse ends. A process still waiting on it then finds the entry written (or parses
    itself if the parse failed); a lock that misses a race only costs a second parse, as atomic writes keep the
    entry whole either way."""
    created = [folder for folder in (entry.parent, *entry.parent.parents) if not folder.exists()]
    lock = entry.with_name(entry.name + ".lock")
    try:
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            handle = open(lock, "a")  # noqa: SIM115 - closed below, after the lock is released
        except OSError:
            handle = None  # the lock only saves a second parse: without a writable cache folder, parse unlocked
        if handle is None:
            yield
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                lock.unlink(missing_ok=True)
                fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        # A parse that stored nothing (the reader raised) leaves no folder behind either; a folder another
        # process is using holds its lock or entry, so it is not empty and stays.
        for folder in created:
            with contextlib.suppress(OSError):
                folder.rmdir()


def cache_enabled(settings: Settings | None) -> bool:
    """True when the run's settings allow the cache (``settings.parsed_cache``); no settings, no cache."""
    return settings is not None and bool(getattr(settings, "parsed_cache", False))


def cached_read(
    reader_fn: Callable[..., pd.DataFrame],
    path: Path,
    *,
    reader_version: str,
    settings: Settings | None = None,
    force: bool = False,
    **kwargs: Any,
) -> pd.DataFrame:
    """Return ``reader_fn(path, **kwargs)``, parsing the raw file only if no valid cached result exists.

    Parameters
    ----------
    reader_fn
        A reader: takes the raw file's path (and keyword arguments), returns a validated DataFrame.
    path
        The raw file (as returned by ``fetch``).
    settings
        The run's settings: ``processed_dir`` holds the entries, ``parsed_cache`` False bypasses them. None: parse.
    reader_version
        Bump whenever the reader's output changes, so old entries are not reused.
    force
        Parse afresh even when a valid entry exists (and replace it).
    **kwargs
        Passed to the reader and made part of the key; plain values only.

    Returns
    -------
    pandas.DataFrame
        The reader's output (from cache: a fresh copy read back from parquet). A path without a provenance
        record (not resolved by ``fetch``) is parsed every time and never cached.

    Raises
    ------
    Exception
        Whatever the reader raises (typically ``ReaderError``); nothing is cached then.
    TypeError
        A keyword argument that cannot be part of a key.
    """
    path = Path(path)
    if not _cacheable(path, settings):
        return reader_fn(path, **kwargs)
    return _parse_once(
        cache_entry_path(reader_fn, path, settings=settings, reader_version=reader_version, **kwargs),
        lambda: reader_fn(path, **kwargs, **_run_arguments(reader_fn, settings, force)),
        to_frame=lambda frame: frame if isinstance(frame, pd.DataFrame) else None,
        from_frame=lambda frame: frame,
        force=force,
    )


def _cacheable(path: Path, settings: Settings | None) -> bool:
    # Only files resolved by fetch (verified, with provenance) are cached: a file handed in from
    # elsewhere is parsed afresh every time and leaves nothing behind in data/processed.
    return cache_enabled(settings) and path.with_name(path.name + ".provenance.json").exists()


def _parse_once(
    entry: Path,
    parse: Callable[[], R],
    *,
    to_frame: Callable[[R], pd.DataFrame | None],
    from_frame: Callable[[pd.DataFrame], R],
    force: bool,
) -> R:
    """The entry's value if it holds a valid one, else ``parse()``, stored when ``to_frame`` can hold it exactly."""
    cached = None if force else _load(entry)
    if cached is not None:
        return from_frame(cached)
    with _parsing(entry):
        cached = None if force else _load(entry)  # written by another process while this one waited
        if cached is not None:
            return from_frame(cached)
        value = parse()
        frame = to_frame(value)
        if frame is not None:
            _store(entry, frame)
    return value


def _run_arguments(reader_fn: Callable[..., Any], settings: Settings | None, force: bool) -> dict[str, Any]:
    """``settings`` and ``force`` for a reader that declares them as keyword-only parameters.

    Such a reader can then share a cached lower-level parse (e.g. :func:`nao_analysis.readers._common.load_cells`'s
    cell grid) with other readers of the same file. They are the run's context, not the reader's arguments:
    never part of the key.
    """
    import inspect

    try:
        parameters = inspect.signature(reader_fn).parameters
    except (TypeError, ValueError):
        return {}
    offered = {"settings": settings, "force": force}
    return {name: offered[name] for name, parameter in parameters.items() if name in offered and parameter.kind is parameter.KEYWORD_ONLY}


def cached_value(
    reader_fn: Callable[..., R],
    path: Path,
    *,
    reader_version: str,
    to_frame: Callable[[R], pd.DataFrame | None],
    from_frame: Callable[[pd.DataFrame], R],
    settings: Settings | None = None,
    force: bool = False,
) -> R:
    """:func:`cached_read` for a parse whose result is not a DataFrame (e.g. a workbook's cell grids).

    Parameters
    ----------
    reader_fn
        Parses the raw file: ``reader_fn(path)``.
    path, reader_version, settings, force
        As :func:`cached_read` (same keying, atomic writes, verified read-back and digest checks).
    to_frame
        The result as a DataFrame parquet can hold, or None when it has something that cannot be stored exactly
        (the result is then returned uncached).
    from_frame
        The exact inverse of ``to_frame``.

    Returns
    -------
    The parsed result, from the cache when a valid entry exists.
    """
    path = Path(path)
    if not _cacheable(path, settings):
        return reader_fn(path)
    entry = cache_entry_path(reader_fn, path, settings=settings, reader_version=reader_version)
    return _parse_once(entry, lambda: reader_fn(path), to_frame=to_frame, from_frame=from_frame, force=force)


def cached_reader(reader_version: str) -> Callable[[Callable[P, pd.DataFrame]], Callable[P, pd.DataFrame]]:
    """Decorator form of :func:`cached_read` for a reader ``fn(path, **kwargs)``.

    Parameters
    ----------
    reader_version
        The reader's output version (bump on any change to what it returns).

    The decorated reader gains two keyword-only arguments: ``settings`` (the run's settings; the cache is
    used only when they are given) and ``force`` (parse afresh). Called without them it simply parses.

    Examples
    --------
    >>> @cached_reader("1")  # doctest: +SKIP
    ... def read_ro3(path: Path, *, year: str) -> pd.DataFrame: ...
    >>> read_ro3(path, year="2022-23", settings=settings)  # doctest: +SKIP
    """

    def decorate(reader_fn: Callable[P, pd.DataFrame]) -> Callable[P, pd.DataFrame]:
        import inspect

        signature = inspect.signature(reader_fn)
        first = next(iter(signature.parameters))

        @functools.wraps(reader_fn)
        def wrapper(path, *args, settings: Settings | None = None, force: bool = False, **kwargs):
            # Positional extras become keywords, so every argument is part of the key.
            bound = signature.bind(path, *args, **kwargs).arguments
            bound.pop(first)
            return cached_read(reader_fn, path, settings=settings, reader_version=reader_version, force=force, **bound)

        wrapper.uncached = reader_fn  # type: ignore[attr-defined]
        return wrapper

    return decorate
