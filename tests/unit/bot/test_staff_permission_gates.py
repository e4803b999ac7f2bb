"""Every staff handler of the bot runs behind core's permission check, and every console page names its
staff action in core's table (core.domain.permissions): no entry point keeps a rule of its own."""
from __future__ import annotations

import importlib
import pkgutil

import pytest

from bot.filters import IsStaff
from bot.routers import staff, staff_events, staff_matching
from console import routes as console_routes
from core.domain.permissions import NEEDED, Action
from core.domain.staff import Role


@pytest.mark.parametrize("module", [staff, staff_events, staff_matching])
def test_every_staff_handler_of_the_bot_checks_core_permissions(module):
    router = module.create_router()
    guarded = 0
    for observer in (router.message, router.callback_query):
        for handler in observer.handlers:
            if any(isinstance(f.callback, IsStaff) for f in handler.filters or ()):
                assert isinstance(getattr(handler.callback, "staff_action", None), Action), handler.callback
                guarded += 1
    assert guarded


def test_every_console_page_names_its_staff_action():
    handlers = []
    for info in pkgutil.iter_modules(console_routes.__path__):
        module = importlib.import_module(f"console.routes.{info.name}")
        handlers += [v for v in vars(module).values() if hasattr(v, "required_role")]
    assert len(handlers) > 30
    for handler in handlers:
        assert isinstance(handler.required_action, Action), handler.__name__
        assert handler.required_role is NEEDED[handler.required_action]


def test_the_levels_are_the_consoles():
    reviewer = {a for a, r in NEEDED.items() if r is Role.REVIEWER}
    admin = {a for a, r in NEEDED.items() if r is Role.ADMIN}
    assert reviewer == {Action.REVIEW_READ, Action.REVIEW_DECIDE}
    assert admin == {Action.BATCHES_MANAGE, Action.STAFF_ADMIN, Action.SETTINGS_VIEW}
    assert NEEDED[Action.PUBLICITY_START] is Role.COORDINATOR and NEEDED[Action.MATCHING_RUN] is Role.COORDINATOR


def test_each_staff_command_in_help_names_the_action_its_handler_checks():
    """/help lists a staff member the commands their role may use, by STAFF_COMMAND_ACTIONS: the table must
    say what the registered handler's gate says, or /help would offer what the chat then refuses."""
    from aiogram.filters import Command

    from bot.commands import STAFF_COMMAND_ACTIONS

    gated: dict[str, Action] = {}
    for module in (staff, staff_events, staff_matching):
        for handler in module.create_router().message.handlers:
            action = getattr(handler.callback, "staff_action", None)
            for command_filter in (f.callback for f in handler.filters or () if isinstance(f.callback, Command)):
                for command in command_filter.commands:
                    if action is not None:
                        gated[str(command)] = action
    assert gated == STAFF_COMMAND_ACTIONS
