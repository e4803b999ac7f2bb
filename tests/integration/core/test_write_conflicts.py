"""Two writers of one row at the same moment (both sides of an appointment answering, staff recording while a side
answers, two reviewers deciding one application): each write lands, or is told why in words; none fails with a
conflict the person cannot read."""
from __future__ import annotations

import asyncio
import itertools
from datetime import date, timedelta

import pytest

from core.db.repositories import ApplicationRepository
from core.domain import DomainError
from core.domain.status import AlreadyInState
from tests.support.factories import confirmed_pairs, submitted_expert


def together(read, writers: int = 2):
    """`read`, made to wait (briefly) after it returns until the other writers have read too: on SQLite, where
    FOR UPDATE locks nothing, every writer then holds the same version when it writes. On PostgreSQL the second
    read waits for the first writer's lock, so the wait times out and the writes run one after the other."""
    arrived = 0
    all_read = asyncio.Event()

    async def read_together(*args, **kwargs):
        nonlocal arrived
        row = await read(*args, **kwargs)
        arrived += 1
        if arrived >= writers:
            all_read.set()
        try:
            await asyncio.wait_for(all_read.wait(), 0.5)
        except asyncio.TimeoutError:
            pass
        return row

    return read_together


def reads_together(core, monkeypatch) -> None:
    monkeypatch.setattr(core.appointments, "_load", together(core.appointments._load))


async def test_both_sides_saying_yes_at_the_same_moment_accept_the_pair(core, monkeypatch):
    appointment_id, expert, university = (await confirmed_pairs(core))["创新思维"]
    reads_together(core, monkeypatch)
    answers = await asyncio.gather(
        core.appointments.respond(appointment_id=appointment_id, person_id=expert, accept=True),
        core.appointments.respond(appointment_id=appointment_id, person_id=university, accept=True),
        return_exceptions=True)
    assert [a for a in answers if isinstance(a, BaseException)] == []
    assert {a.side for a in answers} == {"expert", "university"}
    final = await core.appointments.get(appointment_id=appointment_id, staff="test")
    assert final.status == "accepted"  # neither yes was lost
    assert (final.expert_response, final.university_response) == ("accepted", "accepted")


async def test_the_same_side_answering_twice_at_once_is_told_it_already_answered(core, monkeypatch):
    appointment_id, expert, _ = (await confirmed_pairs(core))["创新思维"]
    reads_together(core, monkeypatch)
    answers = await asyncio.gather(
        core.appointments.respond(appointment_id=appointment_id, person_id=expert, accept=True),
        core.appointments.respond(appointment_id=appointment_id, person_id=expert, accept=False, reason="时间冲突"),
        return_exceptions=True)
    done = [a for a in answers if not isinstance(a, BaseException)]
    refused = [a for a in answers if isinstance(a, BaseException)]
    assert len(done) == 1 and len(refused) == 1
    assert isinstance(refused[0], DomainError) and "答复" in refused[0].message  # words, not a conflict
    final = await core.appointments.get(appointment_id=appointment_id, staff="test")
    assert final.expert_response == done[0].expert_response


@pytest.mark.parametrize("accept", [True, False])
async def test_staff_writing_while_a_side_answers_both_land_or_the_refusal_is_in_words(core, monkeypatch, accept):
    pairs = await confirmed_pairs(core)
    appointment_id, expert, university = pairs["创新思维"]
    await core.appointments.respond(appointment_id=appointment_id, person_id=expert, accept=True)
    reads_together(core, monkeypatch)
    answers = await asyncio.gather(
        core.appointments.respond(appointment_id=appointment_id, person_id=university, accept=accept,
                                  reason=None if accept else "课程取消"),
        core.appointments.record_filing(appointment_id=appointment_id, staff="staff:1", filed_on=date(2026, 12, 7)),
        return_exceptions=True)
    for answer in answers:
        assert not isinstance(answer, BaseException) or isinstance(answer, DomainError), repr(answer)
    final = await core.appointments.get(appointment_id=appointment_id, staff="test")
    assert final.university_response == ("accepted" if accept else "declined")


async def test_two_reviewers_deciding_at_the_same_moment_one_decides_the_other_is_told_who(core, monkeypatch):
    application_id = await submitted_expert(core)
    # Two requests, two moments (the frozen test clock would give both one notification key).
    moments = itertools.count()
    frozen = core.review._clock
    monkeypatch.setattr(core.review, "_clock", lambda: frozen() + timedelta(microseconds=next(moments)))
    monkeypatch.setattr(ApplicationRepository, "get", together(ApplicationRepository.get))
    answers = await asyncio.gather(
        core.review.approve(application_id=application_id, staff="staff:1"),
        core.review.approve(application_id=application_id, staff="staff:2"),
        return_exceptions=True)
    monkeypatch.undo()
    done = [a for a in answers if not isinstance(a, BaseException)]
    refused = [a for a in answers if isinstance(a, BaseException)]
    assert len(done) == 1 and len(refused) == 1, answers
    assert isinstance(refused[0], AlreadyInState)  # "already approved by … at …", not a conflict
    summary = (await core.review.statuses(application_ids=[application_id], staff="test"))[application_id]
    assert summary.value == "approved"


async def test_erasing_an_account_while_a_reviewer_decides_it_both_end_in_words(core, monkeypatch):
    """The person deletes their account (web or chat) at the moment a reviewer approves their application: the
    erasure lands (it runs again on the row as the approval left it), the approval lands first or is told the
    application is gone, and the proof file is removed once, after the erasure's commit."""
    application_id = await submitted_expert(core)
    async with core.uow() as uow:
        person_id = (await uow.applications.get(application_id)).person_id
    assert len(core.documents.inventory()) == 1  # the proof file the erasure must remove
    monkeypatch.setattr(ApplicationRepository, "get", together(ApplicationRepository.get))
    monkeypatch.setattr(ApplicationRepository, "list_for_person", together(ApplicationRepository.list_for_person))
    answers = await asyncio.gather(
        core.review.approve(application_id=application_id, staff="staff:1"),
        core.privacy.erase(person_id=person_id),
        return_exceptions=True)
    monkeypatch.undo()
    approval, erasure = answers
    assert not isinstance(erasure, BaseException), repr(erasure)
    assert erasure.files == 1 and erasure.files_pending == 0
    assert not isinstance(approval, BaseException) or isinstance(approval, DomainError), repr(approval)
    async with core.uow() as uow:
        assert await uow.applications.get(application_id) is None
        assert await uow.people.get(person_id) is None
    assert core.documents.inventory() == []  # the file went with the erasure
