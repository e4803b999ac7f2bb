"""Page 9 (admin): batches — create, and change their dates."""
from __future__ import annotations

from datetime import date

from aiohttp import web

from console.auth import require
from core.domain.permissions import Action
from console.keys import CORE, STAFF
from console.rendering import not_found, path_id, refused, render
from core.domain import DomainError, NotFound
from core.forms.normalize import parse_date
from core.texts import text

routes = web.RouteTableDef()

DATE_FIELDS = (("opens", "报名开始日期", True), ("closes", "报名截止日期", True),
               ("matching", "匹配开始日期", False), ("publicity", "公示开始日期", False))


def _dates(form) -> dict[str, date | None]:
    """The form's dates; every unreadable or missing one is named in a single refusal."""
    values, problems = {}, []
    for key, label, required in DATE_FIELDS:
        raw = str(form.get(key, "")).strip()
        if not raw:
            if required:
                problems.append(text("console.field_required", field=label))
            values[key] = None
            continue
        values[key] = parse_date(raw)
        if values[key] is None:
            problems.append(text("console.bad_date", field=label, value=raw))
    if problems:
        raise DomainError("；".join(problems))
    return values


async def _list_page(request, *, form=None, error=None, status=200):
    core = request.app[CORE]
    batches = await core.batches.list()
    return render(request, "console/batches.html", status=status, batches=batches, form=form or {}, error=error,
                  zone=core.settings.zone)


@routes.get("/batches")
@require(Action.BATCHES_MANAGE)
async def batches(request: web.Request) -> web.StreamResponse:
    return await _list_page(request)


@routes.post("/batches")
@require(Action.BATCHES_MANAGE)
async def create_batch(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    form = await request.post()
    kept = {key: str(form.get(key, "")) for key in ("name", "opens", "closes", "matching", "publicity")}
    try:
        dates = _dates(form)
        await core.batches.create(name=kept["name"], registration_opens=dates["opens"], registration_closes=dates["closes"],
                                  matching_starts=dates["matching"], publicity_starts=dates["publicity"],
                                  actor=request[STAFF])
    except DomainError as refusal:
        return await _list_page(request, form=kept, error=refused(request, refusal), status=400)
    raise web.HTTPSeeOther("/batches?ok=batch_created")


def _batch_id(request: web.Request) -> str:
    return str(path_id(request, "batch_id"))


@routes.get("/batches/{batch_id:\\d+}")
@require(Action.BATCHES_MANAGE)
async def edit_batch(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    try:
        batch = await core.batches.get(ref=_batch_id(request))
    except NotFound:
        not_found(request)
    return render(request, "console/batch_edit.html", batch=batch, form=None, error=None, zone=core.settings.zone)


@routes.post("/batches/{batch_id:\\d+}")
@require(Action.BATCHES_MANAGE)
async def update_batch(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    ref = _batch_id(request)
    try:
        batch = await core.batches.get(ref=ref)
    except NotFound:
        not_found(request)
    form = await request.post()
    kept = {key: str(form.get(key, "")) for key in ("opens", "closes", "matching", "publicity")}
    try:
        dates = _dates(form)
        await core.batches.update(ref=ref, registration_opens=dates["opens"], registration_closes=dates["closes"],
                                  matching_starts=dates["matching"], publicity_starts=dates["publicity"],
                                  actor=request[STAFF])
    except DomainError as refusal:
        return render(request, "console/batch_edit.html", status=400, batch=batch, form=kept, error=refused(request, refusal),
                      zone=core.settings.zone)
    raise web.HTTPSeeOther("/batches?ok=batch_updated")
