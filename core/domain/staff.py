"""Staff roles of the console and who a signed-in staff member is. Standard library only."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["Role", "StaffIdentity", "console_actor", "chat_actor"]


class Role(str, Enum):
    """Ordered: each role may do everything the ones before it may."""

    REVIEWER = "reviewer"
    COORDINATOR = "coordinator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: "Role") -> bool:
        return self.rank >= needed.rank


_RANK = {Role.REVIEWER: 0, Role.COORDINATOR: 1, Role.ADMIN: 2}


def console_actor(account_id: int) -> str:
    return f"console:{account_id}"


def chat_actor(telegram_id: int) -> str:
    """How the bot's staff commands name their actor in the audit log."""
    return f"staff:{telegram_id}"


@dataclass(frozen=True)
class StaffIdentity:
    id: int
    name: str
    email: str
    role: Role
    # The string passed as `staff=` to core services and written to the audit log.
    actor: str
    telegram_id: int | None = None

    def allows(self, needed: Role) -> bool:
        return self.role.allows(needed)
