"""Questionnaires as data: questions, kinds, conditions and per-item follow-ups."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DATE = "date"
    YEAR_MONTH = "year_month"
    SINGLE = "single"
    MULTI = "multi"
    PHONE = "phone"
    EMAIL = "email"
    YES_NO = "yes_no"
    FILE = "file"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


def labelled_choices(vocabulary: Mapping[str, str]) -> tuple[Choice, ...]:
    return tuple(Choice(value, label) for value, label in vocabulary.items())


def plain_choices(values: Iterable[object]) -> tuple[Choice, ...]:
    return tuple(Choice(str(v), str(v)) for v in values)


@dataclass(frozen=True)
class FormContext:
    """What conditions and validators may know besides the answers."""

    deadline: date  # the batch's registration deadline, in the plan's time zone
    today: date


@dataclass(frozen=True)
class Condition:
    """Shows a question only when earlier answers call for it.

    `describe` is the rule in words for staff, exports and `forms show`.
    """

    describe: str
    depends_on: tuple[str, ...]
    test: Callable[[Mapping[str, Any], FormContext], bool]


@dataclass(frozen=True)
class Question:
    key: str
    kind: Kind
    label: str  # short name for summaries and exports
    prompt: str  # what the person is asked
    required: bool = True
    help: str = ""
    choices: tuple[Choice, ...] = ()
    min_length: int | None = None
    max_length: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    min_picks: int | None = None
    max_picks: int | None = None
    min_date: date | None = None
    max_date: date | None = None
    past_only: bool = False  # a date that cannot lie after today (birth dates)
    not_before_this_month: bool = False  # a year-month that cannot lie before today's month (planned starts)
    must_be_yes: bool = False
    min_files: int | None = None
    max_files: int | None = None
    sensitive: bool = False  # sensitive personal information under PIPL: needs its own consent
    condition: Condition | None = None

    def choice_label(self, value: str) -> str:
        for choice in self.choices:
            if choice.value == value:
                return choice.label
        return value


@dataclass(frozen=True)
class FollowUp:
    """Questions asked once for each item picked in the multi-choice question `source`."""

    key: str
    source: str
    questions: tuple[Question, ...]
    label: str = ""


@dataclass(frozen=True)
class Step:
    """One question as the person meets it: a plain question or a follow-up for one item."""

    key: str
    question: Question
    item: str | None = None
    item_label: str | None = None

    @property
    def label(self) -> str:
        if self.item_label:
            return f"{self.item_label}·{self.question.label}"
        return self.question.label


@dataclass(frozen=True)
class Form:
    kind: str
    title: str
    intro: str
    entries: tuple[Question | FollowUp, ...] = field(default_factory=tuple)

    def question(self, key: str) -> Question:
        for entry in self.entries:
            if isinstance(entry, Question) and entry.key == key:
                return entry
        raise KeyError(key)

    def top_level_keys(self) -> tuple[str, ...]:
        return tuple(e.key for e in self.entries if isinstance(e, Question))


def follow_up_step_key(group: str, item: str, question: str) -> str:
    return f"{group}[{item}].{question}"
