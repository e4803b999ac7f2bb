"""How a question, a review summary or a receipt looks in the chat. Texts come from the catalogue."""
from __future__ import annotations

from datetime import datetime, tzinfo

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.callbacks import REVIEW_TOKEN, FormAction, step_token
from core.forms import FormContext, Kind, display_value, get_form
from core.forms.navigation import most_steps
from core.services import ApplicationSummary, DraftView
from core.texts import text
from notifier.rendering import format_datetime_cn

__all__ = ["question_text", "question_keyboard", "phone_keyboard", "review_texts", "review_keyboard", "split_message", "MESSAGE_LIMIT", "receipt_text", "files_keyboard"]

MESSAGE_LIMIT = 4096  # Telegram's limit for a message text, in characters


def _at_most(draft: DraftView, zone: tzinfo) -> int:
    ctx = FormContext(deadline=draft.deadline.astimezone(zone).date(), today=datetime.now(zone).date())
    return max(most_steps(get_form(draft.form), draft.answers, ctx), draft.position)


def question_text(draft: DraftView, zone: tzinfo, picked: list[str] | None = None) -> str:
    step = draft.step
    assert step is not None
    question = step.question
    progress = text("bot.progress", position=draft.position, total=_at_most(draft, zone))
    lines = [progress + (text("bot.editing") if draft.editing else "")]
    prompt = text("follow_up.prompt", item=step.item_label, prompt=question.prompt) if step.item_label else question.prompt
    lines.append("")
    lines.append(prompt)
    if question.help:
        lines.append(f"（{question.help}）")
    if question.kind is Kind.MULTI:
        chosen = "、".join(question.choice_label(v) for v in (picked or [])) or text("bot.nothing_picked")
        lines.append(text("bot.multi_hint", picked=chosen))
    elif question.kind is Kind.FILE:
        count = len(draft.answers.get(step.key) or [])
        if count:
            lines.append(text("bot.files_so_far", count=count))
    current = draft.answers.get(step.key)
    if current not in (None, [], "") and question.kind not in (Kind.MULTI, Kind.FILE):
        lines.append(f"当前答案：{display_value(question, current)}")
    return "\n".join(lines)


def _button(label: str, draft: DraftView, action: str, i: int = -1) -> InlineKeyboardButton:
    token = step_token(draft.step.key) if draft.step else REVIEW_TOKEN
    data = FormAction(action=action, app=draft.application_id, step=token, i=i).pack()
    return InlineKeyboardButton(text=label, callback_data=data)


def _rows(buttons: list[InlineKeyboardButton], per_row: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]


def question_keyboard(draft: DraftView, picked: list[str] | None = None) -> InlineKeyboardMarkup | None:
    step = draft.step
    assert step is not None
    question = step.question
    rows: list[list[InlineKeyboardButton]] = []
    if question.kind is Kind.SINGLE:
        longest = max(len(c.label) for c in question.choices)
        per_row = 4 if longest <= 3 else 2 if longest <= 8 else 1
        rows += _rows([_button(c.label, draft, "c", i) for i, c in enumerate(question.choices)], per_row)
    elif question.kind is Kind.YES_NO:
        rows.append([_button(text("bot.yes"), draft, "c", 1), _button(text("bot.no"), draft, "c", 0)])
    elif question.kind is Kind.MULTI:
        chosen = set(picked or [])
        longest = max(len(c.label) for c in question.choices)
        per_row = 4 if longest <= 3 else 2 if longest <= 8 else 1
        rows += _rows(
            [_button(("✅ " if c.value in chosen else "") + c.label, draft, "t", i) for i, c in enumerate(question.choices)], per_row
        )
        rows.append([_button(text("bot.done"), draft, "d")])
    elif question.kind is Kind.FILE:
        rows.append([_button(text("bot.done"), draft, "d")])
    navigation = []
    if draft.position > 1:
        navigation.append(_button(text("bot.back"), draft, "b"))
    if draft.answers.get(step.key) not in (None, [], "") and question.kind not in (Kind.MULTI, Kind.FILE):
        navigation.append(_button(text("bot.keep"), draft, "k"))
    if not question.required:
        navigation.append(_button(text("bot.skip"), draft, "s"))
    if navigation:
        rows.append(navigation)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def files_keyboard(draft: DraftView) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[_button(text("bot.done"), draft, "d")]])


def phone_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=text("bot.share_phone"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def split_message(lines: list[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Lines joined into as few messages as fit Telegram's limit; a line longer than that is cut across two."""
    messages: list[str] = []
    current = ""
    for line in lines:
        while len(line) > limit:
            if current:
                messages.append(current)
                current = ""
            messages.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            messages.append(current)
            candidate = line
        current = candidate
    if current or not messages:
        messages.append(current)
    return messages


def review_texts(summary: ApplicationSummary) -> list[str]:
    """The review page with every answer whole, in one message or, when long, several."""
    lines = [text("bot.review_title", title=summary.form_title), ""]
    lines += [f"{n}. {line.label}：{line.value}" for n, line in enumerate(summary.lines, start=1)]
    lines += ["", text("bot.review_hint")]
    return split_message(lines)


def review_keyboard(draft: DraftView, summary: ApplicationSummary) -> InlineKeyboardMarkup:
    edits = [_button(f"✏️{n}", draft, "e", n - 1) for n in range(1, len(summary.lines) + 1)]
    rows = _rows(edits, 6)
    rows.append([_button(text("bot.submit"), draft, "S")])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def receipt_text(summary: ApplicationSummary) -> str:
    """The same receipt the e-mail gives: time as 2025年8月15日 18:00（北京时间）, the same next step."""
    submitted_at = format_datetime_cn(summary.submitted_at)
    if summary.form == "university":
        outcome = text("bot.outcome.university")
    else:
        outcome = text(f"bot.outcome.{summary.eligibility.outcome.value}")
        details = [f"· {r.title}：{r.reason}" for r in summary.eligibility.rules if r.outcome.value != "pass"]
        if details:
            outcome += "\n" + "\n".join(details)
    return text("bot.submitted", reference=summary.reference, submitted_at=submitted_at, outcome=outcome)
