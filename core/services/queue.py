"""What staff browse: the review queue, the resource pool and the university intents.

Filtered in SQL and paged by keyset (the last row's sort key, never an OFFSET), so a page costs
the same whether it is the first or the five-hundredth, and the number of queries per page is
fixed: one for the rows (plus one for the intents' demands), whatever the page size.
"""
from __future__ import annotations

import asyncio
import base64
import io
import json
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, false, func, literal, or_, select, tuple_
from sqlalchemy.sql import ColumnElement

from core.db.models import Application, AuditEntry, CourseDemand, Document, ExpertCourse
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.documents import DocumentStore
from core.domain import ApplicationStatus, FormKind, NotFound
from core.domain.courses import COURSE_BITS
from core.domain.limits import MAX_ID, id_in_range
from core.domain.permissions import Action, AnyActor
from core.domain.status import STATUS_LABELS
from core.domain.vocabulary import AVAILABLE_TIMES, EDUCATION_LEVELS, EMPLOYER_TYPES, PRIORITY_CONDITIONS, TEACHING_MODES, TITLES
from core.eligibility import OUTCOME_LABELS, Eligibility, Outcome
from core.services.common import Clock, utc_now
from core.services.intake import IntakeService, reference_number
from core.services.permissions import authorize
from core.services.views import ApplicationSummary, DocumentView
from core.texts import text

__all__ = [
    "QueueFilters",
    "QueueOrder",
    "QueueRow",
    "QueuePage",
    "DemandView",
    "HistoryEntry",
    "ApplicationDetail",
    "QueueService",
    "POOL_COLUMNS",
    "INTENT_COLUMNS",
    "application_id_from_reference",
]

# A reference number as people read it off the bot (E01-000042), or just the number.
_REFERENCE = re.compile(r"^\s*[EUeu]?\s*(?:\d{1,4}\s*-\s*)?0*(\d{1,9})\s*$")


def application_id_from_reference(raw: str) -> int | None:
    """The application id in a reference number as staff type it ("E01-000042", "42"); None if it is not one."""
    found = _REFERENCE.match(raw or "")
    return int(found.group(1)) if found else None


class QueueOrder:
    OLDEST_FIRST = "oldest"  # the review queue: who waited longest
    PRIORITY_FIRST = "priority"  # the pool: highest priority score, then who came first


@dataclass(frozen=True)
class QueueFilters:
    form: str | None = FormKind.EXPERT.value
    statuses: tuple[str, ...] = ()
    verdict: str | None = None
    course: str | None = None
    province: str | None = None  # where they are, or (pool) where they would teach offline
    employer_type: str | None = None
    priority_condition: str | None = None
    teaching_mode: str | None = None  # "online" also finds "both"
    society_member: bool | None = None
    submitted_from: date | None = None  # Beijing dates, inclusive
    submitted_to: date | None = None
    search: str | None = None
    batch_id: int | None = None
    order: str = QueueOrder.OLDEST_FIRST


@dataclass(frozen=True)
class DemandView:
    course: str
    hours: int
    experts_needed: int
    mode: str
    mode_label: str


@dataclass(frozen=True)
class QueueRow:
    id: int
    reference: str
    form: str
    status: str
    status_label: str
    name: str
    employer: str
    employer_type_label: str
    title_label: str
    province: str
    courses: tuple[str, ...]
    verdict: str | None
    verdict_label: str
    priority_score: int
    priority_labels: tuple[str, ...]
    submitted_at: datetime | None
    demands: tuple[DemandView, ...] = ()


@dataclass(frozen=True)
class QueuePage:
    rows: tuple[QueueRow, ...]
    next_cursor: str | None  # None: this is the last page
    previous_cursor: str | None  # None: this is the first page


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    action: str
    message: str


@dataclass(frozen=True)
class ApplicationDetail:
    summary: ApplicationSummary
    eligibility: Eligibility | None
    priority_score: int
    history: tuple[HistoryEntry, ...]
    demands: tuple[DemandView, ...]
    reviewable: bool  # submitted: approve / reject / ask for more information apply
    previous_id: int | None  # neighbours in the queue under the same filters
    next_id: int | None
    documents: tuple[DocumentView, ...] = field(default_factory=tuple)


POOL_COLUMNS = (
    "编号", "姓名", "工作单位", "单位类型", "所在省份", "所在城市", "职务/岗位", "最高学历", "职称/技能等级", "工作年限",
    "可授课程", "授课方式", "线下授课省份", "可授课时间", "优先条件", "学会会员", "优先分", "最多受聘高校数",
    "手机号", "电子邮箱", "审核时间",
)

INTENT_COLUMNS = (
    "编号", "高校", "所在省份", "所在城市", "联系人", "联系人手机", "联系人邮箱", "计划开设", "预计学生数", "状态",
    "课程", "学时", "所需专家数", "授课方式",
)


def _cursor(key: Sequence[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _uncursor(token: str, order: str) -> tuple[Any, ...] | None:
    """A cursor from a URL; anything that does not parse means 'from the start', never an error page."""
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if order == QueueOrder.PRIORITY_FIRST:
            score, submitted, row_id = values
            if not (id_in_range(int(row_id)) and abs(int(score)) <= MAX_ID):
                return None  # no row has it: an INTEGER column could not even compare with it on PostgreSQL
            return int(score), datetime.fromisoformat(submitted), int(row_id)
        submitted, row_id = values
        if not id_in_range(int(row_id)):
            return None
        return datetime.fromisoformat(submitted), int(row_id)
    except (ValueError, TypeError, OverflowError, json.JSONDecodeError):
        return None


def _sort_key(app: Application, order: str) -> tuple[Any, ...]:
    if order == QueueOrder.PRIORITY_FIRST:
        return app.priority_score, app.submitted_at, app.id
    return app.submitted_at, app.id


def _json_text(key: str) -> ColumnElement:
    return Application.answers[key].as_string()


def _json_list_has(dialect: str, key: str, value: str) -> ColumnElement:
    """The answer `key` (a JSON list) holds `value`: JSONB containment on PostgreSQL, json_each on SQLite."""
    if dialect == "postgresql":
        return Application.answers.op("->")(key).op("@>")(func.jsonb_build_array(value))
    items = func.json_each(Application.answers, f"$.{key}").table_valued("value")
    return exists().select_from(items).where(items.c.value == value)


def _masks_with(bit: int) -> list[int]:
    """Every courses_mask holding `bit`: 8 of the 15 that the four core courses make."""
    return [mask for mask in range(1, 1 << len(COURSE_BITS)) if mask & bit]


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class QueueService:
    """Staff reads only: every method takes the acting `staff` and checks Action.REVIEW_READ (run pages'
    demand labels: MATCHING_VIEW) first, whatever the entry point."""

    def __init__(self, *, uow: UnitOfWorkFactory, intake: IntakeService, documents: DocumentStore, zone: ZoneInfo,
                 clock: Clock = utc_now) -> None:
        self._uow = uow
        self._intake = intake
        self._documents = documents
        self._zone = zone
        self._clock = clock

    # ------------------------------------------------------------------ listing

    async def page(
        self, *, filters: QueueFilters, staff: AnyActor, after: str | None = None, before: str | None = None,
        limit: int = 50,
    ) -> QueuePage:
        """One page of applications under `filters`: the rows after cursor `after`, or before `before`."""
        await authorize(self._uow, self._clock, staff, Action.REVIEW_READ)
        limit = max(1, min(limit, 200))
        backwards = before is not None and after is None
        cursor = _uncursor(before if backwards else after, filters.order) if (after or before) else None
        async with self._uow() as uow:
            stmt = self._filtered(uow, filters)
            if cursor is not None:
                stmt = stmt.where(self._beyond(cursor, filters.order, backwards=backwards))
            stmt = stmt.order_by(*self._ordering(filters.order, backwards=backwards)).limit(limit + 1)
            apps = list((await uow.session.scalars(stmt)).all())
            more = len(apps) > limit
            apps = apps[:limit]
            if backwards:
                apps.reverse()
            demands = await self._demands(uow, [a.id for a in apps if a.form == FormKind.UNIVERSITY])
            rows = tuple(self._row(app, demands.get(app.id, ())) for app in apps)
            keys = [_sort_key(app, filters.order) for app in apps]
        if not apps:
            return QueuePage(rows, None, None)
        first, last = _cursor(keys[0]), _cursor(keys[-1])
        if backwards:
            return QueuePage(rows, next_cursor=last, previous_cursor=first if more else None)
        return QueuePage(rows, next_cursor=last if more else None, previous_cursor=first if cursor is not None else None)

    async def pool_workbook(self, *, filters: QueueFilters, staff: AnyActor) -> bytes:
        """The approved experts under `filters` as an xlsx, contact details included (staff only)."""
        buffer = io.BytesIO()
        await self.write_pool_workbook(filters=filters, target=buffer, staff=staff)
        return buffer.getvalue()

    async def write_pool_workbook(self, *, filters: QueueFilters, target: BinaryIO, staff: AnyActor) -> int:
        """`pool_workbook` written to `target`, the rows read from a server-side cursor EXPORT_CHUNK at a time:
        the whole national pool (60,000 rows at 100,000 experts) is never in memory. Returns the rows written."""
        await authorize(self._uow, self._clock, staff, Action.REVIEW_READ)
        from core.exports import WorkbookWriter  # loaded by the first export, not by the bot

        filters = replace(filters, form=FormKind.EXPERT.value, statuses=(ApplicationStatus.APPROVED.value,),
                          order=QueueOrder.PRIORITY_FIRST)
        book = WorkbookWriter(target)
        sheet = book.sheet("产业兼职教师资源库", POOL_COLUMNS, widths=False)
        async with self._uow() as uow:
            # The columns a row shows, not the ORM objects: at 60,000 rows building and tracking them cost more
            # than the query.
            stmt = self._filtered(uow, filters).order_by(*self._ordering(filters.order, backwards=False)).with_only_columns(
                *_POOL_ROW_COLUMNS, maintain_column_froms=True)
            async for apps in _chunks(uow, stmt, scalars=False):
                sheet.extend(self._pool_row(app) for app in apps)
        await asyncio.to_thread(book.close)  # the zip of the package: CPU, off the event loop
        return sheet.rows

    def _pool_row(self, app: Any) -> tuple[Any, ...]:  # an Application or a row of _POOL_ROW_COLUMNS
        a = app.answers
        return (
            reference_number(app), a.get("name", ""), a.get("employer", ""),
            EMPLOYER_TYPES.get(a.get("employer_type"), ""), app.province or a.get("province", ""), a.get("city", ""),
            a.get("position", ""), _label("education", a.get("education")), TITLES.get(a.get("title"), ""),
            a.get("years_at_employer", ""), "、".join(a.get("courses") or []),
            TEACHING_MODES.get(a.get("teaching_mode"), ""), "、".join(a.get("offline_provinces") or []),
            "、".join(_label("available_times", t) for t in a.get("available_times") or []),
            "、".join(PRIORITY_CONDITIONS.get(p, p) for p in a.get("priority_conditions") or []),
            "是" if a.get("society_member") else "否", app.priority_score, a.get("max_universities", ""),
            a.get("mobile", ""), a.get("email", ""), self._local(app.reviewed_at),
        )

    async def intents_workbook(self, *, filters: QueueFilters, staff: AnyActor) -> bytes:
        """University intents under `filters`, one line per requested course."""
        buffer = io.BytesIO()
        await self.write_intents_workbook(filters=filters, target=buffer, staff=staff)
        return buffer.getvalue()

    async def write_intents_workbook(self, *, filters: QueueFilters, target: BinaryIO, staff: AnyActor) -> int:
        """`intents_workbook` written to `target`, EXPORT_CHUNK intents (and their demands) at a time."""
        await authorize(self._uow, self._clock, staff, Action.REVIEW_READ)
        from core.exports import WorkbookWriter

        filters = replace(filters, form=FormKind.UNIVERSITY.value)
        book = WorkbookWriter(target)
        sheet = book.sheet("高校意向", INTENT_COLUMNS, widths=False)
        async with self._uow() as uow:
            stmt = self._filtered(uow, filters).order_by(*self._ordering(filters.order, backwards=False))
            async for apps in _chunks(uow, stmt):
                demands = await self._demands(uow, [a.id for a in apps])
                rows = []
                for app in apps:
                    a = app.answers
                    head = (
                        reference_number(app), a.get("university_name", ""), app.province or "", a.get("city", ""),
                        a.get("contact_name", ""), a.get("contact_mobile", ""), a.get("contact_email", ""),
                        a.get("planned_start", ""), a.get("expected_students", ""),
                        STATUS_LABELS[ApplicationStatus(app.status)],
                    )
                    for demand in demands.get(app.id, ()) or (None,):
                        tail = ("", "", "", "") if demand is None else (demand.course, demand.hours, demand.experts_needed,
                                                                        demand.mode_label)
                        rows.append(head + tail)
                sheet.extend(rows)
        await asyncio.to_thread(book.close)
        return sheet.rows

    # ------------------------------------------------------------------ one application

    async def detail(self, *, application_id: int, staff: AnyActor,
                     filters: QueueFilters | None = None) -> ApplicationDetail:
        """Everything staff need to decide, and the neighbours in the queue the reviewer came from."""
        await authorize(self._uow, self._clock, staff, Action.REVIEW_READ, subject=f"application:{application_id}")
        async with self._uow() as uow:
            app = await uow.applications.get(application_id)
            if app is None:
                raise NotFound(text("application.not_found"))
            summary = await self._intake.describe(uow, app, with_channels=True)
            history = (await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.subject == f"application:{app.id}").order_by(AuditEntry.at, AuditEntry.id)
            )).all()
            demands = (await self._demands(uow, [app.id])).get(app.id, ()) if app.form == FormKind.UNIVERSITY else ()
            previous_id = next_id = None
            if filters is not None and app.submitted_at is not None:
                key = _sort_key(app, filters.order)
                previous_id = await self._neighbour(uow, filters, key, backwards=True)
                next_id = await self._neighbour(uow, filters, key, backwards=False)
            entries = tuple(HistoryEntry(e.at, e.actor, e.action, str((e.detail or {}).get("message", ""))) for e in history)
            priority_score, reviewable = app.priority_score, app.status == ApplicationStatus.SUBMITTED
        return ApplicationDetail(
            summary=summary,
            eligibility=summary.eligibility,
            priority_score=priority_score,
            history=entries,
            demands=tuple(demands),
            reviewable=reviewable,
            previous_id=previous_id,
            next_id=next_id,
            documents=summary.documents,
        )

    async def document(self, *, application_id: int, document_id: int, staff: AnyActor) -> tuple[DocumentView, bytes]:
        """A proof file of this application; another application's file is 'not found', like a missing one."""
        await authorize(self._uow, self._clock, staff, Action.REVIEW_READ, subject=f"application:{application_id}")
        async with self._uow() as uow:
            document = await uow.session.get(Document, document_id)
            if document is None or document.application_id != application_id:
                raise NotFound(text("document.not_found"))
            view = DocumentView(
                id=document.id, question_key=document.question_key, mime=document.mime, size=document.size,
                sha256=document.sha256, original_name=document.original_name,
            )
            stored_name = document.stored_name
        return view, self._documents.read(stored_name)

    async def demand_labels(self, *, demand_ids: Sequence[int], staff: AnyActor) -> dict[int, tuple[int, str, str]]:
        """demand id → (university application id, university name, course), in one query, for run pages."""
        await authorize(self._uow, self._clock, staff, Action.MATCHING_VIEW)
        if not demand_ids:
            return {}
        async with self._uow() as uow:
            rows = (await uow.session.execute(
                select(CourseDemand.id, CourseDemand.course, Application.id, Application.answers)
                .join(Application, Application.id == CourseDemand.application_id)
                .where(CourseDemand.id.in_(list(demand_ids)))
            )).all()
        return {d: (a, (answers or {}).get("university_name", f"#{a}"), course) for d, course, a, answers in rows}

    # ------------------------------------------------------------------ SQL

    def _filtered(self, uow: UnitOfWork, filters: QueueFilters):
        dialect = uow.session.get_bind().dialect.name
        stmt = select(Application).where(Application.submitted_at.is_not(None))
        if filters.form:
            stmt = stmt.where(Application.form == filters.form)
        if filters.statuses:
            stmt = stmt.where(Application.status.in_(list(filters.statuses)))
        if filters.batch_id is not None:
            stmt = stmt.where(Application.batch_id == filters.batch_id)
        if filters.verdict:
            stmt = stmt.where(Application.eligibility_outcome == filters.verdict)
        if filters.course:
            # Experts' courses are indexed in expert_courses, intents' in course_demands, never the other way round:
            # for one form a single IN, which PostgreSQL can run as a join from the course's rows (an OR of the two
            # made it test every application of the form against both lists).
            # A core course is also a bit of courses_mask, set with expert_courses at each submission: as the masks
            # holding it, ix_applications_pool_province (migration 0020) narrows a province's pool to the course in
            # the index, instead of joining every approved expert of the province to the course's rows of
            # expert_courses (42,000 at 100,000 experts). An intent's mask is 0: it never matches.
            bit = COURSE_BITS.get(filters.course)
            teaches = (Application.courses_mask.in_(_masks_with(bit)) if bit is not None else
                       Application.id.in_(select(ExpertCourse.application_id).where(ExpertCourse.course == filters.course)))
            asks = Application.id.in_(select(CourseDemand.application_id).where(CourseDemand.course == filters.course))
            if filters.form == FormKind.EXPERT:
                stmt = stmt.where(teaches)
            elif filters.form == FormKind.UNIVERSITY:
                stmt = stmt.where(asks)
            else:
                stmt = stmt.where(or_(teaches, asks))
        if filters.province:
            here = Application.province == filters.province
            if filters.statuses == (ApplicationStatus.APPROVED.value,) and filters.form == FormKind.EXPERT:
                here = or_(here, _json_list_has(dialect, "offline_provinces", filters.province))
            stmt = stmt.where(here)
        if filters.employer_type:
            stmt = stmt.where(_json_text("employer_type") == filters.employer_type)
        if filters.priority_condition:
            if filters.priority_condition in PRIORITY_CONDITIONS:
                stmt = stmt.where(_json_list_has(dialect, "priority_conditions", filters.priority_condition))
            else:
                stmt = stmt.where(false())
        if filters.teaching_mode:
            stmt = stmt.where(_json_text("teaching_mode").in_([filters.teaching_mode, "both"]))
        if filters.society_member is not None:
            member = _json_text("society_member")
            # JSON true reads back as 'true' on PostgreSQL and as 1 on SQLite.
            stmt = stmt.where(member.in_(["true", "1"]) if filters.society_member else or_(member.is_(None), member.not_in(["true", "1"])))
        if filters.submitted_from:
            stmt = stmt.where(Application.submitted_at >= self._start_of(filters.submitted_from))
        if filters.submitted_to:
            stmt = stmt.where(Application.submitted_at < self._start_of(filters.submitted_to + timedelta(days=1)))
        if filters.search and filters.search.strip():
            stmt = stmt.where(self._search(filters.search.strip()))
        return stmt

    @staticmethod
    def _search(term: str) -> ColumnElement:
        pattern = f"%{_escape_like(term)}%"
        by_name = or_(*(_json_text(k).like(pattern, escape="\\") for k in ("name", "university_name", "contact_name")))
        reference = _REFERENCE.match(term)
        if reference is not None:  # at most 9 digits: always an INTEGER
            return or_(Application.id == int(reference.group(1)), by_name)
        return by_name

    @staticmethod
    def _ordering(order: str, *, backwards: bool) -> list[ColumnElement]:
        if order == QueueOrder.PRIORITY_FIRST:
            columns = [Application.priority_score.desc(), Application.submitted_at.asc(), Application.id.asc()]
            if backwards:
                columns = [Application.priority_score.asc(), Application.submitted_at.desc(), Application.id.desc()]
            return columns
        if backwards:
            return [Application.submitted_at.desc(), Application.id.desc()]
        return [Application.submitted_at.asc(), Application.id.asc()]

    @staticmethod
    def _beyond(key: tuple[Any, ...], order: str, *, backwards: bool) -> ColumnElement:
        """Rows strictly after `key` in the order (or strictly before it, going backwards)."""
        # The moment is bound with the column's own type, so SQLite compares it as stored (naive UTC).
        key = tuple(literal(v, Application.submitted_at.type) if isinstance(v, datetime) else v for v in key)
        if order == QueueOrder.PRIORITY_FIRST:
            score, submitted, row_id = key
            later = tuple_(Application.submitted_at, Application.id) > tuple_(submitted, row_id)
            earlier = tuple_(Application.submitted_at, Application.id) < tuple_(submitted, row_id)
            if backwards:
                return or_(Application.priority_score > score, and_(Application.priority_score == score, earlier))
            return or_(Application.priority_score < score, and_(Application.priority_score == score, later))
        pair = tuple_(Application.submitted_at, Application.id)
        return pair < tuple_(*key) if backwards else pair > tuple_(*key)

    async def _neighbour(self, uow: UnitOfWork, filters: QueueFilters, key: tuple[Any, ...], *, backwards: bool) -> int | None:
        stmt = (
            self._filtered(uow, filters).with_only_columns(Application.id)
            .where(self._beyond(key, filters.order, backwards=backwards))
            .order_by(*self._ordering(filters.order, backwards=backwards)).limit(1)
        )
        return await uow.session.scalar(stmt)

    @staticmethod
    async def _demands(uow: UnitOfWork, application_ids: list[int]) -> dict[int, tuple[DemandView, ...]]:
        if not application_ids:
            return {}
        rows = (await uow.session.scalars(
            select(CourseDemand).where(CourseDemand.application_id.in_(application_ids)).order_by(CourseDemand.id)
        )).all()
        found: dict[int, list[DemandView]] = {}
        for d in rows:
            found.setdefault(d.application_id, []).append(
                DemandView(d.course, d.hours, d.experts_needed, d.mode, TEACHING_MODES.get(d.mode, d.mode))
            )
        return {k: tuple(v) for k, v in found.items()}

    def _row(self, app: Application, demands: tuple[DemandView, ...]) -> QueueRow:
        a = app.answers
        expert = app.form == FormKind.EXPERT
        verdict = app.eligibility_outcome
        return QueueRow(
            id=app.id,
            reference=reference_number(app),
            form=app.form,
            status=app.status,
            status_label=STATUS_LABELS[ApplicationStatus(app.status)],
            name=(a.get("name") if expert else a.get("university_name")) or f"#{app.id}",
            employer=(a.get("employer") if expert else a.get("contact_name")) or "",
            employer_type_label=EMPLOYER_TYPES.get(a.get("employer_type"), "") if expert else "",
            title_label=TITLES.get(a.get("title"), "") if expert else "",
            province=app.province or a.get("province") or "",
            courses=tuple(a.get("courses") or ()),
            verdict=verdict,
            verdict_label=OUTCOME_LABELS.get(Outcome(verdict), verdict) if verdict in set(Outcome) else "",
            priority_score=app.priority_score,
            priority_labels=tuple(PRIORITY_CONDITIONS.get(p, p) for p in a.get("priority_conditions") or ()),
            submitted_at=app.submitted_at,
            demands=demands,
        )

    def _start_of(self, day: date) -> datetime:
        return datetime.combine(day, time(0, 0), tzinfo=self._zone).astimezone(timezone.utc)

    def _local(self, moment: datetime | None) -> str:
        return moment.astimezone(self._zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def _label(key: str, value: Any) -> str:
    vocabulary = {"education": EDUCATION_LEVELS, "available_times": AVAILABLE_TIMES}[key]
    return vocabulary.get(value, value or "")


EXPORT_CHUNK = 500


# What a row of the pool's export reads (QueueService._pool_row, core.services.intake.reference_number).
_POOL_ROW_COLUMNS = (Application.id, Application.form, Application.batch_id, Application.province, Application.answers,
                     Application.priority_score, Application.reviewed_at)


async def _chunks(uow: UnitOfWork, stmt, *, scalars: bool = True) -> AsyncIterator[Sequence[Any]]:
    """The applications `stmt` selects (with scalars=False: its rows), EXPORT_CHUNK at a time from a server-side
    cursor (PostgreSQL; SQLite reads ahead in its driver): an export of any length holds one chunk of rows, each
    let go once written."""
    stmt = stmt.execution_options(yield_per=EXPORT_CHUNK)
    result = await (uow.session.stream_scalars(stmt) if scalars else uow.session.stream(stmt))
    async for apps in result.partitions():
        yield apps  # nothing else refers to them then: the session's identity map holds them weakly
