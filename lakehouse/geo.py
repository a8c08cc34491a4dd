"""The state's county shapes (conf/geo/california-counties.topo.json) and what is derived from them.

The shapes are the Census Bureau's 2017 cartographic boundary file of counties at 1:10,000,000, as
TopoJSON from the npm package us-atlas 3.0.1 (`counties-10m.json`), cut down to California with
`cut_to_state`: its 58 counties and its outline, and only the arcs they use. TopoJSON stores each
border once, as an arc that both counties on it reference, so two counties border each other exactly
when they share an arc (`county_neighbors`); that is where `county_neighbors` in
conf/codes/geography.yml comes from, and a test keeps the two equal.

County codes: the shapes carry 5-digit FIPS ids ("06037", Los Angeles); the agencies' files use the
two-digit county codes of the state's school data (alphabetical, "19" for Los Angeles), which are
(FIPS county number + 1) / 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

STATE_FIPS = "06"


TOPOLOGY = Path("geo") / "california-counties.topo.json"


def has_topology(conf_dir: str | Path) -> bool:
    return (Path(conf_dir) / TOPOLOGY).is_file()


def load_topology(conf_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(conf_dir) / TOPOLOGY).read_text())


def county_code(fips: str) -> str:
    """The two-digit county code of a 5-digit county FIPS id ("06037" -> "19")."""
    return f"{(int(fips[2:]) + 1) // 2:02d}"


def _arcs(geometry: dict[str, Any]) -> set[int]:
    """The arcs a polygon or multipolygon references, without direction (~i is arc i reversed)."""
    found: set[int] = set()

    def walk(x: Any) -> None:
        if isinstance(x, int):
            found.add(x if x >= 0 else ~x)
        else:
            for y in x:
                walk(y)

    walk(geometry.get("arcs", []))
    return found


def county_neighbors(topology: dict[str, Any]) -> dict[str, list[str]]:
    """County code -> the codes of the counties that share a border (an arc) with it."""
    counties = topology["objects"]["counties"]["geometries"]
    arcs = {county_code(g["id"]): _arcs(g) for g in counties}
    return {
        code: sorted(other for other, theirs in arcs.items() if other != code and mine & theirs)
        for code, mine in sorted(arcs.items())
    }


def cut_to_state(topology: dict[str, Any], state: str = STATE_FIPS) -> dict[str, Any]:
    """A us-atlas counties topology cut to one state's counties and outline: the arcs they use,
    renumbered in their old order. The quantization `transform` stays as it is: each arc's points
    are deltas from its own first point, so arcs can be dropped without touching the others."""
    counties = [g for g in topology["objects"]["counties"]["geometries"] if g["id"][:2] == state]
    outline = [g for g in topology["objects"]["states"]["geometries"] if g["id"] == state]
    used = sorted(set().union(*(_arcs(g) for g in counties + outline)))
    new = {old: n for n, old in enumerate(used)}

    def renumber(x: Any) -> Any:
        if isinstance(x, int):
            return new[x] if x >= 0 else ~new[~x]
        return [renumber(y) for y in x]

    def cut(geometries: list[dict]) -> dict[str, Any]:
        return {
            "type": "GeometryCollection",
            "geometries": [{**g, "arcs": renumber(g["arcs"])} for g in geometries],
        }

    return {
        "type": "Topology",
        "transform": topology["transform"],
        "objects": {"counties": cut(counties), "state": cut(outline)},
        "arcs": [topology["arcs"][old] for old in used],
    }


def coded_by_county(topology: dict[str, Any]) -> dict[str, Any]:
    """The same shapes with each county's id the two-digit county code the published tables use
    ("19" for Los Angeles, not "06037"), for the dashboard's map; names stay in `properties.name`."""
    counties = topology["objects"]["counties"]
    geometries = [{**g, "id": county_code(g["id"])} for g in counties["geometries"]]
    return {
        **topology,
        "objects": {**topology["objects"], "counties": {**counties, "geometries": geometries}},
    }


def county_names(topology: dict[str, Any]) -> dict[str, str]:
    """County code -> the county's name, as the Census shapes spell it."""
    return {
        county_code(g["id"]): g["properties"]["name"] for g in topology["objects"]["counties"]["geometries"]
    }
