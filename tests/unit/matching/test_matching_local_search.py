"""The primal heuristics (greedy, replacement and relocation moves) and the pruning of national instances."""
from __future__ import annotations

import random

import numpy as np
import pytest
from matching_brute_force import brute_force_optimum
from matching_instances import load_benchmark, random_instance

from core.matching import Demand, Edge, ExpertCapacity, Instance, solve
from core.matching.flow import min_cost_flow_assignment
from core.matching.instance import EdgeTable
from core.matching.local_search import greedy_assignment, improve_by_relocation, improve_by_replacement
from core.matching.model import compile_instance
from core.matching.prune import prune_instance
from core.matching.solver import _value, _violations


# The random instances here: caps up to 3 universities and 4 slots, about 15 % of pairs fixed.
SHAPE = dict(max_universities=3, max_slots=4, fixed_share=0.15)


def feasible(compiled, chosen) -> bool:
    return _violations(compiled, np.concatenate([compiled.fixed_edges, compiled.free[chosen]])) == []


def university_counts(compiled, chosen) -> np.ndarray:
    edges = np.concatenate([compiled.fixed_edges, compiled.free[chosen]])
    keys = np.unique(compiled.edge_expert[edges] * (len(compiled.university_ids) + 1) + compiled.demand_university[compiled.edge_demand[edges]])
    return np.bincount(keys // (len(compiled.university_ids) + 1), minlength=compiled.n_experts)


@pytest.mark.parametrize("seed", range(40))
def test_heuristics_are_feasible_and_never_worse(seed):
    rng = random.Random(7000 + seed)
    problem = random_instance(
        rng, experts=rng.randint(2, 14), demands=rng.randint(2, 16), universities=rng.randint(1, 5), density=0.5, **SHAPE
    )
    compiled = compile_instance(problem)
    weight = float(compiled.residual_need.clip(min=0).sum() + 1)
    greedy = greedy_assignment(compiled)
    assert feasible(compiled, greedy)
    for start in (greedy, min_cost_flow_assignment(compiled), np.zeros(0, dtype=np.int64)):
        replaced = improve_by_replacement(compiled, start, weight)
        assert feasible(compiled, replaced)
        assert _value(compiled, replaced, weight) >= _value(compiled, start, weight) - 1e-9
        relocated = improve_by_relocation(compiled, replaced, weight)
        assert feasible(compiled, relocated)
        assert _value(compiled, relocated, weight) >= _value(compiled, replaced, weight) - 1e-9
        assert np.all(university_counts(compiled, relocated) <= compiled.max_universities)


def test_replacement_puts_the_spare_slots_the_flow_leaves_to_use():
    # e1 may serve one university with two slots: the slot-capped flow gives it one course
    # (d1, its best); a replacement move then also gives it d2 at the same university,
    # where it beats e2.
    problem = Instance(
        experts=(ExpertCapacity("e1", 1, 2), ExpertCapacity("e2", 1, 1)),
        demands=(Demand("d1", "u1", 1), Demand("d2", "u1", 1)),
        edges=(Edge("e1", "d1", 0.9), Edge("e1", "d2", 0.8), Edge("e2", "d2", 0.1), Edge("e2", "d1", 0.1)),
    )
    compiled = compile_instance(problem)
    weight = float(compiled.residual_need.sum() + 1)
    flow = min_cost_flow_assignment(compiled)
    improved = improve_by_replacement(compiled, flow, weight)
    assert len(improved) == 2
    assert float(compiled.edge_score[compiled.free[improved]].sum()) == pytest.approx(1.7)


def test_relocation_moves_an_expert_to_the_university_where_it_takes_more():
    # e1 (one university, three slots) sits at u1 on d1; at u2 it beats the incumbent on
    # three courses. Replacement moves cannot open u2 (no university left); relocation
    # gives up u1 (e2 refills d1) and takes all three at u2.
    problem = Instance(
        experts=(
            ExpertCapacity("e1", 1, 3),
            ExpertCapacity("e2", 1, 1),
            ExpertCapacity("e3", 2, 3),
        ),
        demands=(Demand("d1", "u1", 1), Demand("a", "u2", 1), Demand("b", "u2", 1), Demand("c", "u2", 1)),
        edges=(
            Edge("e1", "d1", 0.9),
            Edge("e2", "d1", 0.85),
            Edge("e1", "a", 0.8),
            Edge("e1", "b", 0.8),
            Edge("e1", "c", 0.8),
            Edge("e3", "a", 0.3),
            Edge("e3", "b", 0.3),
            Edge("e3", "c", 0.3),
        ),
    )
    compiled = compile_instance(problem)
    weight = float(compiled.residual_need.sum() + 1)
    # Start: e1 on d1, e3 on a, b, c (feasible: e3 serves one university).
    pairs = {("e1", "d1"), ("e3", "a"), ("e3", "b"), ("e3", "c")}
    start = np.array(
        [i for i, e in enumerate(compiled.free)
         if (compiled.expert_ids[compiled.edge_expert[e]], compiled.demand_ids[compiled.edge_demand[e]]) in pairs]
    )
    assert len(start) == 4 and feasible(compiled, start)
    assert np.array_equal(improve_by_replacement(compiled, start, weight), start)
    relocated = improve_by_relocation(compiled, start, weight)
    assert feasible(compiled, relocated)
    assert len(relocated) == 4
    assert float(compiled.edge_score[compiled.free[relocated]].sum()) == pytest.approx(0.85 + 3 * 0.8)
    assert solve(problem).score == pytest.approx(0.85 + 3 * 0.8)


def test_never_worse_than_the_flow_baseline_on_a_seeded_medium_instance():
    bench = load_benchmark()
    problem = bench.full_instance(bench.generate_batch("M", seed=3))
    compiled = compile_instance(problem)
    flow = min_cost_flow_assignment(compiled)
    flow_score = float(compiled.edge_score[compiled.free[flow]].sum())
    weight = float(compiled.residual_need.sum() + 1)
    improved = improve_by_relocation(compiled, improve_by_replacement(compiled, flow, weight), weight)
    assert feasible(compiled, improved)
    assert len(improved) >= len(flow)
    assert float(compiled.edge_score[compiled.free[improved]].sum()) >= flow_score - 1e-9
    solution = solve(problem, time_limit=10, diagnostics=False)
    assert solution.filled >= len(flow)
    assert solution.score >= flow_score - 1e-9
    assert solution.bound >= solution.score - 1e-9
    per_expert = {}
    university_of = {d.id: d.university for d in problem.demands}
    for expert, demand in solution.assignments:
        per_expert.setdefault(expert, []).append(university_of[demand])
    caps = {e.id: e for e in problem.experts}
    for expert, universities in per_expert.items():
        assert len(set(universities)) <= caps[expert].max_universities
        assert len(universities) <= caps[expert].max_slots


@pytest.mark.parametrize("seed", range(12))
def test_pruned_solve_keeps_a_valid_bound_and_a_feasible_answer(seed):
    # Prune far below the national threshold: the bound must still hold for the whole
    # instance (the brute-force optimum), the answer be feasible for it.
    rng = random.Random(9100 + seed)
    problem = random_instance(rng, experts=rng.randint(2, 4), demands=rng.randint(2, 3), universities=rng.randint(1, 3), density=0.8, **SHAPE)
    table = EdgeTable.from_edges(problem.edges)
    problem = Instance(problem.experts, problem.demands, table, problem.fixed, problem.forbidden)
    import core.matching.prune as prune

    saved = (prune.PRUNE_ABOVE_EDGES, prune.KEEP_PER_SLOT, prune.KEEP_EXTRA)
    prune.PRUNE_ABOVE_EDGES, prune.KEEP_PER_SLOT, prune.KEEP_EXTRA = 0, 1, 0
    try:
        pruned, floor = prune_instance(problem)
        solution = solve(problem)
    finally:
        prune.PRUNE_ABOVE_EDGES, prune.KEEP_PER_SLOT, prune.KEEP_EXTRA = saved
    assert floor is not None
    assert problem.fixed <= {(e.expert, e.demand) for e in pruned.edges}
    filled, score = brute_force_optimum(problem)
    assert solution.filled_bound >= filled
    if solution.filled == filled:
        assert solution.bound >= score - 1e-9
    from core.matching import check_assignment

    assert check_assignment(problem, solution.assignments) == []


@pytest.mark.parametrize("seed", range(20))
def test_greedy_start_when_the_flow_does_not_fit_keeps_a_valid_bound(seed, monkeypatch):
    # The XL path: no flow in the time, greedy then local search, idle-price bound.
    import core.matching.solver as solver_module

    monkeypatch.setattr(solver_module, "FLOW_SECONDS_PER_EDGE_EXPERT", 1e9)
    rng = random.Random(9500 + seed)
    problem = random_instance(rng, experts=rng.randint(2, 4), demands=rng.randint(2, 3), universities=rng.randint(1, 3), density=0.7, **SHAPE)
    solution = solve(problem, time_limit=5)
    assert "greedy_s" in solution.stats or solution.stats.get("free_edges", 0) == 0
    from core.matching import check_assignment

    assert check_assignment(problem, solution.assignments) == []
    filled, score = brute_force_optimum(problem)
    assert solution.filled_bound >= filled
    if solution.filled == filled:
        assert solution.bound >= score - 1e-9


@pytest.mark.parametrize("seed", range(10))
def test_bound_over_groups_of_experts_equals_the_whole_bound(seed, monkeypatch):
    import core.matching.solver as solver_module
    from core.matching.lagrangian import lagrangian_bound

    rng = random.Random(9900 + seed)
    problem = random_instance(rng, experts=rng.randint(5, 20), demands=rng.randint(3, 12), universities=rng.randint(1, 5), density=0.6, **SHAPE)
    compiled = compile_instance(problem)
    weight = float(compiled.residual_need.clip(min=0).sum() + 1)
    prices = np.array([weight + rng.random() - 0.3 for _ in range(compiled.n_demands)])
    monkeypatch.setattr(solver_module, "BOUND_CHUNK_EDGES", 7)
    assert solver_module._chunked_lagrangian_bound(compiled, weight, prices) == pytest.approx(
        lagrangian_bound(compiled, weight, prices), abs=1e-9
    )
