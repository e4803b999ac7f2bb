"""The audit page's list of actions comes from ix_audit_log_action a step per action (not a DISTINCT over the
whole log) and still lists every action in the log; a subject named in full finds that subject only."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from console.audit_data import logged_actions
from core.db.models import AuditEntry
from tests.support.staff import signed_in_console


async def test_every_logged_action_is_listed_and_a_whole_subject_is_that_subject(core):
    now = core.clock()
    entries = [("review.approved", "application:12"), ("application.submit", "application:120"),
               ("application.submit", "application:12"), ("match.run", "match_run:3"), ("zz.last", "batch:1"),
               ("a.first", "application:7")]
    async with core.uow() as uow:
        for n, (action, subject) in enumerate(entries):
            uow.session.add(AuditEntry(at=now + timedelta(seconds=n), actor="staff:1", action=action, subject=subject,
                                       detail={}))
        await uow.commit()
    async with core.uow() as uow:
        distinct = list((await uow.session.scalars(
            select(AuditEntry.action).distinct().order_by(AuditEntry.action))).all())
        assert await logged_actions(uow.session) == distinct
    assert {"a.first", "zz.last", "review.approved", "application.submit", "match.run"} <= set(distinct)

    page = await core.audit.search(staff="test", subject="application:12")
    assert [r.subject for r in page.rows] == ["application:12", "application:12"] and page.actions == distinct
    page = await core.audit.search(staff="test", subject=" Application:12 ")
    assert [r.action for r in page.rows] == ["application.submit", "review.approved"]
    page = await core.audit.search(staff="test", subject="cation:12")  # a part: substring
    assert sorted(r.subject for r in page.rows) == ["application:12", "application:12", "application:120"]

    async with signed_in_console(core) as client:
        body = await (await client.get("/audit?action=review")).text()
        options = re.findall(r'<option value="([^"]+)">', body.split('id="audit-actions"', 1)[1].split("</datalist>", 1)[0])
        async with core.uow() as uow:
            assert options == await logged_actions(uow.session)
        assert "staff.login" in options and "zz.last" in options
