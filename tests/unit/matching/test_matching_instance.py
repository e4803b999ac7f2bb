"""Parsing and validating solver instances: every problem named, nothing silently accepted."""
from __future__ import annotations

import numpy as np
import pytest

from core.matching import Demand, Edge, ExpertCapacity, Instance, InstanceError, parse_instance
from core.matching.instance import DEFAULT_MAX_SLOTS, DEFAULT_MAX_UNIVERSITIES, EdgeTable


def valid_data() -> dict:
    return {
        "experts": [{"id": "e1", "max_universities": 2, "max_slots": 3}, {"id": "e2"}],
        "demands": [{"id": "d1", "university": "u1", "need": 1}, {"id": "d2", "university": "u2", "need": 2}],
        "edges": [["e1", "d1", 0.83], ["e2", "d1", 0.5], ["e2", "d2", 1]],
        "fixed": [["e1", "d1"]],
        "forbidden": [["e2", "d1"]],
    }


def problems_of(data: dict) -> list[str]:
    with pytest.raises(InstanceError) as caught:
        parse_instance(data)
    return caught.value.problems


def test_parses_a_valid_instance_with_defaults():
    instance = parse_instance(valid_data())
    assert instance.experts[1] == ExpertCapacity("e2", DEFAULT_MAX_UNIVERSITIES, DEFAULT_MAX_SLOTS)
    assert instance.demands[1] == Demand("d2", "u2", 2)
    assert instance.edges[0] == Edge("e1", "d1", 0.83)
    assert instance.fixed == frozenset({("e1", "d1")})
    assert instance.forbidden == frozenset({("e2", "d1")})


def test_round_trips_through_to_dict():
    instance = parse_instance(valid_data())
    assert parse_instance(instance.to_dict()) == instance


def test_every_problem_is_reported_at_once():
    data = {
        "experts": [{"id": "e1"}, {"id": "e1"}, {"id": "e3", "max_universities": -1}],
        "demands": [{"id": "d1", "university": "u1", "need": -1}, {"id": "d2", "university": "u1", "need": 1.5}],
        "edges": [["e1", "d1", 1.2], ["e1", "d1", 0.5], ["ghost", "d1", 0.5], ["e1", "nowhere", 0.5], ["e1", "d2", "x"]],
    }
    problems = problems_of(data)
    joined = "\n".join(problems)
    assert "duplicate expert id" in joined
    assert "max_universities must be an integer >= 0" in joined
    assert "need must be an integer >= 0, got -1" in joined
    assert "need must be an integer >= 0, got 1.5" in joined
    assert "score must be a number in [0, 1], got 1.2" in joined
    assert "duplicate edge" in joined
    assert "unknown expert 'ghost'" in joined
    assert "unknown demand 'nowhere'" in joined
    assert "got 'x'" in joined
    assert len(problems) == 9


def test_rejects_nan_and_boolean_values():
    data = valid_data()
    data["edges"][0][2] = float("nan")
    data["demands"][0]["need"] = True
    joined = "\n".join(problems_of(data))
    assert "score must be a number in [0, 1], got nan" in joined
    assert "need must be an integer >= 0, got True" in joined


def test_fixed_pairs_must_be_edges_not_forbidden_and_within_caps():
    data = valid_data()
    data["fixed"] = [["e2", "d1"], ["e1", "d2"]]
    data["forbidden"] = [["e2", "d1"]]
    joined = "\n".join(problems_of(data))
    assert "fixed ('e2', 'd1') is also forbidden" in joined
    assert "fixed ('e1', 'd2') is not among the edges" in joined

    over = valid_data()
    over["experts"][0] = {"id": "e1", "max_universities": 1, "max_slots": 1}
    over["edges"].append(["e1", "d2", 0.5])
    over["fixed"] = [["e1", "d1"], ["e1", "d2"]]
    joined = "\n".join(problems_of(over))
    assert "2 fixed pairs exceed max_slots 1" in joined
    assert "fixed pairs span 2 universities, more than max_universities 1" in joined


def test_malformed_shapes_are_named():
    joined = "\n".join(problems_of({"experts": {}, "edges": [["e1", "d1"]], "extra": 1}))
    assert "unknown key 'extra'" in joined
    assert "experts: required, must be a list" in joined
    assert "demands: required, must be a list" in joined
    assert "edges[0]: must be [expert_id, demand_id, score]" in joined
    with pytest.raises(InstanceError):
        parse_instance([1, 2, 3])


def test_edge_table_reads_like_edges_and_is_validated_in_bulk():
    table = EdgeTable(["e1", "e2"], ["d1"], np.array([0, 1]), np.array([0, 0]), np.array([0.25, 0.75]))
    assert list(table) == [Edge("e1", "d1", 0.25), Edge("e2", "d1", 0.75)]
    assert table[1] == Edge("e2", "d1", 0.75)
    experts = (ExpertCapacity("e1"), ExpertCapacity("e2"))
    demands = (Demand("d1", "u1", 1),)
    instance = Instance(experts, demands, table)
    assert len(instance.edges) == 2

    bad = EdgeTable(["e1", "zz"], ["d1"], np.array([0, 0, 1]), np.array([0, 0, 0]), np.array([0.5, 0.5, 2.0]))
    with pytest.raises(InstanceError) as caught:
        Instance(experts, demands, bad)
    joined = "\n".join(caught.value.problems)
    assert "duplicate edge" in joined
    assert "unknown expert 'zz'" in joined
    assert "score must be a number in [0, 1], got 2.0" in joined
