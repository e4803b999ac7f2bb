"""Page 1: the dashboard — the open batch, counts per state, charts, waiting reviews, failed notifications."""
from __future__ import annotations

from aiohttp import web

from console.auth import require
from core.domain.permissions import Action
from console.dashboard_data import load_dashboard
from console.keys import CORE, STAFF
from console.rendering import query_id, render

routes = web.RouteTableDef()


@routes.get("/")
@require(Action.REVIEW_READ)
async def dashboard(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    board = await load_dashboard(core.figures, staff=request[STAFF], zone=core.settings.zone, now=core.clock(),
                                 batch_id=query_id(request, "batch"))
    return render(request, "console/dashboard.html", board=board, zone=core.settings.zone)
