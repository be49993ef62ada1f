"""Figure 6: national and local stakeholders involved in implementing the drugs strategy (a layered diagram).

Source: the bodies and relationships transcribed from the report's text (``data/manual/fig06_stakeholders.yaml``).
Analysis: ``analysis.stakeholders`` (layout, routes, relationships, department count); drawing:
``diagrams.draw_stakeholder_diagram``.
"""

from __future__ import annotations

from pydantic import Field

from nao_analysis.figures._shared import join_words, model_schema, reconciliation
from nao_analysis.figures.recipe import Chart, FigureContext, FigureParams, FigureResult, FigureSpec, fill


class Params(FigureParams):
    stakeholders_file: str = Field(
        default="fig06_stakeholders.yaml", pattern=r"^[\w.-]+\.ya?ml$", description="Bodies and relationships, transcribed in data/manual/"
    )
    show_inferred: bool = Field(
        default=True, description="Draw the relationships marked 'inferred' (our reading of the text) as well as the stated ones"
    )


FIGURE = FigureSpec("fig06", "stakeholders", "National and local stakeholders involved in implementing the drugs strategy", Params)

NUMBER_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]

TEXT = {
    "subtitle": (
        "{departments_word} government departments have responsibility for preventing and tackling the harm from illegal drugs, "
        "in addition to other central bodies and local partnerships"
    ),
    "drawn_inferred": "{relationships} relationships drawn, of which {inferred} are our reading of the text.",
    "drawn_stated": "{relationships} relationships drawn, all stated in the report.",
    "hidden": "{hidden} relationships that are only our reading of the text are left out (show_inferred is off).",
    "alt": (
        "Diagram of {bodies} bodies in {layer_count} layers ({layer_names}). Bodies by kind: {kinds}. "
        "{direction} arrows show direction and {advice} show liaison or advice; the {departments_word} government departments "
        "sit in the central government layer."
    ),
    "closing": (
        "{departments_word} departments ({department_names}) share responsibility, as the figure's subtitle says. "
        "The diagram draws {relationships} relationships between {bodies} bodies; "
        "the relationships table gives the paragraph behind every arrow."
    ),
}
NOTES = [
    "The bodies and relationships are rebuilt from the report's text; the published drawing itself is not in the text of the report.",
    "Arrows the report describes without naming them as direction or advice are our reading of the text "
    "(marked 'inferred' in the data and drawn paler).",
]
ASSUMPTIONS = [
    "A relationship is 'provides direction' where a body funds with conditions, commissions, leads or instructs; "
    "'liaises/provides advice and guidance' where it coordinates or advises without formal powers (paragraphs 2.4 and 2.5)."
]
CAVEATS = ["The report's own diagram may group or connect bodies differently; this is a reconstruction, cited paragraph by paragraph."]


def _word(number: int) -> str:
    return NUMBER_WORDS[number] if 0 <= number < len(NUMBER_WORDS) else f"{number:,}"


def run(ctx: FigureContext) -> FigureResult:
    from nao_analysis.analysis.stakeholders import (
        StakeholderMap,
        count_departments,
        edge_routes,
        layered_layout,
        relationships_table,
        stated_relationships_only,
    )
    from nao_analysis.diagrams import draw_stakeholder_diagram

    p: Params = ctx.params
    # load
    stakeholders = ctx.read_manual(
        p.stakeholders_file,
        model_schema(StakeholderMap, p.stakeholders_file, "correct the entry; see data/manual/fig06_stakeholders.yaml for the layout"),
    )
    # process
    shown = stakeholders if p.show_inferred else stated_relationships_only(stakeholders)
    layout = layered_layout(shown)
    relationships = relationships_table(shown)
    routes = edge_routes(shown)
    departments = count_departments(stakeholders)
    counts = layout.groupby("kind_label").size()
    all_relationships = relationships_table(stakeholders)
    values = ctx.values(
        departments=departments,
        departments_word=_word(departments).capitalize(),
        department_names=join_words([n.label for n in stakeholders.nodes if n.department]),
        relationships=len(relationships),
        inferred=int(relationships.inferred.sum()),
        hidden=int(all_relationships.inferred.sum()) - int(relationships.inferred.sum()),
        bodies=len(layout),
        layer_count=len(stakeholders.layers),
        layer_names=", ".join(layer.label.lower() for layer in stakeholders.layers),
        kinds="; ".join(f"{label}: {n}" for label, n in counts.items()),
        direction=int((relationships.relation == "provides_direction").sum()),
        advice=int((relationships.relation == "liaises_advises").sum()),
    )
    title, source = stakeholders.title, stakeholders.source
    subtitle = fill(TEXT["subtitle"], values)
    notes = [*NOTES, fill(TEXT["drawn_inferred" if values["inferred"] else "drawn_stated"], values)]
    if values["hidden"]:
        notes.append(fill(TEXT["hidden"], values))
    # chart
    chart = draw_stakeholder_diagram(
        layout,
        relationships,
        routes,
        title=title,
        subtitle=subtitle,
        source=source,
        notes="\n".join(f"{i} {n}" for i, n in enumerate(notes, 1)),
    )
    alt = fill(TEXT["alt"], {**values, "departments_word": _word(departments)})
    # reconcile
    recon = reconciliation(ctx)
    recon.check("government_departments", departments)
    table = relationships[["source_label", "relation_label", "target_label", "inferred", "citation"]].rename(
        columns={
            "source_label": "From",
            "relation_label": "Relationship",
            "target_label": "To",
            "inferred": "Our reading of the text",
            "citation": "Citation",
        }
    )
    return FigureResult(
        figure_id=ctx.figure_id,
        title=title,
        subtitle=subtitle,
        notes=notes,
        source=source,
        charts=[Chart(chart, alt)],
        data={None: layout.assign(unit="body"), "relationships": relationships.assign(unit="relationship")},
        tables={"Relationships": table},
        text={"closing": fill(TEXT["closing"], values)},
        assumptions=list(ASSUMPTIONS),
        caveats=list(CAVEATS),
        reconciliation=recon.finish(),
    )
