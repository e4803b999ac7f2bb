"""附件2 创新工程微专业建设意向表, as data."""
from __future__ import annotations

from datetime import date

from core.domain.courses import CORE_COURSES, COURSE_HOURS_CEILING, MAX_COURSE_HOURS
from core.domain.vocabulary import AVAILABLE_TIMES, PROVINCES, TEACHING_MODES, UNIVERSITY_LEVELS
from core.forms.model import FollowUp, Form, Kind, Question, labelled_choices, plain_choices

COURSE_DEMANDS = "course_demand"

UNIVERSITY_FORM = Form(
    kind="university",
    title="创新工程微专业建设意向表",
    intro="本表依据《全国创新工程微专业建设校企合作计划》通知附件2设置，用于高校申报创新工程微专业建设意向、提出产业兼职教师需求。",
    entries=(
        Question("university_name", Kind.TEXT, "高校名称", "请输入学校全称。", min_length=4, max_length=60),
        Question("level", Kind.SINGLE, "办学层次", "学校的办学层次？", choices=labelled_choices(UNIVERSITY_LEVELS)),
        Question("province", Kind.SINGLE, "所在省份", "学校所在省份（自治区、直辖市）？", choices=plain_choices(PROVINCES)),
        Question("city", Kind.TEXT, "所在城市", "学校所在城市？", min_length=2, max_length=30),
        Question("contact_name", Kind.TEXT, "联系人", "联系人姓名？", min_length=2, max_length=30),
        Question("contact_department", Kind.TEXT, "所在部门", "联系人所在部门（如教务处、创新创业学院）？", min_length=2, max_length=50),
        Question("contact_position", Kind.TEXT, "职务", "联系人职务？", min_length=2, max_length=50),
        Question("contact_mobile", Kind.PHONE, "联系人手机", "请输入联系人的手机号。"),
        Question("contact_email", Kind.EMAIL, "联系人邮箱", "联系人电子邮箱，匹配结果和通知会发送到这里。"),
        Question(
            "planned_start", Kind.YEAR_MONTH, "计划开课时间", "计划何时开课？（年月，例如 2026-03）",
            min_date=date(2025, 1, 1), max_date=date(2035, 12, 31), not_before_this_month=True,
        ),
        Question(
            "expected_students", Kind.INTEGER, "学生规模", "预计修读微专业的学生人数？", min_value=1, max_value=20000,
        ),
        Question(
            "courses", Kind.MULTI, "需求课程", "需要产业兼职教师的核心课程？（至少选 1 门）",
            choices=plain_choices(CORE_COURSES), min_picks=1,
        ),
        FollowUp(
            key=COURSE_DEMANDS,
            source="courses",
            label="课程需求",
            questions=(
                Question(
                    "hours", Kind.INTEGER, "学时",
                    "这门课计划多少学时？",
                    min_value=1, max_value=COURSE_HOURS_CEILING,
                    help=f"通知规定一门课程总学时一般不超过 {MAX_COURSE_HOURS} 学时；确需超过的请如实填写，分会工作人员会审核。",
                ),
                Question("experts_needed", Kind.INTEGER, "所需专家数", "这门课需要几位产业兼职教师？", min_value=1, max_value=5),
                Question("mode", Kind.SINGLE, "授课方式", "这门课的授课方式？", choices=labelled_choices(TEACHING_MODES)),
            ),
        ),
        Question(
            "schedule_preference", Kind.MULTI, "授课时间安排", "希望的授课时间安排？（可多选）",
            choices=labelled_choices(AVAILABLE_TIMES), min_picks=1,
        ),
        Question(
            "remuneration", Kind.TEXT, "课酬标准", "拟提供的课酬标准（选填，如 每学时 500 元）。", required=False, max_length=100,
        ),
        Question("society_member_unit", Kind.YES_NO, "会员单位", "学校是否为中国创造学会会员单位？"),
        Question("other_needs", Kind.TEXT, "其他需求", "其他需求或说明（选填）。", required=False, max_length=500),
    ),
)
