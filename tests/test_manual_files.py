"""Manual-data parameters name files under data/manual/ only (issue 15 item 2)."""

from __future__ import annotations

import pytest

from nao_analysis.errors import EditionError
from nao_analysis.manual import resolve_manual
from nao_analysis.settings import Settings


@pytest.fixture
def project(tmp_path):
    """A project root with a data/manual folder holding one table."""
    manual = tmp_path / "project" / "data" / "manual"
    manual.mkdir(parents=True)
    (manual / "table.csv").write_text("a,b\n1,2\n")
    (manual / "published").mkdir()
    (manual / "published" / "fig03.yaml").write_text("x: 1\n")
    return Settings(project_root=tmp_path / "project")


def test_a_file_in_data_manual_resolves(project):
    assert resolve_manual("table.csv", project) == project.manual_dir.resolve() / "table.csv"


def test_a_file_in_a_subfolder_resolves(project):
    assert resolve_manual("published/fig03.yaml", project).name == "fig03.yaml"


def test_absolute_path_is_refused(project):
    with pytest.raises(EditionError, match=r"'/etc/passwd': an absolute path is not allowed - name a file inside data/manual/"):
        resolve_manual("/etc/passwd", project)


def test_parent_folder_is_refused(project):
    with pytest.raises(EditionError, match=r"'\.\./\.\./x\.csv': '\.\.' is not allowed"):
        resolve_manual("../../x.csv", project)


def test_symlink_leaving_the_folder_is_refused(project, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("secret\n")
    (project.manual_dir / "link.csv").symlink_to(outside)
    with pytest.raises(EditionError, match="a symlink leads outside data/manual/"):
        resolve_manual("link.csv", project)


def test_missing_file_is_refused_with_one_line(project):
    with pytest.raises(EditionError) as caught:
        resolve_manual("nothing.csv", project)
    assert "\n" not in str(caught.value) and "no such file" in str(caught.value)


def test_real_project_tables_resolve():
    assert resolve_manual("ro_line_mapping.csv", Settings()).is_file()


class TestRecipesReadManualTablesInsideDataManualOnly:
    @pytest.mark.parametrize("value", ["/etc/passwd", "../sources.yaml", "published/../../sources.yaml"])
    def test_a_table_parameter_outside_data_manual_fails_the_figure_in_one_line(self, settings, value):
        from nao_analysis.figures.runtime import execute, prepare

        with pytest.raises(EditionError, match="fig07: manual file") as raised:
            execute(prepare("fig07", settings=settings, edition="offline", overrides={"fig07.table": value}))
        assert "\n" not in str(raised.value)

    def test_the_table_read_is_recorded_with_its_hash(self, settings):
        import hashlib

        from nao_analysis.figures.runtime import execute, prepare

        ctx = prepare("fig07", settings=settings, edition="offline")
        execute(ctx)
        table = settings.manual_dir / ctx.params.table
        assert ctx.inputs[f"manual:{ctx.params.table}"]["sha256"] == hashlib.sha256(table.read_bytes()).hexdigest()
