"""The participant's dialog: which screen comes next, and what an act does to it.

`IntakeDialog.screen(person)` is a pure read; `IntakeDialog.act(person, action, token, value)` applies one act
and returns the outcome with the screen that follows. Every channel (the chat, the web) goes through these
two and holds no rule of the questionnaire.

Ownership: the application an act concerns is named by the token, and it must be the person's; someone else's
reads exactly as a missing one. The token's turn is checked in the same versioned write as the answer
(IntakeService), so an act from a page that is no longer current changes nothing and is answered as stale.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from core.dialog.screens import (
    CONSENT_TOKEN,
    ROLE_TOKEN,
    Action,
    ChoiceOption,
    ConsentScreen,
    QuestionScreen,
    Receipt,
    ReviewLine,
    ReviewScreen,
    RoleScreen,
    Screen,
    StatusItem,
    StatusScreen,
    UploadedFile,
    Verdict,
    VerdictLine,
)
from core.documents import ACCEPTED_TYPES
from core.domain import ApplicationStatus, DomainError, FormKind, NotFound, Stale
from core.domain.status import EDITABLE, OPEN
from core.eligibility import OUTCOME_LABELS, Eligibility, assess_expert, assess_university
from core.eligibility import Outcome as RuleOutcome
from core.forms import COURSE_DEMANDS, AnswerError, FormContext, Kind, display_value, get_form, visible_steps
from core.forms.model import follow_up_step_key
from core.forms.navigation import most_steps
from core.formatting import format_datetime_cn
from core.services.common import Clock, utc_now
from core.services.intake import FINISH_FILES, IntakeService
from core.services.people import ROLES, PeopleService
from core.services.views import ApplicationSummary, DocumentView, DraftView, PersonView
from core.texts import text

__all__ = ["IntakeDialog", "Outcome", "OutcomeKind", "Recorded", "parse_token", "erasure_message"]


class OutcomeKind(StrEnum):
    DONE = "done"  # the act was applied; `screen` is what follows
    REFUSED = "refused"  # a rule refused it; `message` says why; nothing changed
    STALE = "stale"  # the page it came from is no longer current; nothing changed; `screen` is the current one
    DECLINED = "declined"  # consent declined: nothing is collected
    SUBMITTED = "submitted"  # `receipt` is the reference and what happens next


@dataclass(frozen=True)
class Recorded:
    """The answer an act saved, as the person sees it (a chat marks the question it answered with this)."""

    step_key: str
    label: str
    display: str
    skipped: bool
    files: int | None = None


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    screen: Screen
    message: str | None = None
    recorded: Recorded | None = None
    receipt: Receipt | None = None

    @property
    def ok(self) -> bool:
        return self.kind in (OutcomeKind.DONE, OutcomeKind.SUBMITTED)


def page_token(application_id: int, turn: int) -> str:
    return f"{application_id}.{turn}"


def parse_token(token: str | None) -> tuple[int, int] | None:
    """(application id, turn) from a page token; None for anything else (consent, role, garbage)."""
    parts = (token or "").split(".")
    if len(parts) != 2 or not all(p.isdigit() and len(p) <= 18 for p in parts):
        return None
    return int(parts[0]), int(parts[1])


class IntakeDialog:
    def __init__(self, *, intake: IntakeService, people: PeopleService, appointments, zone: ZoneInfo,
                 retention_line: str, events=None, clock: Clock = utc_now) -> None:
        self._intake = intake
        self._events = events
        self._people = people
        self._appointments = appointments
        self._zone = zone
        self._retention_line = retention_line
        self._clock = clock
        # The drafts behind the screens this process drew last, by token: a chat reads the screen and then acts
        # on it, and this spares the act a second read of the same row. Only which question a token stands
        # for is taken from here (fixed for an application and turn); the write still checks the turn.
        self._drawn: OrderedDict[str, DraftView] = OrderedDict()

    # ------------------------------------------------------------------ reading

    async def screen(self, person: PersonView | int) -> Screen:
        """Where this person stands now. Reads only: opening a draft is an act (START, ROLE)."""
        person = await self._person(person)
        if not person.consented:
            return self.consent_screen()
        draft = await self.current_draft(person)
        if draft is None:
            if person.role is None or not await self._has_applications(person):
                return self._role_screen(person.role)
            return await self.status(person)
        return await self._draft_screen(person, draft)

    async def current_draft(self, person: PersonView | int) -> DraftView | None:
        """The application this person is filling in now: editable, of their role, most recent first."""
        person = await self._person(person)
        drafts = [d for d in await self._intake.find_for_person(person_id=person.id)
                  if ApplicationStatus(d.status) in EDITABLE and (person.role is None or d.form == person.role)]
        return drafts[-1] if drafts else None

    async def status(self, person: PersonView | int) -> StatusScreen:
        """Each application and each proposal as it stands, with what waits for the person."""
        person = await self._person(person)
        items: list[StatusItem] = []
        for draft in await self._intake.find_for_person(person_id=person.id):
            status = ApplicationStatus(draft.status)
            lines = []
            if status in EDITABLE:
                answered = sum(1 for value in draft.answers.values() if value is not None)
                total = self._total(draft)
                lines.append(text("status.progress", answered=min(answered, total), total=total))
            if draft.staff_message:
                lines.append(text("status.message", message=draft.staff_message))
            pages = ("apply",) if status in EDITABLE else ()
            if status in _IN_MATCHING[FormKind(draft.form)]:
                pages = ("candidates",) if draft.form == FormKind.UNIVERSITY else ("universities",)
            if draft.submitted_at is not None and status not in EDITABLE:
                pages += ("receipt",)  # what was submitted, and when (a draft withdrawn unsubmitted has none)
            items.append(StatusItem(
                kind="application", id=draft.application_id, name=get_form(draft.form).title,
                title=text("status.line", title=get_form(draft.form).title, batch=draft.batch_name, status=draft.status_label),
                status=draft.status, status_label=draft.status_label,
                reference=draft.reference if draft.submitted_at is not None else None, lines=tuple(lines),
                editable=status in EDITABLE, withdrawable=status in OPEN,
                waiting=status is ApplicationStatus.NEEDS_INFO, pages=pages,
            ))
        for side, appointment in await self._appointments.for_person(person_id=person.id):
            lines = []
            waiting = appointment.status == "offered" and getattr(appointment, f"{side}_response") is None
            if waiting:
                lines.append(text("match.status_answer", deadline=self._local(appointment.answer_by)))
            if appointment.publicity_starts_on:
                lines.append(text("match.status_publicity", start=appointment.publicity_starts_on,
                                  end=appointment.publicity_ends_on))
            items.append(StatusItem(
                kind="appointment", id=appointment.id, name=f"{appointment.university_name}《{appointment.course}》",
                title=text("match.status_line", university=appointment.university_name, course=appointment.course,
                           expert=appointment.expert_name, status=appointment.status_label),
                status=appointment.status, status_label=appointment.status_label, lines=tuple(lines), waiting=waiting,
                pages=("proposal",),
            ))
        now = self._clock()
        for invitation in await self._events.invitations_for(person_id=person.id) if self._events else ():
            event = invitation.event
            if event.cancelled or event.ends_at <= now:
                continue
            items.append(StatusItem(
                kind="event", id=event.id, name=event.title,
                title=text("status.event_line", kind=event.kind_label, title=event.title,
                           starts=self._local(event.starts_at), rsvp=invitation.rsvp_label),
                status=invitation.rsvp, status_label=invitation.rsvp_label, waiting=invitation.rsvp == "pending",
                pages=("event",),
            ))
        return StatusScreen(title=text("status.title"), empty=None if items else text("status.empty"), items=tuple(items))

    async def in_matching(self, person: PersonView | int, form: str) -> DraftView | None:
        """The application of this person that two-way matching works with: a university's intent once
        submitted (candidates are recommended at submit) or approved; an expert's once approved (in the pool)."""
        person = await self._person(person)
        taking_part = _IN_MATCHING[FormKind(form)]
        applications = [d for d in await self._intake.find_for_person(person_id=person.id)
                        if d.form == form and ApplicationStatus(d.status) in taking_part]
        return applications[-1] if applications else None

    async def withdrawable(self, person: PersonView | int) -> StatusItem | None:
        """The application a 撤回 concerns: the most recent one still open."""
        items = [i for i in (await self.status(person)).items if i.kind == "application" and i.withdrawable]
        return items[-1] if items else None

    async def receipt(self, person: PersonView | int, application_id: int) -> Receipt:
        """The receipt of one of the person's submitted applications; a draft never submitted has none."""
        person = await self._person(person)
        summary = await self._intake.summary(application_id=application_id, person_id=person.id)
        if summary.submitted_at is None:
            raise NotFound(text("application.not_found"))
        return receipt_of(summary)

    async def document(self, person: PersonView | int, document_id: int) -> tuple[DocumentView, bytes]:
        person = await self._person(person)
        return await self._intake.read_document(document_id=document_id, person_id=person.id)

    # ------------------------------------------------------------------ acting

    async def act(self, person: PersonView | int, action: Action | str, token: str | None = None, value: Any = None,
                  *, message_id: int | None = None) -> Outcome:
        person = await self._person(person)
        try:
            action = Action(action)
        except ValueError:
            return Outcome(OutcomeKind.REFUSED, await self.screen(person), text("dialog.unknown_action"))
        if action in (Action.AGREE, Action.DECLINE) and token == CONSENT_TOKEN:
            return await self._general_consent(person, agree=action is Action.AGREE)
        if not person.consented:
            return Outcome(OutcomeKind.STALE, self.consent_screen())
        if action is Action.ROLE:
            return await self._choose_role(person, value)
        if action is Action.START:
            return await self._start(person)
        parsed = parse_token(token)
        if parsed is None:
            return Outcome(OutcomeKind.STALE, await self.screen(person))
        application_id, turn = parsed
        try:
            draft = self._drawn_for(token, person) or await self._intake.get(application_id=application_id,
                                                                            person_id=person.id)
        except NotFound:
            # Someone else's application, or none: the same answer as any page that is no longer current.
            return Outcome(OutcomeKind.STALE, await self.screen(person))
        if draft.turn != turn or ApplicationStatus(draft.status) not in EDITABLE:
            return Outcome(OutcomeKind.STALE, await self.screen(person))
        if action in (Action.AGREE, Action.DECLINE):
            return await self._sensitive_consent(person, draft, agree=action is Action.AGREE)
        allowed = (await self._draft_screen(person, draft)).actions
        if action not in allowed:
            return Outcome(OutcomeKind.STALE, await self._draft_screen(person, draft))
        try:
            return await self._apply(person, draft, action, turn, value, message_id)
        except Stale:
            return Outcome(OutcomeKind.STALE, await self.screen(person))
        except (AnswerError, DomainError) as error:
            current = await self._refreshed(person, draft)
            return Outcome(OutcomeKind.REFUSED, current, getattr(error, "message", None) or text("dialog.error"))

    async def withdraw(self, person: PersonView | int, application_id: int) -> ApplicationSummary:
        person = await self._person(person)
        return await self._intake.withdraw(application_id=application_id, person_id=person.id)

    async def _apply(self, person: PersonView, draft: DraftView, action: Action, turn: int, value: Any,
                     message_id: int | None) -> Outcome:
        step = draft.step
        ids = dict(application_id=draft.application_id, turn=turn, person_id=person.id)
        if action is Action.SUBMIT:
            summary = await self._intake.submit(**ids)
            receipt = receipt_of(summary)
            return Outcome(OutcomeKind.SUBMITTED, await self.status(person), receipt=receipt)
        if action is Action.BACK:
            if _role_is_behind(draft):
                # Before the first question comes the role: a wrong one is undone here (nothing is written until
                # the other role is picked).
                return Outcome(OutcomeKind.DONE, self._role_screen(person.role))
            after = await self._intake.back(**ids)
            return Outcome(OutcomeKind.DONE, await self._draft_screen(person, after))
        if action is Action.EDIT:
            keys = {line.step_key for line in self._review_lines(draft, ())}
            if value not in keys:
                return Outcome(OutcomeKind.STALE, await self._draft_screen(person, draft))
            after = await self._intake.edit(step_key=value, **ids)
            return Outcome(OutcomeKind.DONE, await self._draft_screen(person, after))
        if action is Action.UPLOAD:
            content, filename = value if isinstance(value, tuple) else (value, None)
            await self._intake.attach_document(step_key=step.key, content=content or b"", filename=filename, **ids)
            return Outcome(OutcomeKind.DONE, await self._refreshed(person, draft))
        if action is Action.REMOVE_FILE:
            try:
                document_id = int(value)
            except (TypeError, ValueError):
                raise NotFound(text("document.not_found")) from None
            after = await self._intake.remove_document(document_id=document_id, **ids)
            return Outcome(OutcomeKind.DONE, await self._draft_screen(person, after))
        if action is Action.SKIP:
            after = await self._intake.skip(step_key=step.key, **ids)
            return self._recorded(person, draft, after, skipped=True, screen=await self._draft_screen(person, after))
        if action is Action.KEEP:
            raw = draft.answers.get(step.key)
        elif action is Action.FINISH:
            raw = FINISH_FILES
        else:
            raw = _canonical(step.question.kind, value)
        after = await self._intake.answer(step_key=step.key, raw=raw, message_id=message_id, **ids)
        if after.turn == draft.turn:  # a redelivered chat message: already applied, nothing new
            return Outcome(OutcomeKind.DONE, await self._draft_screen(person, after))
        return self._recorded(person, draft, after, skipped=False, screen=await self._draft_screen(person, after))

    def _recorded(self, person: PersonView, before: DraftView, after: DraftView, *, skipped: bool, screen: Screen) -> Outcome:
        step = before.step
        saved = after.answers.get(step.key)
        files = len(saved or []) if step.question.kind is Kind.FILE else None
        recorded = Recorded(step_key=step.key, label=step.label, skipped=skipped or saved is None,
                            display=display_value(step.question, saved) if saved is not None else "", files=files)
        return Outcome(OutcomeKind.DONE, screen, recorded=recorded)

    async def _general_consent(self, person: PersonView, *, agree: bool) -> Outcome:
        if not agree:
            return Outcome(OutcomeKind.DECLINED, self.consent_screen(), text("consent.declined"))
        if not person.consented:
            person = await self._people.give_consent(person_id=person.id)
        return Outcome(OutcomeKind.DONE, await self.screen(person))

    async def _sensitive_consent(self, person: PersonView, draft: DraftView, *, agree: bool) -> Outcome:
        if not agree:
            return Outcome(OutcomeKind.DECLINED, await self._draft_screen(person, draft), text("consent.sensitive_declined"))
        person = await self._people.give_consent(person_id=person.id, sensitive=True)
        return Outcome(OutcomeKind.DONE, await self._draft_screen(person, draft))

    async def _choose_role(self, person: PersonView, role: Any) -> Outcome:
        if role not in ROLES:
            return Outcome(OutcomeKind.REFUSED, self._role_screen(person.role), text("dialog.role_required"))
        if person.role != role:
            left = await self.current_draft(person)
            if left is not None:
                # The draft of the role given up goes if nothing was entered (the service decides), not to
                # linger on /status.
                await self._intake.discard_untouched(application_id=left.application_id, person_id=person.id)
            person = await self._people.set_role(person_id=person.id, role=role)
        return await self._start(person)

    async def _start(self, person: PersonView) -> Outcome:
        if person.role is None:
            return Outcome(OutcomeKind.DONE, self._role_screen(None))
        try:
            draft = await self.current_draft(person) or await self._intake.start(person_id=person.id, form=person.role)
        except DomainError as error:
            return Outcome(OutcomeKind.REFUSED, await self.status(person), error.message)
        if ApplicationStatus(draft.status) not in EDITABLE:
            return Outcome(OutcomeKind.DONE, await self.status(person))
        return Outcome(OutcomeKind.DONE, await self._draft_screen(person, draft))

    # ------------------------------------------------------------------ building screens

    async def _refreshed(self, person: PersonView, draft: DraftView) -> Screen:
        try:
            fresh = await self._intake.get(application_id=draft.application_id, person_id=person.id)
        except NotFound:
            return await self.screen(person)
        if ApplicationStatus(fresh.status) not in EDITABLE:
            return await self.status(person)
        return await self._draft_screen(person, fresh)

    def _drawn_for(self, token: str, person: PersonView) -> DraftView | None:
        draft = self._drawn.get(token)
        if draft is None or draft.person_id != person.id or draft.step is None or draft.step.question.kind is Kind.FILE:
            return None  # the review and file questions show uploads, which change without a new turn
        return draft

    def _remember(self, token: str, draft: DraftView) -> None:
        self._drawn[token] = draft
        self._drawn.move_to_end(token)
        while len(self._drawn) > _DRAWN_KEPT:
            self._drawn.popitem(last=False)

    async def _draft_screen(self, person: PersonView, draft: DraftView) -> Screen:
        if ApplicationStatus(draft.status) not in EDITABLE:
            return await self.status(person)
        token = page_token(draft.application_id, draft.turn)
        self._remember(token, draft)
        step = draft.step
        needs_files = step is None or step.question.kind is Kind.FILE
        documents = await self._documents(draft) if needs_files else ()
        if step is None:
            return self._review_screen(draft, token, documents)
        question = step.question
        if question.kind is Kind.FILE and question.sensitive and not person.sensitive_consented:
            return ConsentScreen(
                kind="sensitive", title=text("consent.sensitive_title"), notice=text("consent.sensitive_notice"),
                agree_label=text("consent.sensitive_yes"), decline_label=text("consent.sensitive_no"), token=token,
                application_id=draft.application_id,
            )
        return self._question_screen(draft, token, documents)

    def _question_screen(self, draft: DraftView, token: str, documents: tuple[DocumentView, ...]) -> QuestionScreen:
        step = draft.step
        question = step.question
        current = draft.answers.get(step.key)
        answered = current not in (None, [], "")
        if question.kind is Kind.YES_NO:
            choices = (ChoiceOption("yes", text("dialog.yes"), current is True),
                       ChoiceOption("no", text("dialog.no"), current is False))
        elif question.kind is Kind.MULTI:
            picked = set(current or [])
            choices = tuple(ChoiceOption(c.value, c.label, c.value in picked) for c in question.choices)
        else:
            choices = tuple(ChoiceOption(c.value, c.label, c.value == current) for c in question.choices)
        files: tuple[UploadedFile, ...] = ()
        files_left = None
        actions = set()
        if question.kind is Kind.FILE:
            mine = set(current or [])
            files = tuple(_uploaded(d) for d in documents if d.id in mine and d.question_key == step.key)
            if question.max_files is not None:
                files_left = max(question.max_files - len(files), 0)
            if files_left != 0:
                actions.add(Action.UPLOAD)
            if files:
                actions.add(Action.REMOVE_FILE)
            actions.add(Action.FINISH)
        else:
            actions.add(Action.ANSWER)
            if answered and question.kind is not Kind.MULTI:
                actions.add(Action.KEEP)
        if not question.required:
            actions.add(Action.SKIP)
        if draft.position > 1 or _role_is_behind(draft):
            actions.add(Action.BACK)
        total = self._total(draft)
        heading = text("follow_up.prompt", item=step.item_label, prompt=question.prompt) if step.item_label else question.prompt
        return QuestionScreen(
            application_id=draft.application_id, token=token, key=step.key, kind=question.kind.value, heading=heading,
            label=step.label, help=question.help, required=question.required, choices=choices, current=current,
            current_display=display_value(question, current) if answered else "", files=files, files_left=files_left,
            min_files=question.min_files or 0, max_length=question.max_length, min_value=question.min_value,
            max_value=question.max_value, min_picks=question.min_picks, max_picks=question.max_picks,
            needs_sensitive_consent=question.sensitive, editing=draft.editing, position=draft.position, total=total,
            progress=text("dialog.progress", position=draft.position, total=total), actions=frozenset(actions),
        )

    def _review_lines(self, draft: DraftView, documents: tuple[DocumentView, ...]) -> tuple[ReviewLine, ...]:
        names = {d.id: d.original_name or text("dialog.unnamed_file", id=d.id, suffix=ACCEPTED_TYPES.get(d.mime, ""))
                 for d in documents}
        lines = []
        for number, step in enumerate(visible_steps(get_form(draft.form), draft.answers, self._context(draft)), start=1):
            value = draft.answers.get(step.key)
            shown = display_value(step.question, value)
            if step.question.kind is Kind.FILE and value and names:
                shown += "：" + "、".join(names.get(d, str(d)) for d in value)
            lines.append(ReviewLine(number=number, step_key=step.key, label=step.label, value=shown))
        return tuple(lines)

    def _review_screen(self, draft: DraftView, token: str, documents: tuple[DocumentView, ...]) -> ReviewScreen:
        form = get_form(draft.form)
        resubmission = ApplicationStatus(draft.status) is ApplicationStatus.NEEDS_INFO
        return ReviewScreen(
            application_id=draft.application_id, token=token, title=text("review.title", title=form.title),
            form_title=form.title, hint=text("review.hint"), lines=self._review_lines(draft, documents),
            verdict=self._verdict(draft), deadline=format_datetime_cn(draft.deadline), resubmission=resubmission,
            staff_message=None, actions=frozenset({Action.EDIT, Action.SUBMIT, Action.BACK}),
        )

    def _verdict(self, draft: DraftView) -> Verdict:
        """The first check on the answers as they stand: the same rules staff see after submission."""
        ctx = self._context(draft)
        if draft.form == FormKind.EXPERT:
            eligibility = assess_expert(draft.answers, deadline=ctx.deadline)
        else:
            demands = [
                {"course": course, "hours": draft.answers.get(follow_up_step_key(COURSE_DEMANDS, course, "hours")) or 0}
                for course in draft.answers.get("courses") or []
            ]
            eligibility = assess_university(draft.answers, demands)
        return verdict_of(eligibility)

    def consent_screen(self) -> ConsentScreen:
        """The general notice and consent: asked before anything personal, the address a code goes to included."""
        notice = text("consent.notice", retention=self._retention_line, rights=text("consent.rights"))
        return ConsentScreen(kind="general", title=text("consent.title"), notice=notice, retention=self._retention_line,
                             agree_label=text("consent.yes"), decline_label=text("consent.no"), token=CONSENT_TOKEN)

    @staticmethod
    def _role_screen(role: str | None) -> RoleScreen:
        return RoleScreen(prompt=text("role.prompt"), choices=(
            ChoiceOption("expert", text("role.expert"), role == "expert"),
            ChoiceOption("university", text("role.university"), role == "university"),
        ))

    def _context(self, draft: DraftView) -> FormContext:
        return FormContext(deadline=draft.deadline.astimezone(self._zone).date(),
                           today=self._clock().astimezone(self._zone).date())

    def _total(self, draft: DraftView) -> int:
        """The most questions this person can still be asked: only shrinks as answers come in, so progress
        shown against it never moves backwards (第 x/23 never becomes /25)."""
        return max(most_steps(get_form(draft.form), draft.answers, self._context(draft)), draft.position)

    async def _documents(self, draft: DraftView) -> tuple[DocumentView, ...]:
        # The draft was read for its person already: only its files, not a whole summary (person, identities).
        return await self._intake.documents_of(application_id=draft.application_id)

    async def _has_applications(self, person: PersonView) -> bool:
        return bool(await self._intake.find_for_person(person_id=person.id))

    async def _person(self, person: PersonView | int) -> PersonView:
        if isinstance(person, PersonView):
            return person
        return await self._people.get(person_id=person)

    def _local(self, moment: datetime) -> str:
        return moment.astimezone(self._zone).strftime("%Y-%m-%d %H:%M")


_DRAWN_KEPT = 4096  # screens remembered per process: the people answering within the same few seconds

_IN_MATCHING = {
    FormKind.UNIVERSITY: frozenset({ApplicationStatus.SUBMITTED, ApplicationStatus.APPROVED}),
    FormKind.EXPERT: frozenset({ApplicationStatus.APPROVED}),
}


def _canonical(kind: Kind, value: Any) -> Any:
    """A channel's raw value in the form the validators take: the web's yes/no radios, a single checkbox."""
    if kind is Kind.YES_NO and value in ("yes", "no"):
        return value == "yes"
    if kind is Kind.MULTI and isinstance(value, str):
        return [value]
    return value


def _uploaded(document: DocumentView) -> UploadedFile:
    name = document.original_name or text("dialog.unnamed_file", id=document.id, suffix=ACCEPTED_TYPES.get(document.mime, ""))
    return UploadedFile(id=document.id, name=name, mime=document.mime, size=document.size)


def verdict_of(eligibility: Eligibility) -> Verdict:
    lines = tuple(
        VerdictLine(number=n, title=rule.title, outcome=rule.outcome.value, outcome_label=OUTCOME_LABELS[rule.outcome],
                    reason=rule.reason)
        for n, rule in enumerate(eligibility.rules, start=1)
    )
    met = [str(line.number) for line in lines if line.outcome == RuleOutcome.PASS]
    judged = [str(line.number) for line in lines if line.outcome == RuleOutcome.NEEDS_JUDGEMENT]
    failed = [str(line.number) for line in lines if line.outcome == RuleOutcome.FAIL]
    parts = []
    if met:
        parts.append(text("verdict.met", rules="、".join(met)))
    if judged:
        parts.append(text("verdict.judged", rules="、".join(judged)))
    if failed:
        parts.append(text("verdict.failed", rules="、".join(failed)))
    return Verdict(outcome=eligibility.outcome.value, summary="；".join(parts) + "。", lines=lines)


def _role_is_behind(draft: DraftView) -> bool:
    """At the first question of an application never submitted, going back means back to the role."""
    return draft.position == 1 and draft.step is not None and not draft.editing and draft.submitted_at is None


def receipt_of(summary: ApplicationSummary) -> Receipt:
    """The same receipt in the chat, on the page and in the e-mail: the time as 2025年8月15日 18:00（北京时间）."""
    if summary.form == FormKind.UNIVERSITY:
        outcome, details = text("receipt.outcome.university"), ()
    else:
        outcome = text(f"receipt.outcome.{summary.eligibility.outcome.value}")
        details = tuple(f"· {r.title}：{r.reason}" for r in summary.eligibility.rules if r.outcome.value != "pass")
    return Receipt(
        application_id=summary.id, reference=summary.reference, form=summary.form, form_title=summary.form_title,
        submitted_at=summary.submitted_at,
        submitted_at_text=format_datetime_cn(summary.submitted_at) if summary.submitted_at else "",
        outcome=outcome, details=details, next_steps=text(f"receipt.next_steps.{summary.form}"),
    )


def erasure_message(report) -> str:
    """Tells the person exactly what went: files not yet removed and records the law keeps are named."""
    parts = []
    if report.files_pending:
        parts.append(text("erasure.files_pending", files=report.files, pending=report.files_pending))
    if report.kept_appointments:
        parts.append(text("erasure.kept", files=report.files, appointments="、".join(map(str, report.kept_appointments))))
    return "\n".join(parts) or text("erasure.done", files=report.files)
