"""附件1 产业兼职教师申请意向表, as data. Minimum necessary fields only (PIPL)."""
from __future__ import annotations

from datetime import date

from core.domain.courses import CORE_COURSES, TeachingMode
from core.domain.vocabulary import (
    AVAILABLE_TIMES,
    DUTIES,
    EDUCATION_LEVELS,
    EMPLOYER_TYPES,
    PRIORITY_CONDITIONS,
    PROVINCES,
    TEACHING_MODES,
    TITLES,
)
from core.eligibility import AGE_LIMIT, degree_or_title_qualifies, needs_urgent_field
from core.forms.model import Choice, Condition, Form, Kind, Question, labelled_choices, plain_choices


NEITHER_DEGREE_NOR_TITLE = Condition(
    describe="学历不到本科且职称不到副高级/高级技师时填写",
    depends_on=("education", "title"),
    test=lambda answers, ctx: "education" in answers and "title" in answers and not degree_or_title_qualifies(answers),
)

OLDER_THAN_AGE_LIMIT = Condition(
    describe=f"截至报名截止日年满 {AGE_LIMIT} 周岁以上时填写",
    depends_on=("birth_date",),
    test=lambda answers, ctx: needs_urgent_field(answers, ctx.deadline),
)

HAS_PRIORITY_CONDITIONS = Condition(
    describe="选择了至少一项优先条件时填写",
    depends_on=("priority_conditions",),
    test=lambda answers, ctx: bool(answers.get("priority_conditions")),
)

TEACHES_OFFLINE = Condition(
    describe="授课方式包含线下时填写",
    depends_on=("teaching_mode",),
    test=lambda answers, ctx: answers.get("teaching_mode") in (TeachingMode.OFFLINE, TeachingMode.BOTH),
)

EXPERT_FORM = Form(
    kind="expert",
    title="产业兼职教师申请意向表",
    intro="本表依据《全国创新工程微专业建设校企合作计划》通知附件1设置，用于企业专家申请担任创新工程微专业产业兼职教师。",
    entries=(
        Question("name", Kind.TEXT, "姓名", "请输入您的姓名。", min_length=2, max_length=30),
        Question(
            "birth_date", Kind.DATE, "出生日期", "请输入您的出生日期（例如 1975-06-01）。",
            min_date=date(1930, 1, 1), past_only=True,
        ),
        Question("mobile", Kind.PHONE, "手机号", "请输入您的手机号。"),
        Question("email", Kind.EMAIL, "电子邮箱", "请输入您的电子邮箱，审核结果和通知会发送到这里。"),
        Question("province", Kind.SINGLE, "所在省份", "您所在的省份（自治区、直辖市）？", choices=plain_choices(PROVINCES)),
        Question("city", Kind.TEXT, "所在城市", "您所在的城市？", min_length=2, max_length=30),
        Question("employer", Kind.TEXT, "工作单位", "请输入您的工作单位全称。", min_length=2, max_length=100),
        Question("employer_type", Kind.SINGLE, "单位类型", "您的工作单位属于哪一类？", choices=labelled_choices(EMPLOYER_TYPES)),
        Question(
            "years_at_employer", Kind.INTEGER, "工作年限",
            "您在国家/省级重点企事业单位、高新技术企业等单位累计工作了几年？（整数）",
            min_value=0, max_value=60,
        ),
        Question("position", Kind.TEXT, "职务/岗位", "您目前的职务或岗位？", min_length=2, max_length=50),
        Question("education", Kind.SINGLE, "最高学历", "您的最高学历？", choices=labelled_choices(EDUCATION_LEVELS)),
        Question("title", Kind.SINGLE, "职称/技能等级", "您的专业技术职称或职业技能等级？", choices=labelled_choices(TITLES)),
        Question(
            "craftsman_description", Kind.TEXT, "能工巧匠说明",
            "通知规定行业资深能工巧匠可适当放宽学历职称要求。请简述您的技艺专长、从业年限和代表性成果。",
            min_length=10, max_length=500, condition=NEITHER_DEGREE_NOR_TITLE,
        ),
        Question(
            "urgent_field", Kind.TEXT, "急需领域",
            "年龄超过 65 周岁的专家，急需领域可放宽至 70 周岁。请说明您所在的急需领域；如不属于，请点击「跳过」。",
            required=False, max_length=100, condition=OLDER_THAN_AGE_LIMIT,
        ),
        Question(
            "priority_conditions", Kind.MULTI, "优先条件", "您符合以下哪些优先条件？（可多选；都不符合的，不选即可）",
            required=False, choices=labelled_choices(PRIORITY_CONDITIONS),
        ),
        Question(
            "priority_description", Kind.TEXT, "优先条件说明",
            "请简要说明所选优先条件（如专利号、成果名称、工作室名称）。",
            min_length=5, max_length=500, condition=HAS_PRIORITY_CONDITIONS,
        ),
        Question("society_member", Kind.YES_NO, "学会会员", "您是否为中国创造学会会员？"),
        Question(
            "courses", Kind.MULTI, "可授课程", "您可以讲授哪些核心课程？（至少选 1 门）",
            choices=plain_choices(CORE_COURSES), min_picks=1,
        ),
        Question(
            "duties", Kind.MULTI, "承担任务", "通知要求产业兼职教师承担以下至少两项任务，您愿意承担哪些？",
            choices=labelled_choices(DUTIES), min_picks=2,
            help="依据通知：产业兼职教师需承担至少两项任务",
        ),
        Question("teaching_mode", Kind.SINGLE, "授课方式", "您可以采用哪种授课方式？", choices=labelled_choices(TEACHING_MODES)),
        Question(
            "available_times", Kind.MULTI, "可授课时间", "您方便的授课时间？（可多选）",
            choices=labelled_choices(AVAILABLE_TIMES), min_picks=1,
        ),
        Question(
            "offline_provinces", Kind.MULTI, "线下授课省份", "您愿意到哪些省份线下授课？（可多选）",
            choices=plain_choices(PROVINCES), min_picks=1, condition=TEACHES_OFFLINE,
        ),
        Question(
            "max_universities", Kind.SINGLE, "最多受聘高校数",
            "您最多愿意受聘几所高校？（通知规定同一专家受聘高校一般不超过 2 所）",
            choices=(Choice("1", "1 所"), Choice("2", "2 所")),
        ),
        Question("employer_consent", Kind.YES_NO, "单位同意", "您的所在单位是否同意您担任产业兼职教师？"),
        Question(
            "proof_files", Kind.FILE, "资质证明", "请上传资质证明材料（学历/职称证书、项目成果材料等，PDF/JPG/PNG，每份不超过 20 MB），全部上传后点击「完成」。",
            min_files=1, max_files=10, sensitive=True,
        ),
        Question(
            "profile", Kind.TEXT, "个人简介", "请用 1000 字以内简要介绍您的从业经历、专长和创新方法实践。",
            min_length=20, max_length=1000,
        ),
        Question(
            "declaration", Kind.YES_NO, "品德声明",
            "本人拥护党的教育方针，具备良好的思想政治素质和职业道德，热爱教育事业，遵纪守法，所填信息真实有效。是否确认？",
            must_be_yes=True,
        ),
    ),
)
