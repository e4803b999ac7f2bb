"""Batches (批次): registration windows and the dates that follow them."""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from core.db.models import Batch
from core.db.uow import UnitOfWorkFactory
from core.domain import DomainError, NotFound
from core.domain.limits import BATCH_NAME, id_in_range, parse_int
from core.services.common import Clock, audit, batch_view, utc_now
from core.services.views import BatchView
from core.texts import text
from core.domain.permissions import Action, AnyActor
from core.services.permissions import authorize

__all__ = ["BatchService", "end_of_day", "start_of_day"]


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """A deadline given as a date lasts until the end of that day in the plan's time zone."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone)


def start_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone)


_UNSET = object()


class BatchService:
    def __init__(self, *, uow: UnitOfWorkFactory, zone: ZoneInfo, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._zone = zone
        self._clock = clock

    def deadline_date(self, batch: BatchView) -> date:
        return batch.registration_closes_at.astimezone(self._zone).date()

    def _check_order(self, batch: Batch) -> None:
        problems = []
        if batch.registration_closes_at <= batch.registration_opens_at:
            problems.append("报名截止时间必须晚于报名开始时间")
        for field_, label in (("matching_starts_at", "匹配开始"), ("publicity_starts_at", "公示开始")):
            value = getattr(batch, field_)
            if value is not None and value < batch.registration_closes_at:
                problems.append(f"{label}时间不能早于报名截止时间")
        if batch.matching_starts_at and batch.publicity_starts_at and batch.publicity_starts_at < batch.matching_starts_at:
            problems.append("公示开始时间不能早于匹配开始时间")
        if problems:
            raise DomainError(text("batch.dates_out_of_order", detail="；".join(problems)))

    async def create(
        self,
        *,
        name: str,
        registration_opens: date,
        registration_closes: date,
        matching_starts: date | None = None,
        publicity_starts: date | None = None,
        actor: AnyActor,
    ) -> BatchView:
        actor = (await authorize(self._uow, self._clock, actor, Action.BATCHES_MANAGE)).actor
        name = BATCH_NAME.check(name)
        now = self._clock()
        async with self._uow() as uow:
            if await uow.batches.get_by_name(name) is not None:
                raise DomainError(f"批次「{name}」已存在。")
            batch = Batch(
                name=name,
                registration_opens_at=start_of_day(registration_opens, self._zone),
                registration_closes_at=end_of_day(registration_closes, self._zone),
                matching_starts_at=start_of_day(matching_starts, self._zone) if matching_starts else None,
                publicity_starts_at=start_of_day(publicity_starts, self._zone) if publicity_starts else None,
                created_at=now,
                updated_at=now,
            )
            self._check_order(batch)
            uow.batches.add(batch)
            await uow.flush()
            audit(uow, at=now, actor=actor, action="batch.create", subject=f"batch:{batch.id}", name=name)
            await uow.commit()
            return batch_view(batch)

    async def update(
        self,
        *,
        ref: str,
        name: str | None = None,
        registration_opens: date | None = None,
        registration_closes: date | None = None,
        matching_starts: date | None | object = _UNSET,
        publicity_starts: date | None | object = _UNSET,
        actor: AnyActor,
    ) -> BatchView:
        actor = (await authorize(self._uow, self._clock, actor, Action.BATCHES_MANAGE)).actor
        now = self._clock()
        async with self._uow() as uow:
            batch = await self._find(uow, ref)
            changes: dict[str, str] = {}
            if name is not None:
                batch.name = name = BATCH_NAME.check(name)
                changes["name"] = name
            if registration_opens is not None:
                batch.registration_opens_at = start_of_day(registration_opens, self._zone)
                changes["registration_opens"] = registration_opens.isoformat()
            if registration_closes is not None:
                batch.registration_closes_at = end_of_day(registration_closes, self._zone)
                changes["registration_closes"] = registration_closes.isoformat()
            if matching_starts is not _UNSET:
                batch.matching_starts_at = start_of_day(matching_starts, self._zone) if matching_starts else None
                changes["matching_starts"] = matching_starts.isoformat() if matching_starts else ""
            if publicity_starts is not _UNSET:
                batch.publicity_starts_at = start_of_day(publicity_starts, self._zone) if publicity_starts else None
                changes["publicity_starts"] = publicity_starts.isoformat() if publicity_starts else ""
            self._check_order(batch)
            batch.updated_at = now
            audit(uow, at=now, actor=actor, action="batch.update", subject=f"batch:{batch.id}", **changes)
            await uow.commit()
            return batch_view(batch)

    async def list(self) -> list[BatchView]:
        async with self._uow() as uow:
            return [batch_view(b) for b in await uow.batches.list()]

    async def get(self, *, ref: str) -> BatchView:
        async with self._uow() as uow:
            return batch_view(await self._find(uow, ref))

    async def current(self) -> BatchView | None:
        async with self._uow() as uow:
            batch = await uow.batches.current(self._clock())
            return batch_view(batch) if batch else None

    async def ensure_default(self, *, name: str, deadline: date) -> BatchView | None:
        """On first start with an empty database, open a batch so the service is usable at once."""
        async with self._uow() as uow:
            if await uow.batches.count() > 0:
                return None
        today = self._clock().astimezone(self._zone).date()
        try:
            return await self.create(
                name=name, registration_opens=today, registration_closes=max(deadline, today), actor="system"
            )
        except (DomainError, IntegrityError):  # another process starting at the same moment opened it (unique name)
            return None

    @staticmethod
    async def _find(uow, ref: str) -> Batch:
        batch = None
        number = parse_int(ref)
        if number is not None and id_in_range(number):
            batch = await uow.batches.get(number)
        if batch is None:
            batch = await uow.batches.get_by_name(ref)
        if batch is None:
            raise NotFound(text("batch.not_found", ref=ref))
        return batch
