"""Hard filters, explained scores and recommendations on expert and university profiles."""
from __future__ import annotations

import pytest
from matching_instances import load_benchmark

from core.matching import (
    SCORE_WEIGHTS,
    CourseDemand,
    ExpertProfile,
    build_instance,
    pair_filter,
    recommend,
    score_pair,
    solve,
)
from core.domain.courses import CORE_COURSES as COURSES
from core.matching.scoring import explain_no_candidate


def expert(**overrides) -> ExpertProfile:
    fields = dict(
        id="e1",
        courses=("创新思维", "创新管理"),
        modes="both",
        province="浙江",
        times=frozenset({"2025秋/周末"}),
    )
    fields.update(overrides)
    return ExpertProfile(**fields)


def demand(**overrides) -> CourseDemand:
    fields = dict(
        id="d1",
        university_id="u1",
        course="创新思维",
        need=1,
        mode="online",
        province="江苏",
        times=frozenset({"2025秋/周末", "2025秋/工作日晚上"}),
    )
    fields.update(overrides)
    return CourseDemand(**fields)


def test_weights_are_in_one_place_and_add_up_to_one():
    assert sum(SCORE_WEIGHTS.values()) == pytest.approx(1.0)
    assert set(SCORE_WEIGHTS) == {
        "course_fit", "priority", "membership", "same_province", "schedule_fit",
        "university_preference", "expert_preference",
    }


@pytest.mark.parametrize(
    ("expert_fields", "demand_fields", "code"),
    [
        ({"courses": ("技术创新方法",)}, {}, "course"),
        ({"modes": "offline"}, {"mode": "online"}, "mode"),
        ({"modes": "online"}, {"mode": "offline"}, "mode"),
        ({"modes": "offline"}, {"mode": "offline", "province": "江苏"}, "province"),
        ({"modes": "offline"}, {"mode": "both", "province": "江苏"}, "province"),
        ({"times": frozenset({"2026春/周末"})}, {}, "schedule"),
    ],
)
def test_hard_filters_name_the_rule_that_fails(expert_fields, demand_fields, code):
    failure = pair_filter(expert(**expert_fields), demand(**demand_fields))
    assert failure is not None
    assert failure.code == code
    assert failure.explanation  # a sentence for staff


def test_offline_is_allowed_where_the_expert_teaches_offline():
    travelling = expert(modes="offline", offline_provinces=frozenset({"浙江", "江苏"}))
    assert pair_filter(travelling, demand(mode="offline", province="江苏")) is None
    assert pair_filter(expert(modes="offline"), demand(mode="offline", province="浙江")) is None


def test_forbidden_pairs_fail_the_filter():
    failure = pair_filter(expert(), demand(), frozenset({("e1", "d1")}))
    assert failure is not None and failure.code == "forbidden"


def test_score_terms_explain_the_whole_score():
    pair = score_pair(
        expert(is_member=True, priority_conditions=frozenset({"major_invention_patent"})),
        demand(),
    )
    assert 0.0 <= pair.score <= 1.0
    assert sum(t.contribution for t in pair.terms) == pytest.approx(pair.score, abs=1e-6)
    assert sum(t.weight for t in pair.terms) == pytest.approx(1.0)
    names = [t.name for t in pair.terms]
    assert names == ["course_fit", "priority", "membership", "schedule_fit"]  # online: no province term
    assert "中国创造学会会员" in pair.explanation()
    schedule = next(t for t in pair.terms if t.name == "schedule_fit")
    assert schedule.value == pytest.approx(0.5)


def test_membership_priority_and_primary_course_raise_the_score():
    base = score_pair(expert(), demand()).score
    assert score_pair(expert(is_member=True), demand()).score > base
    assert score_pair(expert(priority_conditions=frozenset({"industry_education"})), demand()).score > base
    second_course = score_pair(expert(courses=("创新管理", "创新思维")), demand()).score
    assert second_course < base


def test_same_province_counts_only_for_offline_teaching():
    here = score_pair(expert(province="江苏"), demand(mode="offline"))
    away = score_pair(expert(offline_provinces=frozenset({"江苏"})), demand(mode="offline"))
    assert "same_province" in [t.name for t in here.terms]
    assert here.score > away.score


def test_rankings_count_when_given():
    ranked = score_pair(expert(ranking=("u1",)), demand(ranking=("e9", "e1")))
    names = {t.name: t for t in ranked.terms}
    assert names["university_preference"].value == pytest.approx(0.5)
    assert names["expert_preference"].value == pytest.approx(1.0)
    assert "第2位" in names["university_preference"].explanation


def test_recommend_returns_top_k_best_first():
    experts = [
        expert(id="weak"),
        expert(id="member", is_member=True),
        expert(id="star", is_member=True, priority_conditions=frozenset({"major_invention_patent"})),
        expert(id="wrong_course", courses=("技术创新方法",)),
    ]
    recommendations = recommend(experts, [demand()], k=2)["d1"]
    assert [r.pair.expert_id for r in recommendations] == ["star", "member"]
    assert [r.rank for r in recommendations] == [1, 2]
    assert recommendations[0].pair.terms


def test_explain_no_candidate_counts_failures():
    text = explain_no_candidate(demand(course="技术创新方法"), [expert(), expert(id="e2")])
    assert "技术创新方法" in text and "未申报该课程2位" in text


def test_build_instance_keeps_caps_and_forbidden_pairs():
    experts = [expert(id="e1", max_universities=1, max_slots=2), expert(id="e2")]
    demands = [demand(id="d1"), demand(id="d2", university_id="u2", course="创新管理")]
    problem = build_instance(experts, demands, forbidden=[("e2", "d1")])
    assert problem.experts[0].max_universities == 1 and problem.experts[0].max_slots == 2
    assert {(e.expert, e.demand) for e in problem.edges} == {("e1", "d1"), ("e2", "d1"), ("e1", "d2"), ("e2", "d2")}
    solution = solve(problem)
    assert ("e2", "d1") not in solution.assignments
    assert solution.filled == 2


def test_benchmark_batches_use_the_services_instance_builder():
    bench = load_benchmark()
    batch = bench.generate_batch("S", seed=1)
    batch.experts[:] = batch.experts[:60]
    batch.demands[:] = batch.demands[:50]
    pairs = {(e.expert, e.demand): e.score for e in bench.full_instance(batch).edges}
    assert len(pairs) > 100
    for d in batch.demands:
        for x in batch.experts:
            if pair_filter(x, d) is None:
                assert pairs[(x.id, d.id)] == score_pair(x, d).score
            else:
                assert (x.id, d.id) not in pairs
    assert all(d.course in COURSES for d in batch.demands)
