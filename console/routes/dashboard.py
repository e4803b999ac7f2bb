"""Page 1: the dashboard — the open batch, counts per state, charts, waiting reviews, failed notifications."""
from __future__ import annotations

from aiohttp import web

from console.auth import require
from console.rendering import render
from core.domain.staff import Role

routes = web.RouteTableDef()


@routes.get("/")
@require(Role.REVIEWER)
async def dashboard(request: web.Request) -> web.StreamResponse:
    return render(request, "console/dashboard.html")
