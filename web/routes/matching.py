"""After the application: a university ranks its recommended experts, an expert marks the universities they
were recommended to, both sides answer a proposal, invitees answer a workshop invitation.

Each page reads core's services for the signed-in person; each button is a POST (CSRF) followed by a redirect.
Which application takes part in matching, who may see or answer what, and every rule of an answer are core's."""
from __future__ import annotations

from aiohttp import web

from core.calendar import event_ics
from core.domain import DomainError, FormKind, NotFound
from core.texts import text
from web.rendering import render
from web.routes.common import core_of, person_of, signed_in
from web.security import redirect

routes = web.RouteTableDef()

# The marks a person may put on a candidate or a university: 意向, 不考虑, 清除 (and 提前, a move up).
_CHOICES = {"want": "want", "not": "not_considering", "clear": None}


def _id(request: web.Request, name: str) -> int:
    return int(request.match_info[name])  # the route's pattern allows 1-18 digits


async def _form_field(request: web.Request, name: str) -> str:
    value = (await request.post()).get(name, "")
    return value if isinstance(value, str) else ""


# ---------------------------------------------------------------------------- the university's candidates

@routes.get("/candidates")
@signed_in
async def candidates_page(request: web.Request) -> web.Response:
    core, person_id = core_of(request), person_of(request)
    intent = await core.dialog.in_matching(person_id, FormKind.UNIVERSITY)
    groups = await core.recommendations.candidates(
        university_application_id=intent.application_id, person_id=person_id) if intent else []
    notice = None
    if request.query.get("more") == "none":
        notice = text("match.more_none")
    elif request.query.get("more", "").isdigit():
        notice = text("web.candidates.more_added", count=int(request.query["more"]))
    return render(request, "web/candidates.html", title=text("web.candidates.title"), intent=intent, groups=groups,
                  notice=notice, error=request.query.get("error") and text("web.matching.not_saved"),
                  page_kind="candidates")


@routes.post(r"/candidates/{recommendation_id:\d{1,18}}")
@signed_in
async def mark_candidate(request: web.Request) -> web.Response:
    core, person_id = core_of(request), person_of(request)
    action = await _form_field(request, "action")
    recommendation_id = _id(request, "recommendation_id")
    if action == "up":
        await core.recommendations.move_up(recommendation_id=recommendation_id, person_id=person_id)
    elif action in _CHOICES:
        await core.recommendations.choose(recommendation_id=recommendation_id, choice=_CHOICES[action],
                                          person_id=person_id)
    else:
        return redirect("/candidates?error=1")
    return redirect(f"/candidates#candidate-{recommendation_id}")


@routes.post("/candidates/more")
@signed_in
async def more_candidates(request: web.Request) -> web.Response:
    core, person_id = core_of(request), person_of(request)
    intent = await core.dialog.in_matching(person_id, FormKind.UNIVERSITY)
    if intent is None:
        raise NotFound(text("application.not_found"))
    before = {c.recommendation_id for g in await core.recommendations.candidates(
        university_application_id=intent.application_id, person_id=person_id) for c in g.candidates}
    groups = await core.recommendations.recommend(university_application_id=intent.application_id,
                                                  person_id=person_id, more=True)
    added = sum(1 for g in groups for c in g.candidates if c.recommendation_id not in before)
    return redirect(f"/candidates?more={added}" if added else "/candidates?more=none")


# ---------------------------------------------------------------------------- the expert's universities

@routes.get("/universities")
@signed_in
async def universities_page(request: web.Request) -> web.Response:
    core, person_id = core_of(request), person_of(request)
    expert = await core.dialog.in_matching(person_id, FormKind.EXPERT)
    options = await core.recommendations.universities_for_expert(
        expert_application_id=expert.application_id, person_id=person_id) if expert else []
    return render(request, "web/universities.html", title=text("web.universities.title"), expert=expert,
                  options=options, error=request.query.get("error") and text("web.matching.not_saved"),
                  page_kind="universities")


@routes.post(r"/universities/{university_application_id:\d{1,18}}")
@signed_in
async def mark_university(request: web.Request) -> web.Response:
    core, person_id = core_of(request), person_of(request)
    expert = await core.dialog.in_matching(person_id, FormKind.EXPERT)
    if expert is None:
        raise NotFound(text("application.not_found"))
    action = await _form_field(request, "action")
    university = _id(request, "university_application_id")
    ids = dict(expert_application_id=expert.application_id, university_application_id=university, person_id=person_id)
    if action == "up":
        await core.recommendations.expert_move_up(**ids)
    elif action in _CHOICES:
        await core.recommendations.expert_choose(choice=_CHOICES[action], **ids)
    else:
        return redirect("/universities?error=1")
    return redirect(f"/universities#university-{university}")


# ---------------------------------------------------------------------------- proposals

@routes.get("/proposals")
@signed_in
async def proposals_page(request: web.Request) -> web.Response:
    core, person_id = core_of(request), person_of(request)
    proposals = [view for _, view in await core.appointments.for_person(person_id=person_id)]
    return render(request, "web/proposals.html", title=text("web.proposals.title"), proposals=proposals,
                  zone=core.settings.zone, page_kind="proposals")


@routes.get(r"/proposals/{appointment_id:\d{1,18}}")
@signed_in
async def proposal_page(request: web.Request) -> web.Response:
    core, person_id = core_of(request), person_of(request)
    view = await core.appointments.of_person(appointment_id=_id(request, "appointment_id"), person_id=person_id)
    notice = text("web.proposals.answered") if request.query.get("answered") else None
    return render(request, "web/proposal.html", title=text("web.proposal.title"), view=view, zone=core.settings.zone,
                  now=core.clock(), notice=notice, reason="", page_kind="proposal")


@routes.post(r"/proposals/{appointment_id:\d{1,18}}")
@signed_in
async def answer_proposal(request: web.Request) -> web.Response:
    core, person_id = core_of(request), person_of(request)
    appointment_id = _id(request, "appointment_id")
    form = await request.post()
    answer = form.get("answer")
    reason = form.get("reason", "")
    reason = reason if isinstance(reason, str) else ""
    if answer not in ("accept", "decline"):
        return redirect(f"/proposals/{appointment_id}")
    try:
        await core.appointments.respond(appointment_id=appointment_id, person_id=person_id,
                                        accept=answer == "accept", reason=reason)
    except NotFound:
        raise
    except DomainError as refusal:
        view = await core.appointments.of_person(appointment_id=appointment_id, person_id=person_id)
        return render(request, "web/proposal.html", status=422, title=text("web.error_prefix") + text("web.proposal.title"),
                      view=view, zone=core.settings.zone, now=core.clock(), error=refusal.message,
                      reason=reason[:5000], page_kind="proposal")
    return redirect(f"/proposals/{appointment_id}?answered=1")


# ---------------------------------------------------------------------------- workshops

@routes.get("/events")
@signed_in
async def events_page(request: web.Request) -> web.Response:
    core, person_id = core_of(request), person_of(request)
    invitations = await core.events.invitations_for(person_id=person_id)
    return render(request, "web/events.html", title=text("web.events.title"), invitations=invitations,
                  zone=core.settings.zone, now=core.clock(), page_kind="events")


@routes.get(r"/events/{event_id:\d{1,18}}")
@signed_in
async def event_page(request: web.Request) -> web.Response:
    core, person_id = core_of(request), person_of(request)
    invitation = await core.events.invitation_for(person_id=person_id, event_id=_id(request, "event_id"))
    notice = text("web.events.answered", answer=invitation.rsvp_label) if request.query.get("answered") else None
    return render(request, "web/event.html", title=invitation.event.title, invitation=invitation,
                  zone=core.settings.zone, now=core.clock(), notice=notice, page_kind="event")


@routes.post(r"/events/{event_id:\d{1,18}}")
@signed_in
async def answer_event(request: web.Request) -> web.Response:
    core, person_id = core_of(request), person_of(request)
    event_id = _id(request, "event_id")
    invitation = await core.events.invitation_for(person_id=person_id, event_id=event_id)
    answer = await _form_field(request, "answer")
    if answer not in ("yes", "no"):
        return redirect(f"/events/{event_id}")
    try:
        await core.events.respond(invitation_id=invitation.id, attending=answer == "yes", person_id=person_id)
    except NotFound:
        raise
    except DomainError as refusal:
        return render(request, "web/event.html", status=422, title=text("web.error_prefix") + invitation.event.title,
                      invitation=invitation, zone=core.settings.zone, now=core.clock(), error=refusal.message,
                      page_kind="event")
    return redirect(f"/events/{event_id}?answered=1")


@routes.get(r"/events/{event_id:\d{1,18}}.ics")
@signed_in
async def event_calendar(request: web.Request) -> web.Response:
    core, person_id = core_of(request), person_of(request)
    invitation = await core.events.invitation_for(person_id=person_id, event_id=_id(request, "event_id"))
    event = invitation.event
    payload = {"event_id": event.id, "title": event.title, "kind_label": event.kind_label, "starts_at": event.starts_at,
               "ends_at": event.ends_at, "venue": event.venue, "online_url": event.online_url,
               "description": event.description, "sequence": event.sequence}
    # The same calendar entry (UID, SEQUENCE) as the invitation e-mail's, so a calendar keeps one copy.
    settings = core.settings
    body = event_ics(payload, method="CANCEL" if event.cancelled else "REQUEST", organizer_email=settings.mail_reply_to or settings.mail_from,
                     organizer_name="中国创造学会创新工程学分会", attendee_email=None, dtstamp=core.clock())
    response = web.Response(body=body, content_type="text/calendar", charset="utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="event-{event.id}.ics"'
    return response
