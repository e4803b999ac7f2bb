"""The console's menu: what each role sees. Handlers check the role again with `require`."""
from __future__ import annotations

from dataclasses import dataclass

from core.domain.staff import Role, StaffIdentity

__all__ = ["NavItem", "NAVIGATION", "navigation_for"]


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str
    role: Role
    active: bool = False


NAVIGATION = (
    NavItem("/", "工作台", Role.REVIEWER),
    NavItem("/applications", "专家审核", Role.REVIEWER),
    NavItem("/intents", "高校意向", Role.REVIEWER),
    NavItem("/pool", "专家资源库", Role.REVIEWER),
    NavItem("/matching", "双向匹配", Role.COORDINATOR),
    NavItem("/appointments", "公示与聘任", Role.COORDINATOR),
    NavItem("/workshops", "活动", Role.COORDINATOR),
    NavItem("/notifications", "通知", Role.COORDINATOR),
    NavItem("/audit", "审计日志", Role.COORDINATOR),
    NavItem("/batches", "批次", Role.ADMIN),
    NavItem("/staff", "工作人员账号", Role.ADMIN),
    NavItem("/staff/settings", "设置", Role.ADMIN),
)


def navigation_for(staff: StaffIdentity | None, path: str) -> list[NavItem]:
    if staff is None:
        return []
    visible = [item for item in NAVIGATION if staff.allows(item.role)]
    # The most specific entry is the active one (/staff/settings, not /staff).
    matching = [item for item in visible if item.path != "/" and (path == item.path or path.startswith(item.path + "/"))]
    active = max(matching, key=lambda item: len(item.path)).path if matching else ("/" if path == "/" else None)
    return [NavItem(item.path, item.label, item.role, item.path == active) for item in visible]
