"""The runtime a figure notebook uses: parameters, inputs, outputs and reconciliation in one place.

A notebook calls :func:`start_figure`, declares its title/notes/assumptions once, fetches its
inputs through :meth:`Figure.fetch` (which records provenance), saves its chart and tidy data,
records reconciliation rows, and calls :meth:`Figure.finish`, which writes one JSON record
that the build and the report read. Nothing here decides a number.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nao_analysis import paths
from nao_analysis.editions import Edition, load_edition
from nao_analysis.errors import NaoError
from nao_analysis.params import FigureParams, FigureSpec, load_all

RUN_FILE = "run.json"
STATUS_PASS = "pass"  # noqa: S105 - a status word, not a secret
STATUS_DIFFERS = "differs (explained)"
STATUS_FAIL = "fail"
STATUS_UNAVAILABLE = "source unavailable"


@dataclass
class Declaration:
    title: str
    subtitle: str
    notes: list[str]
    source: str
    assumptions: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)


def published_checks(figure_id: str) -> dict[str, dict[str, Any]]:
    """The numbers the report publishes for a figure, from ``data/manual/published/<figure>.yaml``."""
    path = paths.manual_dir() / "published" / f"{figure_id}.yaml"
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    checks = {}
    for row in data.get("checks", []):
        checks[row["check"]] = row
    return checks


def reconciliation_status(published: float, rebuilt: float | None, tolerance: float, explanation: str | None) -> str:
    if rebuilt is None or (isinstance(rebuilt, float) and math.isnan(rebuilt)):
        return STATUS_UNAVAILABLE
    if abs(float(rebuilt) - float(published)) <= float(tolerance) + 1e-9:
        return STATUS_PASS
    return STATUS_DIFFERS if explanation else STATUS_FAIL


class Figure:
    """Handle for one figure's run. Create it with :func:`start_figure`."""

    def __init__(
        self, spec: FigureSpec, edition: Edition, params: FigureParams, output_dir: Path, overrides: dict[str, Any] | None = None
    ) -> None:
        self.spec = spec
        self.overrides = dict(overrides or {})
        self.edition = edition
        self.params = params
        self.output_dir = output_dir
        self.declaration: Declaration | None = None
        self.inputs: dict[str, dict[str, Any]] = {}
        self.outputs: list[str] = []
        self.alt_text: dict[str, str] = {}
        self.reconciliation: list[dict[str, Any]] = []
        self.extra_notes: list[str] = []
        self.map: dict[str, Any] | None = None
        self._published = published_checks(spec.figure_id)

    # -- declaration -------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.spec.figure_id

    @property
    def stem(self) -> str:
        return self.spec.stem

    @property
    def deviations(self) -> list[str]:
        return self.edition.deviations_for(self.id)

    def declare(
        self,
        *,
        title: str,
        subtitle: str = "",
        notes: list[str] | None = None,
        source: str = "",
        assumptions: list[str] | None = None,
        caveats: list[str] | None = None,
    ) -> None:
        """Title, subtitle, notes and source as in the report; assumptions and caveats for the AQA log."""
        self.declaration = Declaration(title, subtitle, list(notes or []), source, list(assumptions or []), list(caveats or []))

    def add_note(self, note: str) -> None:
        """A note computed at run time (e.g. which areas had no data, which deflator vintage)."""
        self.extra_notes.append(note)

    @property
    def notes(self) -> list[str]:
        base = self.declaration.notes if self.declaration else []
        return base + self.extra_notes

    def banner(self) -> str:
        """Text shown on the figure when the edition uses substitute data."""
        lines = list(self.deviations)
        if self.overrides:
            # Edition-level deviation text describes the edition's defaults; say when this run departs from them.
            changed = ", ".join(f"{self.id}.{k}={v}" for k, v in sorted(self.overrides.items()))
            lines.append(f"Parameters overridden for this run ({changed}); the text above describes the edition's defaults.")
        third_party = [i["title"] for i in self.inputs.values() if i.get("kind") == "third_party_extract"]
        if third_party:
            lines.append("Built from a third party's extract of the official file: " + "; ".join(third_party) + ".")
        return "\n".join(lines)

    # -- inputs ------------------------------------------------------------------------------
    def fetch(self, source_id: str) -> Path:
        """Resolve a raw source through the fetch layer and record its provenance for this figure."""
        from nao_analysis.settings import Settings
        from nao_analysis.sources import fetch

        resolved = fetch(source_id, Settings.from_environment())
        self.inputs[source_id] = dict(resolved.provenance)
        return resolved.path

    # -- outputs -----------------------------------------------------------------------------
    def _write_atomic(self, target: Path, write) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
        os.close(fd)
        try:
            write(Path(tmp))
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)
        self.outputs.append(target.name)

    def save_data(self, frame, name: str | None = None) -> Path:
        """Write the tidy data behind the chart as CSV (include a ``unit`` column)."""
        target = self.output_dir / f"{self.stem}{'_' + name if name else ''}.csv"
        self._write_atomic(target, lambda p: frame.to_csv(p, index=False, lineterminator="\n"))
        return target

    def save_html(self, fragment: str, name: str | None = None) -> Path:
        """Write an accessible HTML fragment (e.g. a table with caption and scoped headers) beside the chart."""
        target = self.output_dir / f"{self.stem}{'_' + name if name else ''}.table.html"
        self._write_atomic(target, lambda p: p.write_text(fragment, encoding="utf-8"))
        return target

    def declare_map(self, *, bins: list[float], labels: list[str], colours: list[str]) -> None:
        """Record a choropleth's classes and colours so the interactive map draws exactly the same ones."""
        import math

        self.map = {"bins": [None if math.isinf(b) else float(b) for b in bins], "labels": list(labels), "colours": list(colours)}

    def save_chart(self, mpl_figure, *, alt: str, name: str | None = None) -> Path:
        """Write the chart as PNG and SVG, stamping any substitute-data banner on it."""
        banner = self.banner()
        if banner:
            # Below the source line, so it never hides the chart; bbox_inches="tight" grows the canvas to fit.
            mpl_figure.text(
                0.01,
                -0.01,
                f"Edition '{self.edition.name}' - {'substitute data' if self.edition.header.substitute_data else 'note'}: {banner}",
                ha="left",
                va="top",
                fontsize=7.5,
                color="#801650",
                wrap=True,
                bbox={"facecolor": "#fff4f8", "edgecolor": "#801650", "boxstyle": "round,pad=0.4"},
            )
        stem = f"{self.stem}{'_' + name if name else ''}"
        png = self.output_dir / f"{stem}.png"
        metadata_png = {"Title": self.declaration.title if self.declaration else stem, "Software": "nao-analysis"}
        self._write_atomic(png, lambda p: mpl_figure.savefig(p, format="png", metadata=metadata_png))
        self._write_atomic(self.output_dir / f"{stem}.svg", lambda p: mpl_figure.savefig(p, format="svg", metadata={"Date": None}))
        self.alt_text[png.name] = alt
        return png

    # -- reconciliation ------------------------------------------------------------------------
    def reconcile(self, check: str, rebuilt: float | None, *, explanation: str | None = None, note: str | None = None) -> dict[str, Any]:
        """Compare a rebuilt number with the one the report publishes.

        Status is ``pass`` within tolerance; ``differs (explained)`` outside it with an
        explanation (e.g. a budget rather than outturn basis); ``fail`` outside it without one;
        ``source unavailable`` when ``rebuilt`` is None.
        """
        if check not in self._published:
            raise NaoError(f"data/manual/published/{self.id}.yaml: no published check {check!r} - add it with its citation")
        spec = self._published[check]
        rebuilt_value = None if rebuilt is None else float(rebuilt)
        status = reconciliation_status(spec["published"], rebuilt_value, spec.get("tolerance", 0), explanation)
        row = {
            "check": check,
            "figure": self.id,
            "description": spec.get("description", ""),
            "published": spec["published"],
            "rebuilt": rebuilt_value,
            "tolerance": spec.get("tolerance", 0),
            "unit": spec.get("unit", ""),
            "status": status,
            "note": "; ".join(x for x in (explanation, note, spec.get("tolerance_reason")) if x),
            "citation": spec.get("citation", ""),
        }
        self.reconciliation.append(row)
        return row

    def reconciliation_table(self):
        import pandas as pd

        return pd.DataFrame(self.reconciliation)

    def finish(self) -> Path:
        """Write the figure's record (declaration, parameters, inputs, outputs, reconciliation)."""
        if self.declaration is None:
            raise NaoError(f"{self.spec.notebook}: call fig.declare(...) before fig.finish()")
        declared = set(self._published)
        done = {r["check"] for r in self.reconciliation}
        for check in sorted(declared - done):
            # A published number the run could not rebuild still gets a row, never disappears.
            self.reconcile(check, None, explanation="not rebuilt by this run")
        record = {
            "figure": self.id,
            "slug": self.spec.slug,
            "stem": self.stem,
            "edition": self.edition.name,
            "substitute_data": self.edition.header.substitute_data,
            "deviations": self.deviations,
            "overrides": self.overrides,
            "banner": self.banner(),
            "title": self.declaration.title,
            "subtitle": self.declaration.subtitle,
            "notes": self.notes,
            "source": self.declaration.source,
            "assumptions": self.declaration.assumptions,
            "caveats": self.declaration.caveats,
            "params": self.params.model_dump(mode="json"),
            "inputs": self.inputs,
            "outputs": self.outputs,
            "alt_text": self.alt_text,
            "reconciliation": self.reconciliation,
            "map": self.map,
        }
        target = self.output_dir / f"{self.stem}.json"
        self._write_atomic(target, lambda p: p.write_text(json.dumps(record, indent=2, default=str) + "\n"))
        return target


def start_figure(figure_id: str, *, edition: str = "nao-2023", overrides: dict | None = None, output_dir: str | os.PathLike = "") -> Figure:
    """Begin a figure run with the edition's parameters (the same defaults by hand as in the build).

    When the build runs the notebook it writes ``run.json`` into ``output_dir`` with any ``--set``
    overrides; parameters therefore travel as data and are never evaluated as code.
    """
    import matplotlib

    matplotlib.use("Agg")
    from nao_analysis.charts import apply_house_style

    specs = load_all()
    if figure_id not in specs:
        raise NaoError(f"start_figure: unknown figure {figure_id!r} - known: {', '.join(specs)}")
    out = Path(output_dir) if output_dir else paths.figures_dir(edition)
    merged: dict[str, dict[str, Any]] = {}
    run_file = out / RUN_FILE
    if run_file.exists():
        merged = json.loads(run_file.read_text()).get("overrides", {})
    for fid, values in (overrides or {}).items():
        merged.setdefault(fid, {}).update(values)
    loaded = load_edition(edition, merged or None)
    if figure_id not in loaded.figures:
        raise NaoError(f"{loaded.path}: figure {figure_id!r} has no parameters in this edition - add a '{figure_id}:' section")
    apply_house_style()
    return Figure(specs[figure_id], loaded, loaded.figures[figure_id], out, merged.get(figure_id))
