"""What a participant sees next, as plain values: every channel (the chat, the web pages) renders these and
decides nothing. A new rule of the dialog is a change here, seen by every channel at once.

Each screen carries the token of the turn it was drawn at; an act sent with an older token is stale.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Union

__all__ = [
    "Action",
    "ChoiceOption",
    "UploadedFile",
    "ConsentScreen",
    "RoleScreen",
    "QuestionScreen",
    "ReviewLine",
    "VerdictLine",
    "Verdict",
    "ReviewScreen",
    "StatusItem",
    "StatusScreen",
    "Receipt",
    "Screen",
    "CONSENT_TOKEN",
    "ROLE_TOKEN",
]

# Consent and the role choice are asked before any application exists: their acts are idempotent, so the
# token only names the page.
CONSENT_TOKEN = "consent"
ROLE_TOKEN = "role"


class Action(StrEnum):
    """What a person may do on a screen; a channel shows a button or a link for each one offered."""

    AGREE = "agree"  # consent: agree
    DECLINE = "decline"  # consent: decline
    ROLE = "role"  # pick a role (value: "expert" / "university")
    ANSWER = "answer"  # value: the typed text, the picked choice value, the picked list, True/False
    KEEP = "keep"  # keep the current answer and go on
    SKIP = "skip"  # leave an optional question empty
    UPLOAD = "upload"  # value: (content bytes, file name)
    REMOVE_FILE = "remove_file"  # value: a document id shown on this screen
    FINISH = "finish"  # done uploading (a file question)
    BACK = "back"  # the previous question
    EDIT = "edit"  # from the review: answer one question again (value: its step key)
    SUBMIT = "submit"
    START = "start"  # begin or resume: opens the draft of the person's role when there is none


@dataclass(frozen=True)
class ChoiceOption:
    value: str
    label: str
    picked: bool = False


@dataclass(frozen=True)
class UploadedFile:
    id: int
    name: str  # the person's file name, or a neutral one when they sent none (a photo)
    mime: str
    size: int


@dataclass(frozen=True)
class ConsentScreen:
    """Notice and consent (个人信息保护法): `general` before anything personal is asked, `sensitive` before
    the first certificate is uploaded."""

    kind: str  # "general" or "sensitive"
    title: str
    notice: str  # the whole notice, with the rights said in words every channel can keep
    agree_label: str
    decline_label: str
    token: str
    application_id: int | None = None
    retention: str = ""  # the retention periods in force (general notice)
    actions: frozenset[Action] = frozenset({Action.AGREE, Action.DECLINE})

    def notice_with_rights(self, rights: str) -> str:
        """The general notice with the channel's own way to see, correct, export and delete (a chat's commands)."""
        if self.kind != "general":
            return self.notice
        from core.texts import text

        return text("consent.notice", retention=self.retention, rights=rights)


@dataclass(frozen=True)
class RoleScreen:
    prompt: str
    choices: tuple[ChoiceOption, ...]
    token: str = ROLE_TOKEN
    actions: frozenset[Action] = frozenset({Action.ROLE})


@dataclass(frozen=True)
class QuestionScreen:
    application_id: int
    token: str
    key: str  # the step key: a question, or a follow-up for one picked item (courses[创新思维].hours)
    kind: str  # core.forms.Kind value
    heading: str  # the question as asked, with its item when a follow-up ("【创新思维】…")
    label: str  # the short name used in the review and in exports
    help: str
    required: bool
    choices: tuple[ChoiceOption, ...]  # single / multi / yes_no; `picked` marks the saved answer
    current: object  # the saved answer in its stored form (None when unanswered)
    current_display: str  # the saved answer as shown to the person ("" when unanswered)
    files: tuple[UploadedFile, ...]
    files_left: int | None  # how many more files this question takes (None: no limit)
    min_files: int
    max_length: int | None
    min_value: int | None
    max_value: int | None
    min_picks: int | None
    max_picks: int | None
    needs_sensitive_consent: bool  # a certificate question; consent was given (else a ConsentScreen shows)
    editing: bool  # answering from the review: the next stop is the review again
    position: int
    total: int  # one definition everywhere: the most questions this person can still be asked
    progress: str  # "第 7/24 题"
    actions: frozenset[Action]


@dataclass(frozen=True)
class ReviewLine:
    number: int
    step_key: str
    label: str
    value: str  # the whole answer, never cut


@dataclass(frozen=True)
class VerdictLine:
    number: int
    title: str
    outcome: str  # core.eligibility.Outcome value
    outcome_label: str
    reason: str


@dataclass(frozen=True)
class Verdict:
    """The eligibility check on the answers as they stand, rule by rule, in plain words."""

    outcome: str
    summary: str  # "您目前满足…；第 3 条需工作人员判断…"
    lines: tuple[VerdictLine, ...]


@dataclass(frozen=True)
class ReviewScreen:
    application_id: int
    token: str
    title: str  # "请核对您填写的《…》"
    form_title: str
    hint: str
    lines: tuple[ReviewLine, ...]
    verdict: Verdict
    deadline: str  # the batch's deadline as shown
    resubmission: bool  # sent back for more information: submitting sends it back to staff
    staff_message: str | None
    actions: frozenset[Action]


@dataclass(frozen=True)
class StatusItem:
    """One application or one proposal as it stands, with what waits for the person."""

    kind: str  # "application" or "appointment"
    id: int
    title: str  # the line as it reads in a list: 《表名》（批次）：状态
    name: str  # what it is, for a confirmation ("确定要撤回《…》吗"): the form's title, or the pair
    status: str  # a stable code (ApplicationStatus / appointment status value)
    status_label: str
    reference: str | None = None
    lines: tuple[str, ...] = ()  # progress, the staff's message, the answer deadline, publicity dates
    editable: bool = False
    withdrawable: bool = False
    waiting: bool = False  # the person has something to answer here
    # Where the person acts on it, as link purposes (core.links.path_for gives the page): "apply" to go on
    # filling in, "candidates" / "universities" for two-way matching, "proposal", "event".
    pages: tuple[str, ...] = ()


@dataclass(frozen=True)
class StatusScreen:
    """Where a person stands when no question is open (and what /status shows at any time)."""

    title: str
    empty: str | None  # the sentence for a person with nothing yet, else None
    items: tuple[StatusItem, ...]
    token: str = "status"
    actions: frozenset[Action] = frozenset({Action.START})

    def text(self) -> str:
        if self.empty:
            return self.empty
        return "\n".join(line for item in self.items for line in (item.title, *item.lines))


@dataclass(frozen=True)
class Receipt:
    application_id: int
    reference: str
    form: str
    form_title: str
    submitted_at: datetime | None
    submitted_at_text: str  # 2025年8月15日 18:00（北京时间）
    outcome: str  # the first check's result in words
    details: tuple[str, ...] = field(default_factory=tuple)  # the rules that did not simply pass
    next_steps: str = ""

    def text(self) -> str:
        from core.texts import text

        outcome = self.outcome + ("\n" + "\n".join(self.details) if self.details else "")
        return text("receipt.text", reference=self.reference, submitted_at=self.submitted_at_text, outcome=outcome)


Screen = Union[ConsentScreen, RoleScreen, QuestionScreen, ReviewScreen, StatusScreen]
