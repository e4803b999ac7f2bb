"""Who may do what: every staff action and the least role it needs. Standard library only.

This table is the one rule, whatever the entry point: the core services check it at the top of every staff
action (core.services.permissions.authorize), the console's `require(action)` and the bot's staff handlers
read it as their first gate. The levels are those the console has always asked for.
"""
from __future__ import annotations

import getpass
from dataclasses import dataclass
from enum import Enum
from typing import Union

from core.domain.staff import Role, StaffIdentity

__all__ = ["Action", "AnyActor", "NEEDED", "StaffActor", "needed", "allowed", "operator", "internal", "acting",
           "Via"]


class Action(str, Enum):
    # reviewer
    REVIEW_READ = "review.read"                  # queue, application, documents, pool, intents, dashboard, /pending, /stats
    REVIEW_DECIDE = "review.decide"              # approve, reject, ask for more information
    # coordinator
    MATCHING_VIEW = "matching.view"              # runs, their pairs and exports, /match (choosing the batch)
    MATCHING_RUN = "matching.run"
    MATCHING_CONFIRM = "matching.confirm"        # confirm, hold or release proposed pairs
    MATCHING_CAP_LIFT = "matching.cap_lift"      # lift the 2-university cap for one expert
    APPOINTMENTS_VIEW = "appointments.view"      # appointments, publicity and filing lists and exports
    PUBLICITY_START = "publicity.start"
    OBJECTION_RECORD = "publicity.objection"
    AGREEMENT_RECORD = "appointments.agreement"
    FILING_RECORD = "appointments.filing"
    EVENTS_VIEW = "events.view"
    EVENTS_MANAGE = "events.manage"              # create, change, cancel, invite
    NOTIFICATIONS_VIEW = "notifications.view"
    NOTIFICATIONS_RETRY = "notifications.retry"  # retry failed notifications, resume a paused channel
    AUDIT_READ = "audit.read"
    # admin
    BATCHES_MANAGE = "batches.manage"
    STAFF_ADMIN = "staff.admin"                  # accounts: add, disable, enable, new link, role, Telegram link
    SETTINGS_VIEW = "settings.view"


NEEDED: dict[Action, Role] = {
    Action.REVIEW_READ: Role.REVIEWER,
    Action.REVIEW_DECIDE: Role.REVIEWER,
    Action.MATCHING_VIEW: Role.COORDINATOR,
    Action.MATCHING_RUN: Role.COORDINATOR,
    Action.MATCHING_CONFIRM: Role.COORDINATOR,
    Action.MATCHING_CAP_LIFT: Role.COORDINATOR,
    Action.APPOINTMENTS_VIEW: Role.COORDINATOR,
    Action.PUBLICITY_START: Role.COORDINATOR,
    Action.OBJECTION_RECORD: Role.COORDINATOR,
    Action.AGREEMENT_RECORD: Role.COORDINATOR,
    Action.FILING_RECORD: Role.COORDINATOR,
    Action.EVENTS_VIEW: Role.COORDINATOR,
    Action.EVENTS_MANAGE: Role.COORDINATOR,
    Action.NOTIFICATIONS_VIEW: Role.COORDINATOR,
    Action.NOTIFICATIONS_RETRY: Role.COORDINATOR,
    Action.AUDIT_READ: Role.COORDINATOR,
    Action.BATCHES_MANAGE: Role.ADMIN,
    Action.STAFF_ADMIN: Role.ADMIN,
    Action.SETTINGS_VIEW: Role.ADMIN,
}
assert set(NEEDED) == set(Action), "every staff action names its least role"


class Via(str, Enum):
    CONSOLE = "console"    # a signed-in console account
    CHAT = "chat"          # a Telegram id of STAFF_TELEGRAM_IDS, with the role of the account linked to it
    CLI = "cli"            # the shell's operator (`innoeng …`): whoever can run it can reach the database
    INTERNAL = "internal"  # an in-process caller naming its actor by a bare string (jobs, scripts, tests)


@dataclass(frozen=True)
class StaffActor:
    """Who acts, with which role: passed as `staff=`/`actor=` to every staff action of the core services.

    `actor` is what the audit log records (console:ID, staff:TELEGRAM_ID, cli:USER). `linked` is False for a
    Telegram id of STAFF_TELEGRAM_IDS that no enabled staff account is linked to: it reviews, nothing else."""

    actor: str
    role: Role
    via: Via = Via.INTERNAL
    linked: bool = True


# What staff actions accept as `staff=`/`actor=`: entry points pass a StaffActor (or the console's identity).
AnyActor = Union[StaffActor, StaffIdentity, str]


def needed(action: Action) -> Role:
    return NEEDED[action]


def allowed(actor: StaffActor, action: Action) -> bool:
    return actor.role.allows(NEEDED[action])


def operator(user: str | None = None) -> StaffActor:
    """The CLI's actor: the operator of the shell, with admin rights; the audit log names the OS user."""
    if user is None:
        try:
            user = getpass.getuser()
        except Exception:  # no name for this uid (a bare container)
            user = "unknown"
    return StaffActor(actor=f"cli:{user}"[:64], role=Role.ADMIN, via=Via.CLI)


def internal(actor: str) -> StaffActor:
    """A bare actor string from an in-process caller (a job re-running what was authorised when it was
    asked for, the sample data, tests): trusted as the operator. Entry points never pass bare strings."""
    return StaffActor(actor=actor, role=Role.ADMIN, via=Via.INTERNAL)


def acting(staff: "StaffActor | StaffIdentity | str") -> StaffActor:
    if isinstance(staff, StaffActor):
        return staff
    if isinstance(staff, StaffIdentity):
        return StaffActor(actor=staff.actor, role=staff.role, via=Via.CONSOLE)
    if isinstance(staff, str):
        return internal(staff)
    raise TypeError(f"not a staff actor: {type(staff).__name__}")
