"""The columnar candidate table: the pairs and scores of pair_filter/score_pair, to the bit; each demand's best at scale."""
from __future__ import annotations

import random

import numpy as np
import pytest
from matching_brute_force import brute_force_optimum

from core.matching import CourseDemand, ExpertProfile, build_instance, check_assignment, pair_filter, score_pair, solve
from core.domain.vocabulary import PRIORITY_CONDITIONS
from core.matching.candidates import candidate_table
from core.matching.instance import EdgeTable, parse_instance
from core.matching.prune import keep_per_demand

COURSES = ("创新思维", "产品创新方法", "技术创新方法", "创新管理")
PROVINCES = ("浙江", "江苏", "广东", "四川")
TIMES = ("2025秋/周末", "2025秋/工作日晚上", "2026春/周末", "2026春/集中授课")
CONDITIONS = tuple(str(code) for code in PRIORITY_CONDITIONS)


def random_batch(rng: random.Random, experts: int, demands: int) -> tuple[list[ExpertProfile], list[CourseDemand]]:
    demand_ids = [f"d{j}" for j in range(demands)]
    universities = [f"u{j // 2}" for j in range(demands)]
    profiles = []
    for i in range(experts):
        courses = tuple(rng.sample(COURSES, rng.randint(1, 4)))
        if rng.random() < 0.1:
            courses = courses + courses[:1]  # a course listed twice: its first place counts
        ranking: tuple[str, ...] = ()
        if rng.random() < 0.4:
            pool = demand_ids + sorted(set(universities)) + ["u-elsewhere"]
            ranking = tuple(rng.choice(pool) for _ in range(rng.randint(1, 5)))
        profiles.append(ExpertProfile(
            id=f"e{i}", courses=courses, modes=rng.choice(("online", "offline", "both")),
            province=rng.choice(PROVINCES),
            offline_provinces=frozenset(rng.sample(PROVINCES, rng.randint(0, 2))),
            times=frozenset(rng.sample(TIMES, rng.randint(0, 3))),
            priority_conditions=frozenset(rng.sample(CONDITIONS, rng.randint(0, 3))),
            is_member=rng.random() < 0.3, ranking=ranking,
        ))
    needs = []
    for j in range(demands):
        ranking = ()
        if rng.random() < 0.4:
            ranking = tuple(rng.choice([p.id for p in profiles] + ["e-unknown"]) for _ in range(rng.randint(1, 6)))
        needs.append(CourseDemand(
            id=demand_ids[j], university_id=universities[j], course=rng.choice(COURSES), need=rng.randint(1, 3),
            mode=rng.choice(("online", "offline", "both")), province=rng.choice(PROVINCES),
            times=frozenset(rng.sample(TIMES, rng.randint(0, 3))), ranking=ranking,
        ))
    return profiles, needs


@pytest.mark.parametrize("seed", range(15))
def test_the_table_holds_exactly_the_pairs_and_scores_of_score_pair(seed):
    rng = random.Random(7000 + seed)
    experts, demands = random_batch(rng, rng.randint(5, 40), rng.randint(1, 12))
    expected = {
        (e.id, d.id): score_pair(e, d).score for d in demands for e in experts if pair_filter(e, d) is None
    }
    table = candidate_table(experts, demands).edges
    got = {(edge.expert, edge.demand): edge.score for edge in table}
    assert len(got) == len(table)  # no pair twice
    assert got == expected  # the same pairs, and every score equal to the bit
    assert table.expert.dtype == np.int32 and table.demand.dtype == np.int32


def test_rankings_and_missing_times_score_as_score_pair_says():
    expert_ranked = ExpertProfile(id="e1", courses=("创新思维",), modes="online", province="浙江",
                                  ranking=("u9", "u1", "d1"))
    expert_plain = ExpertProfile(id="e2", courses=("创新管理", "创新思维"), modes="online", province="浙江",
                                 times=frozenset({"2025秋/周末"}))
    demand = CourseDemand(id="d1", university_id="u1", course="创新思维", need=1, mode="online", province="江苏",
                          times=frozenset({"2025秋/周末", "2026春/周末"}), ranking=("e2", "e1"))
    scores = {(e.expert, e.demand): e.score for e in candidate_table([expert_ranked, expert_plain], [demand]).edges}
    assert scores == {("e1", "d1"): score_pair(expert_ranked, demand).score,
                      ("e2", "d1"): score_pair(expert_plain, demand).score}
    assert scores[("e1", "d1")] != scores[("e2", "d1")]


def test_a_national_batch_keeps_each_demands_best_and_says_what_it_left_out(monkeypatch):
    import core.matching.prune as prune

    monkeypatch.setattr(prune, "KEEP_PER_SLOT", 3)
    monkeypatch.setattr(prune, "KEEP_EXTRA", 2)
    rng = random.Random(11)
    experts, demands = random_batch(rng, 120, 6)
    whole = candidate_table(experts, demands, prune_above=0)
    assert whole.dropped_below == {} and len(whole.edges) == whole.candidates
    fixed_pair = min(((e.expert, e.demand, e.score) for e in whole.edges), key=lambda p: p[2])[:2]
    pruned = candidate_table(experts, demands, keep=[fixed_pair], prune_above=10)
    assert pruned.candidates == whole.candidates
    kept = {(e.expert, e.demand): e.score for e in pruned.edges}
    every = {(e.expert, e.demand): e.score for e in whole.edges}
    assert len(kept) < len(every) and kept.items() <= every.items()
    assert fixed_pair in kept  # an agreed pair stays, whatever its rank
    take = dict(zip((d.id for d in demands), keep_per_demand(np.array([d.need for d in demands])).tolist()))
    assert pruned.dropped_below
    for d in demands:
        left_out = [s for (e, dd), s in every.items() if dd == d.id and (e, dd) not in kept]
        on_demand = [s for (e, dd), s in kept.items() if dd == d.id]
        if left_out:
            assert d.id in pruned.dropped_below
            assert pruned.dropped_below[d.id] > max(left_out)
            assert len(on_demand) >= take[d.id]
        else:
            assert d.id not in pruned.dropped_below


@pytest.mark.parametrize("seed", range(10))
def test_a_solve_over_the_kept_pairs_is_bounded_for_every_candidate(seed, monkeypatch):
    # Pruned far below the national threshold: the bound must hold for the whole instance
    # (its brute-force optimum) and the answer be feasible for it.
    import core.matching.prune as prune

    rng = random.Random(8100 + seed)
    experts, demands = random_batch(rng, rng.randint(3, 5), rng.randint(2, 3))
    whole = build_instance(experts, demands, prune_above=0)
    monkeypatch.setattr(prune, "KEEP_PER_SLOT", 1)
    monkeypatch.setattr(prune, "KEEP_EXTRA", 0)
    kept = build_instance(experts, demands, prune_above=1)
    solution = solve(kept)
    assert check_assignment(whole, solution.assignments) == []
    filled, score = brute_force_optimum(whole)
    assert solution.filled_bound >= filled
    if solution.filled == filled:
        assert solution.bound >= score - 1e-9


def test_what_was_left_out_survives_the_json_form(monkeypatch):
    import core.matching.prune as prune

    monkeypatch.setattr(prune, "KEEP_PER_SLOT", 2)
    monkeypatch.setattr(prune, "KEEP_EXTRA", 1)
    rng = random.Random(5)
    experts, demands = random_batch(rng, 60, 4)
    instance = build_instance(experts, demands, prune_above=10)
    assert instance.dropped_below
    again = parse_instance(instance.to_dict())
    assert again.dropped_below == instance.dropped_below
    assert solve(again).bound == pytest.approx(solve(instance).bound)


def test_a_floor_for_an_unknown_demand_is_refused():
    with pytest.raises(Exception) as refused:
        parse_instance({"experts": [{"id": "e1"}], "demands": [{"id": "d1", "university": "u1"}],
                        "edges": [["e1", "d1", 0.5]], "dropped_below": {"d9": 0.5, "d1": "high"}})
    problems = refused.value.problems
    assert any("d9" in p and "unknown demand" in p for p in problems)
    assert any("d1" in p and "must be a score" in p for p in problems)


def test_index_columns_are_compact_and_keys_do_not_overflow():
    # 70,000 experts x 40,000 demands: expert * demands + demand passes 2**31.
    experts = [f"e{i}" for i in range(70_000)]
    demands = [f"d{j}" for j in range(40_000)]
    table = EdgeTable(experts, demands, np.array([69_999, 69_999, 0]), np.array([39_999, 39_998, 0]),
                      np.array([0.5, 0.5, 0.5]))
    assert table.expert.dtype == np.int32
    from core.matching.instance import Demand, ExpertCapacity, Instance

    instance = Instance(tuple(ExpertCapacity(e) for e in experts), tuple(Demand(d, "u") for d in demands), table,
                        fixed=frozenset({("e69999", "d39999")}))
    assert len(instance.edges) == 3
    duplicated = EdgeTable(experts, demands, np.array([69_999, 69_999]), np.array([39_999, 39_999]), np.array([0.5, 0.5]))
    with pytest.raises(Exception) as refused:
        Instance(tuple(ExpertCapacity(e) for e in experts), tuple(Demand(d, "u") for d in demands), duplicated)
    assert any("duplicate edge" in p for p in refused.value.problems)
