"""The two questionnaires as data, and the machinery that walks, validates and shows them."""
from core.forms.expert import EXPERT_FORM
from core.forms.model import Choice, Condition, FollowUp, Form, FormContext, Kind, Question, Step
from core.forms.navigation import (
    REVIEW,
    display_value,
    find_step,
    missing_required,
    next_step,
    previous_step,
    progress,
    prune_hidden,
    validate_all,
    visible_steps,
)
from core.forms.university import COURSE_DEMANDS, UNIVERSITY_FORM
from core.forms.validation import AnswerError, validate_answer

FORMS: dict[str, Form] = {EXPERT_FORM.kind: EXPERT_FORM, UNIVERSITY_FORM.kind: UNIVERSITY_FORM}


def get_form(kind: str) -> Form:
    return FORMS[kind]


__all__ = [
    "COURSE_DEMANDS",
    "EXPERT_FORM",
    "FORMS",
    "REVIEW",
    "UNIVERSITY_FORM",
    "AnswerError",
    "Choice",
    "Condition",
    "FollowUp",
    "Form",
    "FormContext",
    "Kind",
    "Question",
    "Step",
    "display_value",
    "find_step",
    "get_form",
    "missing_required",
    "next_step",
    "previous_step",
    "progress",
    "prune_hidden",
    "validate_all",
    "validate_answer",
    "visible_steps",
]
