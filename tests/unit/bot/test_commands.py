"""The bot's command menus say what each command does."""
from __future__ import annotations

from bot.commands import STAFF_COMMANDS


def test_publicity_in_the_staff_menu_lists_and_starts_publicity():
    described = dict(STAFF_COMMANDS)["publicity"]
    # /publicity lists the pairs awaiting publicity and starts it (/publicity start ID…), not only a list.
    assert "待公示" in described and "开始公示" in described, described
