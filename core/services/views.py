"""What services hand back: plain values, never ORM rows, so callers cannot touch the session."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.eligibility import Eligibility
from core.forms import Step

__all__ = ["SummaryLine", "DraftView", "ApplicationSummary", "DocumentView", "PersonView", "BatchView"]


@dataclass(frozen=True)
class SummaryLine:
    step_key: str
    label: str
    value: str


@dataclass(frozen=True)
class DraftView:
    application_id: int
    person_id: int
    form: str
    status: str
    status_label: str
    step: Step | None  # None: every question answered, the review summary is next
    position: int
    total: int
    editing: bool  # answering from the review summary: the next stop is the summary again
    answers: dict[str, Any]
    batch_name: str
    deadline: datetime
    turn: int = 0  # moves of the cursor so far: the page token's half that changes
    reference: str = ""  # the reference number (shown once submitted)
    staff_message: str | None = None  # what staff asked for (需补充材料) or why they decided so
    submitted_at: datetime | None = None  # None: never submitted (no receipt, no reference to quote)

    @property
    def at_review(self) -> bool:
        return self.step is None


@dataclass(frozen=True)
class DocumentView:
    id: int
    question_key: str
    mime: str
    size: int
    sha256: str
    original_name: str | None


@dataclass(frozen=True)
class ApplicationSummary:
    id: int
    reference: str
    person_id: int
    form: str
    form_title: str
    status: str
    status_label: str
    batch_name: str
    display_name: str
    province: str | None
    submitted_at: datetime | None
    eligibility: Eligibility | None
    staff_message: str | None
    lines: tuple[SummaryLine, ...] = field(default_factory=tuple)
    documents: tuple[DocumentView, ...] = field(default_factory=tuple)
    channels: tuple[str, ...] = ()  # how the applicant signs in (core.domain.vocabulary.SIGN_IN_CHANNELS keys)


@dataclass(frozen=True)
class PersonView:
    id: int
    telegram_id: int | None
    display_name: str | None
    email: str | None
    mobile: str | None
    preferred_channel: str
    role: str | None
    consented: bool
    sensitive_consented: bool


@dataclass(frozen=True)
class BatchView:
    id: int
    name: str
    registration_opens_at: datetime
    registration_closes_at: datetime
    matching_starts_at: datetime | None
    publicity_starts_at: datetime | None
