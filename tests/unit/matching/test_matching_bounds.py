"""The per-expert (Lagrangian) bound, the prices read off a flow, and the held-university flow."""
from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from matching_brute_force import brute_force_optimum
from matching_instances import random_instance

from core.matching import Demand, Edge, ExpertCapacity, Instance
from core.matching.flow import held_university_flow, min_cost_flow_assignment
from core.matching.lagrangian import (
    flow_prices,
    idle_expert_prices,
    lagrangian_bound,
    lagrangian_plans,
)
from core.matching.model import compile_instance
from core.matching.solver import _value, _violations


# Caps up to 4 universities and 5 slots, so every branch of the bound is exercised; about 20 % of pairs fixed.
SHAPE = dict(max_universities=4, max_slots=5, fixed_share=0.2)


def reference_bound(compiled, weight: float, price: np.ndarray) -> float:
    """The same bound by enumerating, for each expert, every set of universities it may open."""
    price = np.maximum(price, 0.0)
    total = float(compiled.residual_need.clip(min=0) @ price)
    free = compiled.free
    for e in range(compiled.n_experts):
        mine = np.flatnonzero(compiled.edge_expert[free] == e)
        values = weight + compiled.edge_score[free[mine]] - price[compiled.edge_demand[free[mine]]]
        university = compiled.demand_university[compiled.edge_demand[free[mine]]]
        opens = compiled.free_opens_university[mine]
        opening = sorted(set(university[opens].tolist()))
        slots, room = int(compiled.residual_slots[e]), int(compiled.residual_universities[e])
        best = 0.0
        for size in range(min(room, len(opening)) + 1):
            for chosen in itertools.combinations(opening, size):
                allowed = ~opens | np.isin(university, chosen)
                candidates = np.sort(values[allowed & (values > 0)])[::-1][: max(slots, 0)]
                best = max(best, float(candidates.sum()))
        total += best
    return total


@pytest.mark.parametrize("seed", range(150))
def test_vectorised_bound_equals_per_expert_enumeration(seed):
    rng = random.Random(seed)
    problem = random_instance(
        rng, experts=rng.randint(1, 6), demands=rng.randint(1, 8), universities=rng.randint(1, 5), density=0.7, **SHAPE
    )
    compiled = compile_instance(problem)
    weight = float(compiled.residual_need.clip(min=0).sum() + 1)
    prices = np.random.default_rng(seed)
    for scale in (0.0, 1.0, weight, weight + 1.0):
        price = prices.random(compiled.n_demands) * scale
        assert lagrangian_bound(compiled, weight, price) == pytest.approx(
            reference_bound(compiled, weight, price), rel=1e-12, abs=1e-9
        )


@pytest.mark.parametrize("seed", range(40))
def test_bound_at_any_prices_is_above_the_brute_force_optimum(seed):
    rng = random.Random(1000 + seed)
    problem = random_instance(rng, experts=rng.randint(1, 4), demands=rng.randint(1, 4), universities=rng.randint(1, 3), density=0.6, **SHAPE)
    if len(problem.edges) > 11:  # keep the enumeration small
        problem = Instance(problem.experts, problem.demands, problem.edges[:11], frozenset(), frozenset())
    compiled = compile_instance(problem)
    weight = float(compiled.residual_need.clip(min=0).sum() + 1)
    filled, score = brute_force_optimum(problem)
    fixed = compiled.fixed_edges
    optimum_free = weight * (filled - len(fixed)) + score - float(compiled.edge_score[fixed].sum())
    prices = np.random.default_rng(seed)
    flow = min_cost_flow_assignment(compiled)
    candidates = [idle_expert_prices(compiled, weight, flow), flow_prices(compiled, weight, flow)]
    candidates.append(flow_prices(compiled, weight, held_university_flow(compiled, flow)))
    candidates += [prices.random(compiled.n_demands) * s for s in (0.0, 1.0, weight, weight + 1.0)]
    for price in candidates:
        assert lagrangian_bound(compiled, weight, price) >= optimum_free - 1e-6


@pytest.mark.parametrize("seed", range(60))
def test_held_university_flow_is_feasible_and_never_worse(seed):
    rng = random.Random(2000 + seed)
    problem = random_instance(rng, experts=rng.randint(2, 12), demands=rng.randint(2, 14), universities=rng.randint(1, 5), density=0.5, **SHAPE)
    compiled = compile_instance(problem)
    weight = float(compiled.residual_need.clip(min=0).sum() + 1)
    start = min_cost_flow_assignment(compiled)
    current = start
    for _ in range(3):
        improved = held_university_flow(compiled, current)
        assert _violations(compiled, np.concatenate([compiled.fixed_edges, compiled.free[improved]])) == []
        assert _value(compiled, improved, weight) >= _value(compiled, current, weight) - 1e-5
        current = improved


def test_held_university_flow_adds_courses_where_the_expert_already_is():
    # e1 (2 universities, 3 slots) is best everywhere; the capped flow gives it 2 slots,
    # keeping its universities lets it take the second course at u1 as well.
    problem = Instance(
        (ExpertCapacity("e1", 2, 3), ExpertCapacity("e2", 2, 3)),
        (Demand("d1", "u1", 1), Demand("d2", "u1", 1), Demand("d3", "u2", 1)),
        (Edge("e1", "d1", 0.9), Edge("e1", "d2", 0.9), Edge("e1", "d3", 0.9), Edge("e2", "d3", 0.1)),
    )
    compiled = compile_instance(problem)
    flow = min_cost_flow_assignment(compiled)
    improved = held_university_flow(compiled, flow)
    assert len(improved) == 3
    assert float(compiled.edge_score[compiled.free[improved]].sum()) > float(compiled.edge_score[compiled.free[flow]].sum())


@pytest.mark.parametrize("seed", range(60))
def test_plans_give_a_subgradient(seed):
    # Without fixed pairs and with at most 2 universities the plans' choices are exact, so
    # need - taken supports the (convex) bound: L(q) >= L(p) + (need - taken(p)) . (q - p).
    rng = random.Random(3000 + seed)
    problem = random_instance(rng, experts=rng.randint(1, 8), demands=rng.randint(1, 8), universities=rng.randint(1, 4), density=0.7, **SHAPE)
    problem = Instance(
        tuple(ExpertCapacity(e.id, min(e.max_universities, 2), e.max_slots) for e in problem.experts),
        problem.demands, problem.edges, frozenset(), problem.forbidden,
    )
    compiled = compile_instance(problem)
    weight = float(compiled.residual_need.clip(min=0).sum() + 1)
    prices = np.random.default_rng(seed)
    need = compiled.residual_need.clip(min=0)
    for _ in range(5):
        p = prices.random(compiled.n_demands) * (weight + 1)
        q = prices.random(compiled.n_demands) * (weight + 1)
        value, taken = lagrangian_plans(compiled, weight, p)
        assert lagrangian_bound(compiled, weight, q) >= value + (need - taken) @ (q - p) - 1e-6


@pytest.mark.parametrize("seed", range(40))
def test_flow_prices_are_dual_optimal_when_the_university_rule_never_binds(seed):
    """Every expert may open as many universities as it has slots: the flow is optimal and
    its prices close the per-expert bound exactly (strong duality of the transportation LP)."""
    rng = random.Random(4000 + seed)
    experts = tuple(ExpertCapacity(f"e{i}", 5, rng.randint(0, 3)) for i in range(rng.randint(1, 12)))
    demands = tuple(Demand(f"d{j}", f"u{rng.randrange(4)}", rng.randint(0, 3)) for j in range(rng.randint(1, 12)))
    edges = tuple(Edge(e.id, d.id, round(rng.random(), 3)) for e in experts for d in demands if rng.random() < 0.5)
    compiled = compile_instance(Instance(experts, demands, edges))
    weight = float(compiled.residual_need.clip(min=0).sum() + 1)
    flow = min_cost_flow_assignment(compiled)
    prices = flow_prices(compiled, weight, flow)
    assert lagrangian_bound(compiled, weight, prices) == pytest.approx(_value(compiled, flow, weight), abs=1e-6)


@pytest.mark.parametrize("seed", range(60))
def test_flow_prices_give_a_valid_bound_on_larger_instances(seed):
    rng = random.Random(5000 + seed)
    problem = random_instance(rng, experts=rng.randint(2, 12), demands=rng.randint(2, 14), universities=rng.randint(1, 5), density=0.5, **SHAPE)
    compiled = compile_instance(problem)
    weight = float(compiled.residual_need.clip(min=0).sum() + 1)
    flow = min_cost_flow_assignment(compiled)
    best = held_university_flow(compiled, flow)
    for chosen in (flow, best):
        prices = flow_prices(compiled, weight, chosen)
        assert np.all(prices >= 0)
        assert lagrangian_bound(compiled, weight, prices) >= _value(compiled, best, weight) - 1e-6
