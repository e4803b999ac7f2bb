"""How Chinese users type things, reduced to one canonical form. Pure functions."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

__all__ = [
    "clean_text",
    "normalize_text",
    "quote",
    "parse_date",
    "parse_year_month",
    "parse_cn_mobile",
    "parse_email",
    "parse_integer",
    "parse_yes_no",
]

_SPACES = re.compile(r"\s+")


def _visible(char: str) -> bool:
    # Cf holds the zero-width characters and the bidi embeddings, overrides and isolates (U+202A–202E,
    # U+2066–2069): invisible in a chat, yet they make a "name" of nothing or reverse what staff read.
    category = unicodedata.category(char)
    return category != "Cf" and (category != "Cc" or char in "\n\t")


def clean_text(raw: str) -> str:
    """A person's own text as typed, without invisible or direction-control characters."""
    return "".join(char for char in raw.replace("\r\n", "\n") if _visible(char)).strip()


def normalize_text(raw: str) -> str:
    """For what must be parsed (digits, dates, phones, e-mails, choices), never for what is stored as typed:
    NFKC folds full-width digits, letters and punctuation (１２３ → 123, ＠ → @, ， → ,)."""
    return unicodedata.normalize("NFKC", clean_text(raw)).strip()


_QUOTE_LIMIT = 40


def quote(raw: str) -> str:
    """At most a short prefix of what someone sent, to quote back in a refusal (replies have a length limit)."""
    value = clean_text(raw).replace("\n", " ")
    return value if len(value) <= _QUOTE_LIMIT else value[: _QUOTE_LIMIT - 1] + "…"


def _compact(raw: str) -> str:
    return _SPACES.sub("", normalize_text(raw))


_DATE_SEPARATED = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATE_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def parse_date(raw: str) -> date | None:
    value = _compact(raw)
    match = _DATE_SEPARATED.match(value) or _DATE_DIGITS.match(value)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


_YEAR_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_YEAR_MONTH_DIGITS = re.compile(r"^(\d{4})(\d{2})$")


def parse_year_month(raw: str) -> str | None:
    """Returns 'YYYY-MM' or None."""
    value = _compact(raw)
    match = _YEAR_MONTH.match(value) or _YEAR_MONTH_DIGITS.match(value)
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12 or year < 1900:
        return None
    return f"{year:04d}-{month:02d}"


_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def parse_cn_mobile(raw: str) -> str | None:
    """Mainland mobile numbers as 11 digits; accepts +86 / 0086 / 86 prefixes, spaces and dashes."""
    value = re.sub(r"[\s\-()（）]", "", normalize_text(raw))
    for prefix in ("+86", "0086", "86"):
        if value.startswith(prefix) and len(value) == len(prefix) + 11:
            value = value[len(prefix):]
            break
    return value if _MOBILE.match(value) else None


# Deliberately simple: one @, a dotted domain, no spaces. Deliverability is the mailer's business.
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)+$")


def parse_email(raw: str) -> str | None:
    # Inner spaces are refused, not removed: guessing at an address would send mail to a stranger.
    value = normalize_text(raw)
    if "@" not in value or not _EMAIL.match(value):
        return None
    local, domain = value.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def parse_integer(raw: str) -> int | None:
    value = _compact(raw).replace(",", "")
    if value.endswith(("人", "名", "个", "学时", "年", "所", "岁")):
        value = value.rstrip("人名个学时年所岁")
    if not re.fullmatch(r"[+-]?\d+", value):
        return None
    return int(value)


_YES = {"是", "是的", "对", "同意", "愿意", "确认", "有", "yes", "y", "true", "1"}
_NO = {"否", "不是", "不", "不同意", "不愿意", "没有", "无", "no", "n", "false", "0"}


def parse_yes_no(raw: str) -> bool | None:
    value = _compact(raw).lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    return None
