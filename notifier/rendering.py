"""E-mail text from jinja2 templates: subject, plain text and HTML for one notification kind.

Each kind has three templates under `templates/email/`: `<kind>.subject.txt`,
`<kind>.txt` and `<kind>.html`; the last two extend `base.txt` / `base.html`.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import jinja2

from core.formatting import format_datetime_cn

__all__ = ["DEFAULT_TEMPLATES_DIR", "EmailRenderer", "RenderedEmail", "render_email"]

DEFAULT_TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
_WHITESPACE = re.compile(r"\s+")
_EXCESS_BLANK_LINES = re.compile(r"\n{3,}")


class RenderedEmail(NamedTuple):
    subject: str
    text: str
    html: str


def build_environment(templates_dir: str | Path = DEFAULT_TEMPLATES_DIR) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        # A misspelt variable must stop the send, not mail a blank where a name should be.
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["datetime_cn"] = format_datetime_cn
    # Where answers go (MAIL_REPLY_TO); the composer passes it, and without one no text invites a reply.
    environment.globals["reply_to"] = None
    return environment


class EmailRenderer:
    def __init__(self, templates_dir: str | Path = DEFAULT_TEMPLATES_DIR) -> None:
        self.environment = build_environment(templates_dir)

    def render(self, kind: str, context: Mapping[str, Any]) -> RenderedEmail:
        """Raises jinja2.TemplateNotFound for an unknown kind, jinja2.UndefinedError for a missing variable."""
        context = dict(context)
        subject = self.environment.get_template(f"email/{kind}.subject.txt").render(context)
        text = self.environment.get_template(f"email/{kind}.txt").render(context)
        html = self.environment.get_template(f"email/{kind}.html").render(context)
        return RenderedEmail(
            # One line, always: a newline in a subject would be a header injection.
            subject=_WHITESPACE.sub(" ", subject).strip(),
            text=_EXCESS_BLANK_LINES.sub("\n\n", text).strip() + "\n",
            html=html,
        )


_default_renderer: EmailRenderer | None = None


def render_email(kind: str, context: Mapping[str, Any]) -> RenderedEmail:
    """Render with the project's own templates (a renderer is built on first use, not at import)."""
    global _default_renderer
    if _default_renderer is None:
        _default_renderer = EmailRenderer()
    return _default_renderer.render(kind, context)
