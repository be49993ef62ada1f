"""Figure 5 parameters: the threshold must be a class break, boundaries match, the area type follows the year."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nao_analysis.figures.fig05 import Params


@pytest.fixture(scope="module")
def registry():
    from nao_analysis.settings import Settings
    from nao_analysis.sources.registry import load_registry

    return load_registry(Settings.from_environment())


class TestFig05Params:
    def test_area_type_is_derived_from_the_year_at_run_time(self, settings):
        from nao_analysis.figures.fig05 import _area_type_for_year
        from nao_analysis.figures.runtime import prepare

        ctx = prepare("fig05", settings=settings, edition="offline")
        assert _area_type_for_year(ctx, "2021-22") == 402
        assert "manual:fingertips_area_types.csv" in ctx.inputs

    def test_explicit_area_type_is_kept(self):
        assert Params(source="fingertips_93517_sample", year="2020-21", area_type_id=402).area_type_id == 402

    def test_threshold_outside_the_class_breaks_is_refused(self):
        with pytest.raises(ValidationError, match="must be one of class_breaks"):
            Params(source="fingertips_93517_2021_22", year="2021-22", threshold=50)

    def test_boundary_vintage_must_be_served_by_the_boundary_source(self, registry):
        problems = Params(source="fingertips_93517_2021_22", year="2021-22", boundary_vintage="2023-05").registry_problems(registry)
        assert any("serves boundary vintage '2021-12'" in p for p in problems)

    def test_slash_year_is_refused_with_a_hint(self):
        with pytest.raises(ValidationError, match="write 2021-22"):
            Params(source="fingertips_93517_2021_22", year="2021/22")
