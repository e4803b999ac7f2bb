"""/apply: whatever screen core.dialog gives, as one page; every post is an act on the screen's token.

The handlers map form fields to acts and outcomes to pages; they hold no rule of the questionnaire."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import web
from multidict import MultiDictProxy

from core.dialog import (
    Action,
    ConsentScreen,
    OutcomeKind,
    QuestionScreen,
    ReviewScreen,
    RoleScreen,
    Screen,
    StatusScreen,
)
from core.texts import text
from web.keys import HANDED_OFF, HANDOFFS, SESSION_ID
from web.rendering import render
from web.routes.common import core_of, person_of, person_view_of, signed_in
from web.security import redirect

routes = web.RouteTableDef()

# Question kinds typed into one input; the others are picked (radios, checkboxes) or uploaded.
TYPED_KINDS = {"text", "integer", "date", "year_month", "phone", "email"}
# At most this many characters of what was typed are shown back (a refusal says how long it was).
KEEP_TYPED = 20_000


def render_screen(request: web.Request, screen: Screen, *, status: int = 200, error: str | None = None,
                  typed: Any = None, notice: str | None = None) -> web.Response:
    prefix = text("web.error_prefix") if error else ""
    common = dict(status=status, error=error, notice=notice)
    if isinstance(screen, ConsentScreen):
        notice_text = screen.notice_with_rights(text("web.rights"))
        return render(request, "web/consent.html", title=prefix + screen.title, screen=screen, notice_text=notice_text,
                      lead=None, form_action="/apply", page_kind=f"consent-{screen.kind}", **common)
    if isinstance(screen, RoleScreen):
        picked = {typed} if error else {c.value for c in screen.choices if c.picked}
        return render(request, "web/role.html", title=prefix + screen.prompt.rstrip("：:"), screen=screen,
                      picked=picked, page_kind="role", **common)
    if isinstance(screen, QuestionScreen):
        if error is not None and typed is not None:
            if isinstance(typed, list):
                picked, value = set(typed), ""
            else:
                picked, value = {typed}, str(typed)[:KEEP_TYPED]
        else:
            picked = {c.value for c in screen.choices if c.picked}
            value = screen.current_display if screen.kind in TYPED_KINDS else ""
        max_mb = core_of(request).settings.max_upload_mb
        return render(request, "web/question.html", title=prefix + screen.heading, screen=screen, picked=picked,
                      value=value, typed_kind=screen.kind in TYPED_KINDS, max_mb=max_mb,
                      Action=Action, page_kind="question", **common)
    if isinstance(screen, ReviewScreen):
        return render(request, "web/review.html", title=prefix + screen.form_title, screen=screen, page_kind="review", **common)
    return redirect("/status")


@routes.get("/apply")
@signed_in
async def apply_page(request: web.Request) -> web.Response:
    core = core_of(request)
    screen = request.get(HANDED_OFF) or await core.dialog.screen(person_view_of(request))
    if isinstance(screen, StatusScreen):
        return redirect("/status")
    notice = error = None
    if request.query.get("stale") == "1":
        notice = text("dialog.stale")
    if request.query.get("declined") == "1" and isinstance(screen, ConsentScreen):
        notice = text("consent.sensitive_declined" if screen.kind == "sensitive" else "consent.declined")
    if request.query.get("too_large") == "1" and isinstance(screen, QuestionScreen):
        error = text("web.question.too_large", max_mb=core.settings.max_upload_mb)
    return render_screen(request, screen, status=422 if error else 200, error=error, notice=notice)


def _value(action: Action, form: MultiDictProxy) -> Any:
    if action is Action.UPLOAD:
        field = form.get("file")
        if isinstance(field, web.FileField):
            name = field.filename or None
            if name and re.search(r"%[0-9A-Fa-f]{2}", name):
                name = unquote(name)  # some clients percent-encode a non-ASCII name (RFC 7578 allows either)
            return field.file.read(), name
        return b"", None
    if action is Action.ANSWER and form.get("multi") == "1":
        return [str(v) for v in form.getall("value", [])]
    value = form.get("value", "")
    return value if isinstance(value, str) else ""


@routes.post("/apply")
@signed_in
async def apply_post(request: web.Request) -> web.Response:
    core = core_of(request)
    person_id = person_view_of(request)
    form = await request.post()
    try:
        action = Action(str(form.get("action", "")))
    except ValueError:
        return redirect("/apply?stale=1")
    token = str(form.get("token", ""))[:64]
    value = _value(action, form)
    outcome = await core.dialog.act(person_id, action, token, value)
    if outcome.kind is OutcomeKind.SUBMITTED and outcome.receipt is not None:
        return redirect(f"/receipt/{outcome.receipt.application_id}")
    if outcome.kind is OutcomeKind.STALE:
        return redirect("/apply?stale=1")
    if outcome.kind is OutcomeKind.DECLINED:
        if isinstance(outcome.screen, ConsentScreen) and outcome.screen.kind == "general":
            return redirect("/?declined=1")
        return redirect("/apply?declined=1")
    if outcome.kind is OutcomeKind.REFUSED:
        if isinstance(outcome.screen, StatusScreen):
            return render(request, "web/message.html", status=422, title=text("web.error_prefix") + text("status.title"),
                          error=outcome.message, message=outcome.message)
        typed = None if action is Action.UPLOAD else value
        return render_screen(request, outcome.screen, status=422, error=outcome.message, typed=typed)
    if SESSION_ID in request and outcome.screen is not None:
        # The next page as core drew it, for the GET this redirect leads to (web.handoff).
        request.app[HANDOFFS].leave(request[SESSION_ID], path="/apply", person_id=person_of(request),
                                    screen=outcome.screen)
    return redirect("/apply")


@routes.get(r"/receipt/{application_id:\d{1,18}}")
@signed_in
async def receipt_page(request: web.Request) -> web.Response:
    receipt = await core_of(request).dialog.receipt(person_of(request), int(request.match_info["application_id"]))
    return render(request, "web/receipt.html", title=text("web.receipt.title"), receipt=receipt)


@routes.get(r"/files/{document_id:\d{1,18}}")
@signed_in
async def document(request: web.Request) -> web.StreamResponse:
    """One's own uploaded file, shown by the browser (a foreign or missing id: the same 404)."""
    view, content = await core_of(request).dialog.document(person_of(request), int(request.match_info["document_id"]))
    response = web.Response(body=content, content_type=view.mime)
    # Shown in the browser; saved under the name it was uploaded with (RFC 6266: the UTF-8 name, and an ASCII
    # one for browsers that read only that), not as the id in the address.
    name = view.original_name or f"file-{view.id}"
    suffix = re.sub(r"[^A-Za-z0-9.]", "", name[name.rfind("."):]) if "." in name else ""
    response.headers["Content-Disposition"] = (
        f"inline; filename=\"file-{view.id}{suffix}\"; filename*=UTF-8''{quote(name, safe='')}")
    return response
