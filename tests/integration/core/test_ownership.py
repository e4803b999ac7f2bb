"""Every participant-facing use case is scoped by the person who asks: someone else's candidate list,
candidate, university list, proposal or invitation is refused exactly as a missing id is (same error,
same message), changes nothing, and the owner goes on as before. On SQLite and PostgreSQL."""
from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.domain import NotFound
from tests.support.factories import approved_expert, confirmed_pairs, submitted_university
from tests.support.outbox import add_person

MISSING = 999999
START = datetime(2025, 7, 10, 14, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


async def refusal(call: Awaitable) -> tuple[str, str]:
    """What the person is told when the use case refuses: a NotFound's code and message."""
    with pytest.raises(NotFound) as caught:
        await call
    return caught.value.code, caught.value.message


async def person_of(core, application_id: int) -> int:
    return (await core.intake.get(application_id=application_id)).person_id


async def two_universities(core):
    """Two experts for 创新思维, then two universities that want it: each gets both as candidates.
    (expert ids, first university, its contact, second university, its contact)."""
    experts = (await approved_expert(core, name="甲专家", courses=["创新思维"]),
               await approved_expert(core, name="乙专家", courses=["创新思维"]))
    first = await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="第一大学")
    second = await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="第二大学")
    return experts, first, await person_of(core, first), second, await person_of(core, second)


async def test_a_university_sees_and_extends_only_its_own_candidate_list(core):
    (expert, _), first, first_contact, second, second_contact = await two_universities(core)

    missing = await refusal(core.recommendations.candidates(university_application_id=MISSING, person_id=second_contact))
    assert await refusal(core.recommendations.candidates(university_application_id=first, person_id=second_contact)) == missing
    assert await refusal(core.recommendations.recommend(university_application_id=first, person_id=second_contact,
                                                        more=True)) == missing
    assert await refusal(core.recommendations.recommend(university_application_id=MISSING, person_id=second_contact,
                                                        more=True)) == missing
    # An expert application is not a candidate list, even for its owner.
    assert await refusal(core.recommendations.candidates(university_application_id=expert,
                                                         person_id=await person_of(core, expert))) == missing

    (group,) = await core.recommendations.candidates(university_application_id=first, person_id=first_contact)
    assert group.course == "创新思维" and len(group.candidates) == 2
    groups = await core.recommendations.recommend(university_application_id=second, person_id=second_contact, more=True)
    assert [len(g.candidates) for g in groups] == [2]


async def test_a_university_marks_only_its_own_candidates(core):
    _, first, first_contact, second, second_contact = await two_universities(core)
    (theirs,) = await core.recommendations.candidates(university_application_id=first, person_id=first_contact)
    a, b = theirs.candidates

    missing = await refusal(core.recommendations.choose(recommendation_id=MISSING, choice="want", person_id=second_contact))
    for choice in ("want", "not_considering", None):
        assert await refusal(core.recommendations.choose(
            recommendation_id=a.recommendation_id, choice=choice, person_id=second_contact)) == missing
    assert await refusal(core.recommendations.move_up(recommendation_id=a.recommendation_id,
                                                      person_id=second_contact)) == missing
    assert await refusal(core.recommendations.move_up(recommendation_id=MISSING, person_id=second_contact)) == missing
    (untouched,) = await core.recommendations.candidates(university_application_id=first, person_id=first_contact)
    assert all(c.choice is None for c in untouched.candidates)

    # The owner: want both, move the second up, clear one, turn the other down.
    await core.recommendations.choose(recommendation_id=a.recommendation_id, choice="want", person_id=first_contact)
    await core.recommendations.choose(recommendation_id=b.recommendation_id, choice="want", person_id=first_contact)
    (group,) = await core.recommendations.move_up(recommendation_id=b.recommendation_id, person_id=first_contact)
    assert {c.recommendation_id: c.want_rank for c in group.candidates} == {b.recommendation_id: 1, a.recommendation_id: 2}
    await core.recommendations.choose(recommendation_id=b.recommendation_id, choice=None, person_id=first_contact)
    (group,) = await core.recommendations.choose(recommendation_id=a.recommendation_id, choice="not_considering",
                                                 person_id=first_contact)
    assert {c.recommendation_id: c.choice for c in group.candidates} == {a.recommendation_id: "not_considering",
                                                                         b.recommendation_id: None}
    # The other university's own list was never touched.
    (other,) = await core.recommendations.candidates(university_application_id=second, person_id=second_contact)
    assert all(c.choice is None for c in other.candidates)


async def test_an_expert_sees_and_marks_only_their_own_universities(core):
    (first_expert, second_expert), first, first_contact, _, _ = await two_universities(core)
    owner, other = await person_of(core, first_expert), await person_of(core, second_expert)

    missing = await refusal(core.recommendations.universities_for_expert(expert_application_id=MISSING, person_id=other))
    assert await refusal(core.recommendations.universities_for_expert(
        expert_application_id=first_expert, person_id=other)) == missing
    # A university's intent is not an expert application, even for its contact.
    assert await refusal(core.recommendations.universities_for_expert(
        expert_application_id=first, person_id=first_contact)) == missing
    for choice in ("want", "not_considering", None):
        assert await refusal(core.recommendations.expert_choose(
            expert_application_id=first_expert, university_application_id=first, choice=choice, person_id=other)) == missing
    assert await refusal(core.recommendations.expert_choose(
        expert_application_id=MISSING, university_application_id=first, choice="want", person_id=other)) == missing
    assert await refusal(core.recommendations.expert_move_up(
        expert_application_id=first_expert, university_application_id=first, person_id=other)) == missing
    assert all(o.choice is None for o in await core.recommendations.universities_for_expert(
        expert_application_id=first_expert, person_id=owner))

    options = await core.recommendations.expert_choose(expert_application_id=first_expert, university_application_id=first,
                                                       choice="want", person_id=owner)
    assert [(o.university, o.choice, o.want_rank) for o in options if o.university_application_id == first] == [
        ("第一大学", "want", 1)]
    assert {o.university for o in await core.recommendations.universities_for_expert(
        expert_application_id=second_expert, person_id=other)} == {"第一大学", "第二大学"}


async def test_only_a_side_of_the_pair_answers_a_proposal_and_core_names_the_side(core):
    pairs = await confirmed_pairs(core)
    appointment, expert, university = pairs["创新思维"]
    _, other_expert, _ = pairs["创新管理"]
    stranger = await add_person(core, name="路人", email="stranger@example.cn")

    missing = await refusal(core.appointments.respond(appointment_id=MISSING, person_id=other_expert, accept=True))
    for person in (other_expert, stranger):
        assert await refusal(core.appointments.respond(appointment_id=appointment, person_id=person, accept=True)) == missing
        assert await refusal(core.appointments.respond(appointment_id=appointment, person_id=person, accept=False,
                                                       reason="时间冲突")) == missing
    untouched = await core.appointments.get(staff="test", appointment_id=appointment)
    assert (untouched.status, untouched.expert_response, untouched.university_response) == ("offered", None, None)

    accepted = await core.appointments.respond(appointment_id=appointment, person_id=expert, accept=True)
    assert (accepted.side, accepted.expert_response, accepted.status) == ("expert", "accepted", "offered")
    confirmed = await core.appointments.respond(appointment_id=appointment, person_id=university, accept=True)
    assert (confirmed.side, confirmed.status) == ("university", "accepted")
    assert {(side, view.side, view.id) for side, view in await core.appointments.for_person(person_id=university)} == {
        ("university", "university", pairs["创新思维"][0]), ("university", "university", pairs["创新管理"][0])}
    assert [(side, view.side) for side, view in await core.appointments.for_person(person_id=expert)] == [
        ("expert", "expert")]
    # Staff views are nobody's side.
    assert (await core.appointments.get(staff="test", appointment_id=appointment)).side is None


async def test_only_the_invitee_answers_an_invitation(core):
    invitee = await add_person(core, name="张三", email="zhang@example.cn")
    other = await add_person(core, name="李四", email="li@example.cn")
    event = await core.events.create(kind="岗前示范交流活动", title="创新思维示范课", starts_at=START,
                                     ends_at=START + timedelta(hours=2), online_url="https://meeting.example.cn/1",
                                     actor="staff:1")
    await core.events.invite(event_id=event.id, actor="staff:1", audience="people", person_ids=[invitee, other])
    invitations = {i.person_id: i.id for i in await core.events.invitations(staff="test", event_id=event.id)}

    missing = await refusal(core.events.respond(invitation_id=MISSING, attending=True, person_id=other))
    for attending in (True, False):
        assert await refusal(core.events.respond(invitation_id=invitations[invitee], attending=attending,
                                                 person_id=other)) == missing
    assert (await core.events.tally(staff="test", event_id=event.id)).pending == 2

    answered = await core.events.respond(invitation_id=invitations[invitee], attending=True, person_id=invitee)
    assert (answered.person_id, answered.rsvp) == (invitee, "yes")
    tally = await core.events.tally(staff="test", event_id=event.id)
    assert (tally.attending, tally.pending) == (1, 1)


async def test_a_participant_facing_call_without_a_person_is_an_error(core):
    calls = (
        lambda: core.recommendations.candidates(university_application_id=1),
        lambda: core.recommendations.recommend(university_application_id=1, more=True),
        lambda: core.recommendations.choose(recommendation_id=1, choice="want"),
        lambda: core.recommendations.move_up(recommendation_id=1),
        lambda: core.recommendations.universities_for_expert(expert_application_id=1),
        lambda: core.recommendations.expert_choose(expert_application_id=1, university_application_id=2, choice="want"),
        lambda: core.recommendations.expert_move_up(expert_application_id=1, university_application_id=2),
        lambda: core.appointments.respond(appointment_id=1, accept=True),
        lambda: core.events.respond(invitation_id=1, attending=True),
    )
    for call in calls:
        with pytest.raises(TypeError, match="person_id"):
            call()
    with pytest.raises(TypeError):
        core.events.respond(invitation_id=1, attending=True, telegram_id=700000)
