"""Every long-running process logs through the masking setup: none configures logging on its own."""
from __future__ import annotations

import logging
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
PROCESS_CODE = ("innoeng", "bot", "notifier", "console")


def test_no_process_calls_basic_config_past_the_masking_setup():
    offenders = [
        str(path.relative_to(ROOT)) for package in PROCESS_CODE for path in (ROOT / package).rglob("*.py")
        if "logging.basicConfig(" in path.read_text(encoding="utf-8")
    ]
    assert offenders == [], f"configure logging with core.log_masking.configure_logging instead: {offenders}"


@pytest.fixture
def pristine_logging():
    factory, root = logging.getLogRecordFactory(), logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    logging.setLogRecordFactory(factory)
    root.handlers[:] = handlers
    root.setLevel(level)


def test_the_bot_command_installs_masking(pristine_logging):
    from innoeng.commands.bot import _logging

    _logging()
    record = logging.getLogRecordFactory()("x", logging.INFO, __file__, 1, "call %s", ("13812345678",), None)
    assert record.getMessage() == "call 138****5678"
