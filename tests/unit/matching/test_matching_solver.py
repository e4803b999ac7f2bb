"""The solver on hand-built cases where each rule matters, and against brute force."""
from __future__ import annotations

import random

import numpy as np
import pytest

from core.matching import Demand, Edge, ExpertCapacity, Instance, check_assignment, solve
from core.matching.flow import min_cost_flow_assignment
from core.matching.instance import EdgeTable
from core.matching.model import compile_instance
from matching_brute_force import brute_force_optimum


def instance(experts, demands, edges, fixed=(), forbidden=()) -> Instance:
    return Instance(
        experts=tuple(ExpertCapacity(*e) for e in experts),
        demands=tuple(Demand(*d) for d in demands),
        edges=tuple(Edge(*e) for e in edges),
        fixed=frozenset(fixed),
        forbidden=frozenset(forbidden),
    )


def two_courses_at_one_university() -> Instance:
    # e1 is the best for all three demands; d1 and d2 are both at u1, d3 at u2. With
    # 2 universities and 3 slots e1 can take all three; a slot-only flow capped at 2
    # slots (its only way to guarantee 2 universities) cannot.
    return instance(
        experts=[("e1", 2, 3), ("e2", 2, 3)],
        demands=[("d1", "u1", 1), ("d2", "u1", 1), ("d3", "u2", 1)],
        edges=[("e1", "d1", 0.9), ("e1", "d2", 0.9), ("e1", "d3", 0.9), ("e2", "d3", 0.1)],
    )


def test_several_courses_at_one_university_count_once():
    solution = solve(two_courses_at_one_university())
    assert set(solution.assignments) == {("e1", "d1"), ("e1", "d2"), ("e1", "d3")}
    assert solution.filled == 3
    assert solution.score == pytest.approx(2.7)
    assert solution.status == "optimal"
    assert solution.gap == pytest.approx(0.0, abs=1e-9)


def test_slot_capped_flow_loses_what_the_exact_solver_keeps():
    problem = two_courses_at_one_university()
    compiled = compile_instance(problem)
    flow = min_cost_flow_assignment(compiled)
    flow_score = float(compiled.edge_score[compiled.free[flow]].sum())
    assert len(flow) == 3  # e1 takes two, e2 the third
    assert flow_score == pytest.approx(1.9)
    assert solve(problem).score > flow_score + 0.7


def test_third_university_is_refused_even_when_it_scores_best():
    problem = instance(
        experts=[("e1", 2, 4), ("e2", 2, 4)],
        demands=[("d1", "u1", 1), ("d2", "u2", 1), ("d3", "u3", 1)],
        edges=[("e1", "d1", 1.0), ("e1", "d2", 1.0), ("e1", "d3", 1.0), ("e2", "d3", 0.2)],
    )
    solution = solve(problem)
    university_of = {d.id: d.university for d in problem.demands}
    assert len({university_of[d] for e, d in solution.assignments if e == "e1"}) == 2
    assert ("e2", "d3") in solution.assignments
    assert solution.filled == 3


def test_staff_override_is_just_a_higher_cap():
    problem = instance(
        experts=[("e1", 3, 4)],
        demands=[("d1", "u1", 1), ("d2", "u2", 1), ("d3", "u3", 1)],
        edges=[("e1", "d1", 1.0), ("e1", "d2", 1.0), ("e1", "d3", 1.0)],
    )
    assert solve(problem).filled == 3


def test_filling_a_slot_beats_any_score_gain():
    # e1 could take d1 alone at 1.0; taking d2 at 0.01 as well is impossible (one slot),
    # so the solver must give d1 to e2 (0.01) and d2 to e1 to fill both.
    problem = instance(
        experts=[("e1", 2, 1), ("e2", 2, 1)],
        demands=[("d1", "u1", 1), ("d2", "u2", 1)],
        edges=[("e1", "d1", 1.0), ("e1", "d2", 0.01), ("e2", "d1", 0.01)],
    )
    solution = solve(problem)
    assert solution.filled == 2
    assert set(solution.assignments) == {("e1", "d2"), ("e2", "d1")}


def test_fixed_pairs_are_kept_even_when_not_optimal():
    problem = instance(
        experts=[("e1", 2, 1), ("e2", 2, 1)],
        demands=[("d1", "u1", 1)],
        edges=[("e1", "d1", 0.9), ("e2", "d1", 0.1)],
        fixed=[("e2", "d1")],
    )
    solution = solve(problem)
    assert solution.assignments == (("e2", "d1"),)
    assert solution.status == "optimal"


def test_fixed_pairs_hold_their_university_for_more_courses():
    # e1 already agreed to u1; with max_universities=1 it may still add u1's other course.
    problem = instance(
        experts=[("e1", 1, 3)],
        demands=[("d1", "u1", 1), ("d2", "u1", 1), ("d3", "u2", 1)],
        edges=[("e1", "d1", 0.1), ("e1", "d2", 0.5), ("e1", "d3", 1.0)],
        fixed=[("e1", "d1")],
    )
    solution = solve(problem)
    assert set(solution.assignments) == {("e1", "d1"), ("e1", "d2")}


def test_forbidden_pairs_are_never_used():
    problem = instance(
        experts=[("e1", 2, 2)],
        demands=[("d1", "u1", 1), ("d2", "u2", 1)],
        edges=[("e1", "d1", 1.0), ("e1", "d2", 0.3)],
        forbidden=[("e1", "d1")],
    )
    solution = solve(problem)
    assert solution.assignments == (("e1", "d2"),)
    [unfilled] = solution.unfilled
    assert unfilled.demand == "d1"
    assert unfilled.reason == "all_forbidden"
    assert "回避" in unfilled.explanation


def test_unfilled_slots_say_why():
    problem = instance(
        experts=[("e1", 1, 4), ("e2", 2, 1)],
        demands=[
            ("nobody", "u9", 1),
            ("a1", "u1", 1),
            ("a2", "u2", 1),  # e1 is at u1 already and may serve one university only
            ("b1", "u3", 1),
            ("b2", "u4", 1),  # e2 has one slot
            ("two", "u5", 2),
        ],
        edges=[
            ("e1", "a1", 0.9), ("e1", "a2", 0.5),
            ("e2", "b1", 0.9), ("e2", "b2", 0.5),
            ("e2", "two", 0.1),
        ],
    )
    solution = solve(problem)
    reasons = {slot.demand: slot for slot in solution.unfilled}
    assert reasons["nobody"].reason == "no_candidate"
    assert reasons["a2"].reason == "candidates_at_university_cap"
    assert reasons["a2"].at_university_cap == 1
    assert reasons["two"].missing == 2
    assert reasons["two"].reason == "candidates_at_slot_cap"
    assert sum(slot.missing for slot in solution.unfilled) == solution.total_need - solution.filled
    assert all(slot.explanation for slot in solution.unfilled)


def test_result_json_has_the_documented_keys():
    data = solve(two_courses_at_one_university()).to_dict()
    for key in ("assignments", "filled", "score", "bound", "gap", "time_s", "status", "unfilled", "stability"):
        assert key in data
    assert data["status"] in ("optimal", "feasible")
    assert data["bound"] >= data["score"]


def test_stability_reports_pairs_both_sides_prefer():
    # Max-fill forces e1 to d2 (d1 has another candidate), yet e1 and d1 prefer each other.
    problem = instance(
        experts=[("e1", 2, 1), ("e2", 2, 1)],
        demands=[("d1", "u1", 1), ("d2", "u2", 1)],
        edges=[("e1", "d1", 0.9), ("e1", "d2", 0.2), ("e2", "d1", 0.3)],
    )
    solution = solve(problem)
    assert solution.filled == 2
    assert solution.stability.blocking_pairs == 1
    assert (solution.stability.examples[0].expert, solution.stability.examples[0].demand) == ("e1", "d1")

    stable = solve(two_courses_at_one_university())
    assert stable.stability.blocking_pairs == 0


def test_edge_table_and_edge_tuple_give_the_same_answer():
    problem = two_courses_at_one_university()
    table = EdgeTable.from_edges(problem.edges)
    as_table = Instance(problem.experts, problem.demands, table)
    assert solve(as_table).assignments == solve(problem).assignments


def test_zero_time_limit_still_returns_a_feasible_answer():
    problem = random_instance(random.Random(7), experts=12, demands=10, universities=4, density=0.5)
    solution = solve(problem, time_limit=0.0)
    assert check_assignment(problem, solution.assignments) == []
    assert solution.bound >= solution.score - 1e-9


def test_check_assignment_names_each_broken_rule():
    problem = two_courses_at_one_university()
    violations = check_assignment(problem, [("e1", "d3"), ("e2", "d3"), ("e2", "d2"), ("e9", "d1")])
    joined = "\n".join(violations)
    assert "demand 'd3' gets 2 > need 1" in joined
    assert "('e2', 'd2') is not an allowed edge" in joined
    assert "('e9', 'd1') is not an allowed edge" in joined
    capped = instance([("e1", 1, 1)], [("d1", "u1", 1), ("d2", "u2", 1)], [("e1", "d1", 0.5), ("e1", "d2", 0.5)])
    joined = "\n".join(check_assignment(capped, [("e1", "d1"), ("e1", "d2")]))
    assert "max_slots 1" in joined and "max_universities 1" in joined


def random_instance(rng: random.Random, experts: int, demands: int, universities: int, density: float) -> Instance:
    expert_caps = [(f"e{i}", rng.randint(0, 2), rng.randint(0, 3)) for i in range(experts)]
    demand_rows = [(f"d{j}", f"u{rng.randrange(universities)}", rng.randint(0, 2)) for j in range(demands)]
    edges = [
        (e[0], d[0], round(rng.random(), 3))
        for e in expert_caps
        for d in demand_rows
        if rng.random() < density
    ]
    return instance(expert_caps, demand_rows, edges)


@pytest.mark.parametrize("seed", range(60))
def test_matches_brute_force_on_small_random_instances(seed):
    rng = random.Random(seed)
    problem = random_instance(rng, experts=rng.randint(1, 4), demands=rng.randint(1, 5), universities=rng.randint(1, 3), density=0.6)
    if len(problem.edges) > 12:  # keep enumeration small
        problem = Instance(problem.experts, problem.demands, tuple(problem.edges[:12]))
    # Random fixed/forbidden pairs, kept only when the instance stays valid.
    pairs = [(e.expert, e.demand) for e in problem.edges]
    forbidden = frozenset(p for p in pairs if rng.random() < 0.15)
    fixed = frozenset(p for p in pairs if p not in forbidden and rng.random() < 0.1)
    try:
        problem = Instance(problem.experts, problem.demands, problem.edges, fixed, forbidden)
    except Exception:
        problem = Instance(problem.experts, problem.demands, problem.edges, frozenset(), forbidden)
    solution = solve(problem)
    filled, score = brute_force_optimum(problem)
    assert check_assignment(problem, solution.assignments) == []
    assert solution.filled == filled
    assert solution.score == pytest.approx(score, abs=1e-9)
    assert solution.status == "optimal"
    assert solution.bound >= score - 1e-6


def test_medium_random_instance_is_optimal_with_a_tight_bound():
    rng = np.random.default_rng(3)
    n_e, n_d = 60, 40
    experts = tuple(ExpertCapacity(f"e{i}", int(rng.integers(1, 3)), int(rng.integers(1, 5))) for i in range(n_e))
    demands = tuple(Demand(f"d{j}", f"u{j // 3}", int(rng.integers(1, 3))) for j in range(n_d))
    mask = rng.random((n_e, n_d)) < 0.3
    e_idx, d_idx = np.nonzero(mask)
    # Priority-like scores shared across demands create contention for the same experts.
    quality = rng.random(n_e)
    scores = np.round(0.6 * quality[e_idx] + 0.4 * rng.random(len(e_idx)), 3)
    table = EdgeTable([e.id for e in experts], [d.id for d in demands], e_idx, d_idx, scores)
    problem = Instance(experts, demands, table)
    solution = solve(problem)
    assert check_assignment(problem, solution.assignments) == []
    assert solution.status == "optimal"
    assert solution.bound - solution.score <= 1e-6 * max(solution.score, 1)
    compiled = compile_instance(problem)
    flow = min_cost_flow_assignment(compiled)
    assert solution.filled >= len(flow)
