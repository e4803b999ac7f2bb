"""Turns what a person typed (or tapped) into the stored value of an answer, or says why not."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from core.forms.model import FormContext, Kind, Question
from core.forms.normalize import (
    clean_text,
    normalize_text,
    parse_cn_mobile,
    parse_date,
    parse_email,
    parse_integer,
    parse_year_month,
    parse_yes_no,
    quote,
)
from core.texts import text

__all__ = ["AnswerError", "validate_answer", "MULTI_SEPARATORS"]

# Separators people use when typing a list of choices instead of tapping buttons.
MULTI_SEPARATORS = ("、", ",", "，", ";", "；", "/", "\n")


class AnswerError(ValueError):
    """The answer breaks a rule of its question; `message` names the rule in zh-CN."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _is_blank(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return normalize_text(raw) == ""
    if isinstance(raw, (list, tuple)):
        return len(raw) == 0
    return False


def validate_answer(question: Question, raw: Any, ctx: FormContext | None = None) -> Any:
    """Returns the canonical JSON-serialisable value; None for a skipped optional question."""
    if isinstance(raw, str) and raw.strip() and not clean_text(raw):
        raise AnswerError(text("text.invisible_only"))
    if _is_blank(raw) and question.kind is not Kind.FILE:
        if question.required:
            raise AnswerError(text("required"))
        return None
    validator = _VALIDATORS[question.kind]
    return validator(question, raw, ctx)


def _as_str(raw: Any) -> str:
    if isinstance(raw, bool):
        return "是" if raw else "否"
    return str(raw)


def _shown(raw: Any) -> str:
    return quote(_as_str(raw))


def _text(q: Question, raw: Any, ctx: FormContext | None) -> str:
    # Stored as typed: folding "，" to "," or "（" to "(" would change the person's own words.
    value = clean_text(_as_str(raw))
    if q.min_length is not None and len(value) < q.min_length:
        raise AnswerError(text("text.too_short", min=q.min_length, got=len(value)))
    if q.max_length is not None and len(value) > q.max_length:
        raise AnswerError(text("text.too_long", max=q.max_length, got=len(value)))
    return value


def _with_rule(q: Question, message: str) -> str:
    return f"{message}（{q.help}）" if q.help else message


def _integer(q: Question, raw: Any, ctx: FormContext | None) -> int:
    if isinstance(raw, bool):
        raise AnswerError(text("integer.invalid", raw=raw))
    value = raw if isinstance(raw, int) else parse_integer(_as_str(raw))
    if value is None:
        raise AnswerError(text("integer.invalid", raw=_shown(raw)))
    if q.min_value is not None and value < q.min_value:
        raise AnswerError(_with_rule(q, text("integer.too_small", label=q.label, min=q.min_value, got=value)))
    if q.max_value is not None and value > q.max_value:
        raise AnswerError(_with_rule(q, text("integer.too_large", label=q.label, max=q.max_value, got=value)))
    return value


def _date(q: Question, raw: Any, ctx: FormContext | None) -> str:
    value = raw if isinstance(raw, date) else parse_date(_as_str(raw))
    if value is None:
        raise AnswerError(text("date.invalid", raw=_shown(raw)))
    if q.min_date is not None and value < q.min_date:
        raise AnswerError(text("date.too_early", min=q.min_date.isoformat()))
    max_date = q.max_date
    if q.past_only and ctx is not None:
        max_date = min(max_date, ctx.today) if max_date else ctx.today
    if max_date is not None and value > max_date:
        raise AnswerError(text("date.too_late", max=max_date.isoformat()))
    return value.isoformat()


def _year_month(q: Question, raw: Any, ctx: FormContext | None) -> str:
    value = parse_year_month(_as_str(raw))
    if value is None:
        raise AnswerError(text("year_month.invalid", raw=_shown(raw)))
    if q.min_date is not None and value < q.min_date.strftime("%Y-%m"):
        raise AnswerError(text("year_month.too_early", min=q.min_date.strftime("%Y-%m")))
    if q.max_date is not None and value > q.max_date.strftime("%Y-%m"):
        raise AnswerError(text("year_month.too_late", max=q.max_date.strftime("%Y-%m")))
    if q.not_before_this_month and ctx is not None and value < ctx.today.strftime("%Y-%m"):
        raise AnswerError(text("year_month.past", label=q.label, got=value, today=ctx.today.isoformat()))
    return value


def _match_choice(q: Question, raw: str) -> str | None:
    value = normalize_text(raw)
    for index, choice in enumerate(q.choices, start=1):
        if value in (choice.value, choice.label, str(index)):
            return choice.value
    return None


def _options(q: Question) -> str:
    return "、".join(f"{i}. {c.label}" for i, c in enumerate(q.choices, start=1))


def _single(q: Question, raw: Any, ctx: FormContext | None) -> str:
    value = _match_choice(q, _as_str(raw))
    if value is None:
        raise AnswerError(text("choice.invalid", raw=_shown(raw), options=_options(q)))
    return value


def _split_multi(raw: Any) -> list[str]:
    if isinstance(raw, (list, tuple)):
        return [_as_str(item) for item in raw]
    value = normalize_text(_as_str(raw))
    for sep in MULTI_SEPARATORS[1:]:
        value = value.replace(sep, MULTI_SEPARATORS[0])
    return [part for part in value.split(MULTI_SEPARATORS[0]) if part.strip()]


def _multi(q: Question, raw: Any, ctx: FormContext | None) -> list[str]:
    picked: list[str] = []
    for item in _split_multi(raw):
        value = _match_choice(q, item)
        if value is None:
            raise AnswerError(text("choice.invalid", raw=_shown(item), options=_options(q)))
        if value in picked:
            raise AnswerError(text("multi.duplicate", item=q.choice_label(value)))
        picked.append(value)
    if q.min_picks is not None and len(picked) < q.min_picks:
        raise AnswerError(text("multi.too_few", min=q.min_picks, got=len(picked)))
    if q.max_picks is not None and len(picked) > q.max_picks:
        raise AnswerError(text("multi.too_many", max=q.max_picks, got=len(picked)))
    # Stored in the questionnaire's order so that answers compare and display the same way.
    order = {c.value: i for i, c in enumerate(q.choices)}
    return sorted(picked, key=order.__getitem__)


def _phone(q: Question, raw: Any, ctx: FormContext | None) -> str:
    value = parse_cn_mobile(_as_str(raw))
    if value is None:
        raise AnswerError(text("phone.invalid", raw=_shown(raw)))
    return value


def _email(q: Question, raw: Any, ctx: FormContext | None) -> str:
    value = parse_email(_as_str(raw))
    if value is None:
        raise AnswerError(text("email.invalid", raw=_shown(raw)))
    return value


def _yes_no(q: Question, raw: Any, ctx: FormContext | None) -> bool:
    value = raw if isinstance(raw, bool) else parse_yes_no(_as_str(raw))
    if value is None:
        raise AnswerError(text("yes_no.invalid"))
    if q.must_be_yes and not value:
        raise AnswerError(text("yes_no.must_be_yes", label=q.label))
    return value


def _file(q: Question, raw: Any, ctx: FormContext | None) -> list[Any]:
    if raw is None:
        raw = []
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise AnswerError(text("file.expected"))
    documents = list(raw)
    if q.required and q.min_files is not None and len(documents) < q.min_files:
        raise AnswerError(text("file.too_few", min=q.min_files, got=len(documents)))
    if q.required and not documents:
        raise AnswerError(text("file.too_few", min=1, got=0))
    if q.max_files is not None and len(documents) > q.max_files:
        raise AnswerError(text("file.too_many", max=q.max_files, got=len(documents)))
    return documents


_VALIDATORS = {
    Kind.TEXT: _text,
    Kind.INTEGER: _integer,
    Kind.DATE: _date,
    Kind.YEAR_MONTH: _year_month,
    Kind.SINGLE: _single,
    Kind.MULTI: _multi,
    Kind.PHONE: _phone,
    Kind.EMAIL: _email,
    Kind.YES_NO: _yes_no,
    Kind.FILE: _file,
}
