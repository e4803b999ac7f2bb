"""After applying: /status (each application and proposal, edit, withdraw), /me (own data: export, erase, sign out)."""
from __future__ import annotations

import json
import re
from types import SimpleNamespace

from aiohttp import web

from core.dialog import erasure_message
from core.domain import ApplicationStatus
from core.services.people import mask_identifier
from core.texts import text
from web.keys import HANDOFFS
from web.rendering import render
from web.routes.common import core_of, person_of, signed_in
from web.security import clear_session_cookie, redirect, set_anonymous_csrf

routes = web.RouteTableDef()


@routes.get("/status")
@signed_in
async def status_page(request: web.Request) -> web.Response:
    screen = await core_of(request).dialog.status(person_of(request))
    notice = text("web.withdrawn") if request.query.get("withdrawn") == "1" else None
    return render(request, "web/status.html", title=screen.title, screen=screen, notice=notice)


async def _withdrawable(request: web.Request):
    """The application named in the address, if it is the person's and still open. Their own application
    withdrawn already (confirmed in another tab, or an old page): /status says so. Anything else: the same 404."""
    wanted = int(request.match_info["application_id"])
    screen = await core_of(request).dialog.status(person_of(request))
    for item in screen.items:
        if item.kind == "application" and item.id == wanted:
            if item.withdrawable:
                return item
            if item.status == ApplicationStatus.WITHDRAWN.value:
                return redirect("/status?withdrawn=1")
    raise web.HTTPNotFound()


@routes.get(r"/status/{application_id:\d{1,18}}/withdraw")
@signed_in
async def withdraw_page(request: web.Request) -> web.Response:
    item = await _withdrawable(request)
    if isinstance(item, web.Response):
        return item
    return render(request, "web/withdraw.html", title=text("web.withdraw.title"), item=item)


@routes.post(r"/status/{application_id:\d{1,18}}/withdraw")
@signed_in
async def withdraw(request: web.Request) -> web.Response:
    item = await _withdrawable(request)
    if isinstance(item, web.Response):
        return item
    await core_of(request).dialog.withdraw(person_of(request), item.id)
    return redirect("/status?withdrawn=1")


@routes.get("/me")
@signed_in
async def me_page(request: web.Request) -> web.Response:
    person = await core_of(request).people.get(person_id=person_of(request))
    shown = ("email", person.email) if person.email else ("mobile", person.mobile) if person.mobile else None
    address = mask_identifier(*shown) if shown else ""
    return render(request, "web/me.html", title=text("web.me.title"), address=address)


@routes.get("/me/data")
@signed_in
async def data_page(request: web.Request) -> web.Response:
    return render(request, "web/data.html", title=text("web.data.title"))


@routes.get("/me/data.json")
@signed_in
async def data_download(request: web.Request) -> web.Response:
    export = await core_of(request).privacy.export(person_id=person_of(request))
    body = json.dumps(export, ensure_ascii=False, indent=2, default=str)
    response = web.Response(text=body, content_type="application/json", charset="utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="innoeng-my-data.json"'
    return response


@routes.get("/me/delete")
@signed_in
async def delete_page(request: web.Request) -> web.Response:
    return render(request, "web/delete.html", title=text("web.delete.title"))


@routes.post("/me/delete")
@signed_in
async def delete(request: web.Request) -> web.Response:
    core = core_of(request)
    person_id = person_of(request)
    request.app[HANDOFFS].drop_person(person_id)
    report = await core.privacy.erase(person_id=person_id)
    await core.signin.close_all(person_id=person_id)
    kept = ",".join(str(a) for a in report.kept_appointments)
    response = redirect(f"/me/deleted?files={report.files}&pending={report.files_pending}&kept={kept}")
    clear_session_cookie(request, response)
    set_anonymous_csrf(request, response)
    return response


@routes.get("/me/deleted")
async def deleted_page(request: web.Request) -> web.Response:
    """What went and what the law keeps, in core's words (counts only in the address: nothing personal)."""
    def number(name: str) -> int:
        value = request.query.get(name, "0")
        return int(value) if value.isdigit() and len(value) < 9 else 0

    kept = tuple(int(k) for k in re.findall(r"\d{1,18}", request.query.get("kept", ""))[:50])
    report = SimpleNamespace(files=number("files"), files_pending=number("pending"), kept_appointments=kept)
    return render(request, "web/message.html", title=text("web.deleted.title"), message=erasure_message(report))
