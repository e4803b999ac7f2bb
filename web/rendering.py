"""Pages from templates/web/: one template per screen kind, one macro per question kind."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup, escape

from core.links import path_for
from core.services.recommendations import profile_line
from core.texts import text
from web.keys import CSRF_TOKEN, PERSON_ID

__all__ = ["TEMPLATES_DIR", "setup_templates", "render"]

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


@jinja2.pass_context
def csrf_field(context) -> Markup:
    """The hidden input every `<form method="post">` carries: `{{ csrf_field() }}`."""
    return Markup(f'<input type="hidden" name="csrf_token" value="{escape(context.get("csrf_token") or "")}">')


def _paragraphs(value: str) -> Markup:
    """Plain text from core (notices, messages) as paragraphs; escaped, line breaks kept."""
    blocks = [b for b in str(value or "").split("\n\n") if b.strip()]
    return Markup("".join(f"<p>{Markup('<br>').join(escape(line) for line in b.split(chr(10)))}</p>" for b in blocks))


def _filesize(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 100 * 1024 else f"{max(1, round(size / 1024))} KB"


def _asset_urls(app: web.Application):
    """`asset('web.css')`: the static file's address with its version. aiohttp hashes the file's bytes on every
    url_for(append_version) call (0.6 ms of each page, two assets); a file's version is fixed for a
    process's life, so each is hashed once."""
    known: dict[str, str] = {}

    def asset(filename: str) -> str:
        url = known.get(filename)
        if url is None:
            url = known[filename] = str(app.router["static"].url_for(filename=filename))
        return url

    return asset


def setup_templates(app: web.Application) -> jinja2.Environment:
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(csrf_field=csrf_field, text=text, profile_line=profile_line, path_for=path_for,
                               asset=_asset_urls(app))
    environment.filters["paragraphs"] = _paragraphs
    environment.filters["filesize"] = _filesize
    return environment


def _own_address(request: web.Request) -> str | None:
    """A page drawn in reply to a POST (a refused answer, a wrong code) names its own GET address: web.js puts
    it in the browser's history in place of the POST, so 返回 to this page later loads it again instead of
    asking to resend the form (Chromium's ERR_CACHE_MISS). None when the page is a GET, or its address has no
    GET."""
    if request.method != "POST":
        return None
    resource = request.match_info.route.resource
    if resource is None or not any(route.method == "GET" for route in resource):
        return None
    return request.path


def render(request: web.Request, template: str, *, status: int = 200, title: str, **context: Any) -> web.Response:
    values = {
        "get_url": _own_address(request),
        "title": title,
        "csrf_token": request.get(CSRF_TOKEN, ""),
        "signed_in": PERSON_ID in request,
        "request_path": request.path,
        "error": None,
        "notice": None,
    }
    values.update(context)
    return aiohttp_jinja2.render_template(template, request, values, status=status)
