"""The life of an appointment: both sides' yes leaves it waiting for staff to start publicity (公示)."""
from __future__ import annotations

import pytest

from core.domain import TransitionError
from core.domain.appointments import (
    ACTIVE_APPOINTMENTS,
    APPOINTMENT_LABELS,
    AppointmentStatus as A,
    check_appointment_transition,
)

ALLOWED = {
    (A.OFFERED, A.ACCEPTED), (A.OFFERED, A.DECLINED),
    (A.ACCEPTED, A.PUBLICITY),
    (A.PUBLICITY, A.AGREED), (A.PUBLICITY, A.CANCELLED),
    (A.AGREED, A.FILED),
}


@pytest.mark.parametrize("current", list(A))
@pytest.mark.parametrize("target", list(A))
def test_only_the_listed_transitions_are_possible(current, target):
    if (current, target) in ALLOWED:
        check_appointment_transition(current, target)
    else:
        with pytest.raises(TransitionError):
            check_appointment_transition(current, target)


def test_an_offer_never_goes_straight_to_publicity_and_the_refusal_says_what_comes_next():
    with pytest.raises(TransitionError) as error:
        check_appointment_transition(A.OFFERED, A.PUBLICITY)
    assert "待双方确认" in error.value.message and "公示中" in error.value.message
    assert "双方已确认，待公示" in error.value.message and "已谢绝" in error.value.message


def test_an_accepted_pair_holds_a_place_in_the_experts_cap_and_has_a_label():
    assert A.ACCEPTED in ACTIVE_APPOINTMENTS
    assert APPOINTMENT_LABELS[A.ACCEPTED] == "双方已确认，待公示"
    assert set(APPOINTMENT_LABELS) == set(A)
    # The status column is String(16).
    assert all(len(status.value) <= 16 for status in A)
