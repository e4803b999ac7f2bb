"""`innoeng match publicity` lists the pairs awaiting publicity and, with --start, starts them (a real process)."""
from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta

from tests.integration.core.test_cli import innoeng
from tests.support.cli import cli_core
from tests.support.factories import both_accept, confirmed_pairs


async def test_match_publicity_lists_the_awaiting_pairs_and_starts_them_all_or_none(tmp_path):
    async with cli_core(tmp_path) as (core, env):
        pairs = await confirmed_pairs(core)
        ids = [(await both_accept(core, pair)).id for pair in pairs.values()]
        expected = core.appointments.publicity_preview()

    def run(*args):
        return innoeng("match", "publicity", *args, cwd=tmp_path, env_extra=env)

    listed = json.loads((await asyncio.to_thread(run, "--json")).stdout)
    assert listed["appointments"] == [] and sorted(a["id"] for a in listed["awaiting"]) == sorted(ids)
    text = await asyncio.to_thread(run)
    assert text.returncode == 0 and "双方已确认、待公示 2 对" in text.stdout and "韩专家" in text.stdout

    unknown = await asyncio.to_thread(run, "--start", str(ids[0]), "999999")
    assert unknown.returncode == 2 and "没有找到聘任 999999" in unknown.stderr
    past = await asyncio.to_thread(run, "--start", *map(str, ids), "--starts-on", (date.today() - timedelta(days=3)).isoformat())
    assert past.returncode == 2 and "已经过去" in past.stderr
    assert len(json.loads((await asyncio.to_thread(run, "--json")).stdout)["awaiting"]) == 2  # nothing started

    started = await asyncio.to_thread(run, "--start", *map(str, ids), "--json")
    assert started.returncode == 0, started.stderr
    result = json.loads(started.stdout)
    assert result["started"] == ids
    assert (result["starts_on"], result["ends_on"]) == (str(expected.starts_on), str(expected.ends_on))
    again = await asyncio.to_thread(run, "--start", str(ids[0]))
    assert again.returncode == 2 and "公示中" in again.stderr

    after = json.loads((await asyncio.to_thread(run, "--json")).stdout)
    assert after["awaiting"] == [] and sorted(a["id"] for a in after["appointments"]) == sorted(ids)
