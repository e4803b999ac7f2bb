"""The links in notices: /l/<token> opens the page a notice is about, /unsubscribe/<token> turns a kind of
reminder off. Opening a link changes nothing (mail scanners and link previews fetch links before people do):
the page it leads to has the buttons, and only the person's POST acts.

A link signs its person in for that one page only, and only when nobody is signed in on this browser: it sets
a cookie scoped to the page's path (LINK_COOKIE, see web.security); any other page asks for a code."""
from __future__ import annotations

from aiohttp import web

from core.links import LinkInvalid
from core.texts import text
from web.keys import PERSON_ID, SECURE
from web.rendering import render
from web.routes.common import core_of
from web.security import LINK_COOKIE, redirect

routes = web.RouteTableDef()

_TOKEN = r"{token:[0-9a-z._]{1,200}}"


def _invalid(request: web.Request, reason: str) -> web.Response:
    # An altered link and an unknown one read the same; an expired one says what to do instead.
    message = text("web.links.expired" if reason == "expired" else "web.links.invalid")
    return render(request, "web/message.html", status=410 if reason == "expired" else 404,
                  title=text("web.links.title"), message=message, page_kind="link-invalid")


@routes.get(f"/l/{_TOKEN}")
async def open_link(request: web.Request) -> web.Response:
    core = core_of(request)
    token = request.match_info["token"]
    try:
        grant = core.links.open(token)
    except LinkInvalid as invalid:
        return _invalid(request, invalid.reason)
    if grant.purpose == "unsubscribe":
        return redirect(f"/unsubscribe/{token}")
    if PERSON_ID in request:
        if request[PERSON_ID] == grant.person_id:
            return redirect(grant.path)
        return render(request, "web/message.html", status=403, title=text("web.links.title"),
                      message=text("web.links.other_person"), page_kind="link-other")
    response = redirect(grant.path)
    seconds = max(int((grant.expires_at - core.clock()).total_seconds()), 1)
    response.set_cookie(LINK_COOKIE, token, path=grant.cookie_path, max_age=seconds, httponly=True, samesite="Lax",
                        secure=request.app[SECURE])
    return response


@routes.get(f"/unsubscribe/{_TOKEN}")
async def unsubscribe_page(request: web.Request) -> web.Response:
    core = core_of(request)
    try:
        grant = core.links.open(request.match_info["token"], purpose="unsubscribe")
    except LinkInvalid as invalid:
        return _invalid(request, invalid.reason)
    label = core.preferences.label(str(grant.object_id)) or str(grant.object_id)
    return render(request, "web/unsubscribe.html", title=text("web.unsubscribe.title"), label=label,
                  token=request.match_info["token"], page_kind="unsubscribe")


@routes.post(f"/unsubscribe/{_TOKEN}")
async def unsubscribe(request: web.Request) -> web.Response:
    """The page's button, and RFC 8058's one-click POST from a mail provider (no cookie, no CSRF token: the
    signed link is the authority, and all it can do is turn one kind of reminder off)."""
    core = core_of(request)
    try:
        grant = core.links.open(request.match_info["token"], purpose="unsubscribe")
    except LinkInvalid as invalid:
        return _invalid(request, invalid.reason)
    form = await request.post()
    one_click = form.get("List-Unsubscribe") == "One-Click"
    kind = str(grant.object_id)
    await core.preferences.unsubscribe(grant.person_id, kind, via="one_click" if one_click else "link")
    label = core.preferences.label(kind) or kind
    return render(request, "web/message.html", title=text("web.unsubscribe.title"),
                  message=text("web.unsubscribe.done", label=label), page_kind="unsubscribed")
