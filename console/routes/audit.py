"""Page 8: the audit log, searchable by actor (a staff member's name), subject and action."""
from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from console.auth import require
from core.domain.permissions import Action
from console.keys import CORE, STAFF
from console.rendering import query_id, render
from core.forms.normalize import parse_date
from core.texts import text

routes = web.RouteTableDef()

FIELDS = ("actor", "subject", "action", "from", "to")


@routes.get("/audit")
@require(Action.AUDIT_READ)
async def audit_log(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    filters = {key: request.query.get(key, "").strip()[:100] for key in FIELDS if request.query.get(key, "").strip()}
    problems = []
    days = {}
    for key, label in (("from", "起始日期"), ("to", "截止日期")):
        if key in filters:
            days[key] = parse_date(filters[key])
            if days[key] is None:
                problems.append(text("console.filter_bad_date", field=label, value=filters[key]))
    actor_query = filters.get("actor", "")
    page = await core.audit.search(
        staff=request[STAFF], actor_query=actor_query, subject=filters.get("subject", ""),
        action=filters.get("action", ""), day_from=days.get("from"), day_to=days.get("to"),
        before=query_id(request, "before"),
    )
    next_url = f"/audit?{urlencode({**filters, 'before': page.next_before})}" if page.next_before else None
    return render(request, "console/audit.html", page=page, filters=filters, problems=problems, next_url=next_url)
