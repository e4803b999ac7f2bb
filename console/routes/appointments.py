"""Console pages: confirmed pairs by state, starting publicity (公示), objections, agreements, filing (备案), their xlsx.

Starting publicity shows its period first: a GET with `starts_on` computes the end date for the chosen start
(server-side, no script), and the POST that starts it carries that start, so staff start what they saw."""
from __future__ import annotations

from datetime import datetime

from aiohttp import web

from console.auth import require
from core.domain.permissions import Action
from console.keys import CORE, STAFF
from console.rendering import act_then_redirect, form_id, form_integer, not_found, path_id, render
from core.domain import DomainError, NotFound
from core.domain.appointments import APPOINTMENT_LABELS, MAX_AGREEMENT_YEARS, AppointmentStatus
from core.domain.limits import MAX_AGREEMENT_HOURS
from console.spreadsheets import send_xlsx
from core.exports import publicity_workbook, write_filing_workbook
from core.forms.normalize import parse_date
from core.texts import text

routes = web.RouteTableDef()

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OBJECTION_OUTCOMES = {"pending": None, "dismissed": False, "upheld": True}


def _xlsx(content: bytes, filename: str) -> web.Response:
    response = web.Response(body=content, content_type=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _preview(core, raw: object):
    """(the publicity period for the start typed, or for the next working day; the refusal of what was typed)."""
    raw = str(raw or "").strip()
    if raw:
        try:
            return core.appointments.publicity_preview(starts_on=_date(raw, "公示开始日期")), None
        except DomainError as refusal:
            return core.appointments.publicity_preview(), refusal.message
    return core.appointments.publicity_preview(), None


async def _list(request: web.Request, *, error: str | None = None, entered: dict | None = None,
                status: int = 200) -> web.Response:
    core = request.app[CORE]
    state = request.query.get("status", "")
    chosen = [state] if state in {s.value for s in AppointmentStatus} else None
    listed = await core.appointments.list(statuses=chosen, staff=request[STAFF])
    everything = await core.appointments.list(staff=request[STAFF]) if chosen else listed
    counts: dict[str, int] = {}
    for view in everything:
        counts[view.status] = counts.get(view.status, 0) + 1
    in_publicity = [a for a in listed if a.publicity_starts_on]
    years = {y for a in in_publicity for y in (a.publicity_starts_on.year, a.publicity_ends_on.year)}
    awaiting = [a for a in everything if a.status == AppointmentStatus.ACCEPTED] if state in ("", "accepted") else []
    posted = await request.post() if entered is not None else None
    preview, preview_error = _preview(core, entered.get("starts_on") if entered else request.query.get("starts_on"))
    return render(request, "console/appointments.html", status=status, listed=listed,
                  current_status=state if chosen else "", counts=counts,
                  labels={s.value: label for s, label in APPOINTMENT_LABELS.items()},
                  publicity_days=core.settings.publicity_working_days,
                  calendar_warnings=core.appointments.calendar_warnings(years=years),
                  awaiting=awaiting, preview=preview, error=error or preview_error,
                  picked={str(v) for v in posted.getall("appointment", [])} if posted is not None else set(),
                  today=core.clock().astimezone(core.settings.zone).date())


@routes.get("/appointments")
@require(Action.APPOINTMENTS_VIEW)
async def appointments(request: web.Request) -> web.Response:
    return await _list(request)


@routes.post("/appointments/publicity")
@require(Action.PUBLICITY_START)
async def start_publicity(request: web.Request) -> web.StreamResponse:
    """Start the publicity of the ticked pairs, all or none, from the start whose end date the page showed."""
    async def start(posted):
        await request.app[CORE].appointments.start_publicity(
            appointment_ids=[form_id(v, "聘任", key="appointment") for v in posted.getall("appointment", [])],
            starts_on=_date(posted.get("starts_on"), "公示开始日期"), staff=request[STAFF])

    return await act_then_redirect(request, act=start, redisplay=_list,
                                   done_url="/appointments?status=publicity&ok=publicity_started")


@routes.get("/appointments/publicity.xlsx")
@require(Action.APPOINTMENTS_VIEW)
async def publicity_export(request: web.Request) -> web.Response:
    listed = await request.app[CORE].appointments.list(statuses=[AppointmentStatus.PUBLICITY], staff=request[STAFF])
    return _xlsx(publicity_workbook(listed), "publicity.xlsx")


@routes.get("/appointments/filing.xlsx")
@require(Action.APPOINTMENTS_VIEW)
async def filing_export(request: web.Request) -> web.StreamResponse:
    chunks = request.app[CORE].appointments.chunks(statuses=[AppointmentStatus.AGREED, AppointmentStatus.FILED],
                                                   staff=request[STAFF])
    return await send_xlsx(request, lambda target: write_filing_workbook(target, chunks), "filing.xlsx")


async def _detail(request: web.Request, *, error: str | None = None, entered: dict | None = None,
                  status: int = 200) -> web.Response:
    core = request.app[CORE]
    try:
        view = await core.appointments.get(appointment_id=path_id(request, "appointment_id"), staff=request[STAFF])
    except NotFound:
        not_found(request)
    actor_names = await core.staff.actor_names()
    objections = [{**o, "at": datetime.fromisoformat(o["at"])} for o in view.objections]
    preview = preview_error = None
    if view.status == AppointmentStatus.ACCEPTED:
        preview, preview_error = _preview(core, (entered or {}).get("starts_on") or request.query.get("starts_on"))
    return render(request, "console/appointment.html", status=status, a=view, error=error or preview_error,
                  entered=entered or {}, objections=objections, preview=preview,
                  label=APPOINTMENT_LABELS[AppointmentStatus(view.status)], max_years=MAX_AGREEMENT_YEARS,
                  max_hours=MAX_AGREEMENT_HOURS,
                  publicity_days=core.settings.publicity_working_days, actor_names=actor_names,
                  today=core.clock().astimezone(core.settings.zone).date())


@routes.get("/appointments/{appointment_id:\\d+}")
@require(Action.APPOINTMENTS_VIEW)
async def appointment(request: web.Request) -> web.Response:
    return await _detail(request)


def _date(raw: object, field: str):
    value = parse_date(str(raw or ""))
    if value is None:
        raise DomainError(text("console.bad_date", field=field, value=raw or ""))
    return value


async def _act(request: web.Request, action, done: str) -> web.StreamResponse:
    object_id = path_id(request, "appointment_id")
    return await act_then_redirect(
        request,
        act=lambda posted: action(request.app[CORE].appointments, object_id, posted, request[STAFF]),
        redisplay=_detail, done_url=f"/appointments/{object_id}?ok={done}",
    )


@routes.post("/appointments/{appointment_id:\\d+}/publicity")
@require(Action.PUBLICITY_START)
async def publicity(request: web.Request) -> web.StreamResponse:
    async def start(service, appointment_id, posted, staff):
        await service.start_publicity(appointment_ids=[appointment_id], staff=staff,
                                      starts_on=_date(posted.get("starts_on"), "公示开始日期"))

    return await _act(request, start, "publicity_started")


@routes.post("/appointments/{appointment_id:\\d+}/objection")
@require(Action.OBJECTION_RECORD)
async def objection(request: web.Request) -> web.StreamResponse:
    async def record(service, appointment_id, posted, staff):
        outcome = str(posted.get("outcome", "pending"))
        if outcome not in OBJECTION_OUTCOMES:
            raise DomainError(text("console.filter_unknown", field="处理结果", value=outcome))
        await service.record_objection(appointment_id=appointment_id, staff=staff, note=str(posted.get("note", "")),
                                       upheld=OBJECTION_OUTCOMES[outcome])

    return await _act(request, record, "objection_recorded")


@routes.post("/appointments/{appointment_id:\\d+}/agreement")
@require(Action.AGREEMENT_RECORD)
async def agreement(request: web.Request) -> web.StreamResponse:
    async def record(service, appointment_id, posted, staff):
        await service.record_agreement(
            appointment_id=appointment_id, staff=staff, signed_on=_date(posted.get("signed_on"), "协议签订日期"),
            # Only a number is checked here: the term's rule (at most MAX_AGREEMENT_YEARS) is the service's, which
            # names it together with the agreement's other problems.
            term_years=form_integer(posted.get("term_years"), "聘期（年）", key="term_years", minimum=1, maximum=99),
            hours=form_integer(posted.get("hours"), "授课学时", key="hours", minimum=1, maximum=MAX_AGREEMENT_HOURS),
            content=str(posted.get("content", "")), employer_consent=posted.get("employer_consent") == "yes",
        )

    return await _act(request, record, "agreement_recorded")


@routes.post("/appointments/{appointment_id:\\d+}/filing")
@require(Action.FILING_RECORD)
async def filing(request: web.Request) -> web.StreamResponse:
    async def record(service, appointment_id, posted, staff):
        await service.record_filing(appointment_id=appointment_id, staff=staff,
                                    filed_on=_date(posted.get("filed_on"), "备案日期"), note=str(posted.get("note", "")))

    return await _act(request, record, "filing_recorded")
