"""Properties over generated instances: no rule ever broken, bounds never below the answer."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.matching import Demand, Edge, ExpertCapacity, Instance, InstanceError, check_assignment, solve
from core.matching.flow import min_cost_flow_assignment
from core.matching.model import compile_instance
from matching_brute_force import brute_force_optimum


@st.composite
def instances(draw, max_experts: int = 6, max_demands: int = 6, max_edges: int | None = None) -> Instance:
    n_experts = draw(st.integers(1, max_experts))
    n_demands = draw(st.integers(1, max_demands))
    n_universities = draw(st.integers(1, 3))
    experts = tuple(
        ExpertCapacity(f"e{i}", draw(st.integers(0, 3)), draw(st.integers(0, 4))) for i in range(n_experts)
    )
    demands = tuple(
        Demand(f"d{j}", f"u{draw(st.integers(0, n_universities - 1))}", draw(st.integers(0, 3)))
        for j in range(n_demands)
    )
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n_experts - 1), st.integers(0, n_demands - 1)),
            unique=True,
            max_size=max_edges if max_edges is not None else n_experts * n_demands,
        )
    )
    # Few distinct scores, as real ones are: ties must not confuse the solver.
    scores = st.sampled_from([0.0, 0.25, 0.5, 0.5, 0.75, 1.0]) | st.floats(0, 1)
    edges = tuple(Edge(f"e{e}", f"d{d}", draw(scores)) for e, d in pairs)
    keys = [(e.expert, e.demand) for e in edges]
    forbidden = frozenset(k for k in keys if draw(st.booleans()) and draw(st.booleans()))
    fixed = frozenset(k for k in keys if k not in forbidden and draw(st.integers(0, 5)) == 0)
    try:
        return Instance(experts, demands, edges, fixed, forbidden)
    except InstanceError:  # the fixed draw broke a cap: keep the rest
        return Instance(experts, demands, edges, frozenset(), forbidden)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_no_constraint_is_ever_violated(problem):
    solution = solve(problem)
    assert check_assignment(problem, solution.assignments) == []
    assert set(problem.fixed) <= set(solution.assignments)
    assert not set(problem.forbidden) & set(solution.assignments)
    assert solution.filled == len(solution.assignments)
    assert solution.filled <= solution.filled_bound <= solution.total_need
    assert solution.score <= solution.bound + 1e-9
    assert 0.0 <= solution.gap <= 1.0
    assert sum(slot.missing for slot in solution.unfilled) == solution.total_need - solution.filled


@settings(max_examples=100, deadline=None)
@given(instances(max_experts=4, max_demands=4, max_edges=10))
def test_optimal_against_brute_force(problem):
    solution = solve(problem)
    filled, score = brute_force_optimum(problem)
    assert solution.filled == filled
    assert abs(solution.score - score) <= 1e-9
    assert solution.status == "optimal"
    assert solution.bound >= score - 1e-9


@settings(max_examples=100, deadline=None)
@given(instances())
def test_never_worse_than_the_slot_capped_flow(problem):
    compiled = compile_instance(problem)
    flow = min_cost_flow_assignment(compiled)
    solution = solve(problem)
    flow_filled = len(flow) + len(compiled.fixed_edges)
    flow_score = float(compiled.edge_score[compiled.free[flow]].sum() + compiled.edge_score[compiled.fixed_edges].sum())
    assert (solution.filled, solution.score + 1e-9) >= (flow_filled, flow_score)


@settings(max_examples=60, deadline=None)
@given(instances(), st.sampled_from([0.0, 0.001]))
def test_time_limits_never_trade_feasibility(problem, limit):
    solution = solve(problem, time_limit=limit)
    assert check_assignment(problem, solution.assignments) == []
    assert solution.score <= solution.bound + 1e-9
