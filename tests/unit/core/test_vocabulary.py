"""One vocabulary for the whole service: what the forms store is what eligibility, matching and the sample use."""
from __future__ import annotations

from core.domain.courses import CORE_COURSES, TeachingMode
from core.domain.vocabulary import (
    AVAILABLE_TIMES,
    DUTIES,
    EMPLOYER_TYPES,
    PRIORITY_CONDITIONS,
    PRIORITY_GROUPS,
    TEACHING_MODES,
    PriorityCondition,
    priority_groups_met,
)
from core.eligibility import PRIORITY_POINTS, QUALIFYING_EMPLOYERS
from core.forms import FORMS
from core.matching import ExpertProfile, score_pair
from core.matching import CourseDemand


def choice_values(form: str, key: str) -> set[str]:
    return {c.value for c in FORMS[form].question(key).choices}


def test_the_forms_offer_exactly_the_domain_codes():
    assert choice_values("expert", "priority_conditions") == set(PRIORITY_CONDITIONS)
    assert choice_values("expert", "employer_type") == set(EMPLOYER_TYPES)
    assert choice_values("expert", "duties") == set(DUTIES)
    assert choice_values("expert", "teaching_mode") == set(TEACHING_MODES) == set(TeachingMode)
    assert choice_values("expert", "available_times") == set(AVAILABLE_TIMES)
    assert choice_values("expert", "courses") == set(CORE_COURSES) == choice_values("university", "courses")


def test_eligibility_points_every_priority_condition_and_only_those():
    assert set(PRIORITY_POINTS) == set(PriorityCondition)
    assert QUALIFYING_EMPLOYERS <= set(EMPLOYER_TYPES)


def test_the_notice_groups_partition_the_conditions_and_every_one_counts_in_matching():
    grouped = [c for _, members in PRIORITY_GROUPS.values() for c in members]
    assert sorted(grouped) == sorted(PriorityCondition)
    demand = CourseDemand(id="d1", university_id="u1", course=CORE_COURSES[0], need=1, mode="online", province="北京")
    base = score_pair(ExpertProfile(id="e0", courses=(CORE_COURSES[0],), modes="online", province="北京"), demand)
    for condition in PriorityCondition:
        assert priority_groups_met([condition])
        pair = score_pair(ExpertProfile(id="e1", courses=(CORE_COURSES[0],), modes="online", province="北京",
                                        priority_conditions=frozenset({condition.value})), demand)
        assert pair.score > base.score, condition
        assert PRIORITY_CONDITIONS[condition] in pair.explanation()
