"""Staff accounts for chat tests: a Telegram id of STAFF_TELEGRAM_IDS acts with the role of the account linked to it."""
from __future__ import annotations

from core.bootstrap import Core
from core.services.staff_accounts import StaffAccountView

__all__ = ["linked_staff"]


async def linked_staff(core: Core, telegram_id: int, role: str = "coordinator") -> StaffAccountView:
    """A console account of this role, linked to the Telegram id (as `innoeng staff link-telegram` does)."""
    link = await core.staff.add(email=f"tg{telegram_id}@staff.example.org", name=f"工作人员{telegram_id}", role=role,
                                actor="test")
    return await core.staff.link_telegram(ref=str(link.account.id), telegram_id=telegram_id, actor="test")
