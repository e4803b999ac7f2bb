from __future__ import annotations

import pytest

from core.domain import ApplicationStatus as S
from core.domain import TransitionError, allowed_transitions, check_transition

ALLOWED = {
    (S.DRAFT, S.SUBMITTED), (S.DRAFT, S.WITHDRAWN),
    (S.SUBMITTED, S.NEEDS_INFO), (S.SUBMITTED, S.APPROVED), (S.SUBMITTED, S.REJECTED), (S.SUBMITTED, S.WITHDRAWN),
    (S.NEEDS_INFO, S.SUBMITTED), (S.NEEDS_INFO, S.WITHDRAWN),
    (S.APPROVED, S.WITHDRAWN),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_only_the_listed_transitions_are_possible(current, target):
    if (current, target) in ALLOWED:
        check_transition(current, target)
        assert target in allowed_transitions(current)
    else:
        with pytest.raises(TransitionError):
            check_transition(current, target)


def test_refusal_says_what_is_allowed():
    with pytest.raises(TransitionError) as error:
        check_transition(S.DRAFT, S.APPROVED)
    assert "草稿" in error.value.message and "审核通过" in error.value.message
    assert "已提交" in error.value.message and "已撤回" in error.value.message


def test_terminal_states_say_so():
    with pytest.raises(TransitionError) as error:
        check_transition(S.REJECTED, S.SUBMITTED)
    assert "已结束" in error.value.message


@pytest.mark.parametrize("state", [S.APPROVED, S.REJECTED, S.NEEDS_INFO, S.SUBMITTED, S.WITHDRAWN])
def test_the_same_state_again_says_it_is_already_so(state):
    with pytest.raises(TransitionError) as error:
        check_transition(state, state)
    assert error.value.code == "already_decided"
    assert "无需再次操作" in error.value.message and "不能从" not in error.value.message
