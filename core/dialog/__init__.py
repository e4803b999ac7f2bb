"""The participant's dialog as data: screens (what to show) and acts (what the person did).

Every channel renders the same screens and sends the same acts; the rules live here and in the services
beneath, once."""
from core.dialog.screens import (
    Action,
    ChoiceOption,
    ConsentScreen,
    QuestionScreen,
    Receipt,
    ReviewLine,
    ReviewScreen,
    RoleScreen,
    Screen,
    StatusItem,
    StatusScreen,
    UploadedFile,
    Verdict,
    VerdictLine,
)
from core.dialog.service import IntakeDialog, Outcome, OutcomeKind, Recorded, erasure_message, parse_token, receipt_of

__all__ = [
    "Action",
    "ChoiceOption",
    "ConsentScreen",
    "IntakeDialog",
    "Outcome",
    "OutcomeKind",
    "QuestionScreen",
    "Receipt",
    "Recorded",
    "ReviewLine",
    "ReviewScreen",
    "RoleScreen",
    "Screen",
    "StatusItem",
    "StatusScreen",
    "UploadedFile",
    "Verdict",
    "VerdictLine",
    "erasure_message",
    "parse_token",
    "receipt_of",
]
