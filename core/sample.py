"""Realistic synthetic applications for demos and benchmarks, entered through the real services."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from core.domain.courses import CORE_COURSES, TeachingMode
from core.domain.vocabulary import (
    AVAILABLE_TIMES,
    DUTIES,
    PRIORITY_CONDITIONS,
    PROVINCES,
    EducationLevel,
    EmployerType,
    Title,
)
from core.eligibility import degree_or_title_qualifies, needs_urgent_field
from core.forms import COURSE_DEMANDS, EXPERT_FORM, UNIVERSITY_FORM, FormContext
from core.forms.model import Form, Kind, follow_up_step_key
from core.forms.navigation import visible_steps
from core.services import FINISH_FILES, IntakeService, PeopleService

__all__ = ["expert_answers", "university_answers", "populate", "SampleResult", "SamplePerson", "SAMPLE_PDF",
           "SAMPLE_DOMAINS", "SAMPLE_TELEGRAM_IDS"]

# RFC 2606 reserved domains: with SMTP_HOST set, a sample address can never reach a real mailbox.
SAMPLE_DOMAINS = ("example.com", "example.org")

# Telegram ids for sample people, so that someone can answer as them in the local Bot API stand-in, which
# treats this range as people who have started the bot (bot/sandbox/world.py SAMPLE_USER_IDS, the same range).
# Only given when the stand-in is in use (no BOT_TOKEN): on Telegram these are, or will be, real people.
# The chat page picks 10000-99999 and the tests' own people are below 1 000 000, so none of them collides.
SAMPLE_TELEGRAM_IDS = range(7_100_001, 7_200_000)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌波宁辉鹏飞林海峰雪梅琳晨宇浩然欣怡子涵思远博文嘉豪"
INDUSTRIES = ("智能制造", "新能源汽车", "集成电路", "生物医药", "航空航天", "工业软件", "新材料", "电力装备", "轨道交通", "通信设备")
COMPANY_SUFFIX = ("科技有限公司", "集团有限公司", "研究院", "股份有限公司", "装备有限公司")
POSITIONS = ("总工程师", "技术总监", "研发中心主任", "首席专家", "高级工程师", "创新管理部部长", "首席技师")
UNIVERSITY_SUFFIX = ("大学", "理工大学", "科技大学", "工程学院", "职业技术学院")
DEPARTMENTS = ("教务处", "创新创业学院", "机械工程学院", "管理学院", "工程训练中心")
CITIES = {"北京": "北京", "上海": "上海", "广东": "深圳", "江苏": "南京", "浙江": "杭州", "四川": "成都", "湖北": "武汉", "山东": "济南"}

# A minimal but well-formed PDF so that uploads pass the content check.
SAMPLE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def _province(rng: random.Random) -> str:
    # Applications cluster in the provinces with most enterprises and universities.
    popular = list(CITIES)
    return rng.choice(popular) if rng.random() < 0.6 else rng.choice(PROVINCES[:31])


def expert_answers(rng: random.Random, *, deadline: date, index: int) -> dict[str, Any]:
    province = _province(rng)
    age = rng.choices((rng.randint(32, 64), rng.randint(66, 70), rng.randint(71, 75)), weights=(90, 8, 2))[0]
    # Exactly `age` on the deadline: the birthday of that year falls 1–300 days before it.
    anniversary = deadline.replace(year=deadline.year - age, day=min(deadline.day, 28))
    birth = anniversary - timedelta(days=rng.randint(1, 300))
    education = rng.choices(list(EducationLevel), (15, 35, 35, 10, 5))[0]
    title = rng.choices(list(Title), (20, 35, 10, 25, 10))[0]
    mode = rng.choices(list(TeachingMode), (30, 20, 50))[0]
    priorities = rng.sample(list(PRIORITY_CONDITIONS), k=rng.choices((0, 1, 2, 3), (40, 35, 20, 5))[0])
    answers: dict[str, Any] = {
        "name": _name(rng),
        "birth_date": birth.isoformat(),
        "mobile": _mobile(rng),
        "email": f"expert{index}@{SAMPLE_DOMAINS[0]}",
        "province": province,
        "city": CITIES.get(province, province + "市" if len(province) == 2 else province),
        "employer": f"{rng.choice(INDUSTRIES)}{rng.choice(COMPANY_SUFFIX)}",
        "employer_type": rng.choices(list(EmployerType), (20, 20, 35, 10, 5, 10))[0],
        "years_at_employer": rng.choices((rng.randint(3, 30), rng.randint(0, 2)), (92, 8))[0],
        "position": rng.choice(POSITIONS),
        "education": education,
        "title": title,
        "priority_conditions": priorities,
        "society_member": rng.random() < 0.3,
        "courses": rng.sample(list(CORE_COURSES), k=rng.choices((1, 2, 3), (50, 35, 15))[0]),
        "duties": rng.sample(list(DUTIES), k=rng.choice((2, 3))),
        "teaching_mode": mode,
        "available_times": rng.sample(list(AVAILABLE_TIMES), k=rng.choice((1, 2))),
        "max_universities": rng.choices(("1", "2"), (30, 70))[0],
        "employer_consent": rng.random() < 0.9,
        "profile": f"从事{rng.choice(INDUSTRIES)}领域研发与管理工作多年，长期运用TRIZ等创新方法解决工程难题，带领团队完成多项技术攻关。",
        "declaration": True,
    }
    # Conditional answers are decided by the same rules the form shows them by.
    if not degree_or_title_qualifies(answers):
        answers["craftsman_description"] = "从事一线技术工作二十余年，获省级技术能手称号，主持多项工艺改进。"
    if needs_urgent_field(answers, deadline):
        answers["urgent_field"] = rng.choice(("高端装备", "集成电路", "")) or None
    if priorities:
        answers["priority_description"] = "拥有发明专利多项，主持的成果已在行业推广应用。"
    if mode in (TeachingMode.OFFLINE, TeachingMode.BOTH):
        answers["offline_provinces"] = sorted({province, *rng.sample(PROVINCES[:31], k=rng.randint(0, 3))})
    return only_shown(EXPERT_FORM, answers, FormContext(deadline=deadline, today=deadline))


def university_answers(rng: random.Random, *, today: date, index: int) -> dict[str, Any]:
    province = _province(rng)
    courses = rng.sample(list(CORE_COURSES), k=rng.choices((1, 2, 3, 4), (25, 35, 25, 15))[0])
    start = today + timedelta(days=rng.randint(60, 300))
    answers: dict[str, Any] = {
        "university_name": f"{CITIES.get(province, province)}{rng.choice(('第一', '第二', '东方', '海滨', '城市', '应用'))}{rng.choice(UNIVERSITY_SUFFIX)}{index}",
        "level": rng.choices(("undergraduate", "vocational"), (75, 25))[0],
        "province": province,
        "city": CITIES.get(province, province + "市" if len(province) == 2 else province),
        "contact_name": _name(rng),
        "contact_department": rng.choice(DEPARTMENTS),
        "contact_position": rng.choice(("副处长", "副院长", "科长", "教研室主任")),
        "contact_mobile": _mobile(rng),
        "contact_email": f"contact{index}@{SAMPLE_DOMAINS[1]}",
        "planned_start": start.strftime("%Y-%m"),
        "expected_students": rng.choice((30, 40, 60, 80, 100, 120, 200)),
        "courses": courses,
        "schedule_preference": rng.sample(list(AVAILABLE_TIMES), k=rng.choice((1, 2))),
        "society_member_unit": rng.random() < 0.25,
    }
    for course in courses:
        answers[follow_up_step_key(COURSE_DEMANDS, course, "hours")] = rng.choice((16, 24, 32))
        answers[follow_up_step_key(COURSE_DEMANDS, course, "experts_needed")] = rng.choices((1, 2), (80, 20))[0]
        answers[follow_up_step_key(COURSE_DEMANDS, course, "mode")] = rng.choices(list(TeachingMode), (25, 35, 40))[0]
    return answers


def only_shown(form: Form, answers: dict[str, Any], ctx: FormContext) -> dict[str, Any]:
    """The answers to the questions the form would actually ask given these answers (files arrive separately)."""
    shown = {step.key for step in visible_steps(form, answers, ctx) if step.question.kind is not Kind.FILE}
    return {key: value for key, value in answers.items() if key in shown}


@dataclass(frozen=True)
class SamplePerson:
    """Who a sample application is from: the expert, or the university's contact (and the university)."""

    application_id: int
    form: str  # "expert" | "university"
    name: str
    organization: str  # the expert's employer, or the university
    telegram_id: int | None


@dataclass(frozen=True)
class SampleResult:
    experts: list[int]
    universities: list[int]
    people: list[SamplePerson] = field(default_factory=list)


async def _free_telegram_ids(people: PeopleService, count: int) -> list[int]:
    """The first `count` ids of SAMPLE_TELEGRAM_IDS nobody has yet: a second `innoeng sample` goes on after the first."""
    free: list[int] = []
    for candidate in SAMPLE_TELEGRAM_IDS:
        if len(free) == count:
            return free
        if await people.get_by_telegram_id(telegram_id=candidate) is None:
            free.append(candidate)
    raise ValueError(f"模拟申请人的 Telegram ID（{SAMPLE_TELEGRAM_IDS.start}–{SAMPLE_TELEGRAM_IDS.stop - 1}）已用完")


async def populate(
    *, people: PeopleService, intake: IntakeService, experts: int, universities: int, seed: int = 2025,
    telegram: bool = False,
) -> SampleResult:
    """Creates submitted applications as a person would: consent, answers, a proof file, submit.

    telegram: each sample person gets a Telegram id from SAMPLE_TELEGRAM_IDS (for the local stand-in only)."""
    rng = random.Random(seed)
    expert_ids, university_ids, sample_people = [], [], []
    telegram_ids = await _free_telegram_ids(people, experts + universities) if telegram else []
    for index in range(experts + universities):
        form = "expert" if index < experts else "university"
        telegram_id = telegram_ids[index] if telegram else None
        if telegram_id is not None:
            person = await people.register_telegram_user(telegram_id=telegram_id, display_name=None)
            # As if they had picked it in the chat: /start as them shows their application, not 请选择您的身份.
            await people.set_role(person_id=person.id, role=form)
        else:
            person = await people.create(display_name=None)
        await people.give_consent(person_id=person.id)
        await people.give_consent(person_id=person.id, sensitive=True)
        draft = await intake.start(person_id=person.id, form=form)
        deadline = draft.deadline.date()
        if form == "expert":
            answers = expert_answers(rng, deadline=deadline, index=index)
        else:
            answers = university_answers(rng, today=deadline - timedelta(days=30), index=index)
        draft = await intake.fill(application_id=draft.application_id, answers=answers)
        if form == "expert":
            await intake.attach_document(
                application_id=draft.application_id, step_key="proof_files", content=SAMPLE_PDF, filename="学历证书.pdf"
            )
            await intake.answer(application_id=draft.application_id, step_key="proof_files", raw=FINISH_FILES)
        await intake.submit(application_id=draft.application_id)
        (expert_ids if form == "expert" else university_ids).append(draft.application_id)
        if form == "expert":
            who = SamplePerson(draft.application_id, form, answers["name"], answers["employer"], telegram_id)
        else:
            who = SamplePerson(draft.application_id, form, answers["contact_name"], answers["university_name"], telegram_id)
        sample_people.append(who)
    return SampleResult(expert_ids, university_ids, sample_people)
