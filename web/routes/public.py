"""The landing page: who runs the plan and why, the two roles, the batch and its deadline."""
from __future__ import annotations

from aiohttp import web

from core.formatting import format_datetime_cn
from core.texts import text
from web.rendering import render
from web.routes.common import core_of

routes = web.RouteTableDef()


@routes.get("/")
async def landing(request: web.Request) -> web.Response:
    core = core_of(request)
    batch = await core.batches.current()
    now = core.clock()
    if batch is None:
        batch_line, state = text("web.landing.batch_closed"), "closed"
    elif batch.registration_opens_at > now:
        batch_line, state = text("web.landing.batch_upcoming", batch=batch.name,
                                 opens=format_datetime_cn(batch.registration_opens_at),
                                 deadline=format_datetime_cn(batch.registration_closes_at)), "upcoming"
    else:
        batch_line, state = text("web.landing.batch_open", batch=batch.name,
                                 deadline=format_datetime_cn(batch.registration_closes_at)), "open"
    flash = None
    if request.query.get("signed_out") == "here":
        flash = text("web.signed_out")
    elif request.query.get("signed_out") == "everywhere":
        flash = text("web.signed_out_all")
    elif request.query.get("declined") == "1":
        flash = text("consent.declined")
    return render(request, "web/landing.html", title=text("web.landing.title"), batch_line=batch_line,
                  batch_state=state, notice=flash)
