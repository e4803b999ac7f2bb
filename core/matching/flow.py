"""Min-cost-flow assignment: the fast, slot-capped relaxation flow matchers use.

A flow network cannot say "distinct universities", only "at most c slots". Capping
each expert at min(slots, universities) makes every flow answer feasible for the
real rule (c slots can touch at most c universities), so it serves both as the
openreview-style baseline and as the solver's warm start. It is optimal only when
nobody would want two courses at one university.
"""
from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from core.matching.model import CompiledInstance

__all__ = ["SCORE_SCALE", "held_university_flow", "min_cost_flow_assignment"]

# Flow costs are integers; a micro-point resolution keeps score ties meaningful.
SCORE_SCALE = 1_000_000


def min_cost_flow_assignment(
    compiled: CompiledInstance, among: np.ndarray | None = None, *, universities_per_slot_cap: bool = True
) -> np.ndarray:
    """Free-edge positions (into `compiled.free`) of a max-flow, max-score assignment.

    With `universities_per_slot_cap` each expert carries at most min(slots, universities)
    slots, which keeps the answer feasible; without it, only the slot cap applies and
    the result may break the university rule (useful to measure how often it would).
    `among` restricts the flow to those free-edge positions (a warm start need not see
    every edge).
    """
    positions = np.arange(len(compiled.free)) if among is None else np.asarray(among, dtype=np.int64)
    free = compiled.free[positions]
    if len(free) == 0:
        return np.zeros(0, dtype=np.int64)
    n_e, n_d = compiled.n_experts, compiled.n_demands
    source, sink = n_e + n_d, n_e + n_d + 1
    expert_cap = compiled.residual_slots.copy()
    if universities_per_slot_cap:
        # An expert with no university left can still add courses where it already is
        # (all its free edges are then such edges), so only cap when a university is open.
        opens_left = compiled.residual_universities > 0
        expert_cap = np.where(opens_left, np.minimum(expert_cap, compiled.residual_universities), expert_cap)
    expert_cap = np.maximum(expert_cap, 0)

    graph = min_cost_flow.SimpleMinCostFlow()
    edge_expert = compiled.edge_expert[free]
    edge_demand = compiled.edge_demand[free]
    costs = -np.rint(compiled.edge_score[free] * SCORE_SCALE).astype(np.int64)
    pair_arcs = graph.add_arcs_with_capacity_and_unit_cost(
        edge_expert, n_e + edge_demand, np.ones(len(free), dtype=np.int64), costs
    )
    graph.add_arcs_with_capacity_and_unit_cost(
        np.full(n_e, source, dtype=np.int64), np.arange(n_e, dtype=np.int64), expert_cap, np.zeros(n_e, dtype=np.int64)
    )
    return _solve_to_sink(graph, compiled, first_demand=n_e, source=source, sink=sink, pair_arcs=pair_arcs,
                          positions=positions)


def held_university_flow(compiled: CompiledInstance, chosen: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
    """A better-or-equal assignment keeping each expert's universities in `chosen` open.

    Local search step beyond the slot-capped flow: each expert keeps the universities
    `chosen` gives it (plus those held through fixed pairs) and may take any number
    of courses there up to its slot cap, and at most (universities left) edges to
    other universities, one university each at worst. Every flow in that network is
    feasible for the real rule, and `chosen` is one of them, so the min-cost flow
    (most slots, then best score) is never worse.
    """
    chosen = np.asarray(chosen, dtype=np.int64)
    positions = np.arange(len(compiled.free)) if among is None else np.union1d(np.asarray(among, dtype=np.int64), chosen)
    free = compiled.free[positions]
    if len(free) == 0:
        return np.zeros(0, dtype=np.int64)
    n_e, n_d = compiled.n_experts, compiled.n_demands
    n_u = len(compiled.university_ids) + 1
    edge_expert = compiled.edge_expert[free]
    edge_demand = compiled.edge_demand[free]
    keys = edge_expert * n_u + compiled.demand_university[edge_demand]
    # Universities held through fixed pairs are already out of residual_universities.
    chosen_free = compiled.free[chosen[compiled.free_opens_university[chosen]]]
    held_keys = np.unique(
        compiled.edge_expert[chosen_free] * n_u + compiled.demand_university[compiled.edge_demand[chosen_free]]
    )
    inside = np.isin(keys, held_keys) | ~compiled.free_opens_university[positions]
    room = np.maximum(compiled.residual_universities - np.bincount(held_keys // n_u, minlength=n_e), 0)
    # Nodes: experts, each expert's "new university" node, demands, source, sink.
    source, sink = 2 * n_e + n_d, 2 * n_e + n_d + 1
    graph = min_cost_flow.SimpleMinCostFlow()
    costs = -np.rint(compiled.edge_score[free] * SCORE_SCALE).astype(np.int64)
    pair_arcs = graph.add_arcs_with_capacity_and_unit_cost(
        np.where(inside, edge_expert, n_e + edge_expert), 2 * n_e + edge_demand, np.ones(len(free), dtype=np.int64), costs
    )
    experts = np.arange(n_e, dtype=np.int64)
    zeros = np.zeros(n_e, dtype=np.int64)
    graph.add_arcs_with_capacity_and_unit_cost(
        np.full(n_e, source, dtype=np.int64), experts, np.maximum(compiled.residual_slots, 0), zeros
    )
    graph.add_arcs_with_capacity_and_unit_cost(experts, n_e + experts, room.astype(np.int64), zeros)
    return _solve_to_sink(graph, compiled, first_demand=2 * n_e, source=source, sink=sink, pair_arcs=pair_arcs,
                          positions=positions)


def _solve_to_sink(graph, compiled: CompiledInstance, *, first_demand: int, source: int, sink: int, pair_arcs,
                   positions: np.ndarray) -> np.ndarray:
    """Adds demand → sink arcs (capacity: the need left), solves, returns the positions of pairs used."""
    n_d = compiled.n_demands
    graph.add_arcs_with_capacity_and_unit_cost(
        first_demand + np.arange(n_d, dtype=np.int64),
        np.full(n_d, sink, dtype=np.int64),
        np.maximum(compiled.residual_need, 0),
        np.zeros(n_d, dtype=np.int64),
    )
    # Max-flow-with-min-cost still routes from supply to demand nodes: offer every slot.
    total = int(np.maximum(compiled.residual_need, 0).sum())
    graph.set_node_supply(source, total)
    graph.set_node_supply(sink, -total)
    status = graph.solve_max_flow_with_min_cost()
    if status != graph.OPTIMAL:
        raise RuntimeError(f"min cost flow failed with status {status}")
    flows = graph.flows(np.asarray(pair_arcs, dtype=np.int64))
    return positions[flows > 0]
