"""The permission check of every staff action (the table is core.domain.permissions), and its refusal:
a Forbidden error whose message says what to do, and an `access.denied` entry in the audit log."""
from __future__ import annotations

import logging

from sqlalchemy import select

from core.db.models import StaffAccount
from core.db.uow import UnitOfWorkFactory
from core.domain import DomainError
from core.domain.permissions import Action, StaffActor, Via, acting, allowed, needed
from core.domain.staff import Role, StaffIdentity, chat_actor
from core.services.common import Clock, audit, utc_now
from core.texts import text

__all__ = ["Forbidden", "PermissionService", "authorize", "refusal_message"]

log = logging.getLogger(__name__)


class Forbidden(DomainError):
    """The actor's role is below what the action needs; nothing was changed."""

    def __init__(self, message: str, *, actor: StaffActor, action: Action) -> None:
        super().__init__(message, code="forbidden")
        self.actor = actor
        self.action = action
        self.needed = needed(action)


def refusal_message(actor: StaffActor, action: Action) -> str:
    need = needed(action)
    params = dict(action=text(f"permissions.action.{action.value}"), needed=text(f"role.{need.value}"),
                  needed_value=need.value, role=text(f"role.{actor.role.value}"))
    if actor.via is Via.CHAT:
        telegram_id = actor.actor.partition(":")[2]
        key = "permissions.chat_role_too_low" if actor.linked else "permissions.chat_unlinked"
        return text(key, telegram_id=telegram_id, **params)
    return text("permissions.forbidden", **params)


async def authorize(uow: UnitOfWorkFactory, clock: Clock, staff: StaffActor | StaffIdentity | str,
                    action: Action, *, subject: str | None = None) -> StaffActor:
    """The actor, when its role allows the action; else the refusal is audited and Forbidden raised."""
    actor = acting(staff)
    if allowed(actor, action):
        return actor
    try:
        async with uow() as unit:
            audit(unit, at=clock(), actor=actor.actor, action="access.denied",
                  subject=(subject or f"action:{action.value}")[:64], attempted=action.value,
                  needed=needed(action).value, role=actor.role.value, via=actor.via.value, linked=actor.linked)
            await unit.commit()
    except Exception:  # the refusal must not turn into a failure because the audit write did
        log.exception("could not record a refused staff action")
    raise Forbidden(refusal_message(actor, action), actor=actor, action=action)


class PermissionService:
    """For entry points: who a Telegram staff member is, and the check before an action that no other
    service call covers (a listing in the chat)."""

    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock

    async def chat_staff(self, *, telegram_id: int) -> StaffActor:
        """A Telegram id of STAFF_TELEGRAM_IDS acts with the role of the enabled staff account linked to it;
        with none, as an unlinked reviewer (it reviews, nothing else)."""
        async with self._uow() as uow:
            role = await uow.session.scalar(select(StaffAccount.role).where(
                StaffAccount.telegram_id == telegram_id, StaffAccount.disabled_at.is_(None)))
        if role is None:
            return StaffActor(actor=chat_actor(telegram_id), role=Role.REVIEWER, via=Via.CHAT, linked=False)
        return StaffActor(actor=chat_actor(telegram_id), role=Role(role), via=Via.CHAT, linked=True)

    async def authorize(self, staff: StaffActor | StaffIdentity | str, action: Action, *,
                        subject: str | None = None) -> StaffActor:
        return await authorize(self._uow, self._clock, staff, action, subject=subject)
