"""The instance as index arrays, the form every solver stage and diagnostic works on.

Ids become dense integers once; forbidden pairs are dropped and fixed pairs are
taken out of the problem (they consume need, slots and universities up front), so
the optimiser only ever sees the free part: what is left to decide.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.matching.instance import EdgeTable, Instance

__all__ = ["CompiledInstance", "compile_instance"]


@dataclass(frozen=True, eq=False)
class CompiledInstance:
    expert_ids: tuple[str, ...]
    demand_ids: tuple[str, ...]
    university_ids: tuple[str, ...]
    demand_university: np.ndarray  # demand -> university index
    need: np.ndarray  # original need per demand
    max_slots: np.ndarray  # original caps per expert
    max_universities: np.ndarray

    # All allowed edges (forbidden removed), fixed ones included; used by diagnostics.
    edge_expert: np.ndarray
    edge_demand: np.ndarray
    edge_score: np.ndarray
    edge_fixed: np.ndarray  # bool
    forbidden_expert: np.ndarray  # forbidden pairs that were edges, kept to explain unfilled slots
    forbidden_demand: np.ndarray

    # What remains once fixed pairs are in place.
    residual_need: np.ndarray
    residual_slots: np.ndarray
    residual_universities: np.ndarray
    fixed_universities: tuple[frozenset[int], ...]  # per expert, universities held through fixed pairs

    # The free edges the optimiser decides on (indices into the all-edges arrays).
    free: np.ndarray
    # For each free edge: does using it open a new university for the expert?
    free_opens_university: np.ndarray

    @property
    def n_experts(self) -> int:
        return len(self.expert_ids)

    @property
    def n_demands(self) -> int:
        return len(self.demand_ids)

    @property
    def fixed_edges(self) -> np.ndarray:
        return np.flatnonzero(self.edge_fixed)


def compile_instance(instance: Instance) -> CompiledInstance:
    expert_index = {e.id: i for i, e in enumerate(instance.experts)}
    demand_index = {d.id: i for i, d in enumerate(instance.demands)}
    university_index: dict[str, int] = {}
    demand_university = np.fromiter(
        (university_index.setdefault(d.university, len(university_index)) for d in instance.demands),
        dtype=np.int64,
        count=len(instance.demands),
    )
    need = np.fromiter((d.need for d in instance.demands), dtype=np.int64, count=len(instance.demands))
    max_slots = np.fromiter((e.max_slots for e in instance.experts), dtype=np.int64, count=len(instance.experts))
    max_universities = np.fromiter(
        (e.max_universities for e in instance.experts), dtype=np.int64, count=len(instance.experts)
    )

    edges = instance.edges
    table = edges if isinstance(edges, EdgeTable) else EdgeTable.from_edges(edges)
    expert_of_table = np.fromiter((expert_index[e] for e in table.expert_ids), np.int64, len(table.expert_ids))
    demand_of_table = np.fromiter((demand_index[d] for d in table.demand_ids), np.int64, len(table.demand_ids))
    edge_expert = expert_of_table[table.expert] if len(table) else np.zeros(0, dtype=np.int64)
    edge_demand = demand_of_table[table.demand] if len(table) else np.zeros(0, dtype=np.int64)
    edge_score = np.array(table.score, dtype=np.float64)

    n_demands = max(len(instance.demands), 1)
    edge_key = edge_expert * n_demands + edge_demand

    def keys_of(pairs: frozenset[tuple[str, str]]) -> np.ndarray:
        return np.fromiter(
            (expert_index[e] * n_demands + demand_index[d] for e, d in pairs), np.int64, len(pairs)
        )

    edge_fixed = np.isin(edge_key, keys_of(instance.fixed)) if instance.fixed else np.zeros(len(edge_key), bool)
    forbidden = np.isin(edge_key, keys_of(instance.forbidden)) if instance.forbidden else np.zeros(len(edge_key), bool)
    forbidden_expert, forbidden_demand = edge_expert[forbidden], edge_demand[forbidden]
    if forbidden.any():
        keep = ~forbidden
        edge_expert, edge_demand = edge_expert[keep], edge_demand[keep]
        edge_score, edge_fixed = edge_score[keep], edge_fixed[keep]

    fixed = np.flatnonzero(edge_fixed)
    residual_need = need - np.bincount(edge_demand[fixed], minlength=len(need))
    residual_slots = max_slots - np.bincount(edge_expert[fixed], minlength=len(max_slots))
    held: list[set[int]] = [set() for _ in range(len(max_slots))]
    for i in fixed:
        held[edge_expert[i]].add(int(demand_university[edge_demand[i]]))
    fixed_universities = tuple(frozenset(s) for s in held)
    residual_universities = max_universities - np.fromiter(
        (len(s) for s in held), dtype=np.int64, count=len(held)
    )

    edge_university = demand_university[edge_demand]
    opens = np.ones(len(edge_expert), dtype=bool)
    if len(fixed):
        for i in np.flatnonzero(np.isin(edge_expert, edge_expert[fixed])):
            opens[i] = int(edge_university[i]) not in fixed_universities[edge_expert[i]]
    # An edge is worth deciding only if something could still take it.
    usable = (
        ~edge_fixed
        & (residual_need[edge_demand] > 0)
        & (residual_slots[edge_expert] > 0)
        & (~opens | (residual_universities[edge_expert] > 0))
    )
    free = np.flatnonzero(usable)
    return CompiledInstance(
        expert_ids=tuple(e.id for e in instance.experts),
        demand_ids=tuple(d.id for d in instance.demands),
        university_ids=tuple(university_index),
        demand_university=demand_university,
        need=need,
        max_slots=max_slots,
        max_universities=max_universities,
        edge_expert=edge_expert,
        edge_demand=edge_demand,
        edge_score=edge_score,
        edge_fixed=edge_fixed,
        forbidden_expert=forbidden_expert,
        forbidden_demand=forbidden_demand,
        residual_need=residual_need,
        residual_slots=residual_slots,
        residual_universities=residual_universities,
        fixed_universities=fixed_universities,
        free=free,
        free_opens_university=opens[free],
    )
