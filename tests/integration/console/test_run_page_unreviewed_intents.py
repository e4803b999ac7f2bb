"""The run page marks universities whose intent is still 已提交，待审核: they take part in matching unreviewed."""
from __future__ import annotations

import html
import re

from tests.support.factories import approved_expert, submitted_university
from tests.support.matching_day import matching_day_clock, matching_day_settings  # noqa: F401 (fixtures)
from tests.support.staff import signed_in_console


def _rows(page: str, table: str) -> dict[str, str]:
    """University name → the text of its row in the proposals or the unfilled table."""
    body = page.split(f'class="responsive {table}"', 1)[1].split("</table>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], flags=re.S):
        cells = html.unescape(re.sub(r"<[^>]+>", " ", row))
        rows[re.search(r"(\S+大学)", cells).group(1)] = " ".join(cells.split())
    return rows


async def test_unreviewed_intents_are_marked_on_the_run_page_until_approved(core):
    await approved_expert(core, name="韩专家", courses=["创新思维"])
    waiting = await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="华北科技大学")
    reviewed = await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="江南理工大学",
                                          contact_email="jn@example.edu.cn")
    nobody = await submitted_university(core, {"创新管理": (16, 1, "online")}, university_name="东方大学",
                                        contact_email="df@example.edu.cn")  # no expert for this course
    await core.review.approve(application_id=reviewed, staff="staff:1")
    batch = (await core.batches.list())[0]
    run = await core.matching.run(batch_id=batch.id, staff="staff:1", time_limit=3)
    assert len(run.proposals) == 2 and len(run.unfilled) == 1

    async with signed_in_console(core) as client:
        page = await (await client.get(f"/matching/runs/{run.id}")).text()
        proposals, unfilled = _rows(page, "proposals"), _rows(page, "unfilled")
        assert set(proposals) == {"华北科技大学", "江南理工大学"} and set(unfilled) == {"东方大学"}
        assert "意向待审核" in proposals["华北科技大学"]
        assert "意向待审核" not in proposals["江南理工大学"]
        assert "意向待审核" in unfilled["东方大学"]
        assert f'href="/applications/{waiting}"' in page
        assert "2 所高校的意向尚未审核" in html.unescape(page)

        for application_id in (waiting, nobody):
            await core.review.approve(application_id=application_id, staff="staff:1")
        page = await (await client.get(f"/matching/runs/{run.id}")).text()
        assert "意向待审核" not in page and "尚未审核" not in page
