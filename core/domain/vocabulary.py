"""The one vocabulary of the whole service: stored values and their zh-CN labels.

Values are stable identifiers kept in the database; labels are what people see. Every code
list (employer types, priority conditions, duties, teaching modes, times) is a StrEnum here and
every label table is keyed by its members, so a code used anywhere else either names a member
(and matches what the form stores) or fails at import time. The forms, eligibility, matching,
recommendations and the sample generator all import from this module.
"""
from __future__ import annotations

from enum import StrEnum

from core.domain.courses import TeachingMode


class EmployerType(StrEnum):
    NATIONAL_KEY = "national_key"
    PROVINCIAL_KEY = "provincial_key"
    HIGH_TECH = "high_tech"
    LITTLE_GIANT = "little_giant"
    INDUSTRY_ASSOCIATION = "industry_association"
    OTHER = "other"


class EducationLevel(StrEnum):
    DOCTORATE = "doctorate"
    MASTER = "master"
    BACHELOR = "bachelor"
    ASSOCIATE = "associate"
    SECONDARY_OR_BELOW = "secondary_or_below"


class Title(StrEnum):
    SENIOR_FULL = "senior_full"
    SENIOR_ASSOCIATE = "senior_associate"
    SENIOR_TECHNICIAN = "senior_technician"
    INTERMEDIATE_OR_BELOW = "intermediate_or_below"
    NONE = "none"


class PriorityCondition(StrEnum):
    MAJOR_INVENTION_PATENT = "major_invention_patent"
    CORE_TECHNOLOGY = "core_technology"
    TECHNOLOGY_TRANSFER = "technology_transfer"
    INDUSTRY_EDUCATION = "industry_education"
    LARGE_ENTERPRISE_TECH_LEAD = "large_enterprise_tech_lead"
    SKILL_MASTER_STUDIO_HEAD = "skill_master_studio_head"


class Duty(StrEnum):
    TEACHING = "teaching"
    GUIDING_PRACTICE = "guiding_practice"
    CO_DEVELOPING = "co_developing"


class AvailableTime(StrEnum):
    WEEKEND_INTENSIVE = "weekend_intensive"
    WEEKDAY_EVENING = "weekday_evening"
    VACATION_INTENSIVE = "vacation_intensive"
    FIXED_WEEKLY = "fixed_weekly"

EMPLOYER_TYPES: dict[EmployerType, str] = {
    EmployerType.NATIONAL_KEY: "国家级重点企事业单位",
    EmployerType.PROVINCIAL_KEY: "省级重点企事业单位",
    EmployerType.HIGH_TECH: "高新技术企业",
    EmployerType.LITTLE_GIANT: "专精特新“小巨人”企业",
    EmployerType.INDUSTRY_ASSOCIATION: "行业协会",
    EmployerType.OTHER: "其他",
}

EDUCATION_LEVELS: dict[EducationLevel, str] = {
    EducationLevel.DOCTORATE: "博士研究生",
    EducationLevel.MASTER: "硕士研究生",
    EducationLevel.BACHELOR: "大学本科",
    EducationLevel.ASSOCIATE: "大学专科",
    EducationLevel.SECONDARY_OR_BELOW: "高中/中专及以下",
}

TITLES: dict[Title, str] = {
    Title.SENIOR_FULL: "正高级职称",
    Title.SENIOR_ASSOCIATE: "副高级职称",
    Title.SENIOR_TECHNICIAN: "高级技师",
    Title.INTERMEDIATE_OR_BELOW: "中级及以下",
    Title.NONE: "无",
}

PRIORITY_CONDITIONS: dict[PriorityCondition, str] = {
    PriorityCondition.MAJOR_INVENTION_PATENT: "拥有重大发明专利",
    PriorityCondition.CORE_TECHNOLOGY: "掌握核心技术",
    PriorityCondition.TECHNOLOGY_TRANSFER: "科技成果转化成绩突出",
    PriorityCondition.INDUSTRY_EDUCATION: "在产教融合协同育人领域有突出贡献",
    PriorityCondition.LARGE_ENTERPRISE_TECH_LEAD: "大型企业技术负责人",
    PriorityCondition.SKILL_MASTER_STUDIO_HEAD: "国家级技能大师工作室带头人",
}

# The notice lists three priority conditions (三(二)1(2)); the form asks for them finely so
# that a person ticks exactly what they have. Matching counts how many of the notice's three
# an expert meets and names the ones they declared.
PRIORITY_GROUPS: dict[str, tuple[str, frozenset[PriorityCondition]]] = {
    "patent_core_technology_transfer": (
        "拥有重大发明专利、掌握核心技术或在科技成果转化中成绩突出",
        frozenset({
            PriorityCondition.MAJOR_INVENTION_PATENT,
            PriorityCondition.CORE_TECHNOLOGY,
            PriorityCondition.TECHNOLOGY_TRANSFER,
        }),
    ),
    "industry_education": (
        "在产教融合协同育人领域有突出贡献",
        frozenset({PriorityCondition.INDUSTRY_EDUCATION}),
    ),
    "tech_lead_or_master_studio": (
        "大型企业技术负责人或国家级技能大师工作室带头人",
        frozenset({PriorityCondition.LARGE_ENTERPRISE_TECH_LEAD, PriorityCondition.SKILL_MASTER_STUDIO_HEAD}),
    ),
}


def priority_groups_met(conditions) -> list[str]:
    """Keys of the notice's priority conditions that the declared fine-grained codes satisfy."""
    declared = set(conditions)
    return [key for key, (_, members) in PRIORITY_GROUPS.items() if members & declared]


DUTIES: dict[Duty, str] = {
    Duty.TEACHING: "承担微专业课程理论/实践授课",
    Duty.GUIDING_PRACTICE: "结合企业真实课题指导学生实习实践、参加创新创业竞赛",
    Duty.CO_DEVELOPING: "与高校教师联合建设开发课程资源",
}

TEACHING_MODES: dict[TeachingMode, str] = {
    TeachingMode.ONLINE: "线上",
    TeachingMode.OFFLINE: "线下",
    TeachingMode.BOTH: "线上线下均可",
}

AVAILABLE_TIMES: dict[AvailableTime, str] = {
    AvailableTime.WEEKEND_INTENSIVE: "周末集中授课",
    AvailableTime.WEEKDAY_EVENING: "工作日晚间",
    AvailableTime.VACATION_INTENSIVE: "寒暑假集中授课",
    AvailableTime.FIXED_WEEKLY: "每周固定时间",
}

UNIVERSITY_LEVELS: dict[str, str] = {
    "undergraduate": "本科",
    "vocational": "高职",
}

# How a person reaches the service (their sign-in identities), as staff read it beside an application.
SIGN_IN_CHANNELS: dict[str, str] = {
    "email": "网页（邮箱登录）",
    "mobile": "网页（手机号登录）",
    "telegram": "Telegram 机器人",
}

PREFERRED_CHANNELS: dict[str, str] = {
    "email": "电子邮件",
    "telegram": "Telegram 消息",
    "both": "两者都要",
}

PROVINCES: tuple[str, ...] = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江",
    "上海", "江苏", "浙江", "安徽", "福建", "江西", "山东", "河南",
    "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州",
    "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆",
    "香港", "澳门", "台湾",
)


def _check_complete() -> None:
    # Every fine-grained condition belongs to exactly one of the notice's groups.
    grouped = [c for _, members in PRIORITY_GROUPS.values() for c in members]
    if sorted(grouped) != sorted(PriorityCondition) or len(grouped) != len(set(grouped)):
        raise RuntimeError("PRIORITY_GROUPS must partition PriorityCondition")
    for enum, labels in ((EmployerType, EMPLOYER_TYPES), (EducationLevel, EDUCATION_LEVELS), (Title, TITLES),
                         (PriorityCondition, PRIORITY_CONDITIONS), (Duty, DUTIES), (TeachingMode, TEACHING_MODES),
                         (AvailableTime, AVAILABLE_TIMES)):
        if set(labels) != set(enum):
            raise RuntimeError(f"labels of {enum.__name__} do not match its members")


_check_complete()
