"""Walking a questionnaire: which steps are visible, which comes next, what is missing."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.forms.model import FollowUp, Form, FormContext, Kind, Question, Step, follow_up_step_key
from core.forms.validation import AnswerError, validate_answer
from core.texts import text

__all__ = [
    "REVIEW",
    "visible_steps",
    "find_step",
    "next_step",
    "previous_step",
    "missing_required",
    "prune_hidden",
    "display_value",
    "progress",
    "most_steps",
    "validate_all",
]

# The cursor value that means "all questions answered, showing the review summary".
REVIEW = "__review__"


def _shown(question: Question, answers: Mapping[str, Any], ctx: FormContext) -> bool:
    if question.condition is None:
        return True
    return bool(question.condition.test(answers, ctx))


def visible_steps(form: Form, answers: Mapping[str, Any], ctx: FormContext) -> list[Step]:
    steps: list[Step] = []
    for entry in form.entries:
        if isinstance(entry, Question):
            if _shown(entry, answers, ctx):
                steps.append(Step(key=entry.key, question=entry))
            continue
        steps.extend(_follow_up_steps(form, entry, answers, ctx))
    return steps


def _follow_up_steps(form: Form, group: FollowUp, answers: Mapping[str, Any], ctx: FormContext) -> list[Step]:
    source = form.question(group.source)
    if not _shown(source, answers, ctx):
        return []
    picked = answers.get(group.source) or []
    steps = []
    for item in picked:
        item_label = source.choice_label(item)
        for question in group.questions:
            if _shown(question, answers, ctx):
                key = follow_up_step_key(group.key, item, question.key)
                steps.append(Step(key=key, question=question, item=item, item_label=item_label))
    return steps


def find_step(form: Form, answers: Mapping[str, Any], ctx: FormContext, key: str) -> Step | None:
    for step in visible_steps(form, answers, ctx):
        if step.key == key:
            return step
    return None


def next_step(
    form: Form, answers: Mapping[str, Any], ctx: FormContext, *, after: str | None = None
) -> Step | None:
    """The first unanswered step after `after`, else the first unanswered at all; None when done."""
    steps = visible_steps(form, answers, ctx)
    start = 0
    if after is not None:
        for index, step in enumerate(steps):
            if step.key == after:
                start = index + 1
                break
    for step in steps[start:] + steps[:start]:
        if step.key not in answers:
            return step
    return None


def previous_step(form: Form, answers: Mapping[str, Any], ctx: FormContext, current: str) -> Step | None:
    steps = visible_steps(form, answers, ctx)
    if current == REVIEW:
        return steps[-1] if steps else None
    for index, step in enumerate(steps):
        if step.key == current:
            return steps[index - 1] if index > 0 else None
    return None


def missing_required(form: Form, answers: Mapping[str, Any], ctx: FormContext) -> list[Step]:
    missing = []
    for step in visible_steps(form, answers, ctx):
        value = answers.get(step.key)
        if step.question.required and (value is None or value == [] or value == ""):
            missing.append(step)
    return missing


def prune_hidden(form: Form, answers: Mapping[str, Any], ctx: FormContext) -> dict[str, Any]:
    """Only what the questionnaire still asks for is kept (PIPL: minimum necessary)."""
    keys = {step.key for step in visible_steps(form, answers, ctx)}
    return {key: value for key, value in answers.items() if key in keys}


def progress(form: Form, answers: Mapping[str, Any], ctx: FormContext, current: str) -> tuple[int, int]:
    steps = visible_steps(form, answers, ctx)
    for index, step in enumerate(steps, start=1):
        if step.key == current:
            return index, len(steps)
    return len(steps), len(steps)


def _possible(question: Question, answers: Mapping[str, Any], ctx: FormContext) -> bool:
    """Asked now, or perhaps later: its condition waits on an answer not given yet."""
    condition = question.condition
    if condition is None:
        return True
    if any(key not in answers for key in condition.depends_on):
        return True
    return bool(condition.test(answers, ctx))


def most_steps(form: Form, answers: Mapping[str, Any], ctx: FormContext) -> int:
    """How many questions this person can still be asked in all, given the answers so far.

    Unlike the visible steps, which grow when an answer reveals a conditional question (第 x/23 → /25),
    this bound only shrinks as answers come in, so progress shown against it never moves backwards."""
    count = 0
    for entry in form.entries:
        if isinstance(entry, Question):
            count += _possible(entry, answers, ctx)
            continue
        source = form.question(entry.source)
        if not _possible(source, answers, ctx):
            continue
        if entry.source in answers:
            items = len(answers.get(entry.source) or [])
        else:
            items = source.max_picks or len(source.choices)
        count += items * sum(_possible(q, answers, ctx) for q in entry.questions)
    return count


def display_value(question: Question, value: Any) -> str:
    if value is None:
        return "（未填写）"
    if question.kind is Kind.YES_NO:
        return "是" if value else "否"
    if question.kind is Kind.SINGLE:
        return question.choice_label(value)
    if question.kind is Kind.MULTI:
        return "、".join(question.choice_label(v) for v in value) or "（无）"
    if question.kind is Kind.FILE:
        return f"已上传 {len(value)} 份文件"
    return str(value)


def validate_all(
    form: Form, given: Mapping[str, Any], ctx: FormContext, *, start: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validates a whole set of answers in questionnaire order.

    Conditions are re-evaluated as answers come in, so a follow-up is checked once its item is picked.
    Returns the canonical values and, per key, the problem found (unknown key, not asked, invalid).
    File questions are skipped: files arrive one by one, not in a mapping.
    """
    values: dict[str, Any] = dict(start or {})
    problems: dict[str, str] = {}
    done: set[str] = set()
    progressed = True
    while progressed:
        progressed = False
        for step in visible_steps(form, values, ctx):
            if step.key in done or step.key not in given or step.question.kind is Kind.FILE:
                continue
            done.add(step.key)
            progressed = True
            try:
                values[step.key] = validate_answer(step.question, given[step.key], ctx)
            except AnswerError as error:
                problems[step.key] = error.message
            break  # re-evaluate visibility with this answer in place
    known = {step.key for step in visible_steps(form, values, ctx)}
    for key in given:
        if key in done or key in problems:
            continue
        if key in known and form_question_kind(form, key) is Kind.FILE:
            continue
        problems[key] = text("answers.not_shown", key=key) if _is_form_key(form, key) else text("answers.unknown_key", key=key)
    return values, problems


def form_question_kind(form: Form, key: str) -> Kind | None:
    try:
        return form.question(key).kind
    except KeyError:
        return None


def _is_form_key(form: Form, key: str) -> bool:
    if key in form.top_level_keys():
        return True
    return any(isinstance(e, FollowUp) and key.startswith(f"{e.key}[") for e in form.entries)
