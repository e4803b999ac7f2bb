"""Access, copy and erasure of one person's data (个人信息保护法 art. 45, 47), on SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import io
import json
from types import SimpleNamespace
from datetime import date, datetime, timedelta, timezone

import openpyxl
from sqlalchemy import select, update

from core.db.models import Appointment, Application, AuditEntry, EventInvitation, OutboxMessage, Person, Recommendation
from core.exports import filing_workbook
from core.sample import SAMPLE_PDF
from tests.support.factories import EXPERT, UNIVERSITY, approved_expert, submitted_university
from tests.support.matching_day import matching_day_clock, matching_day_settings  # noqa: F401 (fixtures)

EXPERT_MARKS = (EXPERT["mobile"], EXPERT["email"])


async def person_of(core, application_id: int) -> int:
    return (await core.intake.get(application_id=application_id)).person_id


async def matched_pair(core, *, until: str):
    """An expert and a university through matching to `until`: offered | publicity | filed."""
    expert = await approved_expert(core, courses=["创新思维"])
    university = await submitted_university(core, {"创新思维": (32, 1, "online")})
    batch = (await core.batches.list())[0]
    run = await core.matching.confirm(run_id=(await core.matching.run(batch_id=batch.id, staff="staff:1")).id, staff="staff:1")
    [proposal] = run.proposals
    appointment_id = proposal.appointment_id
    if until != "offered":
        for application_id in (expert, university):
            await core.appointments.respond(appointment_id=appointment_id, person_id=await person_of(core, application_id),
                                            accept=True)
        await core.appointments.start_publicity(appointment_ids=[appointment_id], staff="staff:1")
    if until == "filed":
        core.clock.now = datetime(2025, 8, 29, 2, 0, tzinfo=timezone.utc)
        await core.appointments.record_agreement(appointment_id=appointment_id, staff="staff:1", signed_on=date(2025, 8, 29),
                                                 term_years=3, hours=32, content="创新思维课程讲授", employer_consent=True)
        await core.appointments.record_filing(appointment_id=appointment_id, staff="staff:1", filed_on=date(2025, 9, 5),
                                              note="江苏省教育厅")
    return expert, university, appointment_id


async def outbox(core) -> list[SimpleNamespace]:
    async with core.uow() as uow:
        rows = (await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        return [SimpleNamespace(id=r.id, kind=r.kind, person_id=r.person_id, status=r.status, payload=r.payload,
                                address=r.address, last_error=r.last_error) for r in rows]


def dumped(payload) -> str:
    return json.dumps(payload, ensure_ascii=False)


async def test_export_holds_everything_the_service_keeps_about_the_person(core, clock):
    expert, university, appointment_id = await matched_pair(core, until="filed")
    event = await core.events.create(kind="demo_workshop", title="岗前示范交流活动", actor="staff:1",
                                     starts_at=clock.now + timedelta(days=3), ends_at=clock.now + timedelta(days=3, hours=2),
                                     online_url="https://meeting.example.org/x")
    await core.events.invite(event_id=event.id, actor="staff:1", audience="matched")
    expert_person = await person_of(core, expert)
    [invitation] = [i for i in await core.events.invitations(staff="test", event_id=event.id) if i.person_id == expert_person]
    await core.events.respond(invitation_id=invitation.id, attending=True, person_id=expert_person)

    exported = await core.privacy.export(person_id=expert_person)
    json.dumps(exported)  # plain JSON, nothing that needs a custom encoder
    assert exported["person"]["mobile"] == EXPERT["mobile"]
    [file] = exported["files"]
    assert file["sha256"] == hashlib.sha256(SAMPLE_PDF).hexdigest() and file["size"] == len(SAMPLE_PDF)
    [appointment] = exported["appointments"]
    assert appointment["id"] == appointment_id and appointment["side"] == "expert" and appointment["status"] == "filed"
    assert appointment["agreement"]["content"] == "创新思维课程讲授" and appointment["filed_on"] == "2025-09-05"
    assert appointment["filing_note"] == "江苏省教育厅"
    assert [p["appointment_id"] for p in exported["match_proposals"]] == [appointment_id]
    assert exported["recommendations"] and {r["about"] for r in exported["recommendations"]} == {"me"}
    assert [(i["title"], i["rsvp"]) for i in exported["event_invitations"]] == [("岗前示范交流活动", "yes")]
    actions = {entry["action"] for entry in exported["audit_log"]}
    assert {"person.register", "document.upload", "application.submit"} <= actions
    assert exported["notifications"] and all("payload" in n for n in exported["notifications"])

    contact = await core.privacy.export(person_id=await person_of(core, university))
    assert {r["about"] for r in contact["recommendations"]} == {"candidate_for_me"}
    assert contact["appointments"][0]["side"] == "university" and contact["files"] == []
    assert contact["applications"][0]["course_demands"][0]["course"] == "创新思维"


async def test_erasure_cancels_and_redacts_what_others_would_be_told(core, clock):
    expert, university, appointment_id = await matched_pair(core, until="publicity")
    university_person = await person_of(core, university)
    rows = await outbox(core)
    to_university = [r for r in rows if r.person_id == university_person and r.payload.get("appointment_id") == appointment_id]
    assert any(EXPERT["mobile"] in dumped(r.payload) for r in to_university)  # publicity_started shares contacts
    # One of them already went out: its stored copy must lose the expert too.
    sent_id = to_university[0].id
    async with core.uow() as uow:
        await uow.session.execute(update(OutboxMessage).where(OutboxMessage.id == sent_id).values(status="sent", sent_at=clock.now))
        await uow.commit()

    report = await core.privacy.erase(person_id=await person_of(core, expert))
    assert report.kept_appointments == () and report.files == 1 and report.files_pending == 0
    assert report.cancelled_notifications >= 1 and report.redacted_notifications >= 1

    rows = await outbox(core)
    for row in rows:
        text_of_row = dumped(row.payload) + (row.address or "")
        assert all(mark not in text_of_row for mark in EXPERT_MARKS), (row.kind, row.payload)
        assert EXPERT["name"] not in dumped(row.payload), (row.kind, row.payload)
    about_gone = [r for r in rows if r.payload.get("appointment_id") == appointment_id and r.id != sent_id]
    assert about_gone and all(r.status == "skipped" and "已删除" in r.last_error for r in about_gone)
    assert next(r for r in rows if r.id == sent_id).status == "sent"
    # The university's own data is untouched.
    assert any(UNIVERSITY["contact_mobile"] in dumped(r.payload) for r in rows if r.person_id == university_person)
    async with core.uow() as uow:
        assert await uow.session.get(Appointment, appointment_id) is None
        assert (await uow.session.scalars(select(Recommendation).where(Recommendation.expert_application_id == expert))).all() == []
        assert await uow.session.get(Application, expert) is None
        details = [e.detail for e in (await uow.session.scalars(select(AuditEntry))).all()]
    assert all(mark not in dumped(detail) for detail in details for mark in EXPERT_MARKS)
    assert list(core.settings.documents_dir.iterdir()) == []


async def test_erasure_keeps_a_filed_appointment_with_only_what_the_filing_shows(core, clock):
    expert, university, appointment_id = await matched_pair(core, until="filed")
    expert_person = await person_of(core, expert)
    report = await core.privacy.erase(person_id=expert_person)
    assert report.kept_appointments == (appointment_id,) and report.files == 1

    filed = await core.appointments.list(staff="test", statuses=["filed"])
    assert [a.id for a in filed] == [appointment_id] and filed[0].expert_name == EXPERT["name"]
    sheet = openpyxl.load_workbook(io.BytesIO(filing_workbook(filed))).active
    assert EXPERT["name"] in [c.value for c in sheet[2]]
    async with core.uow() as uow:
        app = await uow.session.get(Application, expert)
        person = await uow.session.get(Person, expert_person)
        invitations = (await uow.session.scalars(select(EventInvitation))).all()
        assert set(app.answers) <= {"name", "employer", "employer_type", "courses"} and app.status == "withdrawn"
        assert (person.telegram_id, person.email, person.mobile, person.display_name) == (None, None, None, None)
        assert person.erased_at is not None and invitations == []
    assert all(mark not in dumped(r.payload) for r in await outbox(core) for mark in EXPERT_MARKS)
    # Out of the pool: a new run does not propose the erased expert again.
    batch = (await core.batches.list())[0]
    run = await core.matching.run(batch_id=batch.id, staff="staff:1")
    assert all(not (p.expert_application_id == expert and not p.fixed) for p in run.proposals)


async def test_erasure_takes_the_person_out_of_a_staff_digest_not_yet_sent(core, clock):
    from core.services.notifications import NotificationService

    expert = await approved_expert(core, courses=["创新思维"])
    await approved_expert(core, name="王五", mobile="13700002222", email="wangwu@example.com")
    # Both were submitted in the past day: the digest written now lists them.
    assert await NotificationService.from_settings(core.settings, uow=core.uow, clock=clock).schedule_staff_digest() == 1
    [digest] = [r for r in await outbox(core) if r.kind == "staff_digest"]
    assert EXPERT["name"] in dumped(digest.payload) and "王五" in dumped(digest.payload)

    await core.privacy.erase(person_id=await person_of(core, expert))
    [digest] = [r for r in await outbox(core) if r.kind == "staff_digest"]
    assert digest.status == "queued"  # the digest still goes to staff, without the erased person
    assert EXPERT["name"] not in dumped(digest.payload) and "王五" in dumped(digest.payload)
    assert "138****5678" not in dumped(digest.payload) and "137****2222" in dumped(digest.payload)
