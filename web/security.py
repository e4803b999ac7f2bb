"""Cookies, sessions, CSRF and headers: every response carries the security headers, every POST a CSRF
token from a page of this site, every failure becomes a page in Chinese without a stack trace."""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from core.domain import DomainError, NotFound
from core.links import LinkInvalid
from core.texts import text
from web.keys import CORE, CSRF_TOKEN, HANDED_OFF, HANDOFFS, NEW_CSRF, PERSON, PERSON_ID, SECURE, SESSION_ID

__all__ = [
    "CONTENT_SECURITY_POLICY", "SESSION_MAX_AGE", "middlewares", "session_cookie_name", "set_session_cookie",
    "clear_session_cookie", "client_ip", "redirect", "csrf_for_session", "MAX_REQUEST_BYTES",
]

log = logging.getLogger("innoeng.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CONTENT_SECURITY_POLICY = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
SESSION_MAX_AGE = 30 * 24 * 3600  # WeChat's browser drops session cookies: a persistent one, renewed on use
CSRF_COOKIE = "innoeng_web_csrf"
# A link in a notice signs its person in for its one page: this cookie, scoped to that page's path, holds the
# link's token (web.routes.links). It counts only when no session does.
LINK_COOKIE = "innoeng_link"
# The one-click unsubscribe POST comes from a mail provider without cookies: its signed link is the authority.
CSRF_EXEMPT_PREFIXES = ("/unsubscribe/",)
CSRF_FIELD = "csrf_token"
# An upload is at most MAX_UPLOAD_MB; the rest of a form is small. aiohttp refuses a bigger body while reading it.
FORM_SLACK_BYTES = 256 * 1024
MAX_REQUEST_BYTES = 20 * 1024 * 1024 + FORM_SLACK_BYTES
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def session_cookie_name(secure: bool) -> str:
    # __Host-: only ever set by this host over HTTPS, for the whole site.
    return "__Host-innoeng_web" if secure else "innoeng_web"


def set_session_cookie(request: web.Request, response: web.StreamResponse, session_id: str) -> None:
    response.set_cookie(session_cookie_name(request.app[SECURE]), session_id, max_age=SESSION_MAX_AGE, path="/",
                        httponly=True, samesite="Lax", secure=request.app[SECURE])


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    response.del_cookie(session_cookie_name(request.app[SECURE]), path="/", secure=request.app[SECURE],
                        httponly=True, samesite="Lax")


def csrf_for_session(session_id: str) -> str:
    """A signed-in page's CSRF token: derived from the session id (which only the cookie carries)."""
    return hashlib.sha256(f"csrf:{session_id}".encode()).hexdigest()


def client_ip(request: web.Request) -> str:
    """The visitor's address: the connection's, or behind a trusted reverse proxy (WEB_TRUSTED_PROXIES) the
    nearest X-Forwarded-For hop that is not one of those proxies. A hop a visitor wrote themselves stands
    further left and is never read, so nobody escapes the per-IP limits by sending the header."""
    remote = request.remote or ""
    trusted = request.app[CORE].settings.web_trusted_proxies
    if remote not in trusted:
        return remote
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop[:64]
    return remote


def redirect(location: str) -> web.Response:
    """See Other: every POST ends in a GET (PRG)."""
    return web.Response(status=303, headers={"Location": location})


def error_page(request: web.Request, *, status: int, message: str, next_step: str = "/",
               next_label: str | None = None) -> web.Response:
    from web.rendering import render

    return render(request, "web/error.html", status=status, title=text("web.error.title"), message=message,
                  next_step=next_step, next_label=next_label or text("web.home"))


def _max_mb(request: web.Request) -> int:
    return request.app[CORE].settings.max_upload_mb


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exception:
        _add_headers(request, exception)
        raise
    _add_headers(request, response)
    return response


def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.app[SECURE]:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if not request.path.startswith("/static/"):
        # Pages carry personal data (answers, addresses, the CSRF token): never kept by a browser or a proxy.
        headers["Cache-Control"] = "no-store"


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exception:
        if exception.status < 400:
            raise
        if exception.status == 404:
            return error_page(request, status=404, message=text("web.error.not_found"))
        if exception.status == 413:
            return error_page(request, status=413, message=text("web.error.too_large", max_mb=_max_mb(request)))
        if exception.status == 405:
            return error_page(request, status=405, message=text("web.error.method"))
        if exception.status == 403:
            return error_page(request, status=403, message=text("web.error.csrf"))
        return error_page(request, status=exception.status, message=text("web.error.bad_request"))
    except NotFound:
        # Someone else's object reads exactly like a missing one: the same page, the same words.
        return error_page(request, status=404, message=text("web.error.not_found"))
    except DomainError as refusal:
        return error_page(request, status=400, message=refusal.message)
    except Exception:
        ref = uuid.uuid4().hex[:8]
        log.exception("web error %s on %s %s", ref, request.method, request.path)
        try:
            return error_page(request, status=500, message=text("web.error.server", ref=ref))
        except Exception:
            log.exception("web error page failed")
            return web.Response(status=500, text=text("web.error.server", ref=ref), content_type="text/plain",
                                charset="utf-8")


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/static/"):
        return await handler(request)
    cookie_name = session_cookie_name(request.app[SECURE])
    session_id = request.cookies.get(cookie_name, "")
    session = handoff = None
    if session_id and len(session_id) <= 128:
        if request.method == "GET" and not request.query_string:
            # The page the POST before this redirect drew, with the session it checked (web.handoff).
            handoff = request.app[HANDOFFS].take(session_id, request.path)
        if handoff is None:
            session = await request.app[CORE].signin.session(session_id=session_id)
    link = None if session is not None or handoff is not None else await _link_for_page(request)
    if handoff is not None:
        request[PERSON_ID] = handoff.person_id
        request[SESSION_ID] = session_id
        request[CSRF_TOKEN] = csrf_for_session(session_id)
        request[HANDED_OFF] = handoff.screen
    elif session is not None:
        request[PERSON_ID] = session.person_id
        if session.person is not None:
            request[PERSON] = session.person
        request[SESSION_ID] = session_id
        request[CSRF_TOKEN] = csrf_for_session(session_id)
    elif link is not None:
        person_id, token = link
        request[PERSON_ID] = person_id
        request[CSRF_TOKEN] = hashlib.sha256(f"csrf-link:{token}".encode()).hexdigest()
    else:
        anonymous = request.cookies.get(CSRF_COOKIE, "")
        if not (20 <= len(anonymous) <= 64):
            anonymous = request[NEW_CSRF] = secrets.token_urlsafe(32)
        request[CSRF_TOKEN] = anonymous
    try:
        response = await handler(request)
    except web.HTTPException as exception:
        _finish_cookies(request, exception, request.get(SESSION_ID), bool(session_id))
        raise
    _finish_cookies(request, response, request.get(SESSION_ID), bool(session_id))
    return response


async def _link_for_page(request: web.Request) -> tuple[int, str] | None:
    """(person, token) when this browser opened a notice's link to exactly this page and it is still good."""
    token = request.cookies.get(LINK_COOKIE, "")
    if not token:
        return None
    core = request.app[CORE]
    try:
        grant = core.links.open(token)
    except LinkInvalid:
        return None
    if not grant.covers(request.path) or grant.purpose == "unsubscribe":
        return None
    try:
        person = await core.people.get(person_id=grant.person_id)
    except NotFound:
        return None
    return (person.id, token) if person.consented else None


def _finish_cookies(request: web.Request, response: web.StreamResponse, live: str | None, had_cookie: bool) -> None:
    cookie_name = session_cookie_name(request.app[SECURE])
    if cookie_name not in response.cookies:  # a sign-in or sign-out set its own
        if live is not None:
            set_session_cookie(request, response, live)  # renewed on use: 30 days from the last visit
        elif had_cookie:
            clear_session_cookie(request, response)  # ended, expired or erased
    fresh = request.get(NEW_CSRF)
    if fresh and CSRF_COOKIE not in response.cookies:
        response.set_cookie(CSRF_COOKIE, fresh, max_age=SESSION_MAX_AGE, path="/", httponly=True, samesite="Lax",
                            secure=request.app[SECURE])


def set_anonymous_csrf(request: web.Request, response: web.StreamResponse) -> None:
    """After signing out: a fresh anonymous token, so the pages that follow can post again."""
    token = secrets.token_urlsafe(32)
    response.set_cookie(CSRF_COOKIE, token, max_age=SESSION_MAX_AGE, path="/", httponly=True, samesite="Lax",
                        secure=request.app[SECURE])


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every POST carries the page's token and comes from a page of this site (Origin, Sec-Fetch-Site)."""
    if request.method in SAFE_METHODS or request.path.startswith(CSRF_EXEMPT_PREFIXES):
        return await handler(request)
    submitted = ""
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            if request.path == "/apply" and _same_origin(request):
                return redirect("/apply?too_large=1")  # the question again, with the reason beside the field
            raise
        submitted = str(form.get(CSRF_FIELD, ""))
    expected = request.get(CSRF_TOKEN, "")
    if not expected or not submitted or not hmac.compare_digest(expected.encode(), submitted.encode()) \
            or not _same_origin(request):
        log.warning("CSRF refusal on %s %s", request.method, request.path)
        if PERSON_ID not in request and _same_origin(request) and not request.path.startswith("/signin"):
            # A page of theirs posted after they signed out (in another tab) or their session ended: there is
            # no one to act for, and "the page expired" would not tell them why.
            return error_page(request, status=403, message=text("web.error.signed_out"), next_step="/signin",
                              next_label=text("web.error.sign_in_again"))
        return error_page(request, status=403, message=text("web.error.csrf"))
    return await handler(request)


def _same_origin(request: web.Request) -> bool:
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # older browsers send none on same-site posts; the token still has to match
    if origin == "null":
        return False
    netloc = urlsplit(origin).netloc
    base = request.app[CORE].settings.web_base_url
    return netloc == request.host or (base is not None and netloc == urlsplit(base).netloc)


# Outermost first: headers on every response, error pages included.
middlewares = (security_headers_middleware, error_middleware, session_middleware, csrf_middleware)
