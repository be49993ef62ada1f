"""`nao-analysis sources add`: a new source by file or official URL, checked by content and appended to the registry.

Every test works on a temporary copy of data/sources.yaml (NAO_SOURCES_FILE) and a private data/raw (NAO_RAW_DIR).
"""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import yaml

# tests/http_server.py is also loaded as a plugin (for its fixture), so let pytest rewrite it before importing it here.
pytest.register_assert_rewrite("http_server")
import project_paths as paths  # noqa: E402
from http_server import Reply  # noqa: E402

from nao_analysis.cli import main  # noqa: E402
from nao_analysis.errors import ReaderError, SourceError  # noqa: E402
from nao_analysis.manage_sources import add_source, detect_format  # noqa: E402
from nao_analysis.settings import Settings  # noqa: E402
from nao_analysis.sources import fetch, load_registry  # noqa: E402

pytest_plugins = ["http_server"]


@pytest.fixture(scope="module")
def ro3_2022_23(raw_file):
    return raw_file("ro3_outturn_2022_23")


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A temporary copy of the real registry and an empty raw folder; returns the registry path."""
    copy = tmp_path / "registry" / "sources.yaml"
    copy.parent.mkdir()
    shutil.copyfile(paths.project_root() / "data" / "sources.yaml", copy)
    raw = tmp_path / "raw"
    raw.mkdir()
    monkeypatch.setenv("NAO_SOURCES_FILE", str(copy))
    monkeypatch.setenv("NAO_RAW_DIR", str(raw))
    return copy


def _entry(path, source_id):
    return next(s for s in yaml.safe_load(path.read_text())["sources"] if s["id"] == source_id)


class TestAddSourceByFile:
    def test_entry_pins_the_files_sha256_and_size(self, registry, ro3_2022_23):
        add_source("ro3_hand_2022_23", file=ro3_2022_23, kind="official")
        file = _entry(registry, "ro3_hand_2022_23")["files"][0]
        assert file == {
            "filename": ro3_2022_23.name,
            "sha256": hashlib.sha256(ro3_2022_23.read_bytes()).hexdigest(),
            "bytes": ro3_2022_23.stat().st_size,
        }

    def test_serves_are_detected_from_the_content(self, registry, ro3_2022_23):
        source = add_source("ro3_hand_2022_23", file=ro3_2022_23, kind="official")
        assert (source.format, source.serves) == ("ro3_ods", {"basis": "outturn", "year": "2022-23"})

    def test_existing_text_and_comments_are_kept(self, registry, ro3_2022_23):
        before = registry.read_text()
        add_source("ro3_hand_2022_23", file=ro3_2022_23, kind="official", serves={"basis": "outturn"})
        after = registry.read_text()
        assert after.startswith(before) and "# added with `nao-analysis sources add` on " in after[len(before) :]

    def test_entry_records_the_date_added(self, registry, ro3_2022_23):
        import datetime as dt

        add_source("ro3_hand_2022_23", file=ro3_2022_23, kind="official")
        assert _entry(registry, "ro3_hand_2022_23")["added"] == dt.date.today().isoformat()

    def test_cached_copy_has_provenance_added_by_hand(self, registry, ro3_2022_23):
        add_source("ro3_hand_2022_23", file=ro3_2022_23, kind="official")
        record = json.loads((paths.raw_dir() / "ro3_hand_2022_23" / f"{ro3_2022_23.name}.provenance.json").read_text())
        assert (record["origin"], record["location"]) == ("added by hand", str(ro3_2022_23.resolve()))

    def test_fetch_resolves_the_new_source(self, registry, ro3_2022_23):
        add_source("ro3_hand_2022_23", file=ro3_2022_23, kind="official")
        assert fetch("ro3_hand_2022_23", Settings.from_environment()).path.read_bytes() == ro3_2022_23.read_bytes()

    def test_duplicate_id_is_refused(self, registry, ro3_2022_23):
        with pytest.raises(SourceError, match="already has a source 'ro3_outturn_2022_23'.*--accept-new-hash"):
            add_source("ro3_outturn_2022_23", file=ro3_2022_23, kind="official")

    def test_serves_contradicting_the_file_is_refused_and_nothing_is_kept(self, registry, ro3_2022_23):
        before = registry.read_text()
        with pytest.raises(SourceError, match="--serves year=2021-22 but the file says year 2022-23"):
            add_source("ro3_wrong_year", file=ro3_2022_23, kind="official", serves={"year": "2021-22"})
        assert registry.read_text() == before
        assert not (paths.raw_dir() / "ro3_wrong_year").exists()

    def test_file_whose_line_labels_differ_names_the_missing_line(self, registry, tmp_path):
        # A revenue account export of a later year in which the substance misuse lines were renamed.
        renamed = tmp_path / "RA_2024-25_data_by_LA.csv"
        renamed.write_text(
            "Revenue Account Budget (RA) 2024-25: Revenue Account data,,,,,\n"
            "Net current expenditure (£ thousand),,,,,\n"
            "E-code,ONS Code,Local authority,,Class,Substance use - drug treatment for adults\n"
            "E0101,E06000022,Bath & North East Somerset UA,,UA,1000\n",
            encoding="utf-8",
        )
        before = registry.read_text()
        with pytest.raises(
            ReaderError,
            match=rf"{renamed}: line 'Substance misuse - Treatment for drug misuse in adults' \(adult_drug_treatment\) not found",
        ):
            add_source("ra_budget_2024_25", file=renamed, kind="official")
        assert registry.read_text() == before

    def test_missing_file_is_refused(self, registry, tmp_path):
        with pytest.raises(SourceError, match="is not a file"):
            add_source("nothing_here", file=tmp_path / "absent.ods", kind="official")

    def test_id_with_capitals_is_refused(self, registry, ro3_2022_23):
        with pytest.raises(SourceError, match="lower-case letters"):
            add_source("RO3", file=ro3_2022_23, kind="official")

    def test_url_and_file_together_are_refused(self, registry, ro3_2022_23):
        with pytest.raises(SourceError, match="exactly one of --url"):
            add_source("both", file=ro3_2022_23, kind="official", url="https://www.gov.uk/x.ods")

    def test_cli_adds_and_prints_the_hash(self, registry, ro3_2022_23, capsys):
        assert (
            main(
                [
                    "sources",
                    "add",
                    "ro3_cli",
                    "--file",
                    str(ro3_2022_23),
                    "--kind",
                    "official",
                    "--serves",
                    "basis=outturn",
                    "--serves",
                    "year=2022-23",
                ]
            )
            == 0
        )
        assert capsys.readouterr().out.startswith(f"added ro3_cli: {ro3_2022_23.name} sha256 ")
        assert load_registry(Settings.from_environment()).get("ro3_cli").serves == {"basis": "outturn", "year": "2022-23"}


class TestAddSourceByUrl:
    @pytest.fixture
    def online(self, registry, http_server, monkeypatch):
        monkeypatch.setenv("NAO_EXTRA_ALLOWED_ORIGINS", http_server.origin)
        monkeypatch.setenv("NAO_DOWNLOAD_RETRIES", "1")
        monkeypatch.setenv("NAO_DOWNLOAD_BACKOFF", "0.01")
        monkeypatch.delenv("NAO_OFFLINE", raising=False)
        return registry

    def test_download_is_recorded_with_its_url_and_hash(self, online, http_server, raw_file):
        body = raw_file("fingertips_93517_sample").read_bytes()
        http_server.script("/api/fingertips_93517.csv", Reply(body=body, headers={"Content-Type": "text/csv"}))
        url = http_server.url("/api/fingertips_93517.csv")
        source = add_source("fingertips_93517_new", url=url)
        assert (source.url, source.primary.sha256, source.format, source.serves) == (
            url,
            hashlib.sha256(body).hexdigest(),
            "fingertips_csv",
            {"covers_from": "2018-19", "covers_to": "2020-21"},
        )

    def test_download_provenance_says_download(self, online, http_server, raw_file):
        http_server.script("/f.csv", Reply(body=raw_file("fingertips_93517_sample").read_bytes()))
        add_source("fingertips_93517_new", url=http_server.url("/f.csv"))
        record = json.loads((paths.raw_dir() / "fingertips_93517_new" / "f.csv.provenance.json").read_text())
        assert record["origin"] == "download"

    def test_html_error_page_is_refused_and_nothing_is_recorded(self, online, http_server):
        before = online.read_text()
        http_server.script("/moved.xlsx", Reply(body=b"<!DOCTYPE html><html>moved</html>", headers={"Content-Type": "text/html"}))
        with pytest.raises(SourceError, match="HTML page"):
            add_source("moved_file", url=http_server.url("/moved.xlsx"))
        assert online.read_text() == before

    def test_host_off_the_allowlist_is_refused(self, registry):
        with pytest.raises(SourceError, match="not an official publisher"):
            add_source("elsewhere", url="https://example.com/RO3_2023-24.ods")

    def test_plain_http_is_refused(self, registry):
        with pytest.raises(SourceError, match="not https"):
            add_source("plain", url="http://www.gov.uk/RO3_2023-24.ods")


class TestDetectFormat:
    @pytest.mark.parametrize(
        ("source_id", "expected"),
        [
            ("ro3_outturn_2022_23", ("ro3_ods", {"basis": "outturn", "year": "2022-23"})),
            ("ro3_outturn_2013_14", ("ro3_xls", {"basis": "outturn", "year": "2013-14"})),
            ("ra_budget_2014_15", ("ra_xls", {"basis": "budget", "year": "2014-15"})),
            ("ra_budget_2021_22_csv", ("ra_csv", {"basis": "budget", "year": "2021-22"})),
            ("fingertips_93517_sample", ("fingertips_csv", {"covers_from": "2018-19", "covers_to": "2020-21"})),
            (
                "ons_ybgb_gdp_deflator_2025_06",
                ("ons_timeseries_csv", {"covers_from": "1955-56", "covers_to": "2024-25", "deflator_vintage": "2025-06"}),
            ),
            (
                "ons_drug_deaths_england_2023reg_extract",
                ("ons_drug_deaths_extract_csv", {"registration_edition": 2023, "covers_from": 1993, "covers_to": 2023}),
            ),
            (
                "ons_drug_deaths_2016reg",
                ("ons_drug_deaths_table1", {"registration_edition": 2016, "covers_from": 1993, "covers_to": 2016}),
            ),
            ("ndtms_viewit_adults_england_2009_2022", ("ndtms_viewit_csv", {"covers_from": "2009-10", "covers_to": "2021-22"})),
            ("csew_drug_misuse_2016_17", ("csew_appendix_xlsx", {"survey_edition": "2016/17", "covers_to": "2016/17"})),
            ("csew_drug_use_2018_19_extract", ("csew_tidy_csv", {"survey_edition": "2018/19", "covers_to": "2018/19"})),
            ("boundaries_ctyua_dec2021_buc", ("shapefile", {})),
        ],
    )
    def test_real_files_are_recognised_by_content(self, raw_file, source_id, expected):
        detected = detect_format(raw_file(source_id))
        assert (detected.format, detected.serves) == expected

    def test_csv_no_reader_recognises_is_refused(self, tmp_path):
        path = tmp_path / "other.csv"
        path.write_text("a,b\n1,2\n")
        with pytest.raises(SourceError, match="no reader of this project recognises the file"):
            detect_format(path)
