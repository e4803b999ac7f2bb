"""One permission model (issue 23), console side: a reviewer's valid form posts that start publicity or run
matching are refused (403, audited with the action), as the chat refuses them to a reviewer-linked Telegram id
(tests/e2e/bot/test_staff_permissions.py); a coordinator's run is accepted. The levels come from core."""
from __future__ import annotations

from console.routes import appointments, matching
from core.domain.permissions import Action, needed
from core.domain.staff import Role
from tests.e2e.console.conftest import expect


async def _denials(core):
    from sqlalchemy import select

    from core.db.models import AuditEntry

    async with core.uow() as uow:
        rows = (await uow.session.execute(select(AuditEntry.actor, AuditEntry.subject, AuditEntry.detail).where(
            AuditEntry.action == "access.denied").order_by(AuditEntry.id))).all()
    return [(actor, subject, detail.get("attempted"), detail.get("needed")) for actor, subject, detail in rows]


async def _first_batch(core) -> int:
    return (await core.batches.list())[0].id


async def _jobs(core) -> int:
    from sqlalchemy import func, select

    from core.db.models import MatchingJob

    async with core.uow() as uow:
        return await uow.session.scalar(select(func.count()).select_from(MatchingJob))


def _csrf(page) -> str:
    return page.locator("input[name=csrf_token]").first.input_value()


def test_the_console_pages_take_their_roles_from_the_core_table():
    assert matching.start_run.required_action is Action.MATCHING_RUN
    assert appointments.start_publicity.required_action is Action.PUBLICITY_START
    assert matching.start_run.required_role is needed(Action.MATCHING_RUN) is Role.COORDINATOR


def test_a_reviewer_cannot_start_publicity_or_run_matching_and_a_coordinator_can_run(
        console_server, page, staff_account, login):
    reviewer = staff_account("reviewer", telegram_id=900002)
    login(page, reviewer)
    token = _csrf(page)
    batch = console_server.call(_first_batch)
    for path, form in (("/appointments/publicity", {"appointment": "1"}), ("/matching/runs", {"batch_id": str(batch)})):
        response = page.request.post(console_server.url(path), form={**form, "csrf_token": token}, max_redirects=0)
        assert response.status == 403, (path, response.status)
        assert "需要「协调员」或更高权限" in response.text()
    assert console_server.call(_jobs) == 0
    assert console_server.call(_denials) == [
        (reviewer.actor, "page:/appointments/publicity", "publicity.start", "coordinator"),
        (reviewer.actor, "page:/matching/runs", "matching.run", "coordinator"),
    ]

    context = page.context.browser.new_context(locale="zh-CN")
    try:
        other = context.new_page()
        login(other, staff_account("coordinator"))
        response = other.request.post(console_server.url("/matching/runs"), max_redirects=0,
                                      form={"batch_id": str(batch), "csrf_token": _csrf(other)})
        assert response.status == 303, response.status
        assert console_server.call(_jobs) == 1
        expect(other.locator(".who")).to_contain_text("协调员")
    finally:
        context.close()
