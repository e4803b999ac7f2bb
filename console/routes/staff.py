"""Staff accounts (admin): add (shows the one-time set-up link), disable/enable, new link, role, Telegram link."""
from __future__ import annotations

from aiohttp import web

from console.auth import require
from core.domain.permissions import Action
from console.keys import CORE, STAFF
from console.rendering import form_integer, not_found, path_id, refused, render
from core.domain import DomainError, NotFound
from core.domain.limits import MAX_BIGINT, MIN_BIGINT, parse_int, shown
from core.domain.staff import Role
from core.texts import text

routes = web.RouteTableDef()


async def _list_page(request, *, form=None, error=None, link=None, status=200):
    core = request.app[CORE]
    accounts = await core.staff.list(staff=request[STAFF])
    linked = {a.telegram_id for a in accounts}
    unlinked = [telegram_id for telegram_id in core.settings.staff_telegram_ids if telegram_id not in linked]
    return render(request, "console/staff.html", status=status, accounts=accounts, form=form or {}, error=error,
                  link=link, roles=list(Role), now=core.clock(), unlinked=unlinked)


@routes.get("/staff")
@require(Action.STAFF_ADMIN)
async def staff_accounts(request: web.Request) -> web.StreamResponse:
    return await _list_page(request)


@routes.post("/staff")
@require(Action.STAFF_ADMIN)
async def add_account(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    kept = {key: str(form.get(key, "")).strip() for key in ("email", "name", "role")}
    try:
        link = await request.app[CORE].staff.add(email=kept["email"], name=kept["name"], role=kept["role"],
                                                 actor=request[STAFF])
    except DomainError as refusal:
        return await _list_page(request, form=kept, error=refused(request, refusal), status=400)
    # Shown once, on this response only (no-store): the link is as good as a password until used.
    return await _list_page(request, link=link)


async def _account(request: web.Request):
    try:
        return await request.app[CORE].staff.get(account_id=path_id(request, "account_id"), staff=request[STAFF])
    except NotFound:
        not_found(request)


@routes.get(r"/staff/{account_id:\d+}")
@require(Action.STAFF_ADMIN)
async def show_account(request: web.Request) -> web.StreamResponse:
    account = await _account(request)
    raise web.HTTPSeeOther(f"/staff#account-{account.id}")


@routes.post(r"/staff/{account_id:\d+}")
@require(Action.STAFF_ADMIN)
async def change_account(request: web.Request) -> web.StreamResponse:
    account = await _account(request)
    service = request.app[CORE].staff
    actor = request[STAFF]
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
            if raw and parse_int(raw) is None:
                raise DomainError(text("console.telegram_id_invalid", raw=shown(raw)), field="telegram_id")
            telegram_id = form_integer(raw, "Telegram 编号", key="telegram_id", minimum=MIN_BIGINT,
                                       maximum=MAX_BIGINT) if raw else None
            await service.link_telegram(ref=ref, telegram_id=telegram_id, actor=actor)
        else:
            not_found(request)
    except DomainError as refusal:
        return await _list_page(request, error=refused(request, refusal), status=400)
    if link is not None:
        return await _list_page(request, link=link)
    raise web.HTTPSeeOther("/staff?ok=staff_updated")


def _shown(name: str, value) -> str:
    """A setting as an admin may read it: secrets only say whether they are set; URLs lose their password."""
    from pydantic import SecretStr
    from sqlalchemy.engine import make_url

    if isinstance(value, SecretStr):
        return text("console.setting_secret_set")
    if value is None:
        return text("console.setting_unset")
    if name.endswith("_url") and isinstance(value, str) and "@" in value:
        try:
            return make_url(value).render_as_string(hide_password=True)
        except Exception:
            return text("console.setting_secret_set")
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value) or text("console.setting_unset")
    return str(value)


@routes.get("/staff/settings")
@require(Action.SETTINGS_VIEW)
async def settings_view(request: web.Request) -> web.StreamResponse:
    settings = request.app[CORE].settings
    rows = [(name.upper(), _shown(name, getattr(settings, name))) for name in type(settings).model_fields]
    return render(request, "console/staff_settings.html", rows=rows)
