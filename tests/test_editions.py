"""Edition files and --set overrides are validated before anything runs."""

from __future__ import annotations

import pytest

from nao_analysis.editions import check_against_registry, list_editions, load_edition, parse_override
from nao_analysis.errors import EditionError
from nao_analysis.settings import Settings
from nao_analysis.sources.registry import load_registry


class TestLoadEdition:
    @pytest.mark.parametrize("name", ["nao-2023", "offline"])
    def test_committed_editions_validate(self, name, settings):
        edition = load_edition(name, settings=settings)
        assert {"fig02", "fig04"} <= set(edition.figures)
        # The sources the committed editions name are in the committed registry (a separate step from parsing).
        check_against_registry(edition, load_registry(settings))

    def test_offline_is_marked_substitute_and_lists_deviations(self):
        edition = load_edition("offline", settings=Settings.from_environment())
        assert edition.header.substitute_data
        assert edition.deviations_for("fig02")

    def test_unknown_edition_names_the_available_ones(self):
        with pytest.raises(EditionError, match="available editions: .*nao-2023"):
            load_edition("nao-2099", settings=Settings.from_environment())

    def test_edition_name_with_path_characters_is_refused(self):
        with pytest.raises(EditionError, match="not valid"):
            load_edition("../secrets", settings=Settings.from_environment())

    def test_slash_year_is_rejected_with_the_fix(self):
        with pytest.raises(EditionError, match=r"fig04\.end_year: .*write 2021-22 instead of 2021/22"):
            load_edition("offline", ["fig04.end_year=2021/22"], settings=Settings.from_environment())

    def test_non_consecutive_financial_year_is_rejected(self):
        with pytest.raises(EditionError, match="not two consecutive years"):
            load_edition("offline", ["fig04.end_year=2021-23"], settings=Settings.from_environment())

    def test_unknown_parameter_key_is_rejected(self):
        with pytest.raises(EditionError, match=r"fig04\.colour: unknown parameter"):
            load_edition("offline", ["fig04.colour=red"], settings=Settings.from_environment())

    def test_override_for_a_figure_not_in_the_edition_is_rejected(self):
        with pytest.raises(EditionError, match="not in edition"):
            load_edition("offline", ["fig99.year=2020"], settings=Settings.from_environment())

    def test_override_changes_the_value(self):
        edition = load_edition("offline", ["fig02.end_year=2020"], settings=Settings.from_environment())
        assert edition.figures["fig02"].end_year == 2020

    def test_end_before_start_is_rejected(self):
        with pytest.raises(EditionError, match="must be after"):
            load_edition("offline", ["fig02.end_year=2001"], settings=Settings.from_environment())

    def test_unknown_top_level_key_is_rejected(self, tmp_path, monkeypatch):
        (tmp_path / "broken.yaml").write_text("name: broken\ntitle: t\nfigures: {}\ncolour: red\n")
        monkeypatch.setenv("NAO_EDITIONS_DIR", str(tmp_path))
        with pytest.raises(EditionError, match="colour: unknown key"):
            load_edition("broken", settings=Settings.from_environment())

    def test_errors_are_one_line(self):
        with pytest.raises(EditionError) as caught:
            load_edition("offline", ["fig04.end_year=2021/22"], settings=Settings.from_environment())
        assert "\n" not in str(caught.value)


class TestParseOverride:
    def test_value_is_parsed_as_data(self):
        assert parse_override("fig02.end_year=2022") == ("fig02", "end_year", 2022)

    def test_code_in_a_value_stays_a_string(self):
        figure, key, value = parse_override("fig02.source=__import__('os').system('touch /tmp/pwned')")
        assert value == "__import__('os').system('touch /tmp/pwned')"

    def test_missing_dot_is_an_error(self):
        with pytest.raises(EditionError, match="FIGURE.PARAMETER=VALUE"):
            parse_override("end_year=2022")


def test_list_editions_includes_both():
    assert {"nao-2023", "offline"} <= set(list_editions(Settings.from_environment()))
