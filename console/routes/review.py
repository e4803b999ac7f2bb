"""Console pages: the review queue, one application with its proof files, and the reviewer's decisions."""
from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from aiohttp import web

from console.auth import require
from core.domain.permissions import Action
from console.keys import CORE, STAFF
from console.rendering import not_found, path_id, refused, render
from core.domain import CORE_COURSES, DomainError, FormKind, NotFound
from core.domain.limits import SEARCH, parse_int
from core.domain.status import STATUS_LABELS, ApplicationStatus
from core.domain.vocabulary import EMPLOYER_TYPES, PRIORITY_CONDITIONS, PROVINCES, TEACHING_MODES
from core.eligibility import OUTCOME_LABELS
from core.services.queue import QueueFilters, QueueOrder, QueueService
from core.texts import text

__all__ = ["routes", "queue_service", "filters_from", "FilterForm", "PAGE_SIZE", "POOL"]

routes = web.RouteTableDef()

PAGE_SIZE = 50
# The status filter's 'every state' choice, kept in links so that it is not mistaken for the default.
ALL_STATES = "all"
MAX_PAGE_SIZE = 200
# The query parameters a list page understands; the same ones travel to a detail page for next/previous.
FILTER_KEYS = (
    "status", "verdict", "course", "province", "employer_type", "priority", "mode", "member", "from", "to", "q", "size",
)
# What a browser may show inline; anything else is offered as a download.
INLINE_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})


# The pool: approved experts, highest priority score first.
POOL = dict(form=FormKind.EXPERT.value, statuses=(ApplicationStatus.APPROVED.value,), order=QueueOrder.PRIORITY_FIRST,
            fixed_status=True)


def queue_service(request: web.Request) -> QueueService:
    core = request.app[CORE]
    return QueueService(uow=core.uow, intake=core.intake, documents=core.documents, zone=core.settings.zone,
                        clock=core.clock)


class FilterForm:
    """The filters as typed in the page, what they mean, and what in them could not be understood."""

    def __init__(self, query, *, form: str | None, statuses: tuple[str, ...] = (), order: str = QueueOrder.OLDEST_FIRST,
                 fixed_status: bool = False, default_status: str | None = None) -> None:
        self.values = {key: query.get(key, "").strip() for key in FILTER_KEYS}
        if default_status and "status" not in query:
            self.values["status"] = default_status  # the queue opens on what waits for review
        self.problems: list[str] = []
        if len(self.values["q"]) > SEARCH.max:
            self.problems.append(text("limits.too_long", field=SEARCH.label, max=SEARCH.max, got=len(self.values["q"])))
            self.values["q"] = self.values["q"][:SEARCH.max]
        status = self.values["status"]
        if not fixed_status and status and status != ALL_STATES:
            if status in {s.value for s in ApplicationStatus}:
                statuses = (status,)
            else:
                self.problems.append(text("console.filter_unknown", field="状态", value=status))
        self.filters = QueueFilters(
            form=form,
            statuses=statuses,
            verdict=self._choice("verdict", OUTCOME_LABELS, "资格初审结论"),
            course=self._choice("course", {c: c for c in CORE_COURSES}, "课程"),
            province=self._choice("province", {p: p for p in PROVINCES}, "省份"),
            employer_type=self._choice("employer_type", EMPLOYER_TYPES, "单位类型"),
            priority_condition=self._choice("priority", PRIORITY_CONDITIONS, "优先条件"),
            teaching_mode=self._choice("mode", TEACHING_MODES, "授课方式"),
            society_member={"yes": True, "no": False}.get(self.values["member"]),
            submitted_from=self._date("from", "提交日期（起）"),
            submitted_to=self._date("to", "提交日期（止）"),
            search=self.values["q"] or None,
            order=order,
        )

    def _choice(self, key: str, allowed, field: str) -> str | None:
        value = self.values[key]
        if not value:
            return None
        if value in allowed:
            return value
        self.problems.append(text("console.filter_unknown", field=field, value=value))
        return None

    def _date(self, key: str, field: str) -> date | None:
        value = self.values[key]
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.problems.append(text("console.filter_bad_date", field=field, value=value))
            return None

    def query_string(self, **extra: str) -> str:
        pairs = {k: v for k, v in self.values.items() if v}
        pairs.update({k: v for k, v in extra.items() if v})
        return urlencode(pairs)


def filters_from(request: web.Request, **options) -> FilterForm:
    return FilterForm(request.query, **options)


def choices() -> dict:
    return {
        "statuses": [(s.value, STATUS_LABELS[s]) for s in ApplicationStatus if s is not ApplicationStatus.DRAFT],
        "verdicts": list(OUTCOME_LABELS.items()),
        "courses": list(CORE_COURSES),
        "provinces": list(PROVINCES),
        "employer_types": list(EMPLOYER_TYPES.items()),
        "priority_conditions": list(PRIORITY_CONDITIONS.items()),
        "teaching_modes": list(TEACHING_MODES.items()),
    }


def page_size(request: web.Request) -> int:
    raw = request.query.get("size", "")
    size = parse_int(raw)
    return min(max(size, 10), MAX_PAGE_SIZE) if size is not None else PAGE_SIZE


async def queue_page(request: web.Request, form: FilterForm):
    return await queue_service(request).page(
        filters=form.filters, staff=request[STAFF], after=request.query.get("after") or None, before=request.query.get("before") or None,
        limit=page_size(request),
    )


@routes.get("/applications")
@require(Action.REVIEW_READ)
async def review_queue(request: web.Request) -> web.Response:
    form = filters_from(request, form=FormKind.EXPERT.value, default_status=ApplicationStatus.SUBMITTED.value)
    page = await queue_page(request, form)
    return render(request, "console/review_queue.html", page=page, form=form, choices=choices(), title="专家申请审核",
                  list_path="/applications", detail_query=form.query_string())


@routes.get("/applications/{application_id:\\d+}")
@require(Action.REVIEW_READ)
async def application_detail(request: web.Request) -> web.Response:
    return await detail_page(request)


async def detail_page(request: web.Request, *, error: str | None = None, entered: dict | None = None,
                      status: int = 200) -> web.Response:
    application_id = path_id(request, "application_id")
    kind = request.query.get("list", "")
    if kind == "intents":
        form = filters_from(request, form=FormKind.UNIVERSITY.value)
    elif kind == "pool":
        form = filters_from(request, **POOL)
    else:
        form = filters_from(request, form=FormKind.EXPERT.value, default_status=ApplicationStatus.SUBMITTED.value)
    try:
        detail = await queue_service(request).detail(application_id=application_id, filters=form.filters,
                                                      staff=request[STAFF])
    except NotFound:
        not_found(request)
    back = {"intents": "/intents", "pool": "/pool"}.get(kind) or (
        "/intents" if detail.summary.form == FormKind.UNIVERSITY else "/applications")
    # Chat and console actions of one staff member show under one name.
    actor_names = await request.app[CORE].staff.actor_names()
    return render(
        request, "console/application.html", status=status, detail=detail, error=error, entered=entered or {},
        actor_names=actor_names,
        back=back, list_query=form.query_string(), neighbour_query=form.query_string(list=kind),
        outcome_labels=OUTCOME_LABELS, inline_types=INLINE_TYPES,
    )


async def _decide(request: web.Request, action: str) -> web.StreamResponse:
    application_id = path_id(request, "application_id")
    posted = await request.post()
    message = str(posted.get("message", ""))
    staff = request[STAFF]
    review = request.app[CORE].review
    try:
        if action == "approve":
            await review.approve(application_id=application_id, staff=staff, note=message.strip() or None)
        elif action == "reject":
            await review.reject(application_id=application_id, staff=staff, reason=message)
        else:
            await review.request_info(application_id=application_id, staff=staff, message=message)
    except NotFound:
        not_found(request)
    except DomainError as refusal:
        # The reason typed so far stays in the box; the refusal says what to change.
        return await detail_page(request, error=refused(request, refusal), entered={action: message}, status=400)
    query = str(posted.get("return_query", ""))
    done = {"approve": "approved", "reject": "rejected", "request-info": "needs_info"}[action]
    raise web.HTTPSeeOther(f"/applications/{application_id}?ok={done}" + (f"&{query}" if query else ""))


@routes.post("/applications/{application_id:\\d+}/approve")
@require(Action.REVIEW_DECIDE)
async def approve(request: web.Request) -> web.StreamResponse:
    return await _decide(request, "approve")


@routes.post("/applications/{application_id:\\d+}/reject")
@require(Action.REVIEW_DECIDE)
async def reject(request: web.Request) -> web.StreamResponse:
    return await _decide(request, "reject")


@routes.post("/applications/{application_id:\\d+}/request-info")
@require(Action.REVIEW_DECIDE)
async def request_info(request: web.Request) -> web.StreamResponse:
    return await _decide(request, "request-info")


@routes.get("/applications/{application_id:\\d+}/documents/{document_id:\\d+}")
@require(Action.REVIEW_READ)
async def document(request: web.Request) -> web.StreamResponse:
    try:
        view, content = await queue_service(request).document(
            application_id=path_id(request, "application_id"), document_id=path_id(request, "document_id"),
            staff=request[STAFF])
    except NotFound:
        not_found(request)
    inline = view.mime in INLINE_TYPES
    name = f"document-{view.id}" + {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(view.mime, "")
    response = web.Response(body=content, content_type=view.mime if inline else "application/octet-stream")
    response.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Framed by the application's own page only. An image may load nothing else; a PDF needs the browser's
    # built-in viewer, which a default-src 'none' policy would block (the page then stays blank).
    response.headers["Content-Security-Policy"] = (
        "frame-ancestors 'self'" if view.mime == "application/pdf" else "default-src 'none'; img-src 'self'; frame-ancestors 'self'")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
