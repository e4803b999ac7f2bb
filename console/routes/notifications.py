"""Page 7: notifications — the outbox by state and channel, each failure with its reason, retry one or many."""
from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from console.auth import require
from core.domain.permissions import Action
from console.keys import CORE, STAFF
from console.rendering import form_id, query_id, refused, render
from core.domain import DomainError
from core.services.common import CHANNELS
from core.services.notifications import OUTBOX_STATES, NotificationService
from core.texts import text

routes = web.RouteTableDef()


def _service(request: web.Request) -> NotificationService:
    core = request.app[CORE]
    return NotificationService.from_settings(core.settings, uow=core.uow, clock=core.clock)


def _filters(source) -> dict[str, str]:
    return {key: str(source.get(key, "")).strip() for key in ("status", "channel", "kind") if str(source.get(key, "")).strip()}


async def _page(request: web.Request, *, filters: dict[str, str] | None = None, error: str | None = None,
                status: int = 200) -> web.StreamResponse:
    filters = _filters(request.query) if filters is None else filters
    service, staff = _service(request), request[STAFF]
    page = await service.outbox(staff=staff, status=filters.get("status"), channel=filters.get("channel"),
                                kind=filters.get("kind"), before=query_id(request, "before"))
    summary = await service.status(staff=staff)
    next_url = f"/notifications?{urlencode({**filters, 'before': page.next_before})}" if page.next_before else None
    return render(request, "console/notifications.html", status=status, page=page, summary=summary, filters=filters,
                  states=OUTBOX_STATES, channels=CHANNELS, next_url=next_url, error=error,
                  query=urlencode(filters))


@routes.get("/notifications")
@require(Action.NOTIFICATIONS_VIEW)
async def notifications(request: web.Request) -> web.StreamResponse:
    return await _page(request)


@routes.post("/notifications/retry")
@require(Action.NOTIFICATIONS_RETRY)
async def retry(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    staff = request[STAFF]
    back = _filters(form)
    service = _service(request)
    if form.get("all_failed") == "1":
        count = await service.retry(all_failed=True, actor=staff)
    else:
        try:
            ids = sorted({form_id(v, "通知", key="id") for v in form.getall("id", [])})
            if not ids:
                raise DomainError(text("console.retry_none_selected"))
            count = await service.retry(message_ids=ids, actor=staff)
        except DomainError as refusal:
            return await _page(request, filters=back, error=refused(request, refusal), status=400)
    raise web.HTTPSeeOther(f"/notifications?{urlencode({**back, 'ok': 'retried', 'count': count})}")
