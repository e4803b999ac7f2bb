"""Plain domain vocabulary of the plan: courses, statuses, errors. Standard library only."""
from core.domain.courses import CORE_COURSES, MAX_COURSE_HOURS, Course, TeachingMode
from core.domain.errors import DomainError, NotFound, Stale, TransitionError
from core.domain.status import ApplicationStatus, FormKind, allowed_transitions, check_transition

__all__ = [
    "CORE_COURSES",
    "MAX_COURSE_HOURS",
    "ApplicationStatus",
    "Course",
    "DomainError",
    "FormKind",
    "NotFound",
    "Stale",
    "TeachingMode",
    "TransitionError",
    "allowed_transitions",
    "check_transition",
]
