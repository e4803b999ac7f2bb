"""Who is asking: the session cookie, the role check, CSRF, and the security headers of every response."""
from __future__ import annotations

import functools
import hmac
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from aiohttp import web

from console.keys import CORE, CSRF_TOKEN, SECURE_COOKIES, SESSION_TOKEN, STAFF
from console.rendering import error_page, ids_in_range_middleware, role_label
from core.domain import DomainError, NotFound
from core.domain.permissions import Action, needed
from core.domain.staff import Role, StaffIdentity
from core.services.common import audit
from core.services.permissions import Forbidden
from core.texts import text

__all__ = [
    "require",
    "STAFF",
    "StaffIdentity",
    "Role",
    "session_cookie_name",
    "set_session_cookie",
    "clear_session_cookie",
    "middlewares",
    "PUBLIC_PREFIXES",
]

log = logging.getLogger("innoeng.console")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SESSION_COOKIE = "innoeng_session"
# Before login there is no server-side session: the form token is bound to this cookie instead.
ANONYMOUS_CSRF_COOKIE = "innoeng_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Paths anyone may open; everything else needs a signed-in staff member (on top of `require`).
PUBLIC_PREFIXES = ("/login", "/setup/", "/static/", "/favicon.ico")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "object-src 'none'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def session_cookie_name(secure: bool) -> str:
    # The __Host- prefix makes the browser refuse the cookie unless it is Secure, host-only and path=/.
    return f"__Host-{SESSION_COOKIE}" if secure else SESSION_COOKIE


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    secure = request.app[SECURE_COOKIES]
    response.set_cookie(session_cookie_name(secure), token, httponly=True, samesite="Lax", secure=secure, path="/")


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    secure = request.app[SECURE_COOKIES]
    response.del_cookie(session_cookie_name(secure), path="/", secure=secure, httponly=True, samesite="Lax")


def require(what: Action | Role) -> Callable[[Handler], Handler]:
    """Handler decorator: no session → the login page; a role too low → the 403 page (and an audit entry).

    Given the staff action a page serves, the role it needs comes from core's one table
    (core.domain.permissions); the core service the page calls checks it again."""
    action = what if isinstance(what, Action) else None
    role = needed(what) if isinstance(what, Action) else what

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            staff: StaffIdentity | None = request.get(STAFF)
            if staff is None:
                raise _to_login(request)
            if not staff.allows(role):
                await _record_denial(request, staff, role, action)
                return error_page(request, status=403, message=text(
                    "console.forbidden", role=role_label(staff.role), needed=role_label(role)))
            return await handler(request)

        guarded.required_role = role  # type: ignore[attr-defined]
        guarded.required_action = action  # type: ignore[attr-defined]
        return guarded

    return decorate


def _to_login(request: web.Request) -> web.HTTPException:
    target = "/login"
    if request.method in SAFE_METHODS and request.path != "/":
        target += "?next=" + quote(request.path_qs, safe="")
    return web.HTTPSeeOther(target)


async def _record_denial(request: web.Request, staff: StaffIdentity, role: Role, action: Action | None) -> None:
    core = request.app[CORE]
    extra = {"attempted": action.value} if action is not None else {}
    try:
        async with core.uow() as uow:
            audit(uow, at=core.clock(), actor=staff.actor, action="access.denied", subject=f"page:{request.path}"[:64],
                  needed=role.value, role=staff.role.value, method=request.method, via="console", **extra)
            await uow.commit()
    except Exception:  # the refusal itself must not fail because the audit write did
        log.exception("could not record an access denial")


def _client_ip(request: web.Request) -> str | None:
    return request.remote


def _is_public(path: str) -> bool:
    return path == "/login" or any(path.startswith(prefix) for prefix in PUBLIC_PREFIXES)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure becomes a page in Chinese with its reason; never a stack trace."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return error_page(request, status=404, message=text("console.not_found"))
    except web.HTTPException as exception:
        if exception.status < 400:
            raise  # redirects
        return error_page(request, status=exception.status, message=_http_message(exception))
    except NotFound:
        return error_page(request, status=404, message=text("console.not_found"))
    except Forbidden as refusal:  # core refused the action to this role (and audited it)
        return error_page(request, status=403, message=refusal.message)
    except DomainError as refusal:
        return error_page(request, status=400, message=refusal.message)
    except Exception:
        ref = uuid.uuid4().hex[:8]
        log.exception("console error %s on %s %s", ref, request.method, request.path)
        try:
            return error_page(request, status=500, message=text("console.server_error", ref=ref))
        except Exception:
            log.exception("console error page failed")
            return web.Response(status=500, text=text("console.server_error", ref=ref), content_type="text/plain")


def _http_message(exception: web.HTTPException) -> str:
    """The Chinese reason for an HTTP refusal; a handler's own text (not aiohttp's English default) is kept."""
    if exception.status == 404:
        return text("console.not_found")
    if exception.status == 413:
        return text("console.too_large")
    if exception.status == 405:
        return text("console.method_not_allowed")
    own = exception.text or ""
    if own and not own.startswith(f"{exception.status}:"):
        return own
    return text("console.forbidden_generic") if exception.status == 403 else text(
        "console.bad_request", detail=exception.reason)


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exception:
        _add_security_headers(request, exception)
        raise
    _add_security_headers(request, response)
    return response


def _add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    # A handler may set its own CSP (e.g. a document preview framed by its own page); keep it.
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.app[SECURE_COOKIES]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if not request.path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/static/"):
        return await handler(request)
    core = request.app[CORE]
    token = request.cookies.get(session_cookie_name(request.app[SECURE_COOKIES]), "")
    session = await core.staff.resolve_session(token=token) if token else None
    fresh_anonymous_token = None
    if session is not None:
        request[STAFF] = session.identity
        request[CSRF_TOKEN] = session.csrf_token
        request[SESSION_TOKEN] = token
    else:
        anonymous = request.cookies.get(ANONYMOUS_CSRF_COOKIE, "")
        if len(anonymous) < 20:
            anonymous = fresh_anonymous_token = secrets.token_urlsafe(32)
        request[CSRF_TOKEN] = anonymous
        if not _is_public(request.path):
            response: web.StreamResponse = _to_login(request)
            if token:  # the cookie named a session that has ended: say so on the login page
                response = web.HTTPSeeOther(_with_query(response.location, "ended=1"))
                clear_session_cookie(request, response)
            raise response
    try:
        response = await handler(request)
    except web.HTTPException as exception:
        if fresh_anonymous_token:
            _set_anonymous_csrf(request, exception, fresh_anonymous_token)
        raise
    if fresh_anonymous_token:
        _set_anonymous_csrf(request, response, fresh_anonymous_token)
    return response


def _with_query(location: str, extra: str) -> str:
    return location + ("&" if "?" in location else "?") + extra


def _set_anonymous_csrf(request: web.Request, response: web.StreamResponse, token: str) -> None:
    # Lax, not Strict: opening a set-up link from a mail client is a cross-site navigation, and a Strict
    # cookie missing from it would be replaced, leaving a login page open in another tab with a stale token.
    response.set_cookie(ANONYMOUS_CSRF_COOKIE, token, httponly=True, samesite="Lax",
                        secure=request.app[SECURE_COOKIES], path="/")


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every state-changing request carries the session's token (form field or X-CSRF-Token header)."""
    if request.method in SAFE_METHODS:
        return await handler(request)
    expected = request.get(CSRF_TOKEN, "")
    submitted = request.headers.get(CSRF_HEADER, "")
    if not submitted and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        submitted = str(form.get(CSRF_FIELD, ""))
    if not expected or not submitted or not hmac.compare_digest(expected.encode(), submitted.encode()) \
            or not _same_origin(request):
        log.warning("CSRF refusal on %s %s from %s", request.method, request.path, _client_ip(request))
        staff = request.get(STAFF)
        if staff is not None:
            core = request.app[CORE]
            async with core.uow() as uow:
                audit(uow, at=core.clock(), actor=staff.actor, action="access.csrf_refused",
                      subject=f"page:{request.path}"[:64], method=request.method)
                await uow.commit()
        return error_page(request, status=403, message=text("console.csrf_refused"))
    return await handler(request)


def _same_origin(request: web.Request) -> bool:
    """A browser names the page a POST came from; one from another site is refused even with a token."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


# Outermost first: headers on every response, including error pages; errors see the staff member.
# Last: a path id beyond what the database holds is the 404 page for a signed-in staff member (the sign-in page
# for anyone else), before any handler reads it.
middlewares = (security_headers_middleware, error_middleware, session_middleware, csrf_middleware,
               ids_in_range_middleware)
