"""Staff press ✅ 通过 on an older card of an application already approved: the chat says who did it and when."""
from __future__ import annotations

from tests.e2e.bot.conftest import UNLINKED_STAFF_ID as STAFF_ID  # no account linked: named by its Telegram id
from tests.e2e.bot.test_restart_and_staff import submitted_expert
from tests.support.chat import ChatDriver

USER = 5171


async def test_approving_again_from_an_older_card_says_it_was_already_done(running_bot, people):
    await submitted_expert(people, USER)
    staff = ChatDriver(people, STAFF_ID)
    cards = []
    for _ in range(2):  # /pending twice: two cards of the same application, as two staff members would have
        await people.send_text(STAFF_ID, "/pending")
        await staff.next_message()
        cards.append(await staff.next_message())
    done = await staff.press(cards[1], "✅ 通过")
    assert "审核通过" in done.text
    again = await staff.press(cards[0], "✅ 通过")
    assert "该申请已于" in again.text and f"由 工作人员（Telegram {STAFF_ID}） 审核通过，无需再次操作。" in again.text
    assert "不能从" not in again.text
