"""Staff accounts (admin): add (shows the one-time set-up link), disable/enable, new link, role, Telegram link."""
from __future__ import annotations

from aiohttp import web

from console.auth import require
from console.keys import CORE, STAFF
from console.rendering import not_found, render
from core.domain import DomainError, NotFound
from core.domain.staff import Role
from core.texts import text

routes = web.RouteTableDef()


async def _list_page(request, *, form=None, error=None, link=None, status=200):
    accounts = await request.app[CORE].staff.list()
    return render(request, "console/staff.html", status=status, accounts=accounts, form=form or {}, error=error,
                  link=link, roles=list(Role), now=request.app[CORE].clock())


@routes.get("/staff")
@require(Role.ADMIN)
async def staff_accounts(request: web.Request) -> web.StreamResponse:
    return await _list_page(request)


@routes.post("/staff")
@require(Role.ADMIN)
async def add_account(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    kept = {key: str(form.get(key, "")).strip() for key in ("email", "name", "role")}
    try:
        link = await request.app[CORE].staff.add(email=kept["email"], name=kept["name"], role=kept["role"],
                                                 actor=request[STAFF].actor)
    except DomainError as refusal:
        return await _list_page(request, form=kept, error=refusal.message, status=400)
    # Shown once, on this response only (no-store): the link is as good as a password until used.
    return await _list_page(request, link=link)


async def _account(request: web.Request):
    raw = request.match_info["account_id"]
    if not raw.isdigit():
        not_found(request)
    try:
        return await request.app[CORE].staff.get(account_id=int(raw))
    except NotFound:
        not_found(request)


@routes.get("/staff/{account_id}")
@require(Role.ADMIN)
async def show_account(request: web.Request) -> web.StreamResponse:
    account = await _account(request)
    raise web.HTTPSeeOther(f"/staff#account-{account.id}")


@routes.post("/staff/{account_id}")
@require(Role.ADMIN)
async def change_account(request: web.Request) -> web.StreamResponse:
    account = await _account(request)
    service = request.app[CORE].staff
    actor = request[STAFF].actor
    form = await request.post()
    ref = str(account.id)
    action = str(form.get("action", ""))
    link = None
    try:
        if action == "disable":
            await service.disable(ref=ref, actor=actor)
        elif action == "enable":
            await service.enable(ref=ref, actor=actor)
        elif action == "reset":
            link = await service.reissue_setup(ref=ref, actor=actor)
        elif action == "role":
            changed = await service.change_role(ref=ref, role=str(form.get("role", "")), actor=actor)
            if changed.role is Role.ADMIN and not changed.totp_enabled:
                # An admin needs a second factor: a new set-up link is the way to one.
                link = await service.reissue_setup(ref=ref, actor=actor)
        elif action == "telegram":
            raw = str(form.get("telegram_id", "")).strip()
            if raw and not raw.lstrip("-").isdigit():
                raise DomainError(text("console.telegram_id_invalid", raw=raw))
            await service.link_telegram(ref=ref, telegram_id=int(raw) if raw else None, actor=actor)
        else:
            not_found(request)
    except DomainError as refusal:
        return await _list_page(request, error=refusal.message, status=400)
    if link is not None:
        return await _list_page(request, link=link)
    raise web.HTTPSeeOther("/staff?ok=staff_updated")
