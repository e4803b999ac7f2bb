"""Page 7: notifications — the outbox by state and channel, each failure with its reason, retry."""
from __future__ import annotations

from aiohttp import web

from console.auth import require
from console.keys import CORE
from console.rendering import render
from core.domain.staff import Role
from core.services.notifications import NotificationService

routes = web.RouteTableDef()


def _service(request: web.Request) -> NotificationService:
    core = request.app[CORE]
    return NotificationService.from_settings(core.settings, uow=core.uow, clock=core.clock)


@routes.get("/notifications")
@require(Role.COORDINATOR)
async def notifications(request: web.Request) -> web.StreamResponse:
    status = await _service(request).status()
    return render(request, "console/notifications.html", status=status)
