"""/_mailbox: the local mailbox, only on this machine and only when no SMTP server is configured."""
from __future__ import annotations

from aiohttp import web

from core.texts import text
from web.keys import EMAILS
from web.mailbox import is_loopback, mailbox_entries
from web.rendering import render
from web.routes.common import core_of

routes = web.RouteTableDef()


@routes.get("/_mailbox")
async def mailbox(request: web.Request) -> web.Response:
    core = core_of(request)
    if core.settings.smtp_host or not is_loopback(request.remote, request.headers):
        raise web.HTTPNotFound()  # the same page as any missing address
    entries = await mailbox_entries(core, request.app[EMAILS])
    return render(request, "web/mailbox.html", title=text("web.mailbox.title"), entries=entries)
