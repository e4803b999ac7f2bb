"""Tables. Status values and vocabularies are plain strings checked by the domain, not DB enums,
so that adding a state is a code change, not a migration on two backends."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, MetaData, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy import text as sa_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from core.db.types import JSONDocument, UTCDateTime
from core.domain.outbox import outbox_priority

__all__ = [
    "Base",
    "Batch",
    "Person",
    "Application",
    "ExpertCourse",
    "CourseDemand",
    "Document",
    "OutboxMessage",
    "ChannelPause",
    "AuditEntry",
    "ChatState",
    "ProcessedUpdate",
    "Recommendation",
    "MatchRun",
    "MatchProposal",
    "Appointment",
    "CapException",
    "Event",
    "EventInvitation",
    "PendingFileDeletion",
    "StaffAccount",
    "StaffSession",
    "StaffLoginAttempt",
    "MatchingJob",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONDocument, list[Any]: JSONDocument}


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    registration_opens_at: Mapped[datetime]
    registration_closes_at: Mapped[datetime]
    matching_starts_at: Mapped[datetime | None]
    publicity_starts_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Person(Base):
    """A contact record: one per human, however they reach us."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    mobile: Mapped[str | None] = mapped_column(String(20))
    preferred_channel: Mapped[str] = mapped_column(String(16), default="both")
    locale: Mapped[str] = mapped_column(String(10), default="zh-CN")
    role: Mapped[str | None] = mapped_column(String(16))
    consent_version: Mapped[str | None] = mapped_column(String(20))
    consented_at: Mapped[datetime | None]
    sensitive_consented_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    erased_at: Mapped[datetime | None]


class Application(Base):
    """An expert application (附件1) or a university intent (附件2), from first answer to decision."""

    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("batch_id", "person_id", "form", name="uq_applications_batch_person_form"),
        Index("ix_applications_form_status", "form", "status"),
        # The console's review queue: one form and state, oldest submission first, read a page at a time.
        Index("ix_applications_queue", "form", "status", "submitted_at", "id"),
        # A person's applications: read by every participant page and by the web sign-in's Telegram check.
        Index("ix_applications_person", "person_id"),
        # A batch's figures (dashboard, /stats, digest): grouped counts read from the index alone, never the
        # rows with their answers (at 100,000 applications the table is ~270 MB, this index a few MB).
        # With courses_mask (migration 0019): the pool per course too, from the same scan.
        Index("ix_applications_figures", "batch_id", "form", "status", "province", "courses_mask", "submitted_at", "id"),
        # The pool of a province (with, on PostgreSQL, the GIN index of where experts would teach offline: migration
        # 0019): the province filter of the pool and its export as two index scans, not a read of every answer.
        # With courses_mask (migration 0020): a course filter written as the masks holding its bit narrows that scan
        # in the index, so the filtered export reads only the experts it returns.
        Index("ix_applications_pool_province", "form", "status", "province", "courses_mask"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    form: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cursor: Mapped[str | None] = mapped_column(String(120))
    eligibility: Mapped[dict[str, Any] | None]
    eligibility_outcome: Mapped[str | None] = mapped_column(String(20))
    priority_score: Mapped[int] = mapped_column(Integer, default=0)
    # The core courses indexed in expert_courses at the last submission, a bit each (core.domain.courses.course_mask):
    # what the dashboard counts the pool per course from. Experts only; 0 otherwise.
    courses_mask: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    province: Mapped[str | None] = mapped_column(String(20))
    staff_message: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Telegram message id of the last typed answer applied, committed with it: the same message delivered
    # again (a bot process died before answering Telegram), or an older one, is never applied to a later question.
    last_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # Optimistic locking: two writers to the same draft cannot silently overwrite each other.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Counts the moves of `cursor` (answer, back, edit, submit): a page or a button shows the turn it was
    # drawn at, so an act from an older page (another tab, another device, the back button) is told apart
    # from one on the current page even when both show the same question. Uploads do not move it.
    turn: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __mapper_args__ = {"version_id_col": version}

    person: Mapped[Person] = relationship(lazy="raise")
    batch: Mapped[Batch] = relationship(lazy="raise")


class ExpertCourse(Base):
    """The courses an expert in the pool can teach, for filtering the pool in SQL."""

    __tablename__ = "expert_courses"

    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True)
    course: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)


class CourseDemand(Base):
    """One requested course of a university intent: what matching fills."""

    __tablename__ = "course_demands"
    __table_args__ = (UniqueConstraint("application_id", "course", name="uq_course_demands_application_course"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    course: Mapped[str] = mapped_column(String(20))
    hours: Mapped[int]
    experts_needed: Mapped[int]
    mode: Mapped[str] = mapped_column(String(16))
    schedule: Mapped[list[Any]] = mapped_column(default=list)


class Document(Base):
    """An uploaded proof file. Stored under a generated name; the person's file name is only shown."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    question_key: Mapped[str] = mapped_column(String(120))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    mime: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(100), unique=True)
    original_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]


class OutboxMessage(Base):
    """A notification committed with the change that caused it; the notifier sends it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    channel: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    address: Mapped[str | None] = mapped_column(String(254))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_reply: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # Which claim holds the row: a worker whose lease ran out cannot overwrite the new holder's outcome.
    claim_token: Mapped[str | None] = mapped_column(String(36))
    last_attempt_at: Mapped[datetime | None]
    # Set at the first attempt (max age counts from then, not from queueing: reminders are queued
    # days ahead); cleared when staff retry the row by hand.
    give_up_at: Mapped[datetime | None]
    # Written before the transport is called and cleared with the outcome: a row whose lease runs
    # out while this is set may have been delivered, so it becomes "unknown", never resent blindly.
    attempt_started_at: Mapped[datetime | None]
    # Higher is claimed first; by kind unless given (core.domain.outbox, the one place it is decided).
    priority: Mapped[int] = mapped_column(
        SmallInteger, default=lambda ctx: outbox_priority(ctx.get_current_parameters().get("kind")),
        server_default=sa_text("0"),
    )


# The claim reads queued rows in this order: most urgent first, then oldest due (migration 0013).
Index("ix_outbox_claim", OutboxMessage.status, OutboxMessage.priority.desc(), OutboxMessage.due_at, OutboxMessage.id)
# The resource pool (approved experts, highest priority first, then who came first), a page at a time: read in
# index order and stopped at the page's end, instead of sorting every approved expert of a course.
Index("ix_applications_pool", Application.form, Application.status, Application.priority_score.desc(),
      Application.submitted_at, Application.id)
# Where an approved expert would teach offline, for the pool's province filter (`answers -> 'offline_provinces' @>
# '["广东"]'`, core.services.queue): a GIN index, PostgreSQL only (migration 0019). SQLite has no index over the
# members of a JSON list; there the filter reads json_each per row. `only_on` keeps autogenerate's comparison
# (include_object below) from asking for it on SQLite.
Index("ix_applications_offline_provinces", Application.answers.op("->")(sa_text("'offline_provinces'")), postgresql_using="gin",
      info={"only_on": "postgresql"}).ddl_if(dialect="postgresql")
# The same over the pool only (approved experts: what the pool's filter asks for, migration 0020): the filter's
# offline side no longer fetches the drafts, submissions and rejections it then drops; a tenth of the size.
Index("ix_applications_pool_offline_provinces", Application.answers.op("->")(sa_text("'offline_provinces'")),
      postgresql_using="gin", postgresql_where=sa_text("form = 'expert' AND status = 'approved'"),
      info={"only_on": "postgresql"}).ddl_if(dialect="postgresql")


def include_object(dialect: str):
    """For Alembic's autogenerate (`include_object`) on a database of `dialect`: leaves out the schema objects
    the models keep for another database only (info["only_on"])."""

    def include(object_, name, type_, reflected, compare_to) -> bool:
        only_on = getattr(object_, "info", {}).get("only_on") or (getattr(compare_to, "info", None) or {}).get("only_on")
        return only_on is None or only_on == dialect

    return include


class ChannelPause(Base):
    """A channel that cannot deliver at all (revoked bot token, unreachable API): its rows wait queued."""

    __tablename__ = "channel_pauses"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    paused_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    # The next time a worker tries one row to see whether the channel works again.
    probe_at: Mapped[datetime]
    probes: Mapped[int] = mapped_column(Integer, default=0)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    # The console's list of actions: one index step per distinct action (console.audit_data, migration 0019).
    __table_args__ = (Index("ix_audit_log_action", "action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ChatState(Base):
    """aiogram FSM state and data per chat, kept in the same database so a restart resumes the dialog.

    The key is the bot's own (opaque here); telegram_id names the person's account the row belongs to,
    which is what erasure looks rows up by."""

    __tablename__ = "chat_states"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    state: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]


class ProcessedUpdate(Base):
    """Telegram updates already handled: the same update delivered twice is processed once.

    An id alone is not an identity: Telegram picks ids afresh after a week without updates and a
    restarted stand-in counts again, so a row also holds a digest of the payload, and rows older than
    Telegram's 24-hour redelivery window are pruned."""

    __tablename__ = "processed_updates"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    digest: Mapped[str] = mapped_column(String(64))


class Event(Base):
    """A workshop, matching event or teaching seminar that staff invite people to."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_status_starts_at", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    venue: Mapped[str | None] = mapped_column(String(300))
    online_url: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    # The iCalendar SEQUENCE: bumped whenever time or place change, so calendars replace the old entry.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EventInvitation(Base):
    """One person invited to one event, with their answer (RSVP)."""

    __tablename__ = "event_invitations"
    __table_args__ = (UniqueConstraint("event_id", "person_id", name="uq_event_invitations_event_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    rsvp: Mapped[str] = mapped_column(String(16), default="pending")
    invited_at: Mapped[datetime]
    responded_at: Mapped[datetime | None]


class Recommendation(Base):
    """A candidate shown to a university for one of its courses, and what the university made of it."""

    __tablename__ = "recommendations"
    __table_args__ = (UniqueConstraint("demand_id", "expert_application_id", name="uq_recommendations_demand_expert"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("course_demands.id", ondelete="CASCADE"), index=True)
    expert_application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int]
    round: Mapped[int] = mapped_column(Integer, default=1)
    score: Mapped[float]
    terms: Mapped[list[Any]] = mapped_column(default=list)
    choice: Mapped[str | None] = mapped_column(String(20))  # want | not_considering
    want_rank: Mapped[int | None]
    chosen_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class ExpertPreference(Base):
    """The expert's side of two-way matching: a university they were recommended to, wanted (in order) or declined."""

    __tablename__ = "expert_preferences"
    __table_args__ = (
        UniqueConstraint("expert_application_id", "university_application_id", name="uq_expert_preferences_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    university_application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    choice: Mapped[str] = mapped_column(String(20))  # want | not_considering
    want_rank: Mapped[int | None]
    chosen_at: Mapped[datetime]


class MatchRun(Base):
    """One numbered, immutable run of the matching engine with what it was given and what it found."""

    __tablename__ = "match_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    solver_status: Mapped[str] = mapped_column(String(16))
    filled: Mapped[int]
    total_need: Mapped[int]
    score: Mapped[float]
    bound: Mapped[float]
    gap: Mapped[float]
    time_s: Mapped[float]
    unfilled: Mapped[list[Any]] = mapped_column(default=list)
    stability: Mapped[dict[str, Any] | None]
    confirmed_at: Mapped[datetime | None]
    confirmed_by: Mapped[str | None] = mapped_column(String(64))


class MatchProposal(Base):
    __tablename__ = "match_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("match_runs.id", ondelete="CASCADE"), index=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("course_demands.id", ondelete="CASCADE"))
    expert_application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    university_application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    score: Mapped[float]
    terms: Mapped[list[Any]] = mapped_column(default=list)
    fixed: Mapped[bool] = mapped_column(default=False)
    appointment_id: Mapped[int | None]
    # Staff put a pair on hold: "confirm all" leaves it out until they confirm it by itself.
    held_at: Mapped[datetime | None]
    held_by: Mapped[str | None] = mapped_column(String(64))


class Appointment(Base):
    """A confirmed pair: answers of both sides, publicity (公示), agreement and filing (备案)."""

    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_expert_status", "expert_application_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("match_runs.id"))
    demand_id: Mapped[int] = mapped_column(ForeignKey("course_demands.id", ondelete="CASCADE"), index=True)
    expert_application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    university_application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    score: Mapped[float]
    offered_at: Mapped[datetime]
    answer_by: Mapped[datetime]
    expert_response: Mapped[str | None] = mapped_column(String(16))
    expert_reason: Mapped[str | None] = mapped_column(Text)
    expert_responded_at: Mapped[datetime | None]
    university_response: Mapped[str | None] = mapped_column(String(16))
    university_reason: Mapped[str | None] = mapped_column(Text)
    university_responded_at: Mapped[datetime | None]
    publicity_starts_on: Mapped[date | None] = mapped_column(Date)
    publicity_ends_on: Mapped[date | None] = mapped_column(Date)
    objections: Mapped[list[Any]] = mapped_column(default=list)
    agreement: Mapped[dict[str, Any] | None]
    filed_on: Mapped[date | None] = mapped_column(Date)
    filing_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class CapException(Base):
    """Staff lifting the 2-university cap for one expert, with the reason on record."""

    __tablename__ = "cap_exceptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), unique=True)
    max_universities: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime]


class StaffAccount(Base):
    """A console login. The password is set through a one-time link; nothing secret is stored in clear
    except the TOTP seed, which the authenticator app needs as well."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(Text)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    # The last TOTP time step accepted: a code seen once is refused the second time (replay).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    # sha256 of the one-time set-up token; the token itself is only ever printed.
    setup_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    setup_expires_at: Mapped[datetime | None]
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class StaffSession(Base):
    """A server-side console session; the cookie holds a token whose sha256 is the key here."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))


class StaffLoginAttempt(Base):
    """Every console login attempt, kept for throttling by address and for staff to review."""

    __tablename__ = "staff_login_attempts"
    __table_args__ = (Index("ix_staff_login_attempts_ip_at", "ip", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(64))
    succeeded: Mapped[bool]
    reason: Mapped[str | None] = mapped_column(String(32))


class PendingFileDeletion(Base):
    """A stored file whose row is gone, written in the row's transaction and removed once the file is.

    Files are deleted after the commit (a rolled-back erasure must keep them); when that fails (a read-only
    folder, a crash in between) this row keeps it queued, and the retry survives a restart.
    """

    __tablename__ = "pending_file_deletions"

    stored_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))
    queued_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class MatchingJob(Base):
    """A matching run asked for by the console, the bot or the CLI, solved by whichever worker claims it.

    Asked for: a queued row (`worker` empty). A worker claims it (`worker`, `claimed_at`, `attempts` + 1), renews
    `heartbeat_at` while it solves and writes `progress`; it stores the run and finishes the job (`finished_at`,
    `run_id`) in one transaction, or records why it failed (`finished_at`, `error`). A running job whose
    heartbeat has gone stale lost its worker: another worker takes it over, or after `attempts` claims it is
    marked interrupted (`error` set, `finished_at` left empty: it never finished). At most one unfinished job
    per batch (the partial index). `reply_chat`: the Telegram chat that asked; the bot posts the outcome there
    once (`reported_at`).
    """

    __tablename__ = "matching_jobs"
    __table_args__ = (
        Index("uq_matching_jobs_one_running_per_batch", "batch_id", unique=True,
              sqlite_where=sa_text("finished_at IS NULL AND error IS NULL"),
              postgresql_where=sa_text("finished_at IS NULL AND error IS NULL")),
        Index("ix_matching_jobs_unfinished", "started_at",
              sqlite_where=sa_text("finished_at IS NULL AND error IS NULL"),
              postgresql_where=sa_text("finished_at IS NULL AND error IS NULL")),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    staff: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]  # when it was asked for
    finished_at: Mapped[datetime | None]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("match_runs.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    heartbeat_at: Mapped[datetime]
    time_limit: Mapped[float] = mapped_column(server_default=sa_text("10"), default=10.0)
    worker: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, server_default=sa_text("0"), default=0)
    progress: Mapped[dict[str, Any] | None]
    reply_chat: Mapped[int | None] = mapped_column(BigInteger)
    reported_at: Mapped[datetime | None]


class PersonIdentity(Base):
    """A way a person proves who they are: a Telegram account, or an e-mail or mobile verified with a code.

    Kept apart from the contact details on `people` (which the form's answers overwrite at submit): an
    identity is what signs a person in, and it moves only by an explicit, verified act. The identifier is
    normalised: Telegram's numeric id as text, an e-mail lower-cased, a mobile as 11 digits.
    """

    __tablename__ = "person_identities"
    __table_args__ = (UniqueConstraint("channel", "identifier", name="uq_person_identities_channel_identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # telegram | email | mobile
    identifier: Mapped[str] = mapped_column(String(254))
    verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class SignInCode(Base):
    """A one-time sign-in code sent to an e-mail or a mobile: only a salted HMAC of it is stored.

    The rows double as the record the request throttles count (per address, per IP)."""

    __tablename__ = "signin_codes"
    __table_args__ = (
        Index("ix_signin_codes_address", "channel", "address", "created_at"),
        Index("ix_signin_codes_ip", "ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # email | mobile
    address: Mapped[str] = mapped_column(String(254))
    code_hash: Mapped[str] = mapped_column(String(64))
    salt: Mapped[str] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None]
    # The signed-in person who spent the code to add this address to their account (PeopleService.link_identity
    # accepts only their own proof); empty for a code spent signing in.
    confirmed_for: Mapped[int | None]


class SignInFailure(Base):
    """A wrong code typed at sign-in, counted per IP across codes and addresses (guessing many at once)."""

    __tablename__ = "signin_failures"
    __table_args__ = (Index("ix_signin_failures_ip_at", "ip", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))


class ParticipantSession(Base):
    """A participant's web session; the cookie holds a random token whose sha256 is the key here."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))


class NotificationOptOut(Base):
    """A kind of notice a person asked not to receive (core.services.preferences: reminders and workshop
    invitations only; decisions cannot be unsubscribed). Queueing that kind for them writes a skipped row."""

    __tablename__ = "notification_opt_outs"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime]
    via: Mapped[str] = mapped_column(String(16))  # link | one_click | web | staff
