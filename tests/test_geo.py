"""The county shapes in conf/geo and what is derived from them (lakehouse/geo.py)."""

from __future__ import annotations

import yaml

from lakehouse.geo import county_code, county_neighbors, cut_to_state, load_topology
from lakehouse.identity.attach import load_county_neighbors
from tests.conftest import ROOT


def test_the_shapes_are_the_states_58_counties_under_their_names():
    topology = load_topology(ROOT / "conf")
    names = yaml.safe_load((ROOT / "conf" / "codes" / "geography.yml").read_text())["county_name"]
    shapes = {
        county_code(g["id"]): g["properties"]["name"] for g in topology["objects"]["counties"]["geometries"]
    }
    assert shapes == {str(code): name for code, name in names.items()}
    assert len(shapes) == 58 and len(topology["objects"]["state"]["geometries"]) == 1


def test_the_neighbor_map_identity_reads_is_the_shapes_borders():
    derived = county_neighbors(load_topology(ROOT / "conf"))
    assert load_county_neighbors(ROOT / "conf") == derived
    assert all(code in derived[other] for code, near in derived.items() for other in near)  # symmetric
    assert derived["19"] == ["15", "30", "36", "56"]  # Los Angeles: Kern, Orange, San Bernardino, Ventura
    assert derived["38"] == ["01", "41"]  # San Francisco: its bay border with Alameda, and San Mateo


def test_cutting_keeps_one_states_counties_and_the_arcs_they_use_renumbered():
    arcs = [[[0, 0], [1, 0]], [[5, 5], [1, 1]], [[1, 0], [0, 1]], [[0, 1], [-1, -1]]]
    topology = {
        "type": "Topology",
        "transform": {"scale": [1, 1], "translate": [0, 0]},
        "arcs": arcs,
        "objects": {
            "counties": {
                "type": "GeometryCollection",
                "geometries": [
                    {"type": "Polygon", "id": "06001", "arcs": [[0, 2, 3]]},
                    {"type": "Polygon", "id": "06003", "arcs": [[~2, ~3]]},
                    {"type": "Polygon", "id": "32001", "arcs": [[1]]},
                ],
            },
            "states": {
                "type": "GeometryCollection",
                "geometries": [
                    {"type": "Polygon", "id": "06", "arcs": [[0, 2, 3]]},
                    {"id": "32", "arcs": [[1]]},
                ],
            },
        },
    }
    cut = cut_to_state(topology)
    assert cut["arcs"] == [arcs[0], arcs[2], arcs[3]] and cut["transform"] == topology["transform"]
    counties = cut["objects"]["counties"]["geometries"]
    assert [(g["id"], g["arcs"]) for g in counties] == [("06001", [[0, 1, 2]]), ("06003", [[~1, ~2]])]
    assert [g["id"] for g in cut["objects"]["state"]["geometries"]] == ["06"]
    assert county_neighbors(cut) == {"01": ["02"], "02": ["01"]}
