"""The four core courses of the micro-major (notice 三(一))."""
from __future__ import annotations

from enum import StrEnum


class Course(StrEnum):
    INNOVATIVE_THINKING = "创新思维"
    PRODUCT_INNOVATION = "产品创新方法"
    TECHNICAL_INNOVATION = "技术创新方法"
    INNOVATION_MANAGEMENT = "创新管理"


class TeachingMode(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    BOTH = "both"


CORE_COURSES: tuple[Course, ...] = tuple(Course)

# The core courses an expert can teach as one number (applications.courses_mask, set with expert_courses at each
# submission): a bit per course in CORE_COURSES order. The dashboard counts the pool per course from the index of
# the batch's figures with it, instead of joining every approved expert to expert_courses.
COURSE_BITS: dict[str, int] = {course.value: 1 << n for n, course in enumerate(CORE_COURSES)}


def course_mask(courses) -> int:
    """The bits of the core courses among `courses` (anything else is not a core course and counts for none)."""
    mask = 0
    for course in courses or ():
        mask |= COURSE_BITS.get(str(course), 0)
    return mask

# "一门课程总学时一般不超过 32 学时": generally, not never. More is accepted and put to staff
# as needing judgement, as the expert cap "一般不超过2所" is.
MAX_COURSE_HOURS = 32
# What the form accepts at all: twice the usual length; beyond that it is surely a typing error.
COURSE_HOURS_CEILING = 2 * MAX_COURSE_HOURS
