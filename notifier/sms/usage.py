"""SMS sent, for `innoeng notify status`: each one is paid for. Counted from the outbox (rows of
channel 'sms' the provider accepted), by local day and month; an SMS longer than one segment is
billed as several by the provider, which this count does not see."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core.db.models import OutboxMessage

__all__ = ["SmsUsage", "sms_usage"]


@dataclass(frozen=True)
class SmsUsage:
    today: int
    this_month: int
    total: int
    queued: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


async def sms_usage(uow, *, now: datetime, zone: ZoneInfo) -> SmsUsage:
    local = now.astimezone(zone)
    day_start = datetime.combine(local.date(), time(0), tzinfo=zone)
    month_start = datetime.combine(local.date().replace(day=1), time(0), tzinfo=zone)
    sms = OutboxMessage.channel == "sms"
    sent = (OutboxMessage.status == "sent", sms)
    async with uow() as unit:
        session = unit.session

        async def count(*conditions) -> int:
            return await session.scalar(select(func.count()).select_from(OutboxMessage).where(*conditions)) or 0

        return SmsUsage(
            today=await count(*sent, OutboxMessage.sent_at >= day_start),
            this_month=await count(*sent, OutboxMessage.sent_at >= month_start),
            total=await count(*sent),
            queued=await count(sms, OutboxMessage.status == "queued"),
        )
