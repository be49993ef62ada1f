"""Figure 6: the national and local stakeholders of the drugs strategy as a validated graph, and its layered layout.

The bodies and relationships are transcribed in ``data/manual/fig06_stakeholders.yaml`` from the report's text.
:func:`load_stakeholder_map` reads and validates that file (the only I/O here); everything else is pure.
The layout puts each layer on its own row (national governance at the top, local delivery at the bottom) and
orders bodies within a row by the barycentre of their neighbours, a standard way of reducing edge crossings.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import networkx as nx
import pandas as pd
import pandera.pandas as pa
from pydantic import BaseModel, ConfigDict, Field, model_validator

from nao_analysis.errors import AnalysisError
from nao_analysis.readers._common import read_manual_yaml

NodeKind = Literal["central_government", "governance_coordinating", "local_implementing"]
Relation = Literal["provides_direction", "liaises_advises"]

#: The report's legend wording for each node kind and relation.
KIND_LABELS: dict[str, str] = {
    "central_government": "Central government body",
    "governance_coordinating": "Governance/coordinating body",
    "local_implementing": "Local implementing/operational body",
}
RELATION_LABELS: dict[str, str] = {
    "provides_direction": "Provides direction",
    "liaises_advises": "Liaises/provides advice and guidance",
}

#: Sweeps of the barycentre heuristic; the graph is small, so a few down-and-up passes settle the order.
ORDERING_SWEEPS = 4


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Layer(_Strict):
    id: str = Field(min_length=1)
    label: str = Field(min_length=1)


class Body(_Strict):
    """One stakeholder body (a node of Figure 6)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1)
    kind: NodeKind
    layer: str
    citation: str = Field(min_length=1)
    department: bool = Field(default=False, description="One of the government departments the figure's subtitle counts")


class Relationship(_Strict):
    """One relationship (an edge of Figure 6), from ``source`` to ``target``."""

    source: str
    target: str
    relation: Relation
    basis: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    inferred: bool = False


class StakeholderMap(_Strict):
    """The whole diagram: layers (rows, top to bottom), bodies and relationships, checked for consistency."""

    schema_version: int = Field(alias="schema")
    figure: str
    title: str
    subtitle: str = ""
    source: str
    citation: str
    layers: list[Layer] = Field(min_length=1)
    nodes: list[Body] = Field(min_length=1)
    edges: list[Relationship] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> StakeholderMap:
        layer_ids = [layer.id for layer in self.layers]
        if dupes := _duplicates(layer_ids):
            raise ValueError(f"layer ids appear more than once: {', '.join(dupes)}")
        node_ids = [node.id for node in self.nodes]
        if dupes := _duplicates(node_ids):
            raise ValueError(f"node ids appear more than once: {', '.join(dupes)}")
        for node in self.nodes:
            if node.layer not in layer_ids:
                raise ValueError(
                    f"node {node.id!r} is in layer {node.layer!r}, which is not listed under 'layers' ({', '.join(layer_ids)})"
                )
        known = set(node_ids)
        pairs = []
        for edge in self.edges:
            for end in (edge.source, edge.target):
                if end not in known:
                    raise ValueError(f"edge {edge.source} -> {edge.target} names unknown node {end!r}")
            if edge.source == edge.target:
                raise ValueError(f"edge {edge.source} -> {edge.target} points at itself")
            pairs.append(f"{edge.source}->{edge.target}")
        if dupes := _duplicates(pairs):
            raise ValueError(f"edges appear more than once: {', '.join(dupes)}")
        return self


def _duplicates(values: list[str]) -> list[str]:
    return sorted(value for value, count in Counter(values).items() if count > 1)


def load_stakeholder_map(path: str | Path) -> StakeholderMap:
    """Read and validate the Figure 6 stakeholder file.

    Parameters
    ----------
    path
        A YAML file laid out like ``data/manual/fig06_stakeholders.yaml``.

    Returns
    -------
    StakeholderMap
        The validated bodies, layers and relationships.

    Raises
    ------
    ReaderError
        If the file is missing, is not YAML, or breaks a rule (unknown node, duplicate id, bad kind...).
    """
    return read_manual_yaml(
        path,
        StakeholderMap,
        missing_fix="check the fig06 'stakeholders_file' parameter names a file in data/manual/",
        invalid_fix="correct the entry; see data/manual/fig06_stakeholders.yaml for the layout",
    )


def stated_relationships_only(stakeholders: StakeholderMap) -> StakeholderMap:
    """The same map without the relationships marked ``inferred`` (keeps only those the report states)."""
    return stakeholders.model_copy(update={"edges": [edge for edge in stakeholders.edges if not edge.inferred]})


def stakeholder_graph(stakeholders: StakeholderMap) -> nx.DiGraph:
    """The stakeholder map as a directed graph whose nodes and edges carry every attribute of the file.

    Parameters
    ----------
    stakeholders
        A validated map from :func:`load_stakeholder_map`.

    Returns
    -------
    networkx.DiGraph
        Node attributes ``label, kind, layer, layer_index, citation``; edge attributes ``relation, basis, citation, inferred``.
    """
    layer_index = {layer.id: i for i, layer in enumerate(stakeholders.layers)}
    graph = nx.DiGraph()
    for node in stakeholders.nodes:
        graph.add_node(
            node.id, label=node.label, kind=node.kind, layer=node.layer, layer_index=layer_index[node.layer], citation=node.citation
        )
    for edge in stakeholders.edges:
        graph.add_edge(edge.source, edge.target, relation=edge.relation, basis=edge.basis, citation=edge.citation, inferred=edge.inferred)
    return graph


def _row_positions(rows: list[list[str]]) -> dict[str, float]:
    """x of every slot when each row is spread on a common grid and centred (as :func:`layered_layout` draws it)."""
    widest = max(len(row) for row in rows)
    step = 1.0 / max(widest - 1, 1)
    positions = {}
    for row in rows:
        start = 0.5 - step * (len(row) - 1) / 2
        for order, node in enumerate(row):
            positions[node] = start + step * order
    return positions


def _order_rows(graph: nx.Graph, rows: list[list[str]]) -> list[list[str]]:
    """Reorder the slots of each row by the mean position of all their neighbours (the barycentre heuristic).

    Rows are revisited top-down then bottom-up a few times, each using the others' latest order. Ties keep the
    current order, so the file's order decides when the links do not.
    """
    rows = [list(row) for row in rows]
    for _ in range(ORDERING_SWEEPS):
        for i in [*range(len(rows)), *reversed(range(len(rows)))]:
            positions = _row_positions(rows)
            keys = {}
            for node in rows[i]:
                linked = [positions[n] for n in graph.neighbors(node)]
                keys[node] = (sum(linked) / len(linked) if linked else positions[node], positions[node])
            rows[i].sort(key=lambda node: keys[node])
    return rows


def _crossings(graph: nx.Graph, upper: list[str], lower: list[str]) -> int:
    """Number of pairs of links between two adjacent rows that cross."""
    up = {node: i for i, node in enumerate(upper)}
    low = {node: i for i, node in enumerate(lower)}
    links = [(up[a], low[b]) for a, b in graph.edges if a in up and b in low] + [
        (up[b], low[a]) for a, b in graph.edges if b in up and a in low
    ]
    return sum(1 for i, (a1, b1) in enumerate(links) for a2, b2 in links[i + 1 :] if (a1 - a2) * (b1 - b2) < 0)


def _total_crossings(graph: nx.Graph, rows: list[list[str]]) -> int:
    return sum(_crossings(graph, rows[i], rows[i + 1]) for i in range(len(rows) - 1))


def _transpose(graph: nx.Graph, rows: list[list[str]]) -> list[list[str]]:
    """Swap neighbouring slots while that removes crossings (the barycentre order leaves a few avoidable ones)."""
    rows = [list(row) for row in rows]
    best = _total_crossings(graph, rows)
    improved = True
    while improved and best:
        improved = False
        for row in rows:
            for i in range(len(row) - 1):
                row[i], row[i + 1] = row[i + 1], row[i]
                count = _total_crossings(graph, rows)
                if count < best:
                    best, improved = count, True
                else:
                    row[i], row[i + 1] = row[i + 1], row[i]
    return rows


@dataclass(frozen=True)
class _SolvedLayout:
    graph: nx.DiGraph
    rows: list[list[str]]
    positions: dict[str, float]
    #: For an arrow that skips layers, the placeholder slots it passes through, in order (Sugiyama's dummy nodes).
    waypoints: dict[tuple[str, str], list[str]]


#: Placeholder ids start with a character no body id can start with, so they never clash.
_PLACEHOLDER = "~"


def _solve_layout(stakeholders: StakeholderMap) -> _SolvedLayout:
    """Rows of bodies plus one placeholder slot per layer an arrow passes through, ordered to reduce crossings.

    Reserving a slot for each long arrow keeps it from being drawn through the boxes of the layers it crosses.
    """
    graph = stakeholder_graph(stakeholders)
    layer_ids = [layer.id for layer in stakeholders.layers]
    rows = [[node.id for node in stakeholders.nodes if node.layer == layer_id] for layer_id in layer_ids]
    empty = [layer_id for layer_id, row in zip(layer_ids, rows) if not row]
    if empty:
        raise AnalysisError(f"fig06 stakeholders: layer(s) {', '.join(empty)} have no bodies - remove them from 'layers' or add bodies")
    chains = nx.Graph()
    chains.add_nodes_from(graph.nodes)
    waypoints: dict[tuple[str, str], list[str]] = {}
    for source, target in graph.edges:
        first, last = graph.nodes[source]["layer_index"], graph.nodes[target]["layer_index"]
        direction = 1 if last >= first else -1
        previous, passed = source, []
        for layer_index in range(first + direction, last, direction):
            placeholder = f"{_PLACEHOLDER}{source}>{target}@{layer_index}"
            rows[layer_index].append(placeholder)
            chains.add_edge(previous, placeholder)
            passed.append(placeholder)
            previous = placeholder
        chains.add_edge(previous, target)
        waypoints[(source, target)] = passed
    rows = _transpose(chains, _order_rows(chains, rows))
    return _SolvedLayout(graph, rows, _row_positions(rows), waypoints)


def _row_y(layer_index: int, layers: int) -> float:
    return 1.0 - layer_index / max(layers - 1, 1)


def layered_layout(stakeholders: StakeholderMap) -> pd.DataFrame:
    """Place each body on its layer's row, ordered to reduce crossing arrows.

    Rows run top (first layer, ``y = 1``) to bottom (last layer, ``y = 0``); within a row slots are spread evenly
    over ``x`` in [0, 1] on a grid common to all rows and centred. An arrow that skips a layer reserves a slot in it
    (see :func:`edge_routes`), so some slots hold no body.

    Parameters
    ----------
    stakeholders
        A validated map from :func:`load_stakeholder_map`.

    Returns
    -------
    pandas.DataFrame
        One row per body: ``node, label, kind, kind_label, layer, layer_label, layer_index, order, x, y, citation``,
        validated by :data:`LAYOUT_SCHEMA`.

    Raises
    ------
    AnalysisError
        If a layer has no bodies (the drawing would have an empty row).
    """
    solved = _solve_layout(stakeholders)
    layer_labels = {layer.id: layer.label for layer in stakeholders.layers}
    records = []
    for layer_index, row in enumerate(solved.rows):
        bodies = [slot for slot in row if not slot.startswith(_PLACEHOLDER)]
        for order, node_id in enumerate(bodies):
            attrs = solved.graph.nodes[node_id]
            records.append(
                {
                    "node": node_id,
                    "label": attrs["label"],
                    "kind": attrs["kind"],
                    "kind_label": KIND_LABELS[attrs["kind"]],
                    "layer": attrs["layer"],
                    "layer_label": layer_labels[attrs["layer"]],
                    "layer_index": layer_index,
                    "order": order,
                    "x": solved.positions[node_id],
                    "y": _row_y(layer_index, len(solved.rows)),
                    "citation": attrs["citation"],
                }
            )
    return LAYOUT_SCHEMA.validate(pd.DataFrame.from_records(records))


def edge_routes(stakeholders: StakeholderMap) -> pd.DataFrame:
    """The points each arrow passes through: its source's centre, one reserved slot per skipped layer, its target's centre.

    Parameters
    ----------
    stakeholders
        A validated map from :func:`load_stakeholder_map`.

    Returns
    -------
    pandas.DataFrame
        Tidy: ``source, target, relation, point, x, y`` with ``point`` 0 at the source, in the coordinates of
        :func:`layered_layout`.
    """
    solved = _solve_layout(stakeholders)
    layers = len(solved.rows)
    records = []
    for edge in stakeholders.edges:
        chain = [edge.source, *solved.waypoints[(edge.source, edge.target)], edge.target]
        for point, slot in enumerate(chain):
            layer_index = next(i for i, row in enumerate(solved.rows) if slot in row)
            records.append(
                {
                    "source": edge.source,
                    "target": edge.target,
                    "relation": edge.relation,
                    "point": point,
                    "x": solved.positions[slot],
                    "y": _row_y(layer_index, layers),
                }
            )
    return pd.DataFrame.from_records(records, columns=["source", "target", "relation", "point", "x", "y"])


def relationships_table(stakeholders: StakeholderMap) -> pd.DataFrame:
    """The relationships as a tidy table with both ends' labels and the legend wording of each relation.

    Parameters
    ----------
    stakeholders
        A validated map from :func:`load_stakeholder_map`.

    Returns
    -------
    pandas.DataFrame
        ``source, source_label, target, target_label, relation, relation_label, inferred, basis, citation``.
    """
    labels = {node.id: node.label for node in stakeholders.nodes}
    frame = pd.DataFrame.from_records(
        [
            {
                "source": edge.source,
                "source_label": labels[edge.source],
                "target": edge.target,
                "target_label": labels[edge.target],
                "relation": edge.relation,
                "relation_label": RELATION_LABELS[edge.relation],
                "inferred": edge.inferred,
                "basis": edge.basis,
                "citation": edge.citation,
            }
            for edge in stakeholders.edges
        ],
        columns=["source", "source_label", "target", "target_label", "relation", "relation_label", "inferred", "basis", "citation"],
    )
    return RELATIONSHIPS_SCHEMA.validate(frame)


def count_departments(stakeholders: StakeholderMap) -> int:
    """How many government departments the diagram shows (the figure's subtitle says six).

    Raises
    ------
    AnalysisError
        If a body flagged as a department is not drawn as a central government body.
    """
    departments = [node for node in stakeholders.nodes if node.department]
    misfiled = [node.id for node in departments if node.kind != "central_government"]
    if misfiled:
        raise AnalysisError(f"fig06 stakeholders: department(s) {', '.join(misfiled)} must have kind central_government")
    return len(departments)


LAYOUT_SCHEMA = pa.DataFrameSchema(
    {
        "node": pa.Column(str, unique=True),
        "label": pa.Column(str),
        "kind": pa.Column(str, pa.Check.isin(list(KIND_LABELS))),
        "kind_label": pa.Column(str),
        "layer": pa.Column(str),
        "layer_label": pa.Column(str),
        "layer_index": pa.Column(int, pa.Check.ge(0)),
        "order": pa.Column(int, pa.Check.ge(0)),
        "x": pa.Column(float, pa.Check.in_range(0.0, 1.0)),
        "y": pa.Column(float, pa.Check.in_range(0.0, 1.0)),
        "citation": pa.Column(str),
    },
    strict=True,
    coerce=True,
)

RELATIONSHIPS_SCHEMA = pa.DataFrameSchema(
    {
        "source": pa.Column(str),
        "source_label": pa.Column(str),
        "target": pa.Column(str),
        "target_label": pa.Column(str),
        "relation": pa.Column(str, pa.Check.isin(list(RELATION_LABELS))),
        "relation_label": pa.Column(str),
        "inferred": pa.Column(bool),
        "basis": pa.Column(str),
        "citation": pa.Column(str),
    },
    strict=True,
    coerce=True,
)
