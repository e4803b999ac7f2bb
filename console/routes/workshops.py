"""Console pages: workshops and other events — create, change, cancel, invite an audience, RSVP tally."""
from __future__ import annotations

from aiohttp import web

from console.auth import require
from core.domain.permissions import Action
from console.keys import CORE, STAFF
from console.rendering import act_then_redirect, form_id, not_found, path_id, refused, render
from core.domain import DomainError, NotFound
from core.domain.limits import shown
from core.services.events import AUDIENCES, EVENT_KINDS, RSVP_LABELS, parse_event_time
from core.texts import text

routes = web.RouteTableDef()

FIELDS = {"title": "活动名称", "starts_at": "开始时间", "ends_at": "结束时间"}


def _when(request: web.Request, raw: object, key: str):
    value = str(raw or "").strip()
    if not value:
        raise DomainError(text("console.field_required", field=FIELDS[key]), field=key)
    moment = parse_event_time(value, request.app[CORE].settings.zone)
    if moment is None:
        raise DomainError(text("console.bad_datetime", field=FIELDS[key], value=shown(value)), field=key)
    return moment


def _local_input(moment, zone) -> str:
    """A stored moment as a datetime-local input shows it (Beijing time)."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


async def _list_page(request: web.Request, *, error: str | None = None, entered: dict | None = None,
                     status: int = 200) -> web.Response:
    core = request.app[CORE]
    show_all = request.query.get("all") == "1"
    events = await core.events.list(include_past=show_all, include_cancelled=show_all, staff=request[STAFF])
    return render(request, "console/workshops.html", status=status, events=events, kinds=EVENT_KINDS, error=error,
                  entered=entered or {}, show_all=show_all)


@routes.get("/workshops")
@require(Action.EVENTS_VIEW)
async def workshops(request: web.Request) -> web.Response:
    return await _list_page(request)


@routes.post("/workshops")
@require(Action.EVENTS_MANAGE)
async def create(request: web.Request) -> web.StreamResponse:
    posted = await request.post()
    try:
        event = await request.app[CORE].events.create(
            kind=str(posted.get("kind", "")), title=str(posted.get("title", "")),
            starts_at=_when(request, posted.get("starts_at"), "starts_at"),
            ends_at=_when(request, posted.get("ends_at"), "ends_at"),
            venue=str(posted.get("venue", "")), online_url=str(posted.get("online_url", "")),
            description=str(posted.get("description", "")), actor=request[STAFF],
        )
    except DomainError as refusal:
        return await _list_page(request, error=refused(request, refusal), entered=dict(posted), status=400)
    raise web.HTTPSeeOther(f"/workshops/{event.id}?ok=workshop_created")


async def _detail(request: web.Request, *, error: str | None = None, entered: dict | None = None,
                  status: int = 200) -> web.Response:
    core = request.app[CORE]
    event_id = path_id(request, "event_id")
    try:
        event = await core.events.get(event_id=event_id, staff=request[STAFF])
        invitations = await core.events.invitations(event_id=event_id, staff=request[STAFF])
    except NotFound:
        not_found(request)
    zone = core.settings.zone
    values = {"title": event.title, "starts_at": _local_input(event.starts_at, zone),
              "ends_at": _local_input(event.ends_at, zone), "venue": event.venue or "",
              "online_url": event.online_url or "", "description": event.description or ""}
    values.update(entered or {})
    batches = await core.batches.list()
    return render(request, "console/workshop.html", status=status, event=event, invitations=invitations, error=error,
                  values=values, audiences=AUDIENCES, rsvp_labels=RSVP_LABELS, batches=batches)


@routes.get("/workshops/{event_id:\\d+}")
@require(Action.EVENTS_VIEW)
async def workshop(request: web.Request) -> web.Response:
    return await _detail(request)


async def _act(request: web.Request, action, done: str) -> web.StreamResponse:
    object_id = path_id(request, "event_id")
    return await act_then_redirect(
        request,
        act=lambda posted: action(request.app[CORE].events, object_id, posted, request[STAFF]),
        redisplay=_detail, done_url=f"/workshops/{object_id}?ok={done}",
    )


@routes.post("/workshops/{event_id:\\d+}/update")
@require(Action.EVENTS_MANAGE)
async def update(request: web.Request) -> web.StreamResponse:
    async def change(service, event_id, posted, actor):
        await service.update(
            event_id=event_id, actor=actor, title=str(posted.get("title", "")),
            starts_at=_when(request, posted.get("starts_at"), "starts_at"),
            ends_at=_when(request, posted.get("ends_at"), "ends_at"),
            venue=str(posted.get("venue", "")), online_url=str(posted.get("online_url", "")),
            description=str(posted.get("description", "")),
        )

    return await _act(request, change, "workshop_updated")


@routes.post("/workshops/{event_id:\\d+}/cancel")
@require(Action.EVENTS_MANAGE)
async def cancel(request: web.Request) -> web.StreamResponse:
    async def call_off(service, event_id, posted, actor):
        await service.cancel(event_id=event_id, actor=actor, reason=str(posted.get("reason", "")))

    return await _act(request, call_off, "workshop_cancelled")


@routes.post("/workshops/{event_id:\\d+}/invite")
@require(Action.EVENTS_MANAGE)
async def invite(request: web.Request) -> web.StreamResponse:
    async def send(service, event_id, posted, actor):
        batch = str(posted.get("batch_id", "")).strip()
        await service.invite(event_id=event_id, actor=actor, audience=str(posted.get("audience", "")),
                             batch_id=form_id(batch, "批次", key="batch_id") if batch else None)

    return await _act(request, send, "workshop_invited")
