"""The bot's command menus: what everyone may use, and what staff may use besides (also listed by /help)."""
from __future__ import annotations

from core.domain.permissions import Action

__all__ = ["USER_COMMANDS", "STAFF_COMMANDS", "STAFF_COMMAND_ACTIONS"]

USER_COMMANDS = (
    ("start", "开始或继续填写"),
    ("status", "查看申请和匹配状态"),
    ("candidates", "高校：查看推荐的专家人选"),
    ("universities", "专家：查看推荐给您的高校，表达意向"),
    ("edit", "修改草稿或补充材料"),
    ("withdraw", "撤回申请"),
    ("mydata", "导出我的全部数据"),
    ("delete", "删除我的全部数据"),
    ("cancel", "暂停填写"),
    ("help", "帮助"),
)
STAFF_COMMANDS = (
    ("pending", "待审核的申请"),
    ("stats", "统计"),
    ("match", "运行双向匹配"),
    ("publicity", "待公示的聘任：列出并开始公示"),
    ("objection", "登记公示异议"),
    ("agreement", "登记协议"),
    ("filing", "登记备案"),
    ("filingexport", "导出备案表"),
    ("caplift", "放宽受聘高校数上限"),
    ("newevent", "创建活动"),
    ("events", "活动与报名统计"),
)

# The staff action each command runs as (its handler's gate, bot.filters.staff_action): /help lists a staff
# member only the commands their role may use. A unit test holds this to the routers' registrations.
STAFF_COMMAND_ACTIONS: dict[str, Action] = {
    "pending": Action.REVIEW_READ,
    "stats": Action.REVIEW_READ,
    "match": Action.MATCHING_VIEW,
    "publicity": Action.APPOINTMENTS_VIEW,
    "objection": Action.OBJECTION_RECORD,
    "agreement": Action.AGREEMENT_RECORD,
    "filing": Action.FILING_RECORD,
    "filingexport": Action.APPOINTMENTS_VIEW,
    "caplift": Action.MATCHING_CAP_LIFT,
    "newevent": Action.EVENTS_MANAGE,
    "events": Action.EVENTS_VIEW,
}
assert set(STAFF_COMMAND_ACTIONS) == {command for command, _ in STAFF_COMMANDS}
