"""Crime Survey for England and Wales (CSEW) drug-use tables.

Two formats:

- ``csew_appendix_xlsx``: the Home Office "Drug misuse: findings from the <year> CSEW" appendix tables
  (2016/17 in the mirror). Each prevalence table is a sheet titled ``Table 1.0N  Proportion of 16 to 59
  year olds reporting use of drugs in the last year, 1996 to 2016/17``; a header row of survey years;
  one row per drug, whose label may carry a footnote number (``Any Class A drug6``); class headings
  (``Class A``) with no values; footnotes below. Tables are found by their titles, rows and columns by
  their labels.
- ``csew_tidy_csv``: a third party's tidy extract of those tables (``age_group, drug_type, period,
  estimate``, the estimate a proportion; gzip-compressed).

Both return the same tidy frame (:data:`PREVALENCE_SCHEMA`): one row per edition, age group, measure,
drug and survey year, the estimate in per cent. :func:`combine_editions` stacks editions so the
newest edition's value wins where they overlap (the published series is reweighted each year).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from nao_analysis.errors import ReaderError
from nao_analysis.readers._common import check_data_file, check_limits, closest, read_text_head, read_workbook
from nao_analysis.readers.cache import cached_reader
from nao_analysis.readers.numbers import DECIMAL_NUMBERS, NumberConvention, cell_name, parse_number

#: Table-title wording -> measure code.
MEASURES: dict[str, str] = {
    "ever in their lifetime": "ever",
    "in the last year": "last_year",
    "in the last month": "last_month",
}

_TITLE = re.compile(
    r"Table\s+(?P<number>\d+\.\d+)\W+Proportion of (?P<low>\d+) to (?P<high>\d+) year olds reporting use of drugs (?P<measure>"
    + "|".join(re.escape(m) for m in MEASURES)
    + r")",
    re.IGNORECASE,
)
_EDITION_IN_TITLE = re.compile(r"\bto (?P<edition>\d{4}/\d{2})\b")
# A survey-year column heading: 1996 (calendar-year sweeps) or 2016/17 (financial-year sweeps).
_SURVEY_YEAR = re.compile(r"^(?P<start>\d{4})(?:\.0)?(?:/(?P<end>\d{2}))?$")
# Footnote markers: trailing digits ("Any Class A drug6") or bracketed notes ("Cannabis [note 3]").
_FOOTNOTE = re.compile(r"(?:\s*\[note\s*\d+\])+$|(?<=[A-Za-z)])\d+$", re.IGNORECASE)
# Cell values the tables use for "not asked" / "not reported" (see the workbook's Notes sheet).
_NOT_AVAILABLE = {"n/a", "-", "..", "x", "[x]", "[c]", "[z]", ""}
NUMBERS = DECIMAL_NUMBERS.with_markers(*_NOT_AVAILABLE)
#: The third party's extract was written by R, which prints small proportions as ``8.1e-4``.
EXTRACT_NUMBERS = NumberConvention(decimals=True, markers=NUMBERS.markers, exponent=True)
# Row labels that are not drugs: bases and the footnote block start.
_NOT_A_DRUG = re.compile(r"^(unweighted base|weighted base|base|numbers?\b)", re.IGNORECASE)

PREVALENCE_SCHEMA = pa.DataFrameSchema(
    {
        "edition": pa.Column(str, pa.Check.str_matches(r"^\d{4}/\d{2}$")),
        "source_format": pa.Column(str, pa.Check.isin(["official_appendix", "third_party_extract"])),
        "table": pa.Column(str, nullable=True),
        "age_group": pa.Column(str, pa.Check.isin(["16-59", "16-24"])),
        "measure": pa.Column(str, pa.Check.isin(list(MEASURES.values()))),
        "drug_type": pa.Column(str, pa.Check.str_length(min_value=2)),
        "survey_year": pa.Column(str, pa.Check.str_matches(r"^\d{4}(/\d{2})?$")),
        "year_ending": pa.Column("datetime64[ns]"),
        "percent": pa.Column(float, pa.Check.in_range(0, 100)),
    },
    strict=True,
    unique=["edition", "age_group", "measure", "drug_type", "survey_year"],
)


def strip_footnote_marker(label: str) -> str:
    """Remove a footnote marker from a row label.

    Parameters
    ----------
    label
        A drug-name cell such as ``"Any Class A drug6"``, ``"Ketamine1 "`` or ``"Cannabis [note 3]"``.

    Returns
    -------
    str
        The name without the marker and surrounding spaces (``"Any Class A drug"``).
    """
    return _FOOTNOTE.sub("", str(label).strip()).strip()


def survey_year_label(value: object) -> str | None:
    """Normalise a survey-year heading (``1996``, ``1996.0``, ``"2016/17"``) or return None if it is not one."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    match = _SURVEY_YEAR.match(text)
    if not match:
        return None
    start, end = match.group("start"), match.group("end")
    if end is not None and (int(start) + 1) % 100 != int(end):
        return None
    return f"{start}/{end}" if end else start


def year_ending(survey_year: str) -> pd.Timestamp:
    """The end of the interview period of a survey year.

    ``"2016/17"`` (April 2016 to March 2017 interviews) -> 31 March 2017; a calendar-year sweep
    (``"1996"``) -> 31 December of that year.
    """
    if "/" in survey_year:
        return pd.Timestamp(int(survey_year[:4]) + 1, 3, 31)
    return pd.Timestamp(int(survey_year), 12, 31)


def _edition_order(edition: str) -> int:
    return int(edition[:4])


def _age_group(low: str, high: str) -> str:
    return f"{int(low)}-{int(high)}"


def _finish(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    frame = frame.assign(year_ending=frame["survey_year"].map(year_ending).astype("datetime64[ns]"))
    frame = frame[list(PREVALENCE_SCHEMA.columns)].reset_index(drop=True)
    try:
        return PREVALENCE_SCHEMA.validate(frame)
    except pa.errors.SchemaError as exc:
        raise ReaderError(path, f"unexpected content: {str(exc).splitlines()[0]}", "check the file is a CSEW drug-use table") from None


def _cell_to_percent(value: object, path: Path, sheet: str, label: str, year: str, row: int = -1, col: int | None = None) -> float | None:
    where = cell_name(row, col, year) + f" (row label {label!r})" if row >= 0 else f"row {label!r}, survey year {year}"
    number = parse_number(value, NUMBERS, path=path, sheet=sheet, cell=where)
    return None if pd.isna(number) else number


def _parse_prevalence_sheet(raw: pd.DataFrame, path: Path, sheet: str) -> pd.DataFrame | None:
    """Parse one sheet if it is a prevalence table; None if its title is not one."""
    # The title sits in the first few rows (in any column in some editions).
    top = " ".join(str(v) for v in raw.head(6).to_numpy().ravel().tolist() if not pd.isna(v))
    title = _TITLE.search(top)
    if not title:
        return None
    edition_match = _EDITION_IN_TITLE.search(top)
    # The header row is the first row with several survey-year headings.
    header_row = None
    # raw.to_numpy() is what iterrows() walks (same values, same types), without a Series per row.
    for index, row in zip(raw.index, raw.to_numpy().tolist(), strict=True):
        if sum(survey_year_label(v) is not None for v in row) >= 3:
            header_row = index
            break
    if header_row is None:
        raise ReaderError(
            path,
            f"table {title.group(0)!r} has no header row of survey years (1996, 2016/17, ...)",
            "this edition's layout is not supported by the csew_appendix_xlsx reader; add a reader for it",
            sheet=sheet,
        )
    year_columns = {
        column: survey_year_label(value) for column, value in raw.loc[header_row].items() if survey_year_label(value) is not None
    }
    label_column = raw.columns[0]
    # Each column's own array: indexing it gives what raw.at[index, column] gives (the frame has a RangeIndex).
    arrays = {column: raw[column].to_numpy() for column in [label_column, *year_columns]}
    records = []
    for index in raw.index[raw.index > header_row]:
        label_cell = arrays[label_column][index]
        if label_cell is None or (isinstance(label_cell, float) and pd.isna(label_cell)):
            continue
        label = strip_footnote_marker(str(label_cell))
        # The footnote block ("1. Ketamine was ...") ends the table.
        if re.match(r"^\d+\.\s", str(label_cell).strip()) or label.lower().startswith("see user guide"):
            break
        if _NOT_A_DRUG.match(label):
            continue
        values = {
            year: _cell_to_percent(arrays[column][index], path, sheet, label, year, int(index), raw.columns.get_loc(column))
            for column, year in year_columns.items()
        }
        # Class headings ("Class A") carry no values: skip them.
        for year, value in values.items():
            if value is not None:
                records.append({"drug_type": label, "survey_year": year, "percent": value})
    if not records:
        raise ReaderError(path, f"table {title.group(0)!r} has no drug rows with values", "check the sheet layout", sheet=sheet)
    frame = pd.DataFrame(records)
    frame["table"] = title.group("number")
    frame["age_group"] = _age_group(title.group("low"), title.group("high"))
    frame["measure"] = MEASURES[title.group("measure").lower()]
    frame["edition"] = edition_match.group("edition") if edition_match else max(year_columns.values(), key=_edition_order)
    frame["source_format"] = "official_appendix"
    return frame


@cached_reader("2")
def read_csew_appendix_tables(
    path: str | Path,
    *,
    measures: Iterable[str] | None = None,
    age_groups: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Read the prevalence tables (ever / last year / last month use) of a Home Office CSEW appendix workbook.

    Parameters
    ----------
    path
        The workbook (format ``csew_appendix_xlsx``, e.g. ``drug-misuse-1617-tables.xlsx``).
    measures
        Keep only these measures (``ever``, ``last_year``, ``last_month``); all by default.
    age_groups
        Keep only these age groups (``16-59``, ``16-24``); all by default.

    Returns
    -------
    pandas.DataFrame
        Tidy, validated by :data:`PREVALENCE_SCHEMA`: ``edition, source_format, table, age_group, measure,
        drug_type, survey_year, year_ending, percent``. Drug names have their footnote markers removed;
        cells marked not asked / not reported are left out.

    Raises
    ------
    ReaderError
        If the file is not a readable workbook, or no sheet holds a prevalence table in this layout.
    """
    path = Path(path)
    sheets = read_workbook(path)
    frames = []
    for sheet, raw in sheets.items():
        if raw.empty:
            continue
        parsed = _parse_prevalence_sheet(raw.reset_index(drop=True), path, str(sheet))
        if parsed is not None:
            frames.append(parsed)
    if not frames:
        titles = [" ".join(str(v) for v in raw.head(6).to_numpy().ravel().tolist() if not pd.isna(v))[:90] for raw in sheets.values()]
        wanted = "Table 1.02 Proportion of 16 to 59 year olds reporting use of drugs in the last year"
        raise ReaderError(
            path,
            f"no sheet titled 'Proportion of 16 to 59 year olds reporting use of drugs ...' among {len(sheets)} sheets; "
            f"{closest(wanted, titles, 1)}",
            "this edition's layout is not supported by the csew_appendix_xlsx reader; add a reader for its format",
        )
    tidy = pd.concat(frames, ignore_index=True)
    if measures is not None:
        tidy = tidy[tidy["measure"].isin(list(measures))]
    if age_groups is not None:
        tidy = tidy[tidy["age_group"].isin(list(age_groups))]
    if tidy.empty:
        raise ReaderError(
            path,
            f"no prevalence table for measures {measures} and age groups {age_groups}",
            "check the requested tables exist in this edition",
        )
    duplicated = tidy.duplicated(["age_group", "measure", "drug_type", "survey_year"], keep=False)
    if duplicated.any():
        first = tidy[duplicated].iloc[0]
        raise ReaderError(
            path,
            f"two tables give {first['drug_type']!r} {first['age_group']} {first['measure']} {first['survey_year']}",
            "the workbook has duplicate prevalence tables; keep one",
        )
    return _finish(tidy, path)


_EXTRACT_COLUMNS = ("age_group", "drug_type", "period", "estimate")
_EXTRACT_AGE = re.compile(r"^(?P<low>\d+)\s*[-–—]\s*(?P<high>\d+)")


@cached_reader("2")
def read_csew_tidy_extract(path: str | Path, *, edition: str | None = None, measure: str = "last_year") -> pd.DataFrame:
    """Read a third party's tidy extract of the CSEW last-year-use tables (``csew_tidy_csv``).

    Parameters
    ----------
    path
        CSV, optionally gzip-compressed, with columns ``age_group`` (``16–59 years``), ``drug_type``,
        ``period`` (``1996`` or ``2016/17``) and ``estimate`` (a proportion, 0-1).
    edition
        The survey edition the extract was taken from (``2018/19``); by default its latest survey year.
    measure
        The measure the extract holds (these extracts hold tables 1.02 and 1.06: ``last_year``).

    Returns
    -------
    pandas.DataFrame
        The same tidy layout as :func:`read_csew_appendix_tables`, with ``percent`` = 100 x estimate,
        ``source_format`` ``third_party_extract`` and no table number.

    Raises
    ------
    ReaderError
        If a column is missing, an age group or period is not recognised, or an estimate is not a proportion.
    """
    path = Path(path)
    check_data_file(path, text=path.suffix.lower() != ".gz")
    check_limits(path)
    try:
        raw = pd.read_csv(path, compression="infer", dtype=str, keep_default_na=False)
    except Exception as exc:
        raise ReaderError(path, f"not a readable CSV ({type(exc).__name__}: {exc})", "fetch the file again") from None
    missing = [c for c in _EXTRACT_COLUMNS if c not in raw.columns]
    if missing:
        raise ReaderError(
            path,
            f"missing column(s) {missing}; found {list(raw.columns)}",
            "expected the tidy extract layout age_group, drug_type, period, estimate",
            column=missing[0],
        )
    if measure not in MEASURES.values():
        raise ReaderError(path, f"unknown measure {measure!r}", f"use one of {sorted(MEASURES.values())}")
    # "NA" marks a drug not asked about in that year: leave those rows out, as the tables leave the cell blank.
    raw = raw[~raw["estimate"].str.strip().isin(["", "NA"])].reset_index(drop=True)
    ages = raw["age_group"].astype(str).str.strip().str.extract(_EXTRACT_AGE)
    if ages.isna().any(axis=None):
        bad = raw.loc[ages.isna().any(axis=1), "age_group"].iloc[0]
        raise ReaderError(path, f"age group {bad!r} is not like '16–59 years'", "check the extract", column="age_group")
    years = raw["period"].map(survey_year_label)
    if years.isna().any():
        bad = raw.loc[years.isna(), "period"].iloc[0]
        raise ReaderError(path, f"period {bad!r} is not a survey year like 1996 or 2016/17", "check the extract", column="period")
    estimate = pd.Series(
        [
            parse_number(v, EXTRACT_NUMBERS, path=path, cell=cell_name(int(i) + 1, None, "estimate", spreadsheet=False))
            for i, v in raw["estimate"].items()
        ],
        dtype="float64",
    )
    if estimate.isna().any() or (estimate > 1).any() or (estimate < 0).any():
        raise ReaderError(
            path,
            "estimate must be a proportion between 0 and 1 on every row",
            "check the extract holds proportions, not percentages",
            column="estimate",
        )
    tidy = pd.DataFrame(
        {
            "age_group": [_age_group(low, high) for low, high in ages.itertuples(index=False)],
            "drug_type": raw["drug_type"].astype(str).map(strip_footnote_marker),
            "survey_year": years.astype(str),
            "percent": (estimate * 100).astype(float),
        }
    )
    tidy["edition"] = edition or max(tidy["survey_year"], key=_edition_order)
    if "/" not in tidy["edition"].iloc[0]:
        raise ReaderError(path, f"edition {tidy['edition'].iloc[0]!r} is not a survey year like 2018/19", "pass edition= explicitly")
    tidy["measure"] = measure
    tidy["table"] = None
    tidy["source_format"] = "third_party_extract"
    duplicated = tidy.duplicated(["age_group", "drug_type", "survey_year"])
    if duplicated.any():
        first = tidy[duplicated].iloc[0]
        raise ReaderError(
            path, f"{first['drug_type']!r} {first['age_group']} {first['survey_year']} appears twice", "de-duplicate the extract"
        )
    return _finish(tidy, path)


def combine_editions(editions: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Stack several editions so that, for each value, the newest edition that carries it wins.

    Each CSEW edition reweights its whole back series, so a survey year published in several
    editions takes its value from the latest one. A value an edition does not carry (a drug its
    extract dropped, a question not asked) is taken from the newest older edition that has it.

    Parameters
    ----------
    editions
        Frames in the layout of :func:`read_csew_appendix_tables` (any order).

    Returns
    -------
    pandas.DataFrame
        One row per age group, measure, drug and survey year, with ``edition`` naming the edition
        each value came from and ``superseded`` listing older editions that also published it.

    Raises
    ------
    ValueError
        If no frame is given, or two frames claim the same edition.
    """
    frames = [frame for frame in editions]
    if not frames:
        raise ValueError("combine_editions needs at least one edition")
    labels = [frame["edition"].iloc[0] for frame in frames if not frame.empty]
    if len(labels) != len(set(labels)):
        raise ValueError(f"two frames claim the same edition among {labels}; pass each edition once")
    stacked = pd.concat(frames, ignore_index=True)
    stacked["_order"] = stacked["edition"].map(_edition_order)
    stacked = stacked.sort_values("_order", ascending=False, kind="stable")
    key = ["age_group", "measure", "drug_type", "survey_year"]
    # Per value, every edition after the newest (the frame is sorted newest first), in one pass over plain values.
    older: dict[tuple, list[str]] = {}
    for *value_key, edition in zip(*(stacked[k] for k in key), stacked["edition"]):
        older.setdefault(tuple(value_key), []).append(edition)
    superseded = pd.Series(
        [", ".join(editions_[1:]) for editions_ in older.values()],
        index=pd.MultiIndex.from_tuples(list(older), names=key),
        name="superseded",
        dtype=object,
    )
    newest = stacked.drop_duplicates(key, keep="first").drop(columns="_order")
    newest = newest.join(superseded, on=key)
    return newest.sort_values(key).reset_index(drop=True)


#: Registry ``format`` -> reader. The ONS editions (year ending March 2020 onwards) are tried with the
#: Home Office reader, which finds tables by title and fails with a ReaderError naming the file if the
#: layout does not match.
READERS = {
    "csew_appendix_xlsx": read_csew_appendix_tables,
    "ons_csew_drug_appendix_xlsx": read_csew_appendix_tables,
    "csew_tidy_csv": read_csew_tidy_extract,
}


def read_csew(path: str | Path, fmt: str, **options) -> pd.DataFrame:
    """Read a CSEW drug-use file with the reader for its registry ``format``.

    Parameters
    ----------
    path
        The file, as returned by ``fetch``.
    fmt
        The source's ``format`` in ``data/sources.yaml``.
    options
        ``settings`` / ``force`` for the parsed cache.

    Returns
    -------
    pandas.DataFrame
        The tidy layout of :data:`PREVALENCE_SCHEMA`.

    Raises
    ------
    ReaderError
        If the format has no reader, or the file does not have the layout its reader expects.
    """
    try:
        reader = READERS[fmt]
    except KeyError:
        raise ReaderError(path, f"no CSEW reader for format {fmt!r}", f"use one of {sorted(READERS)}") from None
    return reader(Path(path), **options)


def detect(path: str | Path) -> dict | None:
    """Recognise a CSEW drug-use file by content; ``serves`` the survey edition (latest survey year).

    Returns
    -------
    dict or None
        ``{"format": "csew_appendix_xlsx" | "csew_tidy_csv", "serves": {"survey_edition": "2016/17",
        "age_groups": [...], "measures": [...]}, "title": ...}``; None otherwise.
    """
    path = Path(path)
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        if name.endswith(".csv"):
            check_data_file(path, text=True)
            head = read_text_head(path, 1)
            if not head or not set(_EXTRACT_COLUMNS) <= {c.strip() for c in head[0]}:
                return None
        else:
            try:
                header = pd.read_csv(path, compression="gzip", nrows=0).columns
            except Exception:  # not gzip, not CSV: not this format
                return None
            if not set(_EXTRACT_COLUMNS) <= {str(c).strip() for c in header}:
                return None
        frame = read_csew_tidy_extract.uncached(path)
        fmt, title = "csew_tidy_csv", "CSEW drug use, last-year use (third party's tidy extract)"
    elif path.suffix.lower() in {".xlsx", ".xls", ".ods"}:
        sheets = read_workbook(path)
        if not any(
            _TITLE.search(" ".join(str(v) for v in raw.head(6).to_numpy().ravel().tolist() if not pd.isna(v))) for raw in sheets.values()
        ):
            return None
        frame = read_csew_appendix_tables.uncached(path)
        fmt, title = "csew_appendix_xlsx", "Drug misuse: findings from the Crime Survey for England and Wales, appendix tables"
    else:
        return None
    edition = frame["edition"].iloc[0]
    serves = {
        "survey_edition": edition,
        "age_groups": sorted(frame["age_group"].unique()),
        "measures": sorted(frame["measure"].unique()),
    }
    return {"format": fmt, "serves": serves, "title": f"{title}, {edition}"}
