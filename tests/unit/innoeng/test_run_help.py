"""`innoeng run --help` names everything the command starts, the staff console included."""
from __future__ import annotations

import pytest

from innoeng.cli import build_parser, main


def test_run_help_mentions_the_staff_console_and_its_address(capsys):
    with pytest.raises(SystemExit) as done:
        main(["run", "--help"])
    assert done.value.code == 0
    shown = capsys.readouterr().out
    assert "机器人" in shown and "通知" in shown
    assert "工作人员网页工作台" in shown and "http://127.0.0.1:8090/" in shown and "CONSOLE_PORT" in shown


def test_the_command_list_names_the_console_for_run():
    listing = build_parser().format_help()
    line = next(line for line in listing.splitlines() if line.strip().startswith("run "))
    assert "工作人员网页工作台" in line
