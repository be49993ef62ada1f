"""Figure 6: the stakeholder map (data file, validation, layered layout, arrow routes) and its drawing."""

from __future__ import annotations

import matplotlib.pyplot as plt
import project_paths as paths
import pytest
import yaml

from nao_analysis.analysis.stakeholders import (
    KIND_LABELS,
    RELATION_LABELS,
    count_departments,
    edge_routes,
    layered_layout,
    load_stakeholder_map,
    relationships_table,
    stated_relationships_only,
)
from nao_analysis.diagrams import INFERRED_LABEL, draw_stakeholder_diagram
from nao_analysis.errors import AnalysisError, ReaderError

STAKEHOLDERS = paths.manual_dir() / "fig06_stakeholders.yaml"


@pytest.fixture(scope="module")
def stakeholders():
    return load_stakeholder_map(STAKEHOLDERS)


def write_variant(tmp_path, change) -> str:
    """A copy of the real file with one deliberate fault, for the bad-input tests."""
    data = yaml.safe_load(STAKEHOLDERS.read_text(encoding="utf-8"))
    change(data)
    target = tmp_path / "stakeholders.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return target


class TestLoadStakeholderMap:
    def test_every_node_cites_a_paragraph_footnote_or_appendix(self, stakeholders):
        cited = [n.id for n in stakeholders.nodes if any(w in n.citation for w in ("paragraph", "footnote", "Appendix"))]
        assert cited == [n.id for n in stakeholders.nodes]

    def test_every_edge_cites_a_paragraph_footnote_or_appendix(self, stakeholders):
        cited = [e for e in stakeholders.edges if any(w in e.citation for w in ("paragraph", "footnote", "Appendix"))]
        assert len(cited) == len(stakeholders.edges)

    def test_all_three_kinds_of_body_of_the_legend_are_present(self, stakeholders):
        assert {n.kind for n in stakeholders.nodes} == set(KIND_LABELS)

    def test_both_relations_of_the_legend_are_present(self, stakeholders):
        assert {e.relation for e in stakeholders.edges} == set(RELATION_LABELS)

    def test_edge_to_unknown_body_names_file_and_body(self, tmp_path):
        path = write_variant(tmp_path, lambda d: d["edges"].append({**d["edges"][0], "target": "no_such_body"}))
        with pytest.raises(ReaderError, match=r"stakeholders\.yaml.*no_such_body"):
            load_stakeholder_map(path)

    def test_duplicate_body_id_rejected(self, tmp_path):
        path = write_variant(tmp_path, lambda d: d["nodes"].append(dict(d["nodes"][0])))
        with pytest.raises(ReaderError, match="more than once"):
            load_stakeholder_map(path)

    def test_kind_outside_the_legend_rejected(self, tmp_path):
        path = write_variant(tmp_path, lambda d: d["nodes"][0].update(kind="charity"))
        with pytest.raises(ReaderError, match=r"nodes\.0\.kind"):
            load_stakeholder_map(path)

    def test_body_in_unlisted_layer_rejected(self, tmp_path):
        path = write_variant(tmp_path, lambda d: d["nodes"][0].update(layer="regional"))
        with pytest.raises(ReaderError, match="regional"):
            load_stakeholder_map(path)

    def test_missing_file_names_the_parameter(self, tmp_path):
        with pytest.raises(ReaderError, match="stakeholders_file"):
            load_stakeholder_map(tmp_path / "absent.yaml")

    def test_broken_yaml_is_one_line(self, tmp_path):
        path = tmp_path / "broken.yaml"
        path.write_text("nodes: [unclosed\n", encoding="utf-8")
        with pytest.raises(ReaderError) as excinfo:
            load_stakeholder_map(path)
        assert "\n" not in str(excinfo.value)


class TestCountDepartments:
    def test_counts_flagged_departments(self, stakeholders):
        published = yaml.safe_load((paths.manual_dir() / "published" / "fig06.yaml").read_text())["checks"][0]["published"]
        assert count_departments(stakeholders) == published

    def test_department_not_drawn_as_central_government_rejected(self, stakeholders):
        nodes = [n.model_copy(update={"kind": "local_implementing"}) if n.id == "dwp" else n for n in stakeholders.nodes]
        with pytest.raises(AnalysisError, match="dwp"):
            count_departments(stakeholders.model_copy(update={"nodes": nodes}))


class TestLayeredLayout:
    def test_every_body_placed_once(self, stakeholders):
        layout = layered_layout(stakeholders)
        assert sorted(layout["node"]) == sorted(n.id for n in stakeholders.nodes)

    def test_layers_run_top_to_bottom_in_file_order(self, stakeholders):
        layout = layered_layout(stakeholders)
        heights = layout.groupby("layer")["y"].first()
        assert list(heights.loc[[layer.id for layer in stakeholders.layers]]) == sorted(heights, reverse=True)

    def test_no_two_bodies_share_a_position(self, stakeholders):
        layout = layered_layout(stakeholders)
        assert not layout.duplicated(["x", "y"]).any()

    def test_same_input_same_layout(self, stakeholders):
        assert layered_layout(stakeholders).equals(layered_layout(stakeholders))

    def test_empty_layer_rejected(self, stakeholders):
        extra = stakeholders.layers + [stakeholders.layers[0].model_copy(update={"id": "empty_row"})]
        with pytest.raises(AnalysisError, match="empty_row"):
            layered_layout(stakeholders.model_copy(update={"layers": extra}))


class TestEdgeRoutes:
    def test_arrow_skipping_a_layer_gets_one_waypoint_per_skipped_layer(self, stakeholders):
        routes = edge_routes(stakeholders)
        minister = routes[(routes.source == "combating_drugs_minister") & (routes.target == "cdps")]
        assert len(minister) == 3  # national governance -> (central government) -> local partnerships

    def test_waypoints_never_sit_on_a_body(self, stakeholders):
        layout = layered_layout(stakeholders)
        routes = edge_routes(stakeholders)
        last = routes.groupby(["source", "target"])["point"].transform("max")
        waypoints = routes[(routes.point > 0) & (routes.point < last)]
        occupied = set(zip(layout.x.round(9), layout.y.round(9)))
        assert not occupied & set(zip(waypoints.x.round(9), waypoints.y.round(9)))

    def test_routes_start_and_end_at_the_bodies(self, stakeholders):
        layout = layered_layout(stakeholders).set_index("node")
        routes = edge_routes(stakeholders).sort_values("point")
        ends = routes.groupby(["source", "target"]).agg(x0=("x", "first"), x1=("x", "last")).reset_index()
        assert (ends.x0.values == layout.loc[ends.source, "x"].values).all()
        assert (ends.x1.values == layout.loc[ends.target, "x"].values).all()


class TestRelationshipsTable:
    def test_relations_use_the_report_legend_wording(self, stakeholders):
        table = relationships_table(stakeholders)
        assert set(table["relation_label"]) == {"Provides direction", "Liaises/provides advice and guidance"}

    def test_stated_only_drops_inferred_relationships(self, stakeholders):
        table = relationships_table(stated_relationships_only(stakeholders))
        assert len(table) == sum(not e.inferred for e in stakeholders.edges)
        assert not table["inferred"].any()


class TestDrawStakeholderDiagram:
    def test_legend_has_the_report_entries(self, stakeholders):
        figure = draw_stakeholder_diagram(
            layered_layout(stakeholders),
            relationships_table(stakeholders),
            edge_routes(stakeholders),
            title=stakeholders.title,
            source=stakeholders.source,
        )
        labels = [text.get_text() for legend in figure.legends for text in legend.get_texts()]
        plt.close(figure)
        assert labels[:5] == list(KIND_LABELS.values()) + list(RELATION_LABELS.values())

    def test_inferred_arrows_are_explained_in_the_legend(self, stakeholders):
        figure = draw_stakeholder_diagram(layered_layout(stakeholders), relationships_table(stakeholders), title="t")
        labels = [text.get_text() for legend in figure.legends for text in legend.get_texts()]
        plt.close(figure)
        assert INFERRED_LABEL in labels

    def test_no_inferred_entry_when_all_arrows_are_stated(self, stakeholders):
        stated = stated_relationships_only(stakeholders)
        figure = draw_stakeholder_diagram(layered_layout(stated), relationships_table(stated), title="t")
        labels = [text.get_text() for legend in figure.legends for text in legend.get_texts()]
        plt.close(figure)
        assert INFERRED_LABEL not in labels

    def test_relationship_to_unplaced_body_rejected(self, stakeholders):
        layout = layered_layout(stakeholders)
        with pytest.raises(AnalysisError, match="cdps"):
            draw_stakeholder_diagram(layout[layout.node != "cdps"], relationships_table(stakeholders), title="t")
