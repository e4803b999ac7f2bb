"""Every rule of the notice's 基本条件 and 优先条件, table-driven, boundaries included."""
from __future__ import annotations

from datetime import date

import pytest

from core.eligibility import Eligibility, Outcome, age_on, assess_expert, assess_university

DEADLINE = date(2025, 8, 15)


def born_years_before(years: int, *, days_after: int = 0) -> str:
    """A birth date making the person exactly `years` old on the deadline (birthday on the deadline)."""
    return date(DEADLINE.year - years, DEADLINE.month, DEADLINE.day + days_after).isoformat()


def expert(**overrides):
    answers = {
        "birth_date": born_years_before(50),
        "employer_type": "high_tech",
        "years_at_employer": 5,
        "education": "bachelor",
        "title": "intermediate_or_below",
        "duties": ["teaching", "guiding_practice"],
        "employer_consent": True,
        "declaration": True,
        "priority_conditions": [],
        "society_member": False,
    }
    answers.update(overrides)
    return answers


def rule(answers, name):
    verdict = assess_expert(answers, deadline=DEADLINE)
    return next(r for r in verdict.rules if r.rule == name)


def test_a_plainly_qualified_expert_passes_every_rule():
    verdict = assess_expert(expert(), deadline=DEADLINE)
    assert verdict.outcome is Outcome.PASS
    assert {r.outcome for r in verdict.rules} == {Outcome.PASS}
    assert all(r.reason for r in verdict.rules)


@pytest.mark.parametrize(
    ("age", "urgent_field", "expected"),
    [
        (65, None, Outcome.PASS),
        (66, None, Outcome.FAIL),
        (66, "集成电路", Outcome.NEEDS_JUDGEMENT),
        (70, "集成电路", Outcome.NEEDS_JUDGEMENT),
        (70, None, Outcome.FAIL),
        (71, "集成电路", Outcome.FAIL),
    ],
)
def test_age_at_the_deadline_with_the_urgent_field_relaxation(age, urgent_field, expected):
    verdict = rule(expert(birth_date=born_years_before(age), urgent_field=urgent_field), "age")
    assert verdict.outcome is expected
    assert f"{age} 周岁" in verdict.reason


def test_age_is_counted_on_the_deadline_not_today():
    # One day short of 66 on the deadline: still 65.
    answers = expert(birth_date=born_years_before(66, days_after=1))
    assert rule(answers, "age").outcome is Outcome.PASS
    assert age_on(date(1959, 8, 16), DEADLINE) == 65
    assert age_on(date(1959, 8, 15), DEADLINE) == 66


@pytest.mark.parametrize(
    ("employer_type", "years", "expected"),
    [
        ("national_key", 3, Outcome.PASS),
        ("provincial_key", 2, Outcome.FAIL),
        ("high_tech", 3, Outcome.PASS),
        ("high_tech", 2, Outcome.FAIL),
        ("little_giant", 10, Outcome.PASS),
        ("industry_association", 10, Outcome.NEEDS_JUDGEMENT),
        ("other", 20, Outcome.NEEDS_JUDGEMENT),
    ],
)
def test_three_years_at_a_qualifying_employer(employer_type, years, expected):
    verdict = rule(expert(employer_type=employer_type, years_at_employer=years), "employment")
    assert verdict.outcome is expected
    assert str(years) in verdict.reason or verdict.outcome is Outcome.NEEDS_JUDGEMENT


@pytest.mark.parametrize(
    ("education", "title", "craftsman", "expected"),
    [
        ("doctorate", "none", None, Outcome.PASS),
        ("bachelor", "none", None, Outcome.PASS),
        ("associate", "senior_associate", None, Outcome.PASS),
        ("associate", "senior_technician", None, Outcome.PASS),
        ("secondary_or_below", "senior_full", None, Outcome.PASS),
        ("associate", "intermediate_or_below", "三十年数控加工，全国技术能手", Outcome.NEEDS_JUDGEMENT),
        # Never an automatic fail: the notice allows relaxing this for veteran craftsmen.
        ("associate", "none", None, Outcome.NEEDS_JUDGEMENT),
    ],
)
def test_degree_or_title_or_craftsman(education, title, craftsman, expected):
    verdict = rule(expert(education=education, title=title, craftsman_description=craftsman), "qualification")
    assert verdict.outcome is expected


@pytest.mark.parametrize(
    ("duties", "expected"),
    [
        (["teaching"], Outcome.FAIL),
        (["teaching", "co_developing"], Outcome.PASS),
        (["teaching", "guiding_practice", "co_developing"], Outcome.PASS),
        ([], Outcome.FAIL),
    ],
)
def test_at_least_two_duties(duties, expected):
    assert rule(expert(duties=duties), "duties").outcome is expected


def test_declaration_must_be_accepted():
    assert rule(expert(declaration=False), "declaration").outcome is Outcome.FAIL
    assert assess_expert(expert(declaration=False), deadline=DEADLINE).outcome is Outcome.FAIL


def test_missing_employer_consent_goes_to_staff():
    assert rule(expert(employer_consent=False), "employer_consent").outcome is Outcome.NEEDS_JUDGEMENT


def test_overall_verdict_fail_beats_judgement_beats_pass():
    judged = expert(education="associate", title="none", craftsman_description="资深技师，省级技术能手称号")
    assert assess_expert(judged, deadline=DEADLINE).outcome is Outcome.NEEDS_JUDGEMENT
    judged_and_failed = {**judged, "years_at_employer": 1}
    assert assess_expert(judged_and_failed, deadline=DEADLINE).outcome is Outcome.FAIL


def test_priority_score_explains_each_point():
    verdict = assess_expert(
        expert(priority_conditions=["major_invention_patent", "industry_education"], society_member=True), deadline=DEADLINE
    )
    assert verdict.priority_score == 20 + 20 + 10
    assert len(verdict.priority_reasons) == 3
    assert any("会员" in reason for reason in verdict.priority_reasons)
    assert assess_expert(expert(), deadline=DEADLINE).priority_score == 0


def test_verdict_survives_a_round_trip_through_json():
    verdict = assess_expert(expert(society_member=True), deadline=DEADLINE)
    assert Eligibility.from_dict(verdict.to_dict()) == verdict


@pytest.mark.parametrize(
    ("demands", "students", "expected"),
    [
        ([{"course": "创新思维", "hours": 32}], 40, Outcome.PASS),
        ([{"course": "创新思维", "hours": 33}], 40, Outcome.NEEDS_JUDGEMENT),
        ([{"course": "创新思维", "hours": 65}], 40, Outcome.FAIL),
        ([], 40, Outcome.FAIL),
        ([{"course": "创新管理", "hours": 16}], 0, Outcome.FAIL),
    ],
)
def test_university_intent_rules(demands, students, expected):
    assert assess_university({"expected_students": students}, demands).outcome is expected
