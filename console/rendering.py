"""Pages rendered server-side from templates/console/ with the staff member, CSRF token and menu added."""
from __future__ import annotations

import re
from pathlib import Path
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup, escape

from console.keys import CSRF_TOKEN, FIELD_ERRORS, STAFF
from console.navigation import navigation_for
from core.domain import DomainError, NotFound
from core.domain.limits import LIMITS, MAX_ID, TextLimit, id_in_range, parse_int, shown
from core.domain.staff import Role
from core.domain.vocabulary import SIGN_IN_CHANNELS
from core.texts import ZH_CN, text

__all__ = ["TEMPLATES_DIR", "setup_templates", "render", "not_found", "error_page", "role_label", "act_then_redirect",
           "form_integer", "form_id", "path_id", "query_id", "ids_in_range_middleware", "refused"]

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


@jinja2.pass_context
def csrf_field(context) -> Markup:
    """The hidden input every `<form method="post">` carries: `{{ csrf_field() }}`."""
    token = context.get("csrf_token") or ""
    return Markup(f'<input type="hidden" name="csrf_token" value="{escape(token)}">')


def role_label(role: Role | str) -> str:
    return text(f"role.{Role(role).value}")


def label(group: str, key: object) -> str:
    """The catalogue's label `group.key` (e.g. outbox.status.failed), or the key itself when there is none."""
    return ZH_CN.get(f"{group}.{key}", str(key))


def _datetime(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Times are stored in UTC and shown in Beijing time."""
    if value is None:
        return "—"
    from zoneinfo import ZoneInfo

    if getattr(value, "tzinfo", None) is not None:
        value = value.astimezone(ZoneInfo("Asia/Shanghai"))
    return value.strftime(fmt)


def setup_templates(app: web.Application, *, zone_name: str = "Asia/Shanghai") -> jinja2.Environment:
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(csrf_field=csrf_field, role_label=role_label, text=text, label=label, Role=Role,
                               limit=limit, field_note=field_note)
    environment.filters["datetime"] = _datetime
    environment.filters["sign_in_channel"] = lambda channel: SIGN_IN_CHANNELS.get(channel, channel)
    # A TOTP key typed by hand: blocks of four (authenticator apps ignore the spaces).
    environment.filters["grouped"] = lambda value, size=4: " ".join(value[i:i + size] for i in range(0, len(value), size))
    return environment


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    staff = request.get(STAFF)
    values = {
        "staff": staff,
        "csrf_token": request.get(CSRF_TOKEN, ""),
        "navigation": navigation_for(staff, request.path),
        "request_path": request.path,
        "field_errors": request.get(FIELD_ERRORS, {}),
        "flash": context.pop("flash", None) or _flash(request.query.get("ok", ""), request.query.get("count", "")),
    }
    values.update(context)
    response = aiohttp_jinja2.render_template(template, request, values, status=status)
    # Console pages show personal data: never keep them in a browser or proxy cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(request: web.Request, *, status: int, message: str, title: str | None = None) -> web.Response:
    return render(request, "console/error.html", status=status, message=message, title=title or _TITLES.get(status, "出错了"),
                  status_code=status)


def not_found(request: web.Request) -> NoReturn:
    """An unknown id and an id this staff member may not see look the same: the 404 page."""
    raise web.HTTPNotFound()


def _flash(key: str, count: str = "") -> str | None:
    """After a redirect, `?ok=KEY` shows the catalogue's text `console.flash.KEY` (never text from the URL);
    a `{count}` in it takes `?count=N` when that is a number."""
    message = ZH_CN.get(f"console.flash.{key}") if key else None
    if message and "{count}" in message:
        number = parse_int(count)
        message = message.format(count=number if number is not None and number >= 0 else "若干")
    return message


_TITLES = {400: "请求无效", 403: "没有权限", 404: "找不到页面", 405: "不支持的操作", 500: "服务器错误"}


async def act_then_redirect(
    request: web.Request, *, act: Callable[[Any], Awaitable[object]],
    redisplay: Callable[..., Awaitable[web.StreamResponse]], done_url: str,
) -> web.StreamResponse:
    """A form POST on one object: an unknown id is 404; a refusal shows the page again with what was typed
    and every problem named; success redirects (303) so a reload does not post twice."""
    posted = await request.post()
    try:
        await act(posted)
    except NotFound:
        not_found(request)
    except DomainError as refusal:
        return await redisplay(request, error=refused(request, refusal), entered=dict(posted), status=400)
    raise web.HTTPSeeOther(done_url)


# -- numbers and ids: every route reads them here ----------------------------------------------------------------
# A path id is an INTEGER row id: one that is not a number or lies beyond core.domain.limits.MAX_ID names nothing
# and is the 404 page (ids_in_range_middleware checks every route's `{..._id:\d+}` before its handler runs).
# A number typed into a form is read with its range; outside it, the form comes back (400) with the message
# beside the field and what was typed kept. A number in a query string (a page cursor, a batch to show) that is
# out of range reads as absent, as an id that names nothing does.

def path_id(request: web.Request, name: str) -> int:
    """The id in the route's path parameter `name`; the 404 page when no row could have it."""
    value = parse_int(request.match_info.get(name))
    if value is None or not id_in_range(value):
        not_found(request)
    return value


def query_id(request: web.Request, name: str) -> int | None:
    """An id given in the query string, or None when absent, unreadable or out of range."""
    value = parse_int(request.query.get(name, ""))
    return value if value is not None and id_in_range(value) else None


def form_integer(raw: object, field: str, *, key: str | None = None, minimum: int = -MAX_ID,
                 maximum: int = MAX_ID) -> int:
    """A whole number typed into a form field, within [minimum, maximum] (by default what an INTEGER column holds);
    a refusal that names the field, the range and what was typed, shown beside the field `key`."""
    value = parse_int(raw)
    if value is None:
        raise DomainError(text("console.bad_number", field=field, value=shown(raw or "")), field=key)
    if not minimum <= value <= maximum:
        raise DomainError(text("console.number_out_of_range", field=field, min=minimum, max=maximum, value=shown(raw)),
                          field=key)
    return value


def form_id(raw: object, field: str, *, key: str | None = None) -> int:
    """The id of a row picked in a form (a tick box, a select); one no row could have is refused as unknown."""
    value = parse_int(raw)
    if value is None:
        raise DomainError(text("console.bad_number", field=field, value=shown(raw or "")), field=key)
    if not id_in_range(value):
        raise DomainError(text("console.no_such_id", field=field, value=shown(raw)), field=key)
    return value


_INTEGER_PARAMETER = re.compile(r"\(\?P<(\w+)>\\d\+\)")


@web.middleware
async def ids_in_range_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Every route's digits-only path parameter is an id: beyond MAX_ID it is the 404 page, whatever the route
    (a new route cannot forget it). The route's pattern says which parameters are digits-only."""
    info = request.match_info.route.resource.get_info() if request.match_info.route.resource is not None else {}
    pattern = info.get("pattern")
    if pattern is not None:
        for name in _INTEGER_PARAMETER.findall(pattern.pattern):
            path_id(request, name)
    return await handler(request)


# -- refusals beside their field, and the limits shown there ------------------------------------------------------

def refused(request: web.Request, refusal: DomainError) -> str:
    """Notes which field a refusal is about (the page shows it beside that field) and returns its message."""
    if refusal.field:
        request[FIELD_ERRORS] = {**request.get(FIELD_ERRORS, {}), refusal.field: refusal.message}
    return refusal.message


def limit(key: str) -> TextLimit:
    """The limit of a free-text field (core.domain.limits), for `maxlength` and the hint."""
    return LIMITS[key]


@jinja2.pass_context
def field_note(context, key: str, *, hint: bool = True, error: bool = True) -> Markup:
    """Beside a field: its limit ("最多 500 个字") and, after a refusal about it, the message (`error=False`
    where two forms on a page share a limit and the other one was posted). The input names it with
    aria-describedby="note-KEY"."""
    parts = []
    if hint and key in LIMITS:
        parts.append(f'<span class="hint">{escape(LIMITS[key].hint)}</span>')
    message = (context.get("field_errors") or {}).get(key) if error else None
    if message:
        parts.append(f'<span class="field-error">{escape(message)}</span>')
    if not parts:
        return Markup("")
    return Markup(f'<span class="field-note" id="note-{escape(key)}">{"".join(parts)}</span>')
