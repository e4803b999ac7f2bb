"""Application status workflow. Only the transitions listed here are possible."""
from __future__ import annotations

from enum import StrEnum

from core.domain.errors import TransitionError
from core.texts import text


class FormKind(StrEnum):
    EXPERT = "expert"
    UNIVERSITY = "university"


class ApplicationStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    NEEDS_INFO = "needs_info"
    APPROVED = "approved"  # expert: in the resource pool; university: intent accepted for matching
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


_S = ApplicationStatus

TRANSITIONS: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    _S.DRAFT: frozenset({_S.SUBMITTED, _S.WITHDRAWN}),
    _S.SUBMITTED: frozenset({_S.NEEDS_INFO, _S.APPROVED, _S.REJECTED, _S.WITHDRAWN}),
    _S.NEEDS_INFO: frozenset({_S.SUBMITTED, _S.WITHDRAWN}),
    _S.APPROVED: frozenset({_S.WITHDRAWN}),
    _S.REJECTED: frozenset(),
    _S.WITHDRAWN: frozenset(),
}

# States in which the applicant may still change answers.
EDITABLE = frozenset({_S.DRAFT, _S.NEEDS_INFO})
OPEN = frozenset(s for s, targets in TRANSITIONS.items() if _S.WITHDRAWN in targets)

STATUS_LABELS: dict[ApplicationStatus, str] = {
    _S.DRAFT: "草稿（未提交）",
    _S.SUBMITTED: "已提交，待审核",
    _S.NEEDS_INFO: "需补充材料",
    _S.APPROVED: "审核通过",
    _S.REJECTED: "未通过审核",
    _S.WITHDRAWN: "已撤回",
}


class AlreadyInState(TransitionError):
    """The change asked for is already the current state (a second tab, a second click, a colleague)."""

    def __init__(self, message: str, *, status: ApplicationStatus) -> None:
        super().__init__(message)
        self.code = "already_decided"
        self.status = status


def allowed_transitions(current: ApplicationStatus) -> frozenset[ApplicationStatus]:
    return TRANSITIONS[current]


def check_transition(current: ApplicationStatus, target: ApplicationStatus) -> None:
    allowed = TRANSITIONS[current]
    if target in allowed:
        return
    if target == current:
        raise AlreadyInState(text("application.already_in_state", status=STATUS_LABELS[current]), status=current)
    if allowed:
        options = "、".join(STATUS_LABELS[s] for s in sorted(allowed))
        hint = f"当前状态只能变为：{options}"
    else:
        hint = "当前状态已结束，不能再变更"
    raise TransitionError(
        f"申请状态不能从「{STATUS_LABELS[current]}」变为「{STATUS_LABELS[target]}」；{hint}。"
    )
