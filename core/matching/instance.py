"""The solver instance: who can serve how much, what is asked, which pairs are allowed.

This is the language-neutral shape that `innoeng match solve` reads from JSON; the
profile-level view (courses, modes, provinces, times) lives in `scoring` and is
turned into an instance by `scoring.build_instance`.
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np

from core.domain.appointments import DEFAULT_MAX_UNIVERSITIES  # the notice: 一般不超过2所; staff may lift it per expert

__all__ = [
    "DEFAULT_MAX_SLOTS",
    "DEFAULT_MAX_UNIVERSITIES",
    "Demand",
    "Edge",
    "EdgeTable",
    "ExpertCapacity",
    "Instance",
    "InstanceError",
    "parse_instance",
]

# Four core courses exist; without an answer we do not let one expert take more than that.
DEFAULT_MAX_SLOTS = 4


class InstanceError(Exception):
    """The instance cannot be solved as given; `.problems` names every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("invalid matching instance:\n" + "\n".join(f"- {p}" for p in self.problems))


@dataclass(frozen=True, slots=True)
class ExpertCapacity:
    id: str
    max_universities: int = DEFAULT_MAX_UNIVERSITIES
    max_slots: int = DEFAULT_MAX_SLOTS


@dataclass(frozen=True, slots=True)
class Demand:
    """One requested course at one university, needing `need` experts (slots)."""

    id: str
    university: str
    need: int = 1


@dataclass(frozen=True, slots=True)
class Edge:
    """An allowed (expert, demand) pair and its score in [0, 1]."""

    expert: str
    demand: str
    score: float


class EdgeTable(Sequence[Edge]):
    """Edges held as columns, for national-scale instances (millions of pairs).

    Reads as a sequence of `Edge`, so everything that takes an instance works the
    same; the solver and validation use the columns directly instead of building
    one Python object per pair. `expert` and `demand` index into `expert_ids` and
    `demand_ids`, which need not be the instance's order. They are kept as int32 when
    the ids allow (a national batch: 16 bytes a pair instead of 24); arithmetic on them
    casts to int64 first.
    """

    __slots__ = ("expert_ids", "demand_ids", "expert", "demand", "score")

    def __init__(
        self,
        expert_ids: Sequence[str],
        demand_ids: Sequence[str],
        expert: np.ndarray,
        demand: np.ndarray,
        score: np.ndarray,
    ):
        self.expert_ids = tuple(expert_ids)
        self.demand_ids = tuple(demand_ids)
        self.expert = _index_column(expert, len(self.expert_ids))
        self.demand = _index_column(demand, len(self.demand_ids))
        self.score = np.asarray(score, dtype=np.float64)
        if not (len(self.expert) == len(self.demand) == len(self.score)):
            raise ValueError("EdgeTable columns must have the same length")
        for name, column, vocabulary in (
            ("expert", self.expert, self.expert_ids),
            ("demand", self.demand, self.demand_ids),
        ):
            if len(column) and (column.min() < 0 or column.max() >= len(vocabulary)):
                raise ValueError(f"EdgeTable {name} index outside its id list")
        for column in (self.expert, self.demand, self.score):
            column.setflags(write=False)

    def __len__(self) -> int:
        return len(self.score)

    @overload
    def __getitem__(self, index: int) -> Edge: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Edge, ...]: ...

    def __getitem__(self, index: int | slice) -> Edge | tuple[Edge, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        return Edge(
            self.expert_ids[self.expert[index]], self.demand_ids[self.demand[index]], float(self.score[index])
        )

    def __iter__(self) -> Iterator[Edge]:
        experts, demands = self.expert_ids, self.demand_ids
        for e, d, s in zip(self.expert.tolist(), self.demand.tolist(), self.score.tolist()):
            yield Edge(experts[e], demands[d], s)

    @classmethod
    def from_edges(cls, edges: Sequence[Edge]) -> "EdgeTable":
        expert_index: dict[str, int] = {}
        demand_index: dict[str, int] = {}
        n = len(edges)
        expert = np.fromiter((expert_index.setdefault(e.expert, len(expert_index)) for e in edges), np.int64, n)
        demand = np.fromiter((demand_index.setdefault(e.demand, len(demand_index)) for e in edges), np.int64, n)
        score = np.fromiter((e.score for e in edges), np.float64, n)
        return cls(tuple(expert_index), tuple(demand_index), expert, demand, score)


def _index_column(values, vocabulary_size: int) -> np.ndarray:
    return np.asarray(values).astype(np.int32 if vocabulary_size < 2**31 else np.int64, copy=False)


@dataclass(frozen=True)
class Instance:
    experts: tuple[ExpertCapacity, ...]
    demands: tuple[Demand, ...]
    # A tuple of `Edge`, or an `EdgeTable` for large instances.
    edges: Sequence[Edge]
    # Pairs already accepted by both sides: they stay whatever the optimum says.
    fixed: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    # Pairs that must never be used (conflict of interest, an earlier decline).
    forbidden: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    # Candidate pairs left out of `edges` where the instance was built, for being below a
    # demand's best (a national batch, `core.matching.candidates`): per demand id, a score
    # above every pair left out. The solver's bound then covers them too.
    dropped_below: Mapping[str, float] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        problems = validate(self)
        if problems:
            raise InstanceError(problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "experts": [
                {"id": e.id, "max_universities": e.max_universities, "max_slots": e.max_slots}
                for e in self.experts
            ],
            "demands": [{"id": d.id, "university": d.university, "need": d.need} for d in self.demands],
            "edges": [[e.expert, e.demand, e.score] for e in self.edges],
            "fixed": sorted(list(p) for p in self.fixed),
            "forbidden": sorted(list(p) for p in self.forbidden),
            **({"dropped_below": dict(self.dropped_below)} if self.dropped_below else {}),
        }


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validate(instance: Instance) -> list[str]:
    """Every reason the instance is unusable; empty when it is fine.

    Checks only what makes the model wrong or impossible: the solver itself then
    never has to second-guess its input.
    """
    problems: list[str] = []
    experts: dict[str, ExpertCapacity] = {}
    for i, expert in enumerate(instance.experts):
        where = f"experts[{i}] ({expert.id!r})"
        if not isinstance(expert.id, str) or not expert.id:
            problems.append(f"experts[{i}]: id must be a non-empty string")
            continue
        if expert.id in experts:
            problems.append(f"{where}: duplicate expert id")
        experts[expert.id] = expert
        if not _is_int(expert.max_universities) or expert.max_universities < 0:
            problems.append(f"{where}: max_universities must be an integer >= 0, got {expert.max_universities!r}")
        if not _is_int(expert.max_slots) or expert.max_slots < 0:
            problems.append(f"{where}: max_slots must be an integer >= 0, got {expert.max_slots!r}")

    demands: dict[str, Demand] = {}
    for i, demand in enumerate(instance.demands):
        where = f"demands[{i}] ({demand.id!r})"
        if not isinstance(demand.id, str) or not demand.id:
            problems.append(f"demands[{i}]: id must be a non-empty string")
            continue
        if demand.id in demands:
            problems.append(f"{where}: duplicate demand id")
        demands[demand.id] = demand
        if not isinstance(demand.university, str) or not demand.university:
            problems.append(f"{where}: university must be a non-empty string")
        if not _is_int(demand.need) or demand.need < 0:
            problems.append(f"{where}: need must be an integer >= 0, got {demand.need!r}")

    if isinstance(instance.edges, EdgeTable):
        edge_keys = _validate_edge_table(instance.edges, experts, demands, problems)
    else:
        edge_keys = _validate_edge_tuple(instance.edges, experts, demands, problems)

    for name, pairs in (("fixed", instance.fixed), ("forbidden", instance.forbidden)):
        for expert_id, demand_id in sorted(pairs):
            if expert_id not in experts:
                problems.append(f"{name} ({expert_id!r}, {demand_id!r}): unknown expert {expert_id!r}")
            if demand_id not in demands:
                problems.append(f"{name} ({expert_id!r}, {demand_id!r}): unknown demand {demand_id!r}")
    for pair in sorted(instance.fixed & instance.forbidden):
        problems.append(f"fixed {pair!r} is also forbidden")
    for pair in sorted(p for p in instance.fixed if not edge_keys(p)):
        if pair[0] in experts and pair[1] in demands:
            problems.append(f"fixed {pair!r} is not among the edges (give it an edge with its score)")

    if not isinstance(instance.dropped_below, Mapping):
        problems.append("dropped_below: must map demand ids to scores")
    else:
        for demand_id, floor in sorted(instance.dropped_below.items(), key=lambda item: str(item[0])):
            if demand_id not in demands:
                problems.append(f"dropped_below {demand_id!r}: unknown demand")
            if not _is_number(floor) or math.isnan(floor) or floor > 2.0:
                problems.append(f"dropped_below {demand_id!r}: must be a score, got {floor!r}")

    # Fixed pairs must themselves respect the caps, or no answer can keep them all.
    fixed_per_demand: dict[str, int] = {}
    fixed_per_expert: dict[str, int] = {}
    fixed_universities: dict[str, set[str]] = {}
    for expert_id, demand_id in instance.fixed:
        if expert_id not in experts or demand_id not in demands:
            continue
        fixed_per_demand[demand_id] = fixed_per_demand.get(demand_id, 0) + 1
        fixed_per_expert[expert_id] = fixed_per_expert.get(expert_id, 0) + 1
        fixed_universities.setdefault(expert_id, set()).add(demands[demand_id].university)
    for demand_id, count in sorted(fixed_per_demand.items()):
        need = demands[demand_id].need
        if _is_int(need) and count > need:
            problems.append(f"demand {demand_id!r}: {count} fixed pairs exceed its need {need}")
    for expert_id, count in sorted(fixed_per_expert.items()):
        cap = experts[expert_id]
        if _is_int(cap.max_slots) and count > cap.max_slots:
            problems.append(f"expert {expert_id!r}: {count} fixed pairs exceed max_slots {cap.max_slots}")
        universities = fixed_universities[expert_id]
        if _is_int(cap.max_universities) and len(universities) > cap.max_universities:
            problems.append(
                f"expert {expert_id!r}: fixed pairs span {len(universities)} universities,"
                f" more than max_universities {cap.max_universities}"
            )
    return problems


# Listing a million bad edges helps nobody: name the first few of each kind and count the rest.
PROBLEMS_LISTED_PER_KIND = 20


def _validate_edge_tuple(
    edges: Sequence[Edge], experts: dict[str, Any], demands: dict[str, Any], problems: list[str]
):
    seen_pairs: set[tuple[str, str]] = set()
    for i, edge in enumerate(edges):
        where = f"edges[{i}] ({edge.expert!r}, {edge.demand!r})"
        if edge.expert not in experts:
            problems.append(f"{where}: unknown expert {edge.expert!r}")
        if edge.demand not in demands:
            problems.append(f"{where}: unknown demand {edge.demand!r}")
        pair = (edge.expert, edge.demand)
        if pair in seen_pairs:
            problems.append(f"{where}: duplicate edge")
        seen_pairs.add(pair)
        if not _is_number(edge.score) or not math.isfinite(edge.score) or not 0.0 <= edge.score <= 1.0:
            problems.append(f"{where}: score must be a number in [0, 1], got {edge.score!r}")
    return seen_pairs.__contains__


def _listed(problems: list[str], kind: str, positions: np.ndarray, describe) -> None:
    for i in positions[:PROBLEMS_LISTED_PER_KIND].tolist():
        problems.append(describe(i))
    if len(positions) > PROBLEMS_LISTED_PER_KIND:
        problems.append(f"... and {len(positions) - PROBLEMS_LISTED_PER_KIND} more edges with {kind}")


def _validate_edge_table(
    table: EdgeTable, experts: dict[str, Any], demands: dict[str, Any], problems: list[str]
):
    known_expert = np.fromiter((e in experts for e in table.expert_ids), bool, len(table.expert_ids))
    known_demand = np.fromiter((d in demands for d in table.demand_ids), bool, len(table.demand_ids))

    def name(i: int) -> str:
        return f"edges[{i}] ({table.expert_ids[table.expert[i]]!r}, {table.demand_ids[table.demand[i]]!r})"

    if len(table):
        _listed(
            problems, "unknown experts", np.flatnonzero(~known_expert[table.expert]),
            lambda i: f"{name(i)}: unknown expert {table.expert_ids[table.expert[i]]!r}",
        )
        _listed(
            problems, "unknown demands", np.flatnonzero(~known_demand[table.demand]),
            lambda i: f"{name(i)}: unknown demand {table.demand_ids[table.demand[i]]!r}",
        )
        bad_score = ~np.isfinite(table.score) | (table.score < 0.0) | (table.score > 1.0)
        _listed(
            problems, "scores outside [0, 1]", np.flatnonzero(bad_score),
            lambda i: f"{name(i)}: score must be a number in [0, 1], got {float(table.score[i])!r}",
        )
    # One int64 key per pair, sorted in place: at 57M pairs each further copy is 0.45 GB.
    keys = table.expert.astype(np.int64) * max(len(table.demand_ids), 1)
    keys += table.demand
    keys.sort()
    if len(keys) and bool((keys[1:] == keys[:-1]).any()):
        unsorted = table.expert.astype(np.int64) * max(len(table.demand_ids), 1) + table.demand
        order = np.argsort(unsorted, kind="stable")
        repeated = order[1:][unsorted[order][1:] == unsorted[order][:-1]]
        del unsorted, order
        _listed(problems, "duplicates", np.sort(repeated), lambda i: f"{name(i)}: duplicate edge")
        keys = np.unique(keys)
    expert_position = {e: i for i, e in enumerate(table.expert_ids)}
    demand_position = {d: i for i, d in enumerate(table.demand_ids)}
    key_set = keys

    def contains(pair: tuple[str, str]) -> bool:
        e, d = expert_position.get(pair[0]), demand_position.get(pair[1])
        if e is None or d is None:
            return False
        key = e * max(len(table.demand_ids), 1) + d
        position = np.searchsorted(key_set, key)
        return bool(position < len(key_set) and key_set[position] == key)

    return contains


def _pair_list(raw: Any, name: str, problems: list[str]) -> frozenset[tuple[str, str]]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list):
        problems.append(f"{name}: must be a list of [expert, demand] pairs")
        return frozenset()
    pairs: set[tuple[str, str]] = set()
    for i, item in enumerate(raw):
        if not (isinstance(item, (list, tuple)) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            problems.append(f"{name}[{i}]: must be [expert_id, demand_id], got {item!r}")
            continue
        pair = (item[0], item[1])
        if pair in pairs:
            problems.append(f"{name}[{i}]: duplicate pair {list(pair)!r}")
        pairs.add(pair)
    return frozenset(pairs)


def parse_instance(data: Any) -> Instance:
    """Build an `Instance` from its JSON form; raise `InstanceError` listing every problem."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise InstanceError(["instance must be a JSON object with experts, demands and edges"])
    unknown_keys = set(data) - {"experts", "demands", "edges", "fixed", "forbidden", "dropped_below"}
    for key in sorted(unknown_keys):
        problems.append(f"unknown key {key!r}")

    experts: list[ExpertCapacity] = []
    raw_experts = data.get("experts")
    if not isinstance(raw_experts, list):
        problems.append("experts: required, must be a list")
        raw_experts = []
    for i, raw in enumerate(raw_experts):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            problems.append(f"experts[{i}]: must be an object with a string id")
            continue
        experts.append(
            ExpertCapacity(
                id=raw["id"],
                max_universities=raw.get("max_universities", DEFAULT_MAX_UNIVERSITIES),
                max_slots=raw.get("max_slots", DEFAULT_MAX_SLOTS),
            )
        )

    demands: list[Demand] = []
    raw_demands = data.get("demands")
    if not isinstance(raw_demands, list):
        problems.append("demands: required, must be a list")
        raw_demands = []
    for i, raw in enumerate(raw_demands):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            problems.append(f"demands[{i}]: must be an object with a string id")
            continue
        demands.append(Demand(id=raw["id"], university=raw.get("university"), need=raw.get("need", 1)))

    edges: list[Edge] = []
    raw_edges = data.get("edges")
    if not isinstance(raw_edges, list):
        problems.append("edges: required, must be a list")
        raw_edges = []
    for i, raw in enumerate(raw_edges):
        if not (
            isinstance(raw, (list, tuple))
            and len(raw) == 3
            and isinstance(raw[0], str)
            and isinstance(raw[1], str)
        ):
            problems.append(f"edges[{i}]: must be [expert_id, demand_id, score], got {raw!r}")
            continue
        edges.append(Edge(raw[0], raw[1], raw[2]))

    fixed = _pair_list(data.get("fixed"), "fixed", problems)
    forbidden = _pair_list(data.get("forbidden"), "forbidden", problems)

    dropped_below = data.get("dropped_below") or {}
    if not isinstance(dropped_below, dict):
        problems.append("dropped_below: must be an object of demand id -> score")
        dropped_below = {}

    try:
        instance = Instance(tuple(experts), tuple(demands), tuple(edges), fixed, forbidden, dropped_below)
    except InstanceError as exc:
        raise InstanceError(problems + exc.problems) from None
    if problems:
        raise InstanceError(problems)
    return instance
