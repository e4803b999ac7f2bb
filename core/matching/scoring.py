"""Which expert may serve which course demand, how well, and why: in words staff can read.

Hard filters decide whether a pair may exist at all; the score in [0, 1] ranks the
pairs that may. Every score comes with its terms so a recommendation is never a bare
number. All weights are in `SCORE_WEIGHTS`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from core.domain.courses import TeachingMode
from core.domain.vocabulary import PRIORITY_CONDITIONS, PRIORITY_GROUPS, TEACHING_MODES, priority_groups_met
from core.matching.instance import (
    DEFAULT_MAX_SLOTS,
    DEFAULT_MAX_UNIVERSITIES,
    Demand,
    EdgeTable,
    ExpertCapacity,
    Instance,
)

__all__ = [
    "SCORE_WEIGHTS",
    "CourseDemand",
    "ExpertProfile",
    "FilterFailure",
    "PairScore",
    "Recommendation",
    "ScoreTerm",
    "build_instance",
    "candidate_pairs",
    "explain_no_candidate",
    "pair_filter",
    "recommend",
    "score_pair",
]

# Courses, modes and priority conditions come from core.domain: the codes the forms store.
# The priority term counts the notice's three priority conditions (core.domain.vocabulary.
# PRIORITY_GROUPS); membership is its own term (会员优先对接).

# The one place the ranking is tuned. Terms that do not apply to a pair (no ranking
# given, online teaching for the province term) drop out and the rest are rescaled,
# so a missing preference neither helps nor hurts.
SCORE_WEIGHTS = {
    "course_fit": 0.30,
    "priority": 0.20,
    "membership": 0.10,
    "same_province": 0.10,
    "schedule_fit": 0.10,
    "university_preference": 0.10,
    "expert_preference": 0.10,
}
TERM_LABEL = {
    "course_fit": "课程匹配",
    "priority": "优先条件",
    "membership": "学会会员",
    "same_province": "同省线下授课",
    "schedule_fit": "时间契合",
    "university_preference": "高校意向排序",
    "expert_preference": "专家意向排序",
}
# An expert lists courses strongest first; later ones still fit, a little less.
COURSE_FIT_BY_POSITION = (1.0, 0.85, 0.7, 0.6)


@dataclass(frozen=True)
class ExpertProfile:
    id: str
    courses: tuple[str, ...]  # strongest first
    modes: str  # online | offline | both
    province: str
    offline_provinces: frozenset[str] = frozenset()  # empty: own province only
    times: frozenset[str] = frozenset()  # e.g. "2025秋/周末"
    priority_conditions: frozenset[str] = frozenset()
    is_member: bool = False
    max_universities: int = DEFAULT_MAX_UNIVERSITIES
    max_slots: int = DEFAULT_MAX_SLOTS
    # Demand ids or university ids, most wanted first; empty when the expert did not rank.
    ranking: tuple[str, ...] = ()

    @property
    def teaches_offline_in(self) -> frozenset[str]:
        if self.modes == TeachingMode.ONLINE:
            return frozenset()
        return self.offline_provinces or frozenset({self.province})


@dataclass(frozen=True)
class CourseDemand:
    id: str
    university_id: str
    course: str
    need: int
    mode: str  # online | offline | both (either is fine)
    province: str
    times: frozenset[str] = frozenset()
    # Expert ids the university ranked, most wanted first; empty before ranking.
    ranking: tuple[str, ...] = ()


@dataclass(frozen=True)
class FilterFailure:
    code: str
    explanation: str


@dataclass(frozen=True)
class ScoreTerm:
    name: str
    label: str
    value: float  # in [0, 1]
    weight: float  # share of the score after rescaling; terms' weights add to 1
    explanation: str

    @property
    def contribution(self) -> float:
        return self.value * self.weight


@dataclass(frozen=True)
class PairScore:
    expert_id: str
    demand_id: str
    score: float
    terms: tuple[ScoreTerm, ...] = field(default_factory=tuple)

    def explanation(self) -> str:
        return "；".join(f"{t.label}{t.contribution:.2f}（{t.explanation}）" for t in self.terms)


@dataclass(frozen=True)
class Recommendation:
    rank: int
    pair: PairScore


def _teaches_offline_there(expert: ExpertProfile, demand: CourseDemand) -> bool:
    return demand.province in expert.teaches_offline_in


def _teaches_online(expert: ExpertProfile) -> bool:
    return expert.modes in (TeachingMode.ONLINE, TeachingMode.BOTH)


def pair_filter(
    expert: ExpertProfile, demand: CourseDemand, forbidden: frozenset[tuple[str, str]] = frozenset()
) -> FilterFailure | None:
    """The first hard rule the pair breaks, or None when it is a candidate."""
    if demand.course not in expert.courses:
        return FilterFailure("course", f"专家未申报可授《{demand.course}》")
    if demand.mode == TeachingMode.ONLINE and not _teaches_online(expert):
        return FilterFailure("mode", "课程为线上授课，专家仅接受线下")
    if demand.mode == TeachingMode.OFFLINE and not _teaches_offline_there(expert, demand):
        if expert.modes == TeachingMode.ONLINE:
            return FilterFailure("mode", "课程为线下授课，专家仅接受线上")
        return FilterFailure("province", f"课程在{demand.province}线下授课，专家不在该省线下授课")
    if demand.mode == TeachingMode.BOTH and not (_teaches_online(expert) or _teaches_offline_there(expert, demand)):
        return FilterFailure("province", f"专家仅线下授课且不在{demand.province}授课")
    if demand.times and expert.times and not (demand.times & expert.times):
        return FilterFailure("schedule", "专家可授课时间与计划开课时间无交集")
    if (expert.id, demand.id) in forbidden:
        return FilterFailure("forbidden", "需回避或专家/高校此前已拒绝")
    return None


def _rank_value(ranking: tuple[str, ...], *keys: str) -> tuple[float, int] | None:
    """1 for the first choice down to just above 0 for the last; None when not ranked."""
    for key in keys:
        if key in ranking:
            position = ranking.index(key)
            return 1.0 - position / len(ranking), position + 1
    if ranking:
        return 0.0, 0  # ranked others but not this one
    return None


def score_pair(expert: ExpertProfile, demand: CourseDemand) -> PairScore:
    """Score in [0, 1] with its explained terms; assumes `pair_filter` passed."""
    raw: list[tuple[str, float, str]] = []
    position = expert.courses.index(demand.course) if demand.course in expert.courses else len(COURSE_FIT_BY_POSITION)
    fit = COURSE_FIT_BY_POSITION[min(position, len(COURSE_FIT_BY_POSITION) - 1)]
    raw.append(("course_fit", fit, f"《{demand.course}》是专家申报的第{position + 1}门课程"))

    groups = priority_groups_met(expert.priority_conditions)
    declared = [label for code, label in PRIORITY_CONDITIONS.items() if code in expert.priority_conditions]
    raw.append(
        (
            "priority",
            len(groups) / len(PRIORITY_GROUPS),
            f"满足{len(groups)}/{len(PRIORITY_GROUPS)}项优先条件" + (f"：{'、'.join(declared)}" if declared else ""),
        )
    )
    raw.append(("membership", 1.0 if expert.is_member else 0.0, "中国创造学会会员" if expert.is_member else "非学会会员"))

    teaches_offline = demand.mode == TeachingMode.OFFLINE or (
        demand.mode == TeachingMode.BOTH and _teaches_offline_there(expert, demand)
    )
    if teaches_offline:
        same = expert.province == demand.province
        raw.append(
            ("same_province", 1.0 if same else 0.0, "专家与高校同省，便于线下授课" if same else f"专家在{expert.province}，需跨省线下授课")
        )

    if demand.times:
        covered = len(demand.times & expert.times) if expert.times else len(demand.times)
        raw.append(("schedule_fit", covered / len(demand.times), f"覆盖计划开课时间{covered}/{len(demand.times)}项"))

    university_rank = _rank_value(demand.ranking, expert.id)
    if university_rank is not None:
        value, place = university_rank
        raw.append(
            ("university_preference", value, f"高校将其排在第{place}位" if place else "高校未将其列入排序")
        )
    expert_rank = _rank_value(expert.ranking, demand.id, demand.university_id)
    if expert_rank is not None:
        value, place = expert_rank
        raw.append(("expert_preference", value, f"专家将该校排在第{place}位" if place else "专家未将该校列入排序"))

    total_weight = sum(SCORE_WEIGHTS[name] for name, _, _ in raw)
    terms = tuple(
        ScoreTerm(name, TERM_LABEL[name], value, SCORE_WEIGHTS[name] / total_weight, text) for name, value, text in raw
    )
    score = min(max(sum(t.contribution for t in terms), 0.0), 1.0)
    return PairScore(expert.id, demand.id, round(score, 6), terms)


def _experts_by_course(experts: Iterable[ExpertProfile]) -> dict[str, list[ExpertProfile]]:
    index: dict[str, list[ExpertProfile]] = defaultdict(list)
    for expert in experts:
        for course in expert.courses:
            index[course].append(expert)
    return index


def candidate_pairs(
    experts: Iterable[ExpertProfile],
    demands: Iterable[CourseDemand],
    forbidden: Iterable[tuple[str, str]] = (),
) -> list[PairScore]:
    """Every pair passing the hard filters, scored."""
    forbidden_set = frozenset(forbidden)
    by_course = _experts_by_course(experts)
    pairs: list[PairScore] = []
    for demand in demands:
        for expert in by_course.get(demand.course, ()):
            if pair_filter(expert, demand, forbidden_set) is None:
                pairs.append(score_pair(expert, demand))
    return pairs


def recommend(
    experts: Iterable[ExpertProfile],
    demands: Iterable[CourseDemand],
    k: int = 5,
    forbidden: Iterable[tuple[str, str]] = (),
) -> dict[str, list[Recommendation]]:
    """For each demand, its k best candidates (ties broken by expert id), best first."""
    demands = list(demands)
    per_demand: dict[str, list[PairScore]] = {d.id: [] for d in demands}
    for pair in candidate_pairs(experts, demands, forbidden):
        per_demand[pair.demand_id].append(pair)
    return {
        demand_id: [
            Recommendation(rank, pair)
            for rank, pair in enumerate(sorted(pairs, key=lambda p: (-p.score, p.expert_id))[:k], start=1)
        ]
        for demand_id, pairs in per_demand.items()
    }


def explain_no_candidate(demand: CourseDemand, experts: Iterable[ExpertProfile]) -> str:
    """Why nobody qualifies for a demand, counted by the first hard rule each expert fails."""
    failures: dict[str, int] = defaultdict(int)
    candidates = 0
    for expert in experts:
        failure = pair_filter(expert, demand)
        if failure is None:
            candidates += 1
        else:
            failures[failure.code] += 1
    if candidates:
        return f"有{candidates}位候选专家"
    labels = {"course": "未申报该课程", "mode": "授课方式不符", "province": "不在该省线下授课", "schedule": "时间无交集"}
    parts = [f"{labels[code]}{count}位" for code, count in sorted(failures.items(), key=lambda kv: -kv[1]) if code in labels]
    return (
        f"没有专家能以{TEACHING_MODES.get(demand.mode, demand.mode)}方式讲授《{demand.course}》"
        + (f"：{'，'.join(parts)}" if parts else "")
    )


def build_instance(
    experts: Iterable[ExpertProfile],
    demands: Iterable[CourseDemand],
    *,
    fixed: Iterable[tuple[str, str]] = (),
    forbidden: Iterable[tuple[str, str]] = (),
    prune_above: int | None = None,
) -> Instance:
    """The solver instance of these profiles: candidate pairs as edges, caps from the answers.

    The pairs are those of `pair_filter` and `score_pair`, built as columns
    (`core.matching.candidates`); above `prune_above` candidates (default: the solver's
    national threshold) each demand keeps its best pairs only.
    """
    # Here, not at the top: candidates reads this module's weights.
    from core.matching.candidates import candidate_table

    experts = list(experts)
    demands = list(demands)
    forbidden_set = frozenset(forbidden)
    fixed_set = frozenset(fixed)
    # Forbidden pairs stay edges: the instance drops them, and diagnostics can then say
    # "the only candidates declined" instead of "nobody qualifies".
    table = candidate_table(experts, demands, keep=fixed_set, prune_above=prune_above)
    edges = table.edges
    # An accepted pair stays an edge even if a profile changed since: it was agreed.
    by_id_expert = {e.id: e for e in experts}
    by_id_demand = {d.id: d for d in demands}
    extra = [
        score_pair(by_id_expert[e], by_id_demand[d])
        for e, d in sorted(fixed_set)
        if e in by_id_expert and d in by_id_demand and pair_filter(by_id_expert[e], by_id_demand[d]) is not None
    ]
    if extra:
        expert_row = {e: i for i, e in enumerate(edges.expert_ids)}
        demand_row = {d: i for i, d in enumerate(edges.demand_ids)}
        edges = EdgeTable(
            edges.expert_ids,
            edges.demand_ids,
            np.concatenate([edges.expert, np.array([expert_row[p.expert_id] for p in extra], dtype=edges.expert.dtype)]),
            np.concatenate([edges.demand, np.array([demand_row[p.demand_id] for p in extra], dtype=edges.demand.dtype)]),
            np.concatenate([edges.score, np.array([p.score for p in extra])]),
        )
    return Instance(
        experts=tuple(ExpertCapacity(e.id, e.max_universities, e.max_slots) for e in experts),
        demands=tuple(Demand(d.id, d.university_id, d.need) for d in demands),
        edges=edges,
        fixed=fixed_set,
        forbidden=forbidden_set,
        dropped_below=table.dropped_below,
    )
