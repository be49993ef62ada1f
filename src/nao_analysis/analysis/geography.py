"""Authority geography: DLUHC E-codes to ONS codes, and predecessor authorities to a target boundary vintage.

Three steps, all pure:

1. :func:`build_e_code_crosswalk` - DLUHC E-code <-> ONS code, from the revenue account files that carry
   both (RA 2021-22, RO3 2022-23). Older files carry E-codes only.
2. :func:`attach_ons_codes` - give every row of an older file its ONS code: through the crosswalk, or, for an
   authority abolished before the crosswalk files (Bournemouth, Poole, Dorset CC, Buckinghamshire CC,
   Northamptonshire CC), by its name among the ONS upper-tier areas of its own year. An authority matched by
   neither raises :class:`CrosswalkError` listing the codes.
3. :func:`successor_codes` and :func:`comparison_units` - map each base-year upper-tier area to the areas
   of the target boundary vintage, driven by the ONS code-change table (BCP/Dorset 2019,
   Buckinghamshire 2020, North/West Northamptonshire 2021, Cumbria/North Yorkshire/Somerset 2023), and
   group them into like-for-like comparison units under a policy:

   ``aggregate``
       every set of predecessors and successors linked by a change is one unit (Bournemouth + Poole +
       Dorset CC are compared with BCP + Dorset); each successor area shows the unit's change.
   ``nao``
       the report's choice: a successor formed by a merger is compared with the predecessor named first in
       its name (Bournemouth with Bournemouth, Christchurch and Poole; Dorset CC with Dorset); predecessors
       left over (Poole) are not compared. A split (Northamptonshire into North and West) cannot be paired
       one-to-one, so it is aggregated under both policies.

City of London and the Isles of Scilly are merged with Hackney and Cornwall in both years, as in public
health finance data (their public health services are commissioned jointly). That gives the report's 150
areas from the 152 upper-tier codes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Literal

import networkx as nx
import pandas as pd

from nao_analysis.errors import CrosswalkError

#: Revenue-account classes of upper-tier authorities (county, unitary, metropolitan district, London borough).
UPPER_TIER_CLASSES = frozenset({"UA", "SC", "MD", "L", "LB"})
#: Small authorities reported with a neighbour: code -> partner code.
SMALL_AUTHORITY_PARTNERS: dict[str, str] = {"E09000001": "E09000012", "E06000053": "E06000052"}
#: Code-change types that name a successor for the same kind of area (``new_geo`` is a new combined authority).
SUCCESSION_TYPES = frozenset({"merger", "new_code"})
CrosswalkPolicy = Literal["aggregate", "nao"]

_STOP_WORDS = {"ua", "cc", "mbc", "dc", "bc", "council", "the", "city", "of", "county", "borough", "upon", "on", "and", "towns", "royal"}


def normalise_name(name: object) -> str:
    """An authority name reduced for matching: lower case, ``&`` as ``and``, no punctuation or suffixes (UA, CC...)."""
    text = str(name).lower().replace("&", " and ")
    text = re.sub(r"[^a-z ]", " ", text)
    return " ".join(w for w in text.split() if w not in _STOP_WORDS)


def _names_agree(a: object, b: object) -> bool:
    return bool(set(normalise_name(a).split()) & set(normalise_name(b).split()))


def build_e_code_crosswalk(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Build the DLUHC E-code -> ONS code crosswalk from revenue account tables that carry both.

    Parameters
    ----------
    frames : iterable of pandas.DataFrame
        Outputs of :func:`nao_analysis.readers.revenue_account.read_revenue_account` (``e_code``, ``ons_code``,
        ``authority``). Rows without an ONS code are ignored.

    Returns
    -------
    pandas.DataFrame
        ``e_code``, ``ons_code``, ``authority`` - one row per E-code.

    Raises
    ------
    CrosswalkError
        If no frame carries ONS codes, or one E-code is given different ONS codes.
    """
    pairs = []
    for frame in frames:
        if "ons_code" in frame.columns:
            pairs.append(frame.loc[frame["ons_code"].notna(), ["e_code", "ons_code", "authority"]])
    if not pairs:
        raise CrosswalkError("E-code crosswalk: none of the files given carries ONS codes - add a revenue account file of 2021-22 or later")
    both = pd.concat(pairs, ignore_index=True).drop_duplicates(["e_code", "ons_code"])
    conflicts = both[both.duplicated("e_code", keep=False)]
    if len(conflicts):
        listed = "; ".join(f"{e}: {', '.join(sorted(g['ons_code']))}" for e, g in conflicts.groupby("e_code"))
        raise CrosswalkError(f"E-code crosswalk: E-codes with more than one ONS code ({listed}) - check the files' vintages")
    return both.sort_values("e_code").reset_index(drop=True)


def attach_ons_codes(spend: pd.DataFrame, crosswalk: pd.DataFrame, area_names: pd.DataFrame) -> pd.DataFrame:
    """Give every authority row an ONS code, and say how it was found.

    Parameters
    ----------
    spend : pandas.DataFrame
        Revenue account rows (``e_code``, ``ons_code`` possibly missing, ``authority``).
    crosswalk : pandas.DataFrame
        From :func:`build_e_code_crosswalk`.
    area_names : pandas.DataFrame
        ``code``, ``name`` of the ONS areas of the file's own year (e.g. 2014 upper tier), for authorities
        abolished before the crosswalk files.

    Returns
    -------
    pandas.DataFrame
        ``spend`` with ``ons_code`` filled and ``ons_code_from`` (``file``, ``e_code_crosswalk``, ``name``).

    Raises
    ------
    CrosswalkError
        Listing every E-code (with its name) that could not be matched.
    """
    out = spend.copy()
    out["ons_code"] = out["ons_code"].astype(object)
    from_file = out["ons_code"].notna() & out["ons_code"].astype(str).str.match(r"^E\d{8}$")
    crosswalk_of = {e: (code, authority) for e, code, authority in zip(crosswalk["e_code"], crosswalk["ons_code"], crosswalk["authority"])}
    by_name: dict[str, list[str]] = {}
    for code, name in zip(area_names["code"], area_names["name"]):
        by_name.setdefault(normalise_name(name), []).append(code)
    codes, found_by, unmatched = [], [], []
    for in_file, code, e_code, name in zip(from_file, out["ons_code"], out["e_code"], out["authority"]):
        if in_file:
            codes.append(code)
            found_by.append("file")
            continue
        # E-codes are reused after reorganisations (E1203 was not Dorset UA in 2013-14), so the names must agree.
        crosswalked = crosswalk_of.get(e_code)
        if crosswalked is not None and _names_agree(name, crosswalked[1]):
            codes.append(crosswalked[0])
            found_by.append("e_code_crosswalk")
            continue
        candidates = by_name.get(normalise_name(name), [])
        if len(candidates) == 1:
            codes.append(candidates[0])
            found_by.append("name")
        else:
            codes.append(code)
            found_by.append(None)
            unmatched.append(f"{e_code} ({name})")
    out["ons_code"] = pd.Series(codes, index=out.index, dtype=object)
    out["ons_code_from"] = pd.Series(found_by, index=out.index, dtype=object)
    if unmatched:
        raise CrosswalkError(
            f"E-code crosswalk: {len(set(unmatched))} authorities have no ONS code: {', '.join(sorted(set(unmatched)))} "
            "- add a revenue account file that carries their ONS codes, or the ONS names of that year"
        )
    return out


def upper_tier_areas_from_districts(districts: pd.DataFrame) -> pd.DataFrame:
    """Upper-tier ``code``, ``name`` from a district lookup (:func:`read_district_upper_tier_lookup`)."""
    areas = districts[["upper_tier_code", "upper_tier_name"]].drop_duplicates()
    return areas.rename(columns={"upper_tier_code": "code", "upper_tier_name": "name"}).sort_values("code").reset_index(drop=True)


def successor_codes(codes: Iterable[str], changes: pd.DataFrame, districts: pd.DataFrame, boundary_year: int) -> dict[str, frozenset[str]]:
    """The areas each code has become by ``boundary_year``, following every change up to that year.

    Parameters
    ----------
    codes : iterable of str
        ONS codes of the base year's upper-tier areas.
    changes : pandas.DataFrame
        From :func:`nao_analysis.readers.boundaries.read_code_changes`.
    districts : pandas.DataFrame
        District -> upper tier lookup of the base year: a terminated county's successors are the
        successors of its districts.
    boundary_year : int
        Calendar year of the target boundaries; a change applies when its ``start_year`` is not later.

    Returns
    -------
    dict of str to frozenset of str
        A code unchanged by then maps to itself.
    """
    applied = changes[(changes["start_year"] <= boundary_year) & changes["old_code"].str.startswith("E")]
    successors: dict[str, set[str]] = {}
    for old, new in applied.loc[
        applied["change_type"].isin(SUCCESSION_TYPES) & applied["new_code"].notna(), ["old_code", "new_code"]
    ].itertuples(index=False):
        successors.setdefault(old, set()).add(new)
    terminated = set(applied.loc[applied["change_type"] == "termination", "old_code"])
    districts_of = districts.groupby("upper_tier_code")["district_code"].apply(list).to_dict()

    def resolve(code: str, seen: frozenset[str]) -> set[str]:
        if code in seen:
            raise CrosswalkError(f"code changes: a cycle through {code} - check the code-change table")
        seen = seen | {code}
        if code in successors:
            return set().union(*(resolve(n, seen) for n in successors[code]))
        if code in terminated:
            parts = [d for d in districts_of.get(code, []) if d != code]
            if not parts:
                raise CrosswalkError(
                    f"code changes: {code} was terminated but has no districts in the lookup - give the district lookup of the base year"
                )
            return set().union(*(resolve(d, seen) for d in parts))
        return {code}

    return {code: frozenset(resolve(code, frozenset())) for code in codes}


def _nao_pairs(base: Mapping[str, str], target: Mapping[str, str], base_codes: set[str], target_codes: set[str]) -> dict[str, str] | None:
    """Pair each successor with the predecessor named first in its name, if that is one-to-one."""
    pairs = {}
    for t in sorted(target_codes):
        t_name = target[t].lower()
        positions = [(t_name.find(base[b].lower()), b) for b in base_codes]
        positions = [(pos, b) for pos, b in positions if pos >= 0]
        if not positions:
            return None
        pairs[t] = min(positions)[1]
    if len(set(pairs.values())) != len(pairs):
        return None
    return pairs


def comparison_units(
    base: Mapping[str, str],
    target: Mapping[str, str],
    successors: Mapping[str, frozenset[str]],
    policy: CrosswalkPolicy = "aggregate",
) -> pd.DataFrame:
    """Group base-year and target-year areas into like-for-like comparison units.

    Parameters
    ----------
    base, target : mapping of str to str
        ONS code -> name of the base-year and target-year upper-tier areas.
    successors : mapping of str to frozenset of str
        From :func:`successor_codes`, for every base code.
    policy : {"aggregate", "nao"}
        See the module docstring.

    Returns
    -------
    pandas.DataFrame
        One row per target area: ``target_code``, ``target_name``, ``unit_id``, ``unit_name``,
        ``base_codes`` and ``base_names`` (``"; "``-joined), ``crosswalk`` (empty when the area is unchanged,
        otherwise what was done), ``counted`` (False for City of London and Isles of Scilly, reported within
        their partner), ``policy``. ``attrs["not_compared"]`` lists the base codes the policy leaves out
        (``attrs["not_compared_names"]`` their names).

    Raises
    ------
    CrosswalkError
        Listing base codes with no successor among the target areas, or target areas no base code leads to.
    """
    if policy not in ("aggregate", "nao"):
        raise CrosswalkError(f"crosswalk_policy {policy!r} is not known - use 'aggregate' or 'nao'")
    missing = sorted(c for c in base if c not in successors)
    if missing:
        raise CrosswalkError(
            f"crosswalk: no successor computed for base codes {', '.join(missing)} - pass every base code to successor_codes"
        )
    dangling = sorted(
        f"{c} ({base[c]}) -> {', '.join(sorted(s - set(target)))}" for c, s in successors.items() if c in base and not s <= set(target)
    )
    if dangling:
        raise CrosswalkError(
            f"crosswalk: base areas whose successors are not in the target boundaries: {'; '.join(dangling)} - "
            "check boundary_vintage against target_year, or extend the code-change table"
        )
    graph = nx.Graph()
    graph.add_nodes_from(("base", c) for c in base)
    graph.add_nodes_from(("target", c) for c in target)
    for c in base:
        for s in successors[c]:
            graph.add_edge(("base", c), ("target", s))
    for small, partner in SMALL_AUTHORITY_PARTNERS.items():
        for side, names in (("base", base), ("target", target)):
            if small in names and partner in names:
                graph.add_edge((side, small), (side, partner))
    orphan = sorted(
        f"{c} ({target[c]})" for c in target if not any(n[0] == "base" for n in nx.node_connected_component(graph, ("target", c)))
    )
    if orphan:
        raise CrosswalkError(
            f"crosswalk: target areas with no predecessor in the base year: {', '.join(orphan)} - extend the code-change table"
        )

    rows = []
    not_compared = []
    for component in nx.connected_components(graph):
        base_codes = {c for side, c in component if side == "base"}
        target_codes = {c for side, c in component if side == "target"}
        small_merge = bool(target_codes & set(SMALL_AUTHORITY_PARTNERS))
        changed = not small_merge and (len(base_codes) > 1 or len(target_codes) > 1 or base_codes != target_codes)
        pairs = _nao_pairs(base, target, base_codes, target_codes) if policy == "nao" and changed and len(base_codes) > 1 else None
        if pairs:
            for t, b in pairs.items():
                rows.append(
                    _unit_row(
                        t,
                        target,
                        [b],
                        base,
                        unit_id=t,
                        unit_name=target[t],
                        crosswalk=f"nao: {base[b]} compared with {target[t]}",
                        counted=True,
                        policy=policy,
                    )
                )
            not_compared += sorted(base_codes - set(pairs.values()))
            continue
        counted_targets = sorted(target_codes - set(SMALL_AUTHORITY_PARTNERS)) if small_merge else sorted(target_codes)
        unit_id = "+".join(counted_targets)
        unit_name = " and ".join(target[t] for t in counted_targets)
        if small_merge:
            unit_name = " and ".join(
                [target[t] for t in counted_targets] + [target[t] for t in sorted(target_codes & set(SMALL_AUTHORITY_PARTNERS))]
            )
            note = "small authority merged with its partner in both years"
        elif changed:
            kind = "code change" if len(base_codes) == 1 and len(target_codes) == 1 else "aggregated predecessors and successors"
            note = f"{kind}: {' + '.join(base[b] for b in sorted(base_codes))} -> {' + '.join(target[t] for t in sorted(target_codes))}"
        else:
            note = ""
        for t in sorted(target_codes):
            rows.append(
                _unit_row(
                    t,
                    target,
                    sorted(base_codes),
                    base,
                    unit_id=unit_id,
                    unit_name=unit_name,
                    crosswalk=note,
                    counted=t not in SMALL_AUTHORITY_PARTNERS or not small_merge,
                    policy=policy,
                )
            )
    units = pd.DataFrame(rows).sort_values("target_code").reset_index(drop=True)
    units.attrs["not_compared"] = not_compared
    units.attrs["not_compared_names"] = [base[b] for b in not_compared]
    return units


def _unit_row(t: str, target: Mapping[str, str], base_codes: list[str], base: Mapping[str, str], **fields) -> dict:
    return {
        "target_code": t,
        "target_name": target[t],
        "unit_id": fields["unit_id"],
        "unit_name": fields["unit_name"],
        "base_codes": "; ".join(base_codes),
        "base_names": "; ".join(base[b] for b in base_codes),
        "crosswalk": fields["crosswalk"],
        "counted": fields["counted"],
        "policy": fields["policy"],
    }
