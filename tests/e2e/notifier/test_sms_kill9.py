"""SMS through a notifier killed with SIGKILL in the middle of sending: the three notices a person must not miss
(a proposal waiting for their answer, its deadline tomorrow, a workshop tomorrow), queued by core for both sides
of a confirmed pair who have verified mobiles, reach the fake SMS provider exactly once each.

`innoeng notifier` runs in its own process with the fake sender (SMS_PROVIDER unset: it appends every accepted
SMS to DATA_DIR/outbox/sms.jsonl, which this test reads as the provider's record). The fake answers at once, and
no setting slows it, so the first process runs through a small launcher (SLOW_PROVIDER below) that makes each
accepted SMS take a while to be answered; the test kills that process the moment the first SMS is on the
provider's record, i.e. after the provider accepted it and before the worker could write the outcome. A second,
ordinary `innoeng notifier` then takes over, as a supervisor would restart it.

What the outbox promises after a crash (README, "Exactly once, and the window that remains"): a row whose attempt
was on record is never resent automatically; it becomes `unknown` and staff, having checked with the provider,
resend it with `innoeng notify retry ID`. The test plays that part too, retrying exactly the rows the provider has
no record of; in the end the provider holds each of the six SMS exactly once.

An authentication error from the provider pausing the SMS channel is covered by
tests/integration/notifier/test_sms_channel.py::test_an_auth_error_pauses_the_channel_and_keeps_the_rest_queued.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, update

from core.bootstrap import bootstrap
from core.db.models import OutboxMessage, PersonIdentity
from notifier.main import notification_service
from tests.support.databases import throwaway_database
from tests.support.factories import approved_expert, submitted_university

REPO = Path(__file__).resolve().parents[3]
KINDS = ("match_proposal_waiting", "match_deadline_tomorrow", "workshop_tomorrow")
EXPERT_MOBILE, CONTACT_MOBILE = "13812345678", "13900001111"

# `innoeng notifier`, with the fake provider slow to answer an SMS it accepted (SLOW_PROVIDER_S seconds).
SLOW_PROVIDER = """
import asyncio, os, sys
from notifier.sms.fake import FakeSmsSender
accept = FakeSmsSender.send
async def slow(self, phone, template_code, params):
    result = await accept(self, phone, template_code, params)
    await asyncio.sleep(float(os.environ["SLOW_PROVIDER_S"]))
    return result
FakeSmsSender.send = slow
from innoeng.cli import main
sys.argv = ["innoeng", "notifier"]
sys.exit(main())
"""


def provider_record(path: Path) -> list[dict]:
    """What the fake provider accepted, in order (complete lines only: a line may be half-written)."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    return [json.loads(line) for line in lines if line.endswith("\n")]


def received(path: Path) -> Counter:
    return Counter((sms["phone"], sms["template_code"]) for sms in provider_record(path))


async def verified_mobile(core, person_id: int, mobile: str) -> None:
    """The person verified this mobile with a code earlier (as the web's sign-in does)."""
    now = datetime.now(timezone.utc)
    async with core.uow() as uow:
        uow.session.add(PersonIdentity(person_id=person_id, channel="mobile", identifier=mobile, verified_at=now,
                                       created_at=now))
        await uow.commit()


async def sms_rows(core) -> dict[int, OutboxMessage]:
    async with core.uow() as uow:
        rows = (await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "sms")
                                          .order_by(OutboxMessage.id))).all()
        uow.session.expunge_all()
    return {row.id: row for row in rows}


async def queue_the_three_notices(core) -> tuple[int, int]:
    """A confirmed pair whose both sides have verified mobiles; the proposal's deadline is tomorrow, and both
    said they attend a workshop that starts in 23 hours. Returns (expert's person, contact's person)."""
    expert_app = await approved_expert(core, name="韩专家", courses=["创新思维"], mobile=EXPERT_MOBILE)
    university_app = await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="华北科技大学",
                                                contact_mobile=CONTACT_MOBILE)
    expert = (await core.intake.get(application_id=expert_app)).person_id
    contact = (await core.intake.get(application_id=university_app)).person_id
    await verified_mobile(core, expert, EXPERT_MOBILE)
    await verified_mobile(core, contact, CONTACT_MOBILE)

    # Staff: `innoeng match run`, then `innoeng match confirm`: the proposal waits for both (SMS at once) ...
    batch = (await core.batches.list())[0]
    run = await core.matching.run(batch_id=batch.id, staff="staff:1", time_limit=3)
    run = await core.matching.confirm(run_id=run.id, staff="staff:1")
    assert len(run.proposals) == 1
    # ... and its deadline reminder is due the day before the deadline: that day has come.
    now = datetime.now(timezone.utc)
    async with core.uow() as uow:
        moved = await uow.session.execute(update(OutboxMessage).where(
            OutboxMessage.kind == "match_deadline_tomorrow").values(due_at=now))
        assert moved.rowcount == 2
        await uow.commit()

    # A workshop tomorrow: both invited, both attend; the scheduler queues its reminders (an SMS among them).
    event = await core.events.create(kind="demo_workshop", title="岗前示范交流活动", starts_at=now + timedelta(hours=23),
                                     ends_at=now + timedelta(hours=25), venue="北京市海淀区", actor="staff:1")
    await core.events.invite(event_id=event.id, actor="staff:1", audience="people", person_ids=[expert, contact])
    for person in (expert, contact):
        invitation = await core.events.invitation_for(person_id=person, event_id=event.id)
        await core.events.respond(invitation_id=invitation.id, attending=True, person_id=person)
    await notification_service(core).schedule_event_reminders()
    return expert, contact


class Notifier:
    """`innoeng notifier` processes on the test's database, one at a time."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env, self.workdir, self.process = env, workdir, None
        self.starts = 0

    def start(self, *, slow_provider_s: float | None = None) -> None:
        self.starts += 1
        log = open(self.workdir / f"notifier-{self.starts}.log", "wb")
        if slow_provider_s is None:
            command = [sys.executable, "-m", "innoeng", "notifier"]
            env = self.env
        else:
            command = [sys.executable, "-c", SLOW_PROVIDER]
            env = {**self.env, "SLOW_PROVIDER_S": str(slow_provider_s)}
        self.process = subprocess.Popen(command, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT)

    def kill9(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.workdir.glob("notifier-*.log")))


async def until(condition, *, seconds: float, what: str, notifier: Notifier):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = await condition()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: not within {seconds} s\n{notifier.log()}")


async def kill_nine_in_the_middle(tmp_path: Path, settings_for, *, staff_retry: bool) -> None:
    """The scenario; with `staff_retry`, staff resend the unknown rows the provider never got (as the README says
    they should), without it nobody helps. Either way it ends by checking that the provider got each SMS once."""
    async with throwaway_database("postgresql", tmp_path) as url:
        settings = settings_for(url, default_batch_deadline=(date.today() + timedelta(days=60)).isoformat())
        core = bootstrap(settings)
        await core.prepare()
        try:
            expert, contact = await queue_the_three_notices(core)
            queued = await sms_rows(core)
            assert sorted((r.address, r.kind) for r in queued.values()) == sorted(
                (mobile, kind) for mobile in (EXPERT_MOBILE, CONTACT_MOBILE) for kind in KINDS)
            assert all(r.status == "queued" and r.due_at <= datetime.now(timezone.utc) for r in queued.values())
            assert {r.person_id for r in queued.values()} == {expert, contact}

            record = settings.data_dir / "outbox" / "sms.jsonl"
            env = {
                **{k: v for k, v in os.environ.items()
                   if not k.startswith(("SMTP_", "BOT_", "NOTIFIER_", "MAIL_", "SMS_", "ALIYUN_", "DATABASE_", "DATA_"))},
                "DATABASE_URL": url, "DATA_DIR": str(settings.data_dir), "STAFF_EMAILS": "staff@example.org",
                "NOTIFIER_LEASE_S": "3", "NOTIFIER_POLL_INTERVAL_S": "0.2", "NOTIFIER_SCHEDULE_INTERVAL_S": "3600",
                # Three SMS to each number within a second: the per-number limit (1 a minute by default, tested
                # in tests/integration/notifier/test_sms_channel.py) would make this test wait minutes.
                "SMS_PER_NUMBER_PER_MINUTE": "10",
                "PYTHONPATH": str(REPO),
            }
            notifier = Notifier(env, tmp_path)
            try:
                # The first notifier: killed once the provider has accepted the first SMS, before it can record it.
                notifier.start(slow_provider_s=5)
                await until(lambda: asyncio.sleep(0, result=len(provider_record(record)) >= 1), seconds=60,
                            what="the first SMS", notifier=notifier)
                notifier.kill9()
                at_kill = provider_record(record)
                assert len(at_kill) == 1, at_kill  # killed in the middle: five SMS still to go
                first = (at_kill[0]["phone"], at_kill[0]["template_code"])
                assert "/l/" in at_kill[0]["params"]["link"]  # the signed link to the page where the person acts
                rows = await sms_rows(core)
                in_flight = [r for r in rows.values() if r.status == "sending"]
                assert any((r.address, r.kind) == first for r in in_flight), "the killed send was on record"

                # Restarted, as a supervisor would: the rows with an attempt on record become unknown once the
                # lease runs out; the rest go out; nothing is sent twice.
                notifier.start()

                async def settled():
                    rows = await sms_rows(core)
                    return rows if all(r.status in ("sent", "unknown", "failed") for r in rows.values()) else None

                rows = await until(settled, seconds=60, what="every SMS row settled", notifier=notifier)
                assert not [r for r in rows.values() if r.status == "failed"], [(r.kind, r.last_error) for r in rows.values()]
                got = received(record)
                assert max(got.values()) == 1, got  # no duplicate, whatever else happened
                for row in rows.values():
                    times = got.get((row.address, row.kind), 0)
                    if row.status == "sent":
                        assert times == 1, (row.kind, row.address)
                    else:  # unknown: it may have gone out; it is not resent without a person deciding
                        assert row.attempts >= 1 and row.last_error and times <= 1, (row.kind, row.last_error)
                killed_row = next(r for r in rows.values() if (r.address, r.kind) == first)
                assert killed_row.status == "unknown"  # the provider has it, the worker never heard
                unsent = sorted(r.id for r in rows.values() if r.status == "unknown" and (r.address, r.kind) not in got)
                print(f"\nsms kill -9: at the kill {first}; after the restart "
                      f"{Counter(r.status for r in rows.values())}, {len(unsent)} unknown never reached the provider")

                # Staff check with the provider and resend exactly the ones it never got (`innoeng notify retry`).
                if unsent and staff_retry:
                    retry = subprocess.run([sys.executable, "-m", "innoeng", "notify", "retry", *map(str, unsent)],
                                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
                    assert retry.returncode == 0, retry.stderr

                    async def resent():
                        rows = await sms_rows(core)
                        return rows if all(rows[i].status == "sent" for i in unsent) else None

                    rows = await until(resent, seconds=60, what="the retried SMS sent", notifier=notifier)
                await asyncio.sleep(1)  # anything still to come (there should be nothing) would show now
            finally:
                notifier.stop()

            got = received(record)
            assert got == Counter({(mobile, kind): 1 for mobile in (EXPERT_MOBILE, CONTACT_MOBILE) for kind in KINDS}), got
            for sms in provider_record(record):
                assert sms["params"]["link"].split("/l/")[1], sms  # each with its signed link
                if sms["template_code"] == "workshop_tomorrow":
                    assert sms["params"]["title"] == "岗前示范交流活动"
        finally:
            await core.close()


async def test_kill_nine_in_the_middle_of_sending_repeats_no_sms_and_staff_resend_what_never_went(tmp_path, settings_for):
    await kill_nine_in_the_middle(tmp_path, settings_for, staff_retry=True)


async def test_after_a_kill_nine_every_sms_reaches_the_provider_without_anybody_s_help(tmp_path, settings_for):
    await kill_nine_in_the_middle(tmp_path, settings_for, staff_retry=False)
