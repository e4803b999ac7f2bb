"""Pages rendered server-side from templates/console/ with the staff member, CSRF token and menu added."""
from __future__ import annotations

from pathlib import Path
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup, escape

from console.keys import CSRF_TOKEN, STAFF
from console.navigation import navigation_for
from core.domain import DomainError, NotFound
from core.domain.staff import Role
from core.domain.vocabulary import SIGN_IN_CHANNELS
from core.texts import ZH_CN, text

__all__ = ["TEMPLATES_DIR", "setup_templates", "render", "not_found", "error_page", "role_label", "act_then_redirect",
           "form_integer"]

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
    environment.globals.update(csrf_field=csrf_field, role_label=role_label, text=text, label=label, Role=Role)
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
        message = message.format(count=int(count) if count.isdigit() else "若干")
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
        return await redisplay(request, error=refusal.message, entered=dict(posted), status=400)
    raise web.HTTPSeeOther(done_url)


def form_integer(raw: object, field: str) -> int:
    """A whole number typed into a form field; a refusal that names the field and what was typed."""
    try:
        return int(str(raw or "").strip())
    except ValueError:
        raise DomainError(text("console.bad_number", field=field, value=raw or "")) from None
