"""A national run has thousands of pairs: the run page shows them a page at a time (filters kept by the page
links), with the counts of the whole run; the service numbers the pairs through the run whatever the page."""
from __future__ import annotations

import html
import re

import console.routes.matching as matching_routes
from tests.support.factories import approved_expert, submitted_university
from tests.support.staff import signed_in_console


async def five_pairs(core) -> int:
    """A run of five pairs: three for 创新思维, two for 创新管理 (one expert and one university each)."""
    for n, course in enumerate(["创新思维", "创新思维", "创新思维", "创新管理", "创新管理"]):
        await approved_expert(core, name=f"专家{n}", courses=[course], max_universities="1", email=f"e{n}@example.com")
        await submitted_university(core, {course: (32, 1, "online")}, university_name=f"第{n}大学",
                                   contact_email=f"u{n}@example.edu.cn")
    batch = (await core.batches.list())[0]
    run = await core.matching.run(batch_id=batch.id, staff="staff:1", time_limit=3)
    assert len(run.proposals) == 5
    return run.id


async def test_pairs_are_paged_numbered_through_the_run_and_filtered(core):
    run_id = await five_pairs(core)
    whole = (await core.matching.get(staff="test", run_id=run_id)).proposals

    first = await core.matching.pairs(staff="test", run_id=run_id, page=1, size=2)
    second = await core.matching.pairs(staff="test", run_id=run_id, page=2, size=2)
    last = await core.matching.pairs(staff="test", run_id=run_id, page=9, size=2)  # beyond the last: the last
    assert (first.total, first.matching, first.open, first.held, first.pages) == (5, 5, 5, 0, 3)
    assert first.rows + second.rows + last.rows == whole and last.page == 3
    assert [p.number for p in second.rows] == [3, 4] and first.run.proposals == ()
    assert first.latest == run_id and first.unreviewed == {p.university_application_id for p in whole}

    managed = await core.matching.pairs(staff="test", run_id=run_id, size=10, course="创新管理")
    assert managed.matching == 2 and managed.total == 5
    assert managed.rows == tuple(p for p in whole if p.course == "创新管理")  # numbers of the whole run kept

    await core.matching.hold(run_id=run_id, proposal_ids=[whole[0].id], staff="staff:1")
    held = await core.matching.pairs(staff="test", run_id=run_id, state="held")
    assert [p.id for p in held.rows] == [whole[0].id] and (held.open, held.held) == (5, 1)
    await core.matching.confirm(run_id=run_id, staff="staff:1", proposal_ids=[whole[1].id])
    confirmed = await core.matching.pairs(staff="test", run_id=run_id, state="confirmed")
    waiting = await core.matching.pairs(staff="test", run_id=run_id, state="open")
    assert [p.id for p in confirmed.rows] == [whole[1].id]
    assert [p.id for p in waiting.rows] == [p.id for p in whole if p.id != whole[1].id] and waiting.open == 4


async def test_the_run_page_shows_page_two_with_the_filter_kept(core, monkeypatch):
    run_id = await five_pairs(core)
    whole = (await core.matching.get(staff="test", run_id=run_id)).proposals
    monkeypatch.setattr(matching_routes, "PAIRS_PER_PAGE", 2)
    async with signed_in_console(core) as client:

        page = html.unescape(await (await client.get(f"/matching/runs/{run_id}")).text())
        assert "匹配方案（5 对）" in page and "第 1 页，共 3 页" in page
        assert {n for n in ("第0大学", "第1大学", "第2大学", "第3大学", "第4大学") if n in page} == \
            {p.university_name for p in whole[:2]}
        assert f'href="/matching/runs/{run_id}?page=2#pairs"' in page and 'rel="prev"' not in page
        assert "确认全部 5 对" in page  # the whole run, not the page

        page = html.unescape(await (await client.get(f"/matching/runs/{run_id}?page=2")).text())
        assert "第 2 页，共 3 页" in page and "第 3–4 对" in page
        shown = [p for p in whole if p.university_name in page]
        assert shown == list(whole[2:4])
        assert f'href="/matching/runs/{run_id}#pairs" rel="prev"' in page
        assert f'href="/matching/runs/{run_id}?page=3#pairs" rel="next"' in page

        # A filter is kept by the page links; the counts say how many pairs it leaves.
        page = html.unescape(await (await client.get(f"/matching/runs/{run_id}?course=创新思维")).text())
        assert "第 1 页，共 2 页" in page and "符合筛选条件的 共 3 对" in page
        assert re.search(rf'href="/matching/runs/{run_id}\?course=[^"&]+&page=2#pairs"', page)
        page = html.unescape(await (await client.get(f"/matching/runs/{run_id}?course=创新思维&page=2")).text())
        assert [p for p in whole if p.university_name in page] == [p for p in whole if p.course == "创新思维"][2:]
        assert "<option value=\"创新思维\" selected>" in page

        # Confirming a pair picked on page 2.
        form = await (await client.get(f"/matching/runs/{run_id}?page=2")).text()
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        done = await client.post(f"/matching/runs/{run_id}/confirm", allow_redirects=False,
                                 data={"csrf_token": token, "scope": "selected", "proposal": str(whole[3].id)})
        assert done.status == 303
        page = html.unescape(await (await client.get(f"/matching/runs/{run_id}?state=confirmed")).text())
        assert [p for p in whole if p.university_name in page] == [whole[3]] and "已确认 · 聘任" in page
