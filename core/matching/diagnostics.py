"""What staff need to trust an answer: why a slot stays empty, and who would rather pair up.

Both work on any assignment (the optimiser's, a baseline's, a hand-made one).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.matching.model import CompiledInstance

__all__ = ["BlockingPair", "StabilityReport", "UnfilledSlot", "explain_unfilled", "stability_report"]

# How many blocking pairs to list by name; the count is always complete.
BLOCKING_EXAMPLES = 20

REASON_TEXT = {
    "no_candidate": "没有符合课程、授课方式、地区和时间条件的候选专家",
    "all_forbidden": "符合条件的候选专家均已回避或此前已拒绝",
    "too_few_candidates": "符合条件的候选专家人数少于需求人数，且均已安排",
    "candidates_at_university_cap": "候选专家已受聘满所允许的高校数（一般不超过2所）",
    "candidates_at_slot_cap": "候选专家的可授课程名额已满",
    "candidates_at_cap": "候选专家已达高校数或授课名额上限",
    "not_optimal": "仍有可用的候选专家，但求解在时限内未达最优",
}


@dataclass(frozen=True)
class UnfilledSlot:
    """The `missing` empty slots of one demand, and why nobody fills them."""

    demand: str
    university: str
    missing: int
    reason: str  # a key of REASON_TEXT
    explanation: str  # for staff, Simplified Chinese
    candidates: int
    assigned_here: int
    forbidden: int
    at_slot_cap: int
    at_university_cap: int
    available: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "demand": self.demand,
            "university": self.university,
            "missing": self.missing,
            "reason": self.reason,
            "explanation": self.explanation,
            "candidates": self.candidates,
            "assigned_here": self.assigned_here,
            "forbidden": self.forbidden,
            "at_slot_cap": self.at_slot_cap,
            "at_university_cap": self.at_university_cap,
            "available": self.available,
        }


def _expert_load(compiled: CompiledInstance, assigned: np.ndarray) -> tuple[np.ndarray, list[set[int]]]:
    slots = np.bincount(compiled.edge_expert[assigned], minlength=compiled.n_experts)
    universities: list[set[int]] = [set() for _ in range(compiled.n_experts)]
    for i in assigned:
        universities[compiled.edge_expert[i]].add(int(compiled.demand_university[compiled.edge_demand[i]]))
    return slots, universities


def explain_unfilled(compiled: CompiledInstance, assigned: np.ndarray) -> list[UnfilledSlot]:
    """One entry per demand left short, with the counts behind its reason."""
    assigned = np.asarray(assigned, dtype=np.int64)
    filled = np.bincount(compiled.edge_demand[assigned], minlength=compiled.n_demands)
    short = np.flatnonzero(filled < compiled.need)
    if len(short) == 0:
        return []
    slots, universities = _expert_load(compiled, assigned)
    is_assigned = np.zeros(len(compiled.edge_expert), dtype=bool)
    is_assigned[assigned] = True
    short_set = set(short.tolist())
    edges_of: dict[int, list[int]] = {d: [] for d in short_set}
    for i in np.flatnonzero(np.isin(compiled.edge_demand, short)):
        edges_of[int(compiled.edge_demand[i])].append(int(i))
    forbidden_count = (
        np.bincount(compiled.forbidden_demand, minlength=compiled.n_demands)
        if len(compiled.forbidden_demand)
        else np.zeros(compiled.n_demands, dtype=np.int64)
    )

    report: list[UnfilledSlot] = []
    for d in short.tolist():
        university = int(compiled.demand_university[d])
        assigned_here = at_slot_cap = at_university_cap = available = 0
        for i in edges_of[d]:
            e = int(compiled.edge_expert[i])
            if is_assigned[i]:
                assigned_here += 1
            elif slots[e] >= compiled.max_slots[e]:
                at_slot_cap += 1
            elif university not in universities[e] and len(universities[e]) >= compiled.max_universities[e]:
                at_university_cap += 1
            else:
                available += 1
        forbidden = int(forbidden_count[d])
        candidates = len(edges_of[d])
        if candidates == 0:
            reason = "all_forbidden" if forbidden else "no_candidate"
        elif available:
            reason = "not_optimal"
        elif at_slot_cap == 0 and at_university_cap == 0:
            reason = "too_few_candidates"
        elif at_slot_cap == 0:
            reason = "candidates_at_university_cap"
        elif at_university_cap == 0:
            reason = "candidates_at_slot_cap"
        else:
            reason = "candidates_at_cap"
        detail = (
            f"（候选{candidates}位：已安排本课程{assigned_here}位，名额已满{at_slot_cap}位，"
            f"高校数已满{at_university_cap}位，回避或已拒绝{forbidden}位，仍可用{available}位）"
        )
        report.append(
            UnfilledSlot(
                demand=compiled.demand_ids[d],
                university=compiled.university_ids[university],
                missing=int(compiled.need[d] - filled[d]),
                reason=reason,
                explanation=REASON_TEXT[reason] + detail,
                candidates=candidates,
                assigned_here=assigned_here,
                forbidden=forbidden,
                at_slot_cap=at_slot_cap,
                at_university_cap=at_university_cap,
                available=available,
            )
        )
    return report


@dataclass(frozen=True)
class BlockingPair:
    expert: str
    demand: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"expert": self.expert, "demand": self.demand, "score": round(self.score, 6)}


@dataclass(frozen=True)
class StabilityReport:
    """Pairs not matched that both sides would rather have than what they got.

    The optimiser maximises filled slots and total score, which is not the same as
    stability, so a few blocking pairs are expected; a large count tells staff the
    proposal will meet resistance. Both sides rank by the pair score; fixed pairs are
    never counted as something a side would give up.
    """

    blocking_pairs: int
    examples: tuple[BlockingPair, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "blocking_pairs": self.blocking_pairs,
            "examples": [pair.to_dict() for pair in self.examples],
            "explanation": (
                f"有{self.blocking_pairs}对未配对的专家与课程彼此都更倾向于对方（阻塞对）"
                if self.blocking_pairs
                else "没有阻塞对：任何未配对的专家与课程都不会同时更倾向于对方"
            ),
        }


def stability_report(compiled: CompiledInstance, assigned: np.ndarray) -> StabilityReport:
    assigned = np.asarray(assigned, dtype=np.int64)
    n_edges = len(compiled.edge_expert)
    is_assigned = np.zeros(n_edges, dtype=bool)
    is_assigned[assigned] = True
    score = compiled.edge_score
    droppable = assigned[~compiled.edge_fixed[assigned]]

    # Demand side: an open slot takes anyone; a full demand swaps its weakest droppable pair.
    filled = np.bincount(compiled.edge_demand[assigned], minlength=compiled.n_demands)
    demand_worst = np.full(compiled.n_demands, np.inf)
    np.minimum.at(demand_worst, compiled.edge_demand[droppable], score[droppable])
    demand_threshold = np.where(filled < compiled.need, -np.inf, demand_worst)

    # Expert side depends on whether the demand's university is one the expert already serves.
    slots, universities = _expert_load(compiled, assigned)
    worst_any = np.full(compiled.n_experts, np.inf)
    np.minimum.at(worst_any, compiled.edge_expert[droppable], score[droppable])
    # Dropping a pair frees a university only if it is the expert's sole pair there.
    per_pair = {}
    for i in assigned:
        key = (int(compiled.edge_expert[i]), int(compiled.demand_university[compiled.edge_demand[i]]))
        per_pair.setdefault(key, []).append(int(i))
    worst_sole = np.full(compiled.n_experts, np.inf)
    for (e, _u), items in per_pair.items():
        if len(items) == 1 and not compiled.edge_fixed[items[0]]:
            worst_sole[e] = min(worst_sole[e], score[items[0]])
    slot_free = slots < compiled.max_slots
    university_free = np.fromiter((len(s) for s in universities), dtype=np.int64, count=compiled.n_experts) < (
        compiled.max_universities
    )
    threshold_same = np.where(slot_free, -np.inf, worst_any)
    threshold_new = np.where(
        university_free, np.where(slot_free, -np.inf, worst_any), worst_sole
    )
    threshold_same = np.where(compiled.max_slots > 0, threshold_same, np.inf)
    threshold_new = np.where((compiled.max_slots > 0) & (compiled.max_universities > 0), threshold_new, np.inf)

    n_universities = len(compiled.university_ids) + 1
    held_keys = np.fromiter(
        (e * n_universities + u for (e, u) in per_pair), dtype=np.int64, count=len(per_pair)
    )
    edge_keys = compiled.edge_expert * n_universities + compiled.demand_university[compiled.edge_demand]
    same_university = np.isin(edge_keys, held_keys)
    expert_threshold = np.where(
        same_university, threshold_same[compiled.edge_expert], threshold_new[compiled.edge_expert]
    )
    blocking = (
        ~is_assigned
        & (score > demand_threshold[compiled.edge_demand] + 1e-12)
        & (score > expert_threshold + 1e-12)
    )
    indices = np.flatnonzero(blocking)
    top = indices[np.argsort(-score[indices], kind="stable")[:BLOCKING_EXAMPLES]]
    examples = tuple(
        BlockingPair(
            compiled.expert_ids[compiled.edge_expert[i]], compiled.demand_ids[compiled.edge_demand[i]], float(score[i])
        )
        for i in top
    )
    return StabilityReport(blocking_pairs=len(indices), examples=examples)
