"""Bounds on what people and staff type: every free text has ONE limit, defined here, checked by the core
services (so the bot, the console, the web channel and the CLI refuse the same thing with the same words, on
SQLite as on PostgreSQL), and shown beside the field by the console (maxlength and a hint).

Every limit fits its column (a VARCHAR at least as wide; TEXT otherwise), so the database never truncates or
refuses what the service accepted. Lengths count characters (code points), as PostgreSQL's VARCHAR(n) does.

Numbers: every id is an INTEGER column (PostgreSQL's int4), so an id beyond `MAX_ID` names nothing; a number
typed into a form is read with its own range, and a value outside it is refused with the field's name.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from core.domain.errors import DomainError
from core.texts import text

__all__ = [
    "MAX_ID", "MIN_BIGINT", "MAX_BIGINT", "TextLimit", "LIMITS", "id_in_range", "parse_int", "check_link",
    "shown", "WORKSHOP_TITLE", "WORKSHOP_VENUE", "WORKSHOP_LINK", "WORKSHOP_DESCRIPTION", "WORKSHOP_CANCEL_REASON",
    "REVIEW_REASON", "REVIEW_NOTE", "DECLINE_REASON", "OBJECTION_NOTE", "AGREEMENT_CONTENT", "FILING_NOTE",
    "CAP_REASON", "BATCH_NAME", "STAFF_NAME", "STAFF_EMAIL", "SEARCH", "MAX_LIFTED_UNIVERSITIES", "MAX_AGREEMENT_HOURS",
]

# Primary and foreign keys are INTEGER: 32-bit signed on PostgreSQL. SQLite would take 64 bits, but an id the
# production database cannot hold names nothing on either.
MAX_ID = 2**31 - 1
# Telegram ids are BIGINT columns.
MIN_BIGINT, MAX_BIGINT = -(2**63), 2**63 - 1
# Lifting the cap of universities an expert serves (normally 2, 一般不超过2所) is for one case at a time.
MAX_LIFTED_UNIVERSITIES = 10
# An agreement's teaching hours over its whole term: the four core courses at 32 hours each, every year of the
# longest term (5 years).
MAX_AGREEMENT_HOURS = 32 * 4 * 5


def id_in_range(value: int) -> bool:
    """Whether `value` can be a row's id at all (a larger one is simply not found)."""
    return 0 < value <= MAX_ID


def parse_int(raw: object) -> int | None:
    """A whole number as typed ("42", " 42 ", "-3"); None when it is not one. Digits only, so "1e9", "4_2" or
    "٤٢" are not numbers here, and the string is short enough that int() stays cheap."""
    value = str(raw if raw is not None else "").strip()
    digits = value[1:] if value[:1] in "+-" else value
    if not digits or len(digits) > 40 or not digits.isascii() or not digits.isdigit():
        return None
    return int(value)


def shown(value: object, limit: int = 40) -> str:
    """What was typed, short enough to quote back in a message."""
    value = str(value if value is not None else "")
    return value if len(value) <= limit else value[:limit] + "…"


@dataclass(frozen=True)
class TextLimit:
    """One free-text field: its key (what the console's field shows beside it), its name in messages, its maximum
    length in characters, and whether it may be left blank."""

    key: str
    label: str
    max: int
    required: bool = False
    # The catalogue's message for a text too long (it gets field, max and got), and for a required one left blank.
    too_long: str = "limits.too_long"
    missing: str = "limits.required"
    missing_code: str = "required"

    @property
    def hint(self) -> str:
        return text("limits.hint", max=self.max)

    def check(self, value: str | None) -> str:
        """The text stripped; refused (naming the field, the limit and the count) when too long or missing."""
        cleaned = (value or "").strip()
        if self.required and not cleaned:
            raise DomainError(text(self.missing, field=self.label), code=self.missing_code, field=self.key)
        if len(cleaned) > self.max:
            raise DomainError(text(self.too_long, field=self.label, max=self.max, got=len(cleaned)),
                              code="too_long", field=self.key)
        return cleaned

    def optional(self, value: str | None) -> str | None:
        """`check`, with a blank text read as None (nothing given)."""
        return self.check(value) or None


# A text that reaches an applicant (a rejection, a request for more, a note with an approval) must read well as
# one Telegram message, one SMS-length notice pointing to the page, and an e-mail paragraph: 500 characters.
APPLICANT_TEXT_MAX = 500

WORKSHOP_TITLE = TextLimit("workshop.title", "活动名称", 100, required=True, missing="events.title_required")  # VARCHAR(200)
WORKSHOP_VENUE = TextLimit("workshop.venue", "地点", 200)  # VARCHAR(300)
WORKSHOP_LINK = TextLimit("workshop.online_url", "线上会议链接", 500)  # VARCHAR(500)
WORKSHOP_DESCRIPTION = TextLimit("workshop.description", "说明", 2000)  # TEXT
WORKSHOP_CANCEL_REASON = TextLimit("workshop.cancel_reason", "取消原因", APPLICANT_TEXT_MAX)  # TEXT, sent to invitees
REVIEW_REASON = TextLimit("review.reason", "原因", APPLICANT_TEXT_MAX, required=True, missing="application.reason_required",
                          missing_code="reason_required")  # TEXT, sent to the applicant
REVIEW_NOTE = TextLimit("review.note", "审核意见", APPLICANT_TEXT_MAX)  # TEXT, sent with an approval
DECLINE_REASON = TextLimit("appointment.reason", "原因", APPLICANT_TEXT_MAX,
                           too_long="appointment.reason_too_long")  # TEXT, seen by staff
OBJECTION_NOTE = TextLimit("appointment.objection_note", "异议内容和处理情况", APPLICANT_TEXT_MAX,
                           required=True)  # JSON, sent when upheld
AGREEMENT_CONTENT = TextLimit("appointment.agreement_content", "授课内容", 1000)  # JSON (required: see the service)
FILING_NOTE = TextLimit("appointment.filing_note", "备案说明", 500)  # TEXT
CAP_REASON = TextLimit("matching.cap_reason", "放宽理由", 500, required=True)  # TEXT
BATCH_NAME = TextLimit("batch.name", "批次名称", 60, required=True)  # VARCHAR(100)
STAFF_NAME = TextLimit("staff.name", "姓名", 50, required=True, missing="staff.name_required")  # VARCHAR(100)
STAFF_EMAIL = TextLimit("staff.email", "邮箱", 254, required=True)  # VARCHAR(254)
SEARCH = TextLimit("search", "搜索", 100)  # never stored

LIMITS: dict[str, TextLimit] = {limit.key: limit for limit in (
    WORKSHOP_TITLE, WORKSHOP_VENUE, WORKSHOP_LINK, WORKSHOP_DESCRIPTION, WORKSHOP_CANCEL_REASON, REVIEW_REASON,
    REVIEW_NOTE, DECLINE_REASON, OBJECTION_NOTE, AGREEMENT_CONTENT, FILING_NOTE, CAP_REASON, BATCH_NAME, STAFF_NAME,
    STAFF_EMAIL, SEARCH,
)}


def check_link(value: str | None, limit: TextLimit = WORKSHOP_LINK) -> str | None:
    """A web address people will open from an e-mail or a chat: http(s) with a host, nothing else
    (`javascript:`, `data:`, `file:` or a bare word are refused with the reason). Blank is None."""
    cleaned = limit.optional(value)
    if cleaned is None:
        return None
    try:
        parts = urlsplit(cleaned)
        valid = (parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
                 and not any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in cleaned))
    except ValueError:
        valid = False
    if not valid:
        raise DomainError(text("limits.link_scheme", field=limit.label, value=shown(cleaned, 60)),
                          code="bad_link", field=limit.key)
    return cleaned
