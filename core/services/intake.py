"""Filling in a questionnaire: start or resume, answer one question at a time, review, submit, withdraw.

Every answer is committed before the call returns: a crash or a deploy loses nothing, and the
position (`cursor`) is stored with the answers, so a chat resumes at the same question.
"""
from __future__ import annotations

from collections.abc import Mapping
from contextlib import asynccontextmanager
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm.exc import StaleDataError

from sqlalchemy import select

from core.db.models import Application, CourseDemand, Document, PersonIdentity
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.documents import ACCEPTED_TYPES, DocumentStore, detect_mime
from core.services.files import forget_document, stage_document
from core.domain import ApplicationStatus, DomainError, FormKind, NotFound, Stale, check_transition
from core.domain.status import EDITABLE, STATUS_LABELS
from core.eligibility import Eligibility, assess_expert, assess_university
from core.forms import (
    COURSE_DEMANDS,
    REVIEW,
    AnswerError,
    Form,
    FormContext,
    Kind,
    display_value,
    find_step,
    get_form,
    missing_required,
    next_step,
    previous_step,
    prune_hidden,
    validate_all,
    validate_answer,
    visible_steps,
)
from core.forms.model import follow_up_step_key
from core.domain.permissions import Action, AnyActor
from core.services.common import Clock, audit, queue_notification, utc_now
from core.services.permissions import authorize
from core.services.recommendations import notify_recommendations, recommend_in
from core.services.views import ApplicationSummary, DocumentView, DraftView, SummaryLine
from core.texts import text

__all__ = ["IntakeService", "FINISH_FILES"]

# The answer that closes a file question once the person has uploaded what they have.
FINISH_FILES = "__finish__"
_EDIT_PREFIX = "edit:"
# An answer whose row changed between its read and its write is applied again on the fresh row.
_STALE_RETRIES = 3


class IntakeService:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        documents: DocumentStore,
        zone: ZoneInfo,
        max_upload_bytes: int = 20 * 1024 * 1024,
        recommendations_per_course: int = 5,
        clock: Clock = utc_now,
    ) -> None:
        self._recommendations_per_course = recommendations_per_course
        self._uow = uow
        self._documents = documents
        self._zone = zone
        self._max_upload_bytes = max_upload_bytes
        self._clock = clock

    # ------------------------------------------------------------------ reading

    def context(self, application: Application) -> FormContext:
        deadline = application.batch.registration_closes_at.astimezone(self._zone).date()
        return FormContext(deadline=deadline, today=self._clock().astimezone(self._zone).date())

    async def get(self, *, application_id: int, person_id: int | None = None) -> DraftView:
        async with self._uow.autocommit() as uow:
            return self._view(await self._load(uow, application_id, person_id))

    async def find_for_person(self, *, person_id: int) -> list[DraftView]:
        async with self._uow.autocommit() as uow:
            apps = await uow.applications.list_for_person(person_id)
            views = []
            for app in apps:
                views.append(self._view(app))
            return views

    async def summary(self, *, application_id: int, person_id: int | None = None) -> ApplicationSummary:
        async with self._uow.autocommit() as uow:
            app = await self._load(uow, application_id, person_id)
            return await self.describe(uow, app)

    async def describe(self, uow: UnitOfWork, app: Application, *, with_channels: bool = False) -> ApplicationSummary:
        """The summary of an application loaded in `uow` (for other services sharing the transaction).

        with_channels: also which ways the applicant signs in (Telegram, e-mail, mobile), one more read that
        only the staff's detail page shows; receipts, /status and exports go without it."""
        form = get_form(app.form)
        ctx = self.context(app)
        lines = tuple(
            SummaryLine(step.key, step.label, display_value(step.question, app.answers.get(step.key)))
            for step in visible_steps(form, app.answers, ctx)
        )
        documents = tuple(_document_view(d) for d in await uow.documents.list_for_application(app.id))
        person = await uow.people.get(app.person_id)
        name = app.answers.get("name") or app.answers.get("university_name") or (person.display_name if person else None)
        channels = tuple(sorted(set((await uow.session.scalars(
            select(PersonIdentity.channel).where(PersonIdentity.person_id == app.person_id))).all()))) if with_channels else ()
        return ApplicationSummary(
            id=app.id,
            reference=reference_number(app),
            person_id=app.person_id,
            form=app.form,
            form_title=form.title,
            status=app.status,
            status_label=STATUS_LABELS[ApplicationStatus(app.status)],
            batch_name=app.batch.name,
            display_name=name or f"#{app.id}",
            province=app.province or app.answers.get("province"),
            submitted_at=app.submitted_at,
            eligibility=Eligibility.from_dict(app.eligibility) if app.eligibility else None,
            staff_message=app.staff_message,
            lines=lines,
            documents=documents,
            channels=channels,
        )

    # ------------------------------------------------------------------ starting

    async def start(self, *, person_id: int, form: str) -> DraftView:
        """Opens a draft in the current batch, or returns the one this person already has."""
        FormKind(form)
        now = self._clock()
        async with self._uow() as uow:
            person = await uow.people.get(person_id)
            if person is None:
                raise NotFound(text("person.not_found"))
            if person.consented_at is None:
                raise DomainError(text("application.no_consent"), code="no_consent")
            batch = await uow.batches.current(now)
            if batch is None:
                raise DomainError(text("batch.none_open"), code="no_batch")
            existing = await uow.applications.get_for_person(person_id=person_id, batch_id=batch.id, form=form)
            if existing is not None:
                existing.batch = batch
                return self._view(existing)
            if batch.registration_opens_at > now:
                raise DomainError(
                    text("application.registration_not_open", batch=batch.name, opens=self._local(batch.registration_opens_at)),
                    code="not_open",
                )
            app = Application(
                batch_id=batch.id, person_id=person_id, form=form, status=ApplicationStatus.DRAFT,
                answers={}, created_at=now, updated_at=now, priority_score=0,
            )
            app.batch = batch
            first = next_step(get_form(form), {}, self.context(app))
            app.cursor = first.key if first else REVIEW
            uow.applications.add(app)
            await uow.flush()
            audit(uow, at=now, actor=f"person:{person_id}", action="application.start", subject=f"application:{app.id}", form=form)
            await uow.commit()
            return self._view(app)

    # ------------------------------------------------------------------ answering

    async def answer(self, *, application_id: int, step_key: str, raw: Any, message_id: int | None = None,
                     turn: int | None = None, person_id: int | None = None) -> DraftView:
        """Validates and saves one answer, then moves to the next question (or back to the summary).

        message_id (a chat's message ids only grow): a message already applied, or older than one that was,
        leaves the draft as it is, so a redelivered message never answers the next question too.

        An answer is one row written: a read, then an UPDATE that checks the row's version, committed as it
        runs. A transaction around them would add nothing under READ COMMITTED but two round trips (the bot's
        hot path); a concurrent change to the row fails the version check and the answer is applied again
        to the fresh row. An answer that makes uploaded files unwanted deletes them in one transaction with it.

        turn (the page's token): the answer is taken only while the cursor has not moved since that page was
        drawn; checked on the row the versioned UPDATE writes, so of two tabs posting the same page one wins
        and the other is told Stale, having changed nothing. person_id: the application must be theirs."""
        for _ in range(_STALE_RETRIES):
            try:
                async with self._uow.autocommit() as uow:
                    view = await self._answer_in(uow, application_id, step_key, raw, message_id, turn, person_id,
                                                 files_may_go=False)
                    if view is not None:
                        return view
                break  # files to delete: all of it in one transaction
            except StaleDataError:
                continue
        async with self._uow() as uow:
            try:
                # The last try takes the row's lock first: after repeated conflicts it waits its turn instead of
                # racing again (PostgreSQL; SQLite writes one at a time anyway).
                return await self._answer_in(uow, application_id, step_key, raw, message_id, turn, person_id,
                                             files_may_go=True, lock=True)
            except StaleDataError:
                raise Stale() from None

    async def _answer_in(self, uow: UnitOfWork, application_id: int, step_key: str, raw: Any, message_id: int | None,
                         turn: int | None, person_id: int | None, *, files_may_go: bool,
                         lock: bool = False) -> DraftView | None:
        """None (nothing written) when the answer would delete files and `files_may_go` is False."""
        now = self._clock()
        app = await self._load_editable(uow, application_id, person_id, for_update=lock)
        _check_turn(app, turn)
        if message_id is not None and app.last_message_id is not None and message_id <= app.last_message_id:
            return self._view(app)
        form, ctx = get_form(app.form), self.context(app)
        step = find_step(form, app.answers, ctx, step_key)
        if step is None:
            raise DomainError(text("answers.not_shown", key=step_key), code="not_shown")
        if step.question.kind is Kind.FILE:
            value = validate_answer(step.question, app.answers.get(step.key, []), ctx)
        else:
            value = validate_answer(step.question, raw, ctx)
        answers = dict(app.answers)
        answers[step.key] = value
        kept, dropping = self._uploads_kept(app, form, answers, ctx)
        if dropping:
            if not files_may_go:
                return None
            await self._drop_documents_except(uow, app, kept)
        editing = (app.cursor or "").startswith(_EDIT_PREFIX)
        app.answers = answers
        app.cursor = self._cursor_after(form, answers, ctx, step.key, editing)
        app.turn += 1
        app.updated_at = now
        if message_id is not None:
            app.last_message_id = message_id
        await uow.commit()
        return self._view(app)

    async def skip(self, *, application_id: int, step_key: str, turn: int | None = None,
                   person_id: int | None = None) -> DraftView:
        return await self.answer(application_id=application_id, step_key=step_key, raw=None, turn=turn, person_id=person_id)

    async def fill(self, *, application_id: int, answers: Mapping[str, Any]) -> DraftView:
        """Answers many questions in the questionnaire's order in one transaction (imports, samples).

        Raises AnswerErrors collected per question: {step_key: message}.
        """
        now = self._clock()
        async with self._uow() as uow:
            app = await self._load_editable(uow, application_id)
            form, ctx = get_form(app.form), self.context(app)
            values, problems = validate_all(form, answers, ctx, start=app.answers)
            if problems:
                raise FormErrors(problems)
            app.answers = values
            following = next_step(form, values, ctx)
            app.cursor = following.key if following else REVIEW
            app.turn += 1
            app.updated_at = now
            await uow.commit()
            return self._view(app)

    async def back(self, *, application_id: int, turn: int | None = None, person_id: int | None = None) -> DraftView:
        async with self._uow() as uow, _stale_on_conflict():
            app = await self._load_editable(uow, application_id, person_id)
            _check_turn(app, turn)
            form, ctx = get_form(app.form), self.context(app)
            current = _strip_edit(app.cursor)
            previous = previous_step(form, app.answers, ctx, current)
            if previous is not None:
                app.cursor = previous.key
                app.turn += 1
                app.updated_at = self._clock()
                await uow.commit()
            return self._view(app)

    async def edit(self, *, application_id: int, step_key: str, turn: int | None = None,
                   person_id: int | None = None) -> DraftView:
        """From the review summary: answer one question again, then come back to the summary."""
        async with self._uow() as uow, _stale_on_conflict():
            app = await self._load_editable(uow, application_id, person_id)
            _check_turn(app, turn)
            if find_step(get_form(app.form), app.answers, self.context(app), step_key) is None:
                raise DomainError(text("answers.not_shown", key=step_key), code="not_shown")
            app.cursor = _EDIT_PREFIX + step_key
            app.turn += 1
            app.updated_at = self._clock()
            await uow.commit()
            return self._view(app)

    async def reopen(self, *, application_id: int, person_id: int | None = None) -> DraftView:
        """Back to the first question of a draft or of an application sent back for more information."""
        async with self._uow() as uow:
            app = await self._load_editable(uow, application_id, person_id)
            steps = visible_steps(get_form(app.form), app.answers, self.context(app))
            app.cursor = steps[0].key if steps else REVIEW
            app.turn += 1
            app.updated_at = self._clock()
            await uow.commit()
            return self._view(app)

    async def attach_document(
        self, *, application_id: int, step_key: str, content: bytes, filename: str | None = None,
        turn: int | None = None, person_id: int | None = None,
    ) -> DocumentView:
        now = self._clock()
        async with self._uow() as uow, _stale_on_conflict():
            app = await self._load_editable(uow, application_id, person_id)
            _check_turn(app, turn)
            form, ctx = get_form(app.form), self.context(app)
            step = find_step(form, app.answers, ctx, step_key)
            if step is None or step.question.kind is not Kind.FILE:
                raise DomainError(text("answers.not_shown", key=step_key), code="not_shown")
            person = await uow.people.get(app.person_id)
            if step.question.sensitive and (person is None or person.sensitive_consented_at is None):
                raise DomainError(text("application.no_sensitive_consent"), code="no_sensitive_consent")
            self._check_upload(content, filename)
            current = list(app.answers.get(step.key) or [])
            limit = step.question.max_files
            if limit is not None and len(current) >= limit:
                raise AnswerError(text("file.too_many", max=limit, got=len(current) + 1))
            mime = detect_mime(content)
            # Staged until the commit: a failed commit leaves no certificate behind, a good one publishes it.
            stored = stage_document(uow, self._documents, content, suffix=ACCEPTED_TYPES[mime])
            document = Document(
                application_id=app.id, question_key=step.key, sha256=stored.sha256, size=stored.size, mime=mime,
                stored_name=stored.stored_name, original_name=_clean_filename(filename), created_at=now,
            )
            uow.documents.add(document)
            await uow.flush()
            app.answers = {**app.answers, step.key: current + [document.id]}
            app.updated_at = now
            audit(uow, at=now, actor=f"person:{app.person_id}", action="document.upload", subject=f"application:{app.id}",
                  document=document.id, sha256=stored.sha256, size=stored.size, mime=mime)
            await uow.commit()
            return _document_view(document)

    def _check_upload(self, content: bytes, filename: str | None) -> None:
        if not content:
            # No name and no bytes: the upload button was pressed before a file was chosen.
            raise AnswerError(text("file.empty" if filename else "file.none_chosen"))
        if len(content) > self._max_upload_bytes:
            raise AnswerError(
                text("file.too_large", size_mb=len(content) / 1024 / 1024, max_mb=self._max_upload_bytes // (1024 * 1024))
            )
        if detect_mime(content) is None:
            raise AnswerError(text("file.bad_type"))

    def check_upload_size(self, size: int) -> None:
        """Lets a transport refuse an oversized file before downloading it."""
        if size > self._max_upload_bytes:
            raise AnswerError(
                text("file.too_large", size_mb=size / 1024 / 1024, max_mb=self._max_upload_bytes // (1024 * 1024))
            )

    async def read_document(self, *, document_id: int, person_id: int) -> tuple[DocumentView, bytes]:
        """A participant's own file; someone else's reads exactly as a missing one."""
        async with self._uow() as uow:
            document = await uow.documents.get(document_id)
            app = await uow.applications.get(document.application_id) if document is not None else None
            if document is None or app is None or app.person_id != person_id:
                raise NotFound(text("document.not_found"))
            return _document_view(document), self._documents.read(document.stored_name)

    async def read_document_for_staff(self, *, document_id: int, staff: AnyActor) -> tuple[DocumentView, bytes]:
        """Staff reviewing an application read any of its files (Action.REVIEW_READ, checked here)."""
        await authorize(self._uow, self._clock, staff, Action.REVIEW_READ)
        async with self._uow() as uow:
            document = await uow.documents.get(document_id)
            if document is None:
                raise NotFound(text("document.not_found"))
            return _document_view(document), self._documents.read(document.stored_name)

    async def remove_document(self, *, application_id: int, document_id: int, turn: int | None = None,
                              person_id: int | None = None) -> DraftView:
        """Takes one upload off the file question now asked (the web's 删除 beside a file)."""
        now = self._clock()
        async with self._uow() as uow, _stale_on_conflict():
            app = await self._load_editable(uow, application_id, person_id)
            _check_turn(app, turn)
            document = await uow.documents.get(document_id)
            if document is None or document.application_id != app.id:
                raise NotFound(text("document.not_found"))
            key = document.question_key
            app.answers = {**app.answers, key: [d for d in (app.answers.get(key) or []) if d != document_id]}
            app.updated_at = now
            await uow.documents.delete(document)
            await forget_document(uow, self._documents, document.stored_name, reason="removed_by_person", now=now)
            audit(uow, at=now, actor=f"person:{app.person_id}", action="document.remove", subject=f"application:{app.id}",
                  document=document_id)
            await uow.commit()
            return self._view(app)

    async def documents_of(self, *, application_id: int) -> tuple[DocumentView, ...]:
        """The files of an application the caller has already found to be the person's (one read)."""
        async with self._uow.autocommit() as uow:
            return tuple(_document_view(d) for d in await uow.documents.list_for_application(application_id))

    # ------------------------------------------------------------------ submitting

    async def submit(self, *, application_id: int, actor: str | None = None, turn: int | None = None,
                     person_id: int | None = None) -> ApplicationSummary:
        now = self._clock()
        async with self._uow() as uow, _stale_on_conflict():
            app = await self._load_editable(uow, application_id, person_id)
            _check_turn(app, turn)
            actor = actor or f"person:{app.person_id}"
            batch = app.batch
            if app.status == ApplicationStatus.DRAFT and now > batch.registration_closes_at:
                raise DomainError(
                    text("application.registration_closed", batch=batch.name, deadline=self._local(batch.registration_closes_at)),
                    code="closed",
                )
            form, ctx = get_form(app.form), self.context(app)
            missing = missing_required(form, app.answers, ctx)
            if missing:
                raise DomainError(
                    text("application.incomplete", count=len(missing), labels="、".join(s.label for s in missing[:5])),
                    code="incomplete",
                )
            check_transition(ApplicationStatus(app.status), ApplicationStatus.SUBMITTED)
            answers = prune_hidden(form, app.answers, ctx)
            kept, dropping = self._uploads_kept(app, form, answers, ctx)
            if dropping:
                await self._drop_documents_except(uow, app, kept)
            eligibility = await self._assess_and_index(uow, app, answers, ctx)
            resubmission = app.status == ApplicationStatus.NEEDS_INFO
            app.answers = answers
            app.status = ApplicationStatus.SUBMITTED
            app.cursor = REVIEW
            app.turn += 1
            app.eligibility = eligibility.to_dict()
            app.eligibility_outcome = eligibility.outcome
            app.priority_score = eligibility.priority_score
            app.province = answers.get("province")
            app.submitted_at = now
            app.updated_at = now
            person = await uow.people.get(app.person_id)
            self._copy_contact(person, app.form, answers)
            audit(uow, at=now, actor=actor, action="application.resubmit" if resubmission else "application.submit",
                  subject=f"application:{app.id}", eligibility=eligibility.outcome)
            await queue_notification(
                uow, kind="submission_receipt", person=person, occasion=f"application-{app.id}-submitted-{now.isoformat()}",
                now=now, payload={
                    "application_id": app.id, "form": app.form, "form_title": form.title, "name": _name(app.form, answers),
                    "batch": batch.name, "submitted_at": now.isoformat(), "reference": reference_number(app),
                    "eligibility_outcome": eligibility.outcome,
                    "eligibility_lines": [f"{r.title}：{r.reason}" for r in eligibility.rules],
                },
            )
            if app.form == FormKind.UNIVERSITY and await recommend_in(uow, app, now=now, k=self._recommendations_per_course):
                await notify_recommendations(uow, app, now=now)
            await uow.commit()
            return await self.describe(uow, app)

    async def discard_untouched(self, *, application_id: int, person_id: int) -> bool:
        """Deletes the person's draft if nothing was ever entered into it (no answer, no file, never submitted):
        what is left when someone picks the other role right after choosing one. Anything else stays."""
        now = self._clock()
        async with self._uow() as uow:
            app = await self._load(uow, application_id, person_id)
            if app.status != ApplicationStatus.DRAFT or app.submitted_at is not None or app.answers:
                return False
            if await uow.documents.list_for_application(app.id):
                return False
            await uow.applications.delete(app)
            audit(uow, at=now, actor=f"person:{person_id}", action="application.discard", subject=f"application:{app.id}",
                  form=app.form)
            await uow.commit()
            return True

    async def withdraw(self, *, application_id: int, actor: str | None = None, reason: str | None = None,
                       person_id: int | None = None) -> ApplicationSummary:
        now = self._clock()
        async with self._uow() as uow:
            app = await self._load(uow, application_id, person_id)
            check_transition(ApplicationStatus(app.status), ApplicationStatus.WITHDRAWN)
            app.status = ApplicationStatus.WITHDRAWN
            app.turn += 1
            app.updated_at = now
            audit(uow, at=now, actor=actor or f"person:{app.person_id}", action="application.withdraw",
                  subject=f"application:{app.id}", reason=reason or "")
            await uow.commit()
            return await self.describe(uow, app)

    async def _assess_and_index(self, uow: UnitOfWork, app: Application, answers: dict, ctx: FormContext) -> Eligibility:
        if app.form == FormKind.EXPERT:
            await uow.applications.replace_expert_courses(app.id, answers.get("courses") or [])
            return assess_expert(answers, deadline=ctx.deadline)
        demands = [
            CourseDemand(
                application_id=app.id,
                course=course,
                hours=answers[follow_up_step_key(COURSE_DEMANDS, course, "hours")],
                experts_needed=answers[follow_up_step_key(COURSE_DEMANDS, course, "experts_needed")],
                mode=answers[follow_up_step_key(COURSE_DEMANDS, course, "mode")],
                schedule=list(answers.get("schedule_preference") or []),
            )
            for course in answers.get("courses") or []
        ]
        await uow.applications.replace_course_demands(app.id, demands)
        return assess_university(answers, [{"course": d.course, "hours": d.hours} for d in demands])

    @staticmethod
    def _copy_contact(person, form: str, answers: Mapping[str, Any]) -> None:
        """Notifications go to the address given in the form; the contact record follows it."""
        if person is None:
            return
        if form == FormKind.EXPERT:
            person.display_name = answers.get("name") or person.display_name
            person.email = answers.get("email") or person.email
            person.mobile = answers.get("mobile") or person.mobile
        else:
            person.display_name = answers.get("contact_name") or person.display_name
            person.email = answers.get("contact_email") or person.email
            person.mobile = answers.get("contact_mobile") or person.mobile

    @staticmethod
    def _uploads_kept(app: Application, form: Form, answers: dict, ctx: FormContext) -> tuple[set[int], bool]:
        """(the documents of the file questions these answers ask, whether an uploaded one is no longer among
        them). Only then are files dropped: otherwise the documents query is spared."""
        kept = {doc_id for step in visible_steps(form, answers, ctx) if step.question.kind is Kind.FILE
                for doc_id in (answers.get(step.key) or [])}
        uploaded = {doc_id for key, value in app.answers.items() if isinstance(value, list)
                    for doc_id in value if isinstance(doc_id, int) and _is_file_step(form, key)}
        return kept, not uploaded <= kept

    async def _drop_documents_except(self, uow: UnitOfWork, app: Application, kept: set[int]) -> None:
        """Files of a question that is no longer asked are deleted, not kept (PIPL: minimum necessary)."""
        for document in await uow.documents.list_for_application(app.id):
            if document.id not in kept:
                await uow.documents.delete(document)
                await forget_document(uow, self._documents, document.stored_name, reason="question_dropped", now=self._clock())

    # ------------------------------------------------------------------ helpers

    async def _load(self, uow: UnitOfWork, application_id: int, person_id: int | None = None, *,
                    for_update: bool = False) -> Application:
        """person_id given (a participant asks): someone else's application reads exactly as a missing one."""
        app = await uow.applications.get(application_id, for_update=for_update)
        if app is None or (person_id is not None and app.person_id != person_id):
            raise NotFound(text("application.not_found"))
        return app

    async def _load_editable(self, uow: UnitOfWork, application_id: int, person_id: int | None = None, *,
                             for_update: bool = False) -> Application:
        app = await self._load(uow, application_id, person_id, for_update=for_update)
        if ApplicationStatus(app.status) not in EDITABLE:
            raise DomainError(
                text("application.not_editable", status=STATUS_LABELS[ApplicationStatus(app.status)]), code="not_editable"
            )
        return app

    @staticmethod
    def _cursor_after(form: Form, answers: dict, ctx: FormContext, key: str, editing: bool) -> str:
        if editing:
            # An edit may reveal new questions (a new course brings its hours); ask those, then the summary.
            pending = next_step(form, answers, ctx)
            return (_EDIT_PREFIX + pending.key) if pending else REVIEW
        following = next_step(form, answers, ctx, after=key)
        return following.key if following else REVIEW

    def _view(self, app: Application) -> DraftView:
        form, ctx = get_form(app.form), self.context(app)
        cursor = app.cursor or REVIEW
        editing = cursor.startswith(_EDIT_PREFIX)
        current = _strip_edit(cursor)
        # Walked once: every view of a draft (each bot reply) needs the step, its position and the total.
        steps = visible_steps(form, app.answers, ctx)
        index = next((i for i, s in enumerate(steps) if s.key == current), None)
        if index is None and current != REVIEW:
            # The question it pointed at is no longer asked: the first unanswered one instead.
            index = next((i for i, s in enumerate(steps) if s.key not in app.answers), None)
        step = steps[index] if index is not None else None
        position, total = (index + 1 if index is not None else len(steps)), len(steps)
        return DraftView(
            application_id=app.id, person_id=app.person_id, form=app.form, status=app.status,
            status_label=STATUS_LABELS[ApplicationStatus(app.status)], step=step, position=position, total=total,
            editing=editing, answers=dict(app.answers), batch_name=app.batch.name,
            deadline=app.batch.registration_closes_at, turn=app.turn, reference=reference_number(app),
            staff_message=app.staff_message, submitted_at=app.submitted_at,
        )

    def _local(self, moment) -> str:
        return moment.astimezone(self._zone).strftime("%Y-%m-%d %H:%M")


class FormErrors(DomainError):
    """Several answers failed validation at once; `problems` maps each question key to its message."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("；".join(f"{k}：{v}" for k, v in problems.items()), code="invalid_answers")
        self.problems = problems


def _is_file_step(form: Form, key: str) -> bool:
    try:
        return form.question(key).kind is Kind.FILE
    except KeyError:
        return False


def _check_turn(app: Application, turn: int | None) -> None:
    if turn is not None and app.turn != turn:
        raise Stale()


@asynccontextmanager
async def _stale_on_conflict():
    """A concurrent writer changed the row between our read and our versioned UPDATE: the page this act came
    from is no longer current, and our transaction rolls back with nothing written."""
    try:
        yield
    except StaleDataError:
        raise Stale() from None


def _clean_filename(filename: str | None) -> str | None:
    """Only the name is kept, for display: no folders (`../`), no control characters, at most 255 characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:255] or None


def _strip_edit(cursor: str | None) -> str:
    cursor = cursor or REVIEW
    return cursor[len(_EDIT_PREFIX):] if cursor.startswith(_EDIT_PREFIX) else cursor


def _name(form: str, answers: Mapping[str, Any]) -> str:
    return answers.get("name") if form == FormKind.EXPERT else answers.get("contact_name") or ""


def reference_number(app: Application) -> str:
    prefix = "E" if app.form == FormKind.EXPERT else "U"
    return f"{prefix}{app.batch_id:02d}-{app.id:06d}"


def _document_view(document: Document) -> DocumentView:
    return DocumentView(
        id=document.id, question_key=document.question_key, mime=document.mime, size=document.size,
        sha256=document.sha256, original_name=document.original_name,
    )
