"""Pieces every use case shares: the clock, the audit log, the outbox."""
from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from core.db.models import AuditEntry, Batch, OutboxMessage, Person, PersonIdentity
from core.db.uow import UnitOfWork
from core.domain import DomainError
from core.services.views import BatchView, PersonView
from core.texts import text

__all__ = ["Clock", "utc_now", "audit", "queue_notification", "queue_to_address", "channels_for", "reachable_on",
           "with_channels", "person_view", "batch_view", "CHANNELS", "queue_sms", "verified_mobile"]

Clock = Callable[[], datetime]

CHANNELS = ("email", "telegram")


# Runs of a write whose versioned row another writer changed meanwhile, before saying so in words.
CONFLICT_ATTEMPTS = 4
_Write = TypeVar("_Write", bound=Callable[..., Awaitable[Any]])


def retried_on_conflict(write: _Write) -> _Write:
    """For a service method that reads a versioned row and writes it in one transaction of its own.

    Another writer may change the row between the read and the versioned UPDATE (on SQLite, where FOR UPDATE
    locks nothing, two people answering at once always do): the UPDATE matches no row, the transaction rolls
    back having written nothing, and the method runs again on the row as it now stands, so its own rules (already
    answered, no longer open…) decide in words. Only a row that keeps changing ends in a refusal to try again."""
    signature = inspect.signature(write)

    async def attempts(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        for _ in range(CONFLICT_ATTEMPTS - 1):
            try:
                return await write(*args, **kwargs)
            except StaleDataError:
                continue
        try:
            return await write(*args, **kwargs)
        except StaleDataError:
            raise DomainError(text("common.changed_meanwhile"), code="conflict") from None

    @functools.wraps(write)
    def retried(*args: Any, **kwargs: Any) -> Awaitable[Any]:
        # A call the method does not accept (a missing person_id, say) fails where it is made, as it would
        # without the retries, not later when the coroutine is awaited.
        signature.bind(*args, **kwargs)
        return attempts(args, kwargs)
    return retried  # type: ignore[return-value]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def audit(uow: UnitOfWork, *, at: datetime, actor: str, action: str, subject: str, **detail: Any) -> None:
    uow.audit.add(AuditEntry(at=at, actor=actor, action=action, subject=subject, detail=detail))


def reachable_on(person: Person) -> list[str]:
    """The channels the person has, in CHANNELS order: an e-mail address to write to, a Telegram account.

    A person is not a Telegram user: only someone with a Telegram identity has people.telegram_id (the bot's
    registration and the migration keep the two together), and only they are ever told to use the bot.
    Templates read this list as payload["channels"]."""
    has = {"email": bool(person.email), "telegram": person.telegram_id is not None}
    return [channel for channel in CHANNELS if has[channel]]


def with_channels(person: Person, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with the person's channels added (a copy: one payload often serves many people)."""
    return {**payload, "channels": reachable_on(person)}


def channels_for(person: Person) -> list[tuple[str, str | None]]:
    """(channel, address) for each row a notice to the person is written as.

    Someone who chose one channel we cannot reach still hears from us on the other. A route with no address
    is kept (the notifier marks it failed for staff to see) except Telegram for a person who has no Telegram
    account: there is nobody to send it to and nothing for staff to fix. Someone with no address at all gets
    one e-mail row without an address, so that staff see they cannot be reached."""
    telegram = str(person.telegram_id) if person.telegram_id is not None else None
    addresses = {"email": person.email or None, "telegram": telegram}
    wanted = CHANNELS if person.preferred_channel == "both" else (person.preferred_channel,)
    routes = [(channel, addresses.get(channel)) for channel in wanted]
    if all(address is None for _, address in routes):
        routes = [(c, a) for c, a in addresses.items() if a] or routes
    routes = [(c, a) for c, a in routes if c != "telegram" or a is not None]
    return routes or [("email", None)]


async def queue_notification(
    uow: UnitOfWork,
    *,
    kind: str,
    person: Person,
    occasion: str,
    payload: dict[str, Any],
    now: datetime,
    due_at: datetime | None = None,
) -> list[OutboxMessage]:
    """Writes one outbox row per channel the person wants, in the caller's transaction.

    The idempotency key (kind, occasion, person, channel) makes queueing the same notice twice a no-op.
    A route with no address is still written: the notifier marks it failed for staff to see.
    """
    from core.services.preferences import UNSUBSCRIBED_REASON, opted_out  # (imports this module)

    rows = []
    payload = with_channels(person, payload)
    # A kind the person unsubscribed from is written as skipped: on record, never sent, not queued again.
    off = await opted_out(uow, person.id, kind)
    for channel, address in channels_for(person):
        key = f"{kind}:{occasion}:person-{person.id}:{channel}"
        if await uow.outbox.get_by_key(key) is not None:
            continue
        row = OutboxMessage(
            kind=kind,
            channel=channel,
            person_id=person.id,
            address=address,
            idempotency_key=key,
            payload=payload,
            status="skipped" if off else "queued",
            last_error=UNSUBSCRIBED_REASON if off else None,
            due_at=due_at or now,
            attempts=0,
            created_at=now,
        )
        uow.outbox.add(row)
        rows.append(row)
    return rows


async def queue_to_address(
    uow: UnitOfWork,
    *,
    kind: str,
    channel: str,
    address: str,
    occasion: str,
    payload: dict[str, Any],
    now: datetime,
    person_id: int | None = None,
) -> OutboxMessage | None:
    """One outbox row to an address rather than to a person's routes (a sign-in code goes to the address
    typed, whether or not anyone has it yet). Channel 'email' or 'sms'; the same idempotency key scheme."""
    key = f"{kind}:{occasion}:{channel}"
    if await uow.outbox.get_by_key(key) is not None:
        return None
    row = OutboxMessage(
        kind=kind, channel=channel, person_id=person_id, address=address, idempotency_key=key, payload=payload,
        status="queued", due_at=now, attempts=0, created_at=now,
    )
    uow.outbox.add(row)
    return row

async def verified_mobile(uow: UnitOfWork, person_id: int) -> str | None:
    """The mobile the person proved is theirs with a code (person_identities, channel 'mobile'), the latest
    verified if several; None without one. The mobile typed into a form is never used for SMS."""
    return await uow.session.scalar(
        select(PersonIdentity.identifier).where(
            PersonIdentity.person_id == person_id, PersonIdentity.channel == "mobile",
            PersonIdentity.verified_at.is_not(None),
        ).order_by(PersonIdentity.verified_at.desc(), PersonIdentity.id.desc()).limit(1)
    )


async def queue_sms(
    uow: UnitOfWork,
    *,
    kind: str,
    person: Person,
    occasion: str,
    payload: dict[str, Any],
    now: datetime,
    due_at: datetime | None = None,
) -> OutboxMessage | None:
    """One SMS row (an approved template, core.ports.sms) to the person's verified mobile, in the caller's
    transaction; nothing for a person without one. Idempotency key (kind, occasion, person, 'sms'). The
    notifier adds the signed link (payload "link") when it sends. A kind the person unsubscribed from
    (an SMS reminder follows its e-mail kind) is written as skipped."""
    from core.services.preferences import UNSUBSCRIBED_REASON, opted_out  # (imports this module)

    if person is None or person.erased_at is not None:
        return None
    mobile = await verified_mobile(uow, person.id)
    if mobile is None:
        return None
    key = f"{kind}:{occasion}:person-{person.id}:sms"
    if await uow.outbox.get_by_key(key) is not None:
        return None
    off = await opted_out(uow, person.id, kind)
    row = OutboxMessage(
        kind=kind, channel="sms", person_id=person.id, address=mobile, idempotency_key=key,
        payload=with_channels(person, payload), status="skipped" if off else "queued",
        last_error=UNSUBSCRIBED_REASON if off else None, due_at=due_at or now, attempts=0, created_at=now,
    )
    uow.outbox.add(row)
    return row


def person_view(person: Person) -> PersonView:
    return PersonView(
        id=person.id,
        telegram_id=person.telegram_id,
        display_name=person.display_name,
        email=person.email,
        mobile=person.mobile,
        preferred_channel=person.preferred_channel,
        role=person.role,
        consented=person.consented_at is not None,
        sensitive_consented=person.sensitive_consented_at is not None,
    )


def batch_view(batch: Batch) -> BatchView:
    return BatchView(
        id=batch.id,
        name=batch.name,
        registration_opens_at=batch.registration_opens_at,
        registration_closes_at=batch.registration_closes_at,
        matching_starts_at=batch.matching_starts_at,
        publicity_starts_at=batch.publicity_starts_at,
    )
