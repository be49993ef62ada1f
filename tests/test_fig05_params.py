"""Figure 5 parameters: the area type follows the year, the threshold must be a class break, boundaries match."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nao_analysis.params.fig05 import Fig05Params


class TestFig05Params:
    def test_area_type_is_derived_from_the_year(self):
        assert Fig05Params(source="fingertips_93517_2021_22", year="2021-22").area_type_id == 402

    def test_explicit_area_type_is_kept(self):
        assert Fig05Params(source="fingertips_93517_sample", year="2020-21", area_type_id=402).area_type_id == 402

    def test_threshold_outside_the_class_breaks_is_refused(self):
        with pytest.raises(ValidationError, match="must be one of class_breaks"):
            Fig05Params(source="fingertips_93517_2021_22", year="2021-22", threshold=50)

    def test_boundary_vintage_must_be_served_by_the_boundary_source(self):
        with pytest.raises(ValidationError, match="serves boundary vintage '2021-12'"):
            Fig05Params(source="fingertips_93517_2021_22", year="2021-22", boundary_vintage="2023-05")

    def test_slash_year_is_refused_with_a_hint(self):
        with pytest.raises(ValidationError, match="write 2021-22"):
            Fig05Params(source="fingertips_93517_2021_22", year="2021/22")
