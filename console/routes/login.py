"""Log in, log out, and the one-time set-up link that sets a new account's password (and TOTP)."""
from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from console.auth import clear_session_cookie, set_session_cookie
from console.keys import CORE, SESSION_TOKEN, STAFF
from console.rendering import render
from core.domain import DomainError, NotFound
from core.services.staff_accounts import PASSWORD_MIN_LENGTH, LoginRefused
from core.texts import text

routes = web.RouteTableDef()


def _safe_next(raw: str | None) -> str:
    """Only a path on this site: an open redirect would let a phishing link borrow our login page."""
    if not raw:
        return "/"
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return "/"
    return raw


@routes.get("/login")
async def login_page(request: web.Request) -> web.StreamResponse:
    if request.get(STAFF) is not None:
        raise web.HTTPSeeOther(_safe_next(request.query.get("next")))
    notice = text("console.session_ended") if request.query.get("ended") else None
    return render(request, "console/login.html", email="", next=_safe_next(request.query.get("next")),
                  error=None, notice=notice, needs_totp=False)


@routes.post("/login")
async def login_submit(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    form = await request.post()
    email = str(form.get("email", "")).strip()
    target = _safe_next(str(form.get("next", "")))
    try:
        opened = await core.staff.log_in(
            email=email, password=str(form.get("password", "")), totp_code=str(form.get("totp", "")) or None,
            ip=request.remote, user_agent=request.headers.get("User-Agent"),
        )
    except LoginRefused as refusal:
        status = 429 if refusal.code in ("locked", "address_throttled") else 401
        return render(request, "console/login.html", status=status, email=email, next=target, error=refusal.message,
                      notice=None, needs_totp=refusal.code in ("totp_missing", "totp_invalid"))
    response = web.HTTPSeeOther(target)
    set_session_cookie(request, response, opened.token)
    raise response


@routes.post("/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    token = request.get(SESSION_TOKEN)
    if token:
        await request.app[CORE].staff.log_out(token=token)
    response = web.HTTPSeeOther("/login")
    clear_session_cookie(request, response)
    raise response


@routes.get("/setup/{token}")
async def setup_page(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    try:
        info = await core.staff.setup_info(token=request.match_info["token"])
    except NotFound as missing:
        return render(request, "console/setup.html", status=404, info=None, error=missing.message,
                      min_length=PASSWORD_MIN_LENGTH, enable_totp=False)
    return render(request, "console/setup.html", info=info, error=None, min_length=PASSWORD_MIN_LENGTH,
                  enable_totp=info.totp_required)


@routes.post("/setup/{token}")
async def setup_submit(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    token = request.match_info["token"]
    form = await request.post()
    enable_totp = form.get("enable_totp") == "1"
    try:
        await core.staff.complete_setup(
            token=token, password=str(form.get("password", "")), confirm=str(form.get("confirm", "")),
            enable_totp=enable_totp, totp_code=str(form.get("totp", "")) or None,
        )
    except NotFound as missing:
        return render(request, "console/setup.html", status=404, info=None, error=missing.message,
                      min_length=PASSWORD_MIN_LENGTH, enable_totp=False)
    except DomainError as refusal:
        info = await core.staff.setup_info(token=token)
        return render(request, "console/setup.html", status=400, info=info, error=refusal.message,
                      min_length=PASSWORD_MIN_LENGTH, enable_totp=enable_totp or info.totp_required)
    raise web.HTTPSeeOther("/login?ok=setup_done")
