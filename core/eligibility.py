"""Who may become an industry part-time teacher, and who is matched first (notice 三(二)1).

Pure functions over answers keyed by the questionnaire's keys. Each rule gives pass, fail or
"needs staff judgement" with its reason; staff judgement is used wherever the notice allows
relaxation ("部分条件可适当放宽"), so such a case is never refused automatically.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from core.domain.courses import COURSE_HOURS_CEILING, MAX_COURSE_HOURS
from core.domain.vocabulary import (
    EMPLOYER_TYPES,
    PRIORITY_CONDITIONS,
    EducationLevel,
    EmployerType,
    PriorityCondition,
    Title,
)

__all__ = [
    "Outcome",
    "RuleVerdict",
    "Eligibility",
    "assess_expert",
    "assess_university",
    "age_on",
    "needs_urgent_field",
    "degree_or_title_qualifies",
    "MIN_YEARS",
    "AGE_LIMIT",
    "URGENT_FIELD_AGE_LIMIT",
]

MIN_YEARS = 3
AGE_LIMIT = 65
URGENT_FIELD_AGE_LIMIT = 70
MIN_DUTIES = 2
QUALIFYING_EMPLOYERS = frozenset(
    {EmployerType.NATIONAL_KEY, EmployerType.PROVINCIAL_KEY, EmployerType.HIGH_TECH, EmployerType.LITTLE_GIANT}
)
QUALIFYING_EDUCATION = frozenset({EducationLevel.DOCTORATE, EducationLevel.MASTER, EducationLevel.BACHELOR})
QUALIFYING_TITLES = frozenset({Title.SENIOR_FULL, Title.SENIOR_ASSOCIATE, Title.SENIOR_TECHNICIAN})

# Priority conditions (优先条件) and society membership (会员优先对接): points out of 100.
PRIORITY_POINTS: dict[PriorityCondition, int] = {
    PriorityCondition.MAJOR_INVENTION_PATENT: 20,
    PriorityCondition.CORE_TECHNOLOGY: 15,
    PriorityCondition.TECHNOLOGY_TRANSFER: 15,
    PriorityCondition.INDUSTRY_EDUCATION: 20,
    PriorityCondition.LARGE_ENTERPRISE_TECH_LEAD: 10,
    PriorityCondition.SKILL_MASTER_STUDIO_HEAD: 10,
}
MEMBER_POINTS = 10


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NEEDS_JUDGEMENT = "needs_judgement"


OUTCOME_LABELS = {
    Outcome.PASS: "符合",
    Outcome.FAIL: "不符合",
    Outcome.NEEDS_JUDGEMENT: "需工作人员审核判断",
}


@dataclass(frozen=True)
class RuleVerdict:
    rule: str
    title: str
    outcome: Outcome
    reason: str


@dataclass(frozen=True)
class Eligibility:
    outcome: Outcome
    rules: tuple[RuleVerdict, ...]
    priority_score: int = 0
    priority_reasons: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcome_label"] = OUTCOME_LABELS[self.outcome]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Eligibility":
        return cls(
            outcome=Outcome(data["outcome"]),
            rules=tuple(
                RuleVerdict(r["rule"], r["title"], Outcome(r["outcome"]), r["reason"]) for r in data["rules"]
            ),
            priority_score=int(data.get("priority_score", 0)),
            priority_reasons=tuple(data.get("priority_reasons", ())),
        )


def _overall(rules: list[RuleVerdict]) -> Outcome:
    outcomes = {r.outcome for r in rules}
    if Outcome.FAIL in outcomes:
        return Outcome.FAIL
    if Outcome.NEEDS_JUDGEMENT in outcomes:
        return Outcome.NEEDS_JUDGEMENT
    return Outcome.PASS


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _birth(answers: Mapping[str, Any]) -> date | None:
    value = answers.get("birth_date")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def needs_urgent_field(answers: Mapping[str, Any], deadline: date) -> bool:
    birth = _birth(answers)
    return birth is not None and age_on(birth, deadline) > AGE_LIMIT


def degree_or_title_qualifies(answers: Mapping[str, Any]) -> bool:
    return answers.get("education") in QUALIFYING_EDUCATION or answers.get("title") in QUALIFYING_TITLES


def _employment(answers: Mapping[str, Any]) -> RuleVerdict:
    title = "在重点企事业单位或高新技术企业工作满 3 年"
    employer = answers.get("employer_type")
    years = answers.get("years_at_employer")
    if employer is None or years is None:
        return RuleVerdict("employment", title, Outcome.FAIL, "未填写单位类型或工作年限。")
    label = EMPLOYER_TYPES.get(employer, employer)
    if employer not in QUALIFYING_EMPLOYERS:
        return RuleVerdict(
            "employment", title, Outcome.NEEDS_JUDGEMENT,
            f"单位类型为「{label}」，不在通知列举的类型中；通知用“等”字列举，需工作人员判断是否相当。",
        )
    if years >= MIN_YEARS:
        return RuleVerdict("employment", title, Outcome.PASS, f"在{label}工作 {years} 年，满足 {MIN_YEARS} 年以上要求。")
    return RuleVerdict(
        "employment", title, Outcome.FAIL, f"在{label}工作 {years} 年，不满 {MIN_YEARS} 年。"
    )


def _age(answers: Mapping[str, Any], deadline: date) -> RuleVerdict:
    title = "年龄不超过 65 周岁（急需领域可放宽至 70 周岁）"
    birth = _birth(answers)
    if birth is None:
        return RuleVerdict("age", title, Outcome.FAIL, "未填写出生日期。")
    age = age_on(birth, deadline)
    on = deadline.isoformat()
    if age <= AGE_LIMIT:
        return RuleVerdict("age", title, Outcome.PASS, f"截至报名截止日 {on} 年满 {age} 周岁，不超过 {AGE_LIMIT} 周岁。")
    if age > URGENT_FIELD_AGE_LIMIT:
        return RuleVerdict(
            "age", title, Outcome.FAIL, f"截至报名截止日 {on} 年满 {age} 周岁，超过急需领域放宽后的 {URGENT_FIELD_AGE_LIMIT} 周岁。"
        )
    field_ = (answers.get("urgent_field") or "").strip()
    if field_:
        return RuleVerdict(
            "age", title, Outcome.NEEDS_JUDGEMENT,
            f"截至报名截止日 {on} 年满 {age} 周岁，超过 {AGE_LIMIT} 周岁；申报急需领域「{field_}」，需工作人员确认是否属于急需领域（可放宽至 {URGENT_FIELD_AGE_LIMIT} 周岁）。",
        )
    return RuleVerdict(
        "age", title, Outcome.FAIL, f"截至报名截止日 {on} 年满 {age} 周岁，超过 {AGE_LIMIT} 周岁，且未申报急需领域。"
    )


def _qualification(answers: Mapping[str, Any]) -> RuleVerdict:
    title = "本科及以上学历或副高级以上职称（能工巧匠可适当放宽）"
    if answers.get("education") in QUALIFYING_EDUCATION:
        return RuleVerdict("qualification", title, Outcome.PASS, "具备本科及以上学历。")
    if answers.get("title") in QUALIFYING_TITLES:
        return RuleVerdict("qualification", title, Outcome.PASS, "具备副高级及以上职称或高级技师等级。")
    craft = (answers.get("craftsman_description") or "").strip()
    reason = "学历和职称均未达到要求；"
    reason += "已说明能工巧匠情况，需工作人员审核是否适当放宽。" if craft else "未说明能工巧匠情况，需工作人员审核。"
    return RuleVerdict("qualification", title, Outcome.NEEDS_JUDGEMENT, reason)


def _declaration(answers: Mapping[str, Any]) -> RuleVerdict:
    title = "思想政治素质和职业道德声明"
    if answers.get("declaration") is True:
        return RuleVerdict("declaration", title, Outcome.PASS, "已确认声明。")
    return RuleVerdict("declaration", title, Outcome.FAIL, "未确认思想政治素质和职业道德声明。")


def _duties(answers: Mapping[str, Any]) -> RuleVerdict:
    title = "愿意承担至少两项工作任务"
    count = len(answers.get("duties") or [])
    if count >= MIN_DUTIES:
        return RuleVerdict("duties", title, Outcome.PASS, f"愿意承担 {count} 项任务。")
    return RuleVerdict("duties", title, Outcome.FAIL, f"只选择了 {count} 项任务，通知要求至少 {MIN_DUTIES} 项。")


def _employer_consent(answers: Mapping[str, Any]) -> RuleVerdict:
    title = "所在单位同意"
    consent = answers.get("employer_consent")
    if consent is True:
        return RuleVerdict("employer_consent", title, Outcome.PASS, "所在单位同意担任产业兼职教师。")
    # The agreement is signed with the employer too, so staff must follow this up before matching.
    return RuleVerdict(
        "employer_consent", title, Outcome.NEEDS_JUDGEMENT, "尚未取得所在单位同意；签订协议须有单位同意，需工作人员跟进。"
    )


def _priority(answers: Mapping[str, Any]) -> tuple[int, tuple[str, ...]]:
    score, reasons = 0, []
    for condition in answers.get("priority_conditions") or []:
        points = PRIORITY_POINTS.get(condition)
        if points:
            score += points
            reasons.append(f"{PRIORITY_CONDITIONS[condition]}（+{points}）")
    if answers.get("society_member") is True:
        score += MEMBER_POINTS
        reasons.append(f"中国创造学会会员，优先对接（+{MEMBER_POINTS}）")
    return min(score, 100), tuple(reasons)


def assess_expert(answers: Mapping[str, Any], *, deadline: date) -> Eligibility:
    """`deadline` is the batch's registration deadline: ages are counted on that day."""
    rules = [
        _declaration(answers),
        _employment(answers),
        _age(answers, deadline),
        _qualification(answers),
        _duties(answers),
        _employer_consent(answers),
    ]
    score, reasons = _priority(answers)
    return Eligibility(_overall(rules), tuple(rules), score, reasons)


def assess_university(answers: Mapping[str, Any], demands: list[Mapping[str, Any]]) -> Eligibility:
    """`demands` is one mapping per requested course with its `course` and `hours`."""
    rules = []
    if demands:
        rules.append(RuleVerdict("courses", "至少申请一门核心课程", Outcome.PASS, f"申请 {len(demands)} 门课程。"))
    else:
        rules.append(RuleVerdict("courses", "至少申请一门核心课程", Outcome.FAIL, "没有申请任何课程。"))
    for demand in demands:
        hours = demand.get("hours") or 0
        title = f"《{demand['course']}》学时一般不超过 {MAX_COURSE_HOURS}"
        if 1 <= hours <= MAX_COURSE_HOURS:
            rules.append(RuleVerdict("hours", title, Outcome.PASS, f"{hours} 学时。"))
        elif MAX_COURSE_HOURS < hours <= COURSE_HOURS_CEILING:
            rules.append(RuleVerdict(
                "hours", title, Outcome.NEEDS_JUDGEMENT,
                f"{hours} 学时，超过通知“一般不超过 {MAX_COURSE_HOURS} 学时”的要求；“一般”允许例外，需工作人员判断是否接受。",
            ))
        else:
            rules.append(RuleVerdict(
                "hours", title, Outcome.FAIL, f"{hours} 学时，应在 1–{COURSE_HOURS_CEILING} 之间。"))
    students = answers.get("expected_students") or 0
    if students >= 1:
        rules.append(RuleVerdict("students", "学生规模至少 1 人", Outcome.PASS, f"预计 {students} 人。"))
    else:
        rules.append(RuleVerdict("students", "学生规模至少 1 人", Outcome.FAIL, "未填写预计学生人数。"))
    score = 0
    reasons: tuple[str, ...] = ()
    if answers.get("society_member_unit") is True:
        score, reasons = MEMBER_POINTS, (f"中国创造学会会员单位，优先对接（+{MEMBER_POINTS}）",)
    return Eligibility(_overall(rules), tuple(rules), score, reasons)
