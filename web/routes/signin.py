"""Notice and consent first, then the address, then the one-time code; sign out here or everywhere."""
from __future__ import annotations

import base64
import json

from aiohttp import web

from core.dialog import Action
from core.domain import DomainError
from core.services.people import mask_identifier
from core.texts import text
from web.keys import HANDOFFS, PERSON_ID, SECURE, SESSION_ID
from web.rendering import render
from web.routes.common import core_of, person_of, signed_in
from web.security import (
    SESSION_MAX_AGE,
    clear_session_cookie,
    client_ip,
    redirect,
    set_anonymous_csrf,
    set_session_cookie,
)

routes = web.RouteTableDef()

# The notice was agreed to on this browser before any address was asked (recorded on the person at sign-in).
NOTICE_COOKIE = "innoeng_web_notice"
# The address the code went to, between the address page and the code page (not in the URL: no logs keep it).
PENDING_COOKIE = "innoeng_web_signin"
PENDING_MAX_AGE = 30 * 60


def _cookie(request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="Lax",
                        secure=request.app[SECURE])


def _drop(request: web.Request, response: web.StreamResponse, name: str) -> None:
    response.del_cookie(name, path="/", secure=request.app[SECURE], httponly=True, samesite="Lax")


def _pending(request: web.Request) -> tuple[str, str] | None:
    raw = request.cookies.get(PENDING_COOKIE, "")
    try:
        channel, address = json.loads(base64.urlsafe_b64decode(raw.encode()).decode())
    except (ValueError, TypeError):
        return None
    if channel not in ("email", "mobile") or not isinstance(address, str):
        return None
    return channel, address


def _encode_pending(channel: str, address: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([channel, address]).encode()).decode()


def channel_of(address: str) -> str:
    return "email" if "@" in address else "mobile"


def _notice_page(request: web.Request, *, status: int = 200) -> web.Response:
    screen = core_of(request).dialog.consent_screen()
    return render(request, "web/consent.html", status=status, title=screen.title, screen=screen,
                  notice_text=screen.notice_with_rights(text("web.rights")), lead=text("web.notice.lead"),
                  form_action="/signin/notice")


def _address_page(request: web.Request, *, status: int = 200, error: str | None = None, typed: str = "",
                  notice: str | None = None) -> web.Response:
    title = text("web.signin.title")
    return render(request, "web/signin.html", status=status, title=(text("web.error_prefix") + title) if error else title,
                  error=error, typed=typed, notice=notice)


@routes.get("/signin")
async def signin_page(request: web.Request) -> web.Response:
    if PERSON_ID in request:
        return redirect("/apply")
    if request.cookies.get(NOTICE_COOKIE) != "1":
        return _notice_page(request)
    notice = text("web.signin.expired") if request.query.get("again") == "1" else None
    return _address_page(request, notice=notice)


@routes.post("/signin/notice")
async def signin_notice(request: web.Request) -> web.Response:
    form = await request.post()
    if form.get("action") == Action.AGREE.value:
        response = redirect("/signin")
        _cookie(request, response, NOTICE_COOKIE, "1", 24 * 3600)
        return response
    response = redirect("/?declined=1")
    _drop(request, response, NOTICE_COOKIE)
    return response


@routes.post("/signin")
async def signin_send(request: web.Request) -> web.Response:
    if request.cookies.get(NOTICE_COOKIE) != "1":
        return redirect("/signin")  # the notice first, always
    form = await request.post()
    typed = str(form.get("address", "")).strip()[:254]
    if not typed:
        return _address_page(request, status=422, error=text("web.signin.address_missing"))
    channel = channel_of(typed)
    try:
        sent = await core_of(request).signin.request_code(channel=channel, address=typed, ip=client_ip(request))
    except DomainError as refusal:  # an address that is not one, or a throttle (the same words as elsewhere)
        return _address_page(request, status=422, error=refusal.message, typed=typed)
    response = redirect("/signin/code")
    _cookie(request, response, PENDING_COOKIE, _encode_pending(sent.channel, sent.address), PENDING_MAX_AGE)
    return response


def _code_page(request: web.Request, channel: str, address: str, *, status: int = 200, error: str | None = None,
               notice: str | None = None) -> web.Response:
    policy = core_of(request).signin.policy
    title = text("web.signin.code_title")
    return render(request, "web/code.html", status=status, title=(text("web.error_prefix") + title) if error else title,
                  error=error, notice=notice, help_line=text(f"web.signin.code_help.{channel}"),
                  sent_line=text("web.signin.code_sent", address=mask_identifier(channel, address),
                                 minutes=int(policy.code_valid.total_seconds() // 60)))


@routes.get("/signin/code")
async def code_page(request: web.Request) -> web.Response:
    if PERSON_ID in request:
        return redirect("/apply")
    pending = _pending(request)
    if pending is None:
        return redirect("/signin?again=1")
    return _code_page(request, *pending)


@routes.post("/signin/code")
async def code_verify(request: web.Request) -> web.Response:
    pending = _pending(request)
    if pending is None:
        return redirect("/signin?again=1")
    channel, address = pending
    core = core_of(request)
    form = await request.post()
    if form.get("action") == "resend":
        try:
            await core.signin.request_code(channel=channel, address=address, ip=client_ip(request))
        except DomainError as refusal:
            return _code_page(request, channel, address, status=422, error=refusal.message)
        return redirect("/signin/code")
    try:
        person = await core.signin.verify(channel=channel, address=address, code=str(form.get("code", ""))[:32],
                                          ip=client_ip(request))
    except DomainError as refusal:
        return _code_page(request, channel, address, status=422, error=refusal.message)
    if SESSION_ID in request:  # signing in again on this browser: the old session ends, a new id begins
        await core.signin.close(session_id=request[SESSION_ID])
    session_id = await core.signin.open_session(person_id=person.id, user_agent=request.headers.get("User-Agent"),
                                                ip=client_ip(request))
    if request.cookies.get(NOTICE_COOKIE) == "1" and not person.consented:
        await core.dialog.act(person.id, Action.AGREE, "consent")  # the notice agreed to before the address
    # A Telegram applicant signing in with the address on their application is offered to continue it here.
    response = redirect("/link" if await core.signin.claimable(person_id=person.id) else "/apply")
    set_session_cookie(request, response, session_id)
    _drop(request, response, PENDING_COOKIE)
    _drop(request, response, NOTICE_COOKIE)
    return response


@routes.post("/signout")
@signed_in
async def signout(request: web.Request) -> web.Response:
    core = core_of(request)
    form = await request.post()
    request.app[HANDOFFS].drop_person(person_of(request))
    if form.get("scope") == "everywhere":
        await core.signin.close_all(person_id=person_of(request))
        response = redirect("/?signed_out=everywhere")
    else:
        await core.signin.close(session_id=request[SESSION_ID])
        response = redirect("/?signed_out=here")
    clear_session_cookie(request, response)
    set_anonymous_csrf(request, response)
    return response


@routes.get("/link")
@signed_in
async def link_page(request: web.Request) -> web.Response:
    claims = await core_of(request).signin.claimable(person_id=person_of(request))
    if not claims:
        return redirect("/apply")
    references = "、".join(dict.fromkeys(c.reference for c in claims))
    return render(request, "web/link.html", title=text("web.link.title"),
                  lead=text("web.link.lead", references=references), other=claims[0].person_id)


@routes.post("/link")
@signed_in
async def link(request: web.Request) -> web.Response:
    """The explicit, recorded link of the two identities: the web person merges into the Telegram applicant."""
    core = core_of(request)
    form = await request.post()
    if form.get("action") != "link":
        return redirect("/apply")
    wanted = str(form.get("person", ""))
    claims = {c.person_id for c in await core.signin.claimable(person_id=person_of(request))}
    if not wanted.isdigit() or int(wanted) not in claims:
        raise web.HTTPNotFound()
    applicant = await core.signin.link(person_id=person_of(request), other_person_id=int(wanted))
    session_id = await core.signin.open_session(person_id=applicant.id, user_agent=request.headers.get("User-Agent"),
                                                ip=client_ip(request))
    response = redirect("/apply")
    set_session_cookie(request, response, session_id)
    return response


__all__ = ["routes", "NOTICE_COOKIE", "PENDING_COOKIE", "SESSION_MAX_AGE", "channel_of"]
