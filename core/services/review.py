"""Staff review of submitted applications, and the resource pool (资源库) that approval builds."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.db.models import Application
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.forms import REVIEW
from core.domain import ApplicationStatus, FormKind, NotFound, check_transition
from core.domain.limits import REVIEW_NOTE, REVIEW_REASON
from core.domain.permissions import Action, AnyActor
from core.domain.status import STATUS_LABELS, AlreadyInState
from core.services.common import Clock, audit, queue_notification, retried_on_conflict, utc_now
from core.services.intake import IntakeService, reference_number
from core.services.permissions import authorize
from core.services.recommendations import offer_new_expert
from core.services.staff_accounts import actor_name
from core.services.views import ApplicationSummary
from core.texts import text

__all__ = ["ReviewService"]


class ReviewService:
    def __init__(
        self, *, uow: UnitOfWorkFactory, intake: IntakeService, clock: Clock = utc_now, recommendations_per_course: int = 5,
        zone: ZoneInfo = ZoneInfo("Asia/Shanghai"),
    ) -> None:
        self._uow = uow
        self._zone = zone
        self._intake = intake
        self._clock = clock
        self._recommendations_per_course = recommendations_per_course

    async def pending(self, *, staff: AnyActor, form: str | None = None, limit: int = 20,
                      offset: int = 0) -> list[ApplicationSummary]:
        """The review queue, oldest submission first."""
        await authorize(self._uow, self._clock, staff, Action.REVIEW_READ)
        async with self._uow() as uow:
            apps = await uow.applications.list(
                form=form, statuses=[ApplicationStatus.SUBMITTED], oldest_first=True, limit=limit, offset=offset
            )
            return [await self._summary(uow, app) for app in apps]

    async def pool(
        self,
        *,
        staff: AnyActor,
        course: str | None = None,
        province: str | None = None,
        mode: str | None = None,
        member_only: bool = False,
        batch_id: int | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[ApplicationSummary]:
        """Approved experts (产业兼职教师资源库), highest priority score first."""
        await authorize(self._uow, self._clock, staff, Action.REVIEW_READ)
        async with self._uow() as uow:
            apps = await uow.applications.list(
                form=FormKind.EXPERT, statuses=[ApplicationStatus.APPROVED], batch_id=batch_id, course=course,
            )
            chosen = []
            for app in apps:
                answers = app.answers
                if province is not None and province != app.province and province not in (answers.get("offline_provinces") or []):
                    continue
                if mode is not None and answers.get("teaching_mode") not in (mode, "both"):
                    continue
                if member_only and answers.get("society_member") is not True:
                    continue
                chosen.append(app)
            chosen.sort(key=lambda a: (-a.priority_score, a.submitted_at, a.id))
            chosen = chosen[offset:] if limit is None else chosen[offset:offset + limit]
            return [await self._summary(uow, app) for app in chosen]

    # What the applicant reads (a note with an approval, a reason for a rejection or a request for more) is
    # bounded by core.domain.limits so that it reads as one message in every channel.
    async def approve(self, *, application_id: int, staff: AnyActor, note: str | None = None) -> ApplicationSummary:
        return await self._decide(application_id, ApplicationStatus.APPROVED, staff, REVIEW_NOTE.optional(note),
                                  "review_approved")

    async def reject(self, *, application_id: int, staff: AnyActor, reason: str) -> ApplicationSummary:
        return await self._decide(application_id, ApplicationStatus.REJECTED, staff, REVIEW_REASON.check(reason),
                                  "review_rejected")

    async def request_info(self, *, application_id: int, staff: AnyActor, message: str) -> ApplicationSummary:
        return await self._decide(application_id, ApplicationStatus.NEEDS_INFO, staff, REVIEW_REASON.check(message),
                                  "review_needs_info")

    @retried_on_conflict
    async def _decide(
        self, application_id: int, target: ApplicationStatus, staff: AnyActor, message: str | None, kind: str
    ) -> ApplicationSummary:
        staff = (await authorize(self._uow, self._clock, staff, Action.REVIEW_DECIDE,
                                 subject=f"application:{application_id}")).actor
        now = self._clock()
        async with self._uow() as uow:
            app = await uow.applications.get(application_id, for_update=True)
            if app is None:
                raise NotFound(text("application.not_found"))
            if app.status == target:
                raise await self._already_decided(uow, app, target)
            check_transition(ApplicationStatus(app.status), target)
            app.status = target
            app.staff_message = message
            app.reviewed_at = now
            app.reviewed_by = staff
            app.updated_at = now
            if target is ApplicationStatus.NEEDS_INFO:
                app.cursor = REVIEW  # reopened for editing: the applicant starts from the summary
            audit(uow, at=now, actor=staff, action=f"review.{target.value}", subject=f"application:{app.id}", message=message or "")
            person = await uow.people.get(app.person_id)
            await queue_notification(
                uow, kind=kind, person=person, occasion=f"application-{app.id}-{target.value}-{now.isoformat()}", now=now,
                payload={
                    "application_id": app.id, "form": app.form, "name": person.display_name or "",
                    "reference": reference_number(app), "batch": app.batch.name, "message": message or "",
                },
            )
            if target is ApplicationStatus.APPROVED and app.form == FormKind.EXPERT:
                # The pool grew: universities that asked before this expert arrived hear of them.
                await offer_new_expert(uow, app, now=now, k=self._recommendations_per_course)
            await uow.commit()
            return await self._summary(uow, app)

    async def _already_decided(self, uow: UnitOfWork, app: Application, target: ApplicationStatus) -> AlreadyInState:
        """The same decision again (another tab, a colleague): say who took it and when, from the audit log."""
        action = f"review.{target.value}"
        earlier = [entry for entry in await uow.audit.list_for(f"application:{app.id}") if entry.action == action]
        if not earlier:
            return AlreadyInState(text("application.already_in_state", status=STATUS_LABELS[target]), status=target)
        last = earlier[-1]
        moment = last.at if last.at.tzinfo else last.at.replace(tzinfo=timezone.utc)
        return AlreadyInState(text(
            "application.already_decided", at=moment.astimezone(self._zone).strftime("%Y-%m-%d %H:%M"),
            who=await actor_name(uow, last.actor), done=text(f"audit.action.{action}"),
        ), status=target)

    async def statuses(self, *, application_ids: Iterable[int], staff: AnyActor) -> dict[int, ApplicationStatus]:
        """The current status of each application asked for (a run page: which intents are still unreviewed)."""
        await authorize(self._uow, self._clock, staff, Action.REVIEW_READ)
        wanted = sorted(set(application_ids))
        found: dict[int, ApplicationStatus] = {}
        async with self._uow() as uow:
            for start in range(0, len(wanted), 500):  # bound the IN list (SQLite's parameter limit)
                rows = await uow.session.execute(
                    select(Application.id, Application.status).where(Application.id.in_(wanted[start:start + 500])))
                found.update((application_id, ApplicationStatus(status)) for application_id, status in rows)
        return found

    async def _summary(self, uow: UnitOfWork, app: Application) -> ApplicationSummary:
        return await self._intake.describe(uow, app)
