"""The review queue, the pool and the intents as staff browse them: SQL filters, keyset pages, exports."""
from __future__ import annotations

import io
import zipfile
from datetime import date

import openpyxl
import pytest
from sqlalchemy import event

from core.domain import NotFound
from core.sample import SAMPLE_PDF
from core.services import FINISH_FILES
from core.services.queue import POOL_COLUMNS, QueueFilters, QueueOrder, QueueService
from tests.support.factories import EXPERT, approved_expert, submitted_university
from tests.support.factories import _person as consenting_person


def queue_of(core) -> QueueService:
    return QueueService(uow=core.uow, intake=core.intake, documents=core.documents, zone=core.settings.zone)


async def submitted_expert(core, **answers) -> int:
    person = await consenting_person(core)
    draft = await core.intake.start(person_id=person.id, form="expert")
    await core.intake.fill(application_id=draft.application_id, answers={**EXPERT, **answers})
    await core.intake.attach_document(application_id=draft.application_id, step_key="proof_files", content=SAMPLE_PDF,
                                      filename="证书.pdf")
    await core.intake.answer(application_id=draft.application_id, step_key="proof_files", raw=FINISH_FILES)
    await core.intake.submit(application_id=draft.application_id)
    return draft.application_id


async def ids(queue: QueueService, **filters) -> list[int]:
    page = await queue.page(staff="test", filters=QueueFilters(**filters), limit=200)
    return [row.id for row in page.rows]


async def test_each_filter_narrows_the_queue_in_sql(core, clock):
    plain = await submitted_expert(core, name="王一")
    clock.advance(days=2)
    patent = await submitted_expert(core, name="李二", province="上海", employer_type="national_key",
                                    priority_conditions=["major_invention_patent"], priority_description="发明专利 ZL2020",
                                    courses=["创新管理", "创新思维"])
    clock.advance(days=2)
    # Neither degree nor title: the craftsman rule needs staff judgement, never an automatic fail.
    craftsman = await submitted_expert(core, name="赵三", education="associate", title="none",
                                       craftsman_description="三十年精密加工经验，国家级技能竞赛裁判，多项工艺革新。")
    approved = await approved_expert(core, name="钱四", society_member=True, teaching_mode="both",
                                     offline_provinces=["广东"])
    university = await submitted_university(core, {"创新管理": (32, 1, "online")}, university_name="东方理工大学")
    queue = queue_of(core)

    assert await ids(queue) == [plain, patent, craftsman, approved]
    assert await ids(queue, statuses=("submitted",)) == [plain, patent, craftsman]
    assert await ids(queue, verdict="needs_judgement") == [craftsman]
    assert await ids(queue, verdict="pass", statuses=("submitted",)) == [plain, patent]
    assert await ids(queue, course="创新管理") == [patent]
    assert await ids(queue, form=None, course="创新管理") == [patent, university]
    assert await ids(queue, province="上海") == [patent]
    assert await ids(queue, employer_type="national_key") == [patent]
    assert await ids(queue, priority_condition="major_invention_patent") == [patent]
    assert await ids(queue, priority_condition="no_such_condition") == []
    assert await ids(queue, society_member=True) == [approved]
    assert approved not in await ids(queue, society_member=False)
    # Submitted dates are Beijing dates: the first expert came on 2025-07-01, the second two days later.
    assert await ids(queue, submitted_from=date(2025, 7, 3), submitted_to=date(2025, 7, 3)) == [patent]
    assert await ids(queue, submitted_to=date(2025, 7, 1)) == [plain]
    assert await ids(queue, search="李二") == [patent]
    assert await ids(queue, search="李") == [patent]
    reference = (await queue.page(staff="test", filters=QueueFilters(search="赵三"))).rows[0].reference
    assert await ids(queue, search=reference) == [craftsman]
    assert await ids(queue, search="%") == []  # a LIKE wildcard typed in the box is text, not "everything"
    assert await ids(queue, form="university", search="东方") == [university]

    # The pool: approved experts only, and a province filter also finds who would teach there offline.
    pool = dict(statuses=("approved",), order=QueueOrder.PRIORITY_FIRST)
    assert await ids(queue, **pool, province="广东") == [approved]
    assert await ids(queue, **pool, teaching_mode="offline") == [approved]
    row = (await queue.page(staff="test", filters=QueueFilters(search="李二"))).rows[0]
    assert row.priority_labels == ("拥有重大发明专利",) and row.employer_type_label == "国家级重点企事业单位"
    assert row.verdict_label == "符合"


async def test_keyset_pages_walk_forward_and_back_without_gaps_or_repeats(core, clock):
    made = []
    for n in range(7):
        made.append(await submitted_expert(core, name=f"专家{n:02d}"))
        if n % 3 == 0:
            clock.advance(hours=1)  # some share a submission moment: the id breaks the tie
    queue = queue_of(core)
    filters = QueueFilters(statuses=("submitted",))

    first = await queue.page(staff="test", filters=filters, limit=3)
    second = await queue.page(staff="test", filters=filters, after=first.next_cursor, limit=3)
    third = await queue.page(staff="test", filters=filters, after=second.next_cursor, limit=3)
    assert [r.id for r in first.rows + second.rows + third.rows] == made
    assert first.previous_cursor is None and third.next_cursor is None
    back = await queue.page(staff="test", filters=filters, before=second.previous_cursor, limit=3)
    assert [r.id for r in back.rows] == made[:3] and back.previous_cursor is None
    again = await queue.page(staff="test", filters=filters, before=third.previous_cursor, limit=3)
    assert [r.id for r in again.rows] == made[3:6]
    # A mangled cursor from a URL starts at the beginning instead of failing.
    assert [r.id for r in (await queue.page(staff="test", filters=filters, after="not-a-cursor", limit=3)).rows] == made[:3]

    # The pool's order: highest priority score first, ties by who came first.
    for application_id in made[:4]:
        await core.review.approve(application_id=application_id, staff="staff:test")
    star = await approved_expert(core, name="高分专家", priority_conditions=["industry_education"],
                                 priority_description="牵头产教融合项目", society_member=True)
    pool = QueueFilters(statuses=("approved",), order=QueueOrder.PRIORITY_FIRST)
    page1 = await queue.page(staff="test", filters=pool, limit=2)
    page2 = await queue.page(staff="test", filters=pool, after=page1.next_cursor, limit=2)
    page3 = await queue.page(staff="test", filters=pool, after=page2.next_cursor, limit=2)
    assert [r.id for r in page1.rows + page2.rows + page3.rows] == [star, *made[:4]]
    assert [r.id for r in (await queue.page(staff="test", filters=pool, before=page3.previous_cursor, limit=2)).rows] == [made[1], made[2]]


async def test_a_page_costs_the_same_number_of_queries_whatever_its_size(core):
    # Universities first, so every page below holds one and pays for the demands query.
    await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="甲城大学")
    await submitted_university(core, {"创新管理": (16, 2, "offline")}, university_name="乙城大学")
    for n in range(6):
        await submitted_expert(core, name=f"专家{n}")
    queue = queue_of(core)
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(core.engine.sync_engine, "before_cursor_execute", count)
    try:
        costs = {}
        for size in (1, 3, 8):
            statements.clear()
            page = await queue.page(staff="test", filters=QueueFilters(form=None, statuses=("submitted",)), limit=size)
            costs[size] = len(statements)
            assert len(page.rows) == size
    finally:
        event.remove(core.engine.sync_engine, "before_cursor_execute", count)
    assert costs[1] == costs[3] == costs[8] == 2, costs  # the rows, then the intents' demands
    intents = await queue.page(staff="test", filters=QueueFilters(form="university"), limit=10)
    assert [[(d.course, d.experts_needed, d.mode_label) for d in r.demands] for r in intents.rows] == [
        [("创新思维", 1, "线上")], [("创新管理", 2, "线下")]]


async def test_detail_has_history_neighbours_and_only_its_own_files(core, clock):
    first = await submitted_expert(core, name="甲一")
    second = await submitted_expert(core, name="乙二")
    third = await submitted_expert(core, name="丙三")
    queue = queue_of(core)
    await core.review.request_info(application_id=second, staff="staff:900001", message="请补充职称证书")

    filters = QueueFilters(statuses=("submitted",))
    detail = await queue.detail(staff="test", application_id=third, filters=filters)
    assert (detail.previous_id, detail.next_id) == (first, None)  # the second left the submitted queue
    assert detail.reviewable and detail.summary.display_name == "丙三"
    assert any(line.label == "工作单位" and line.value == EXPERT["employer"] for line in detail.summary.lines)
    assert [r.title for r in detail.eligibility.rules]

    asked = await queue.detail(staff="test", application_id=second)
    assert not asked.reviewable
    assert [(h.actor, h.action, h.message) for h in asked.history][-1] == ("staff:900001", "review.needs_info", "请补充职称证书")

    own = detail.documents[0]
    view, content = await queue.document(staff="test", application_id=third, document_id=own.id)
    assert view.mime == "application/pdf" and content == SAMPLE_PDF
    with pytest.raises(NotFound):
        await queue.document(staff="test", application_id=first, document_id=own.id)
    with pytest.raises(NotFound):
        await queue.detail(staff="test", application_id=999999)


async def test_pool_export_reads_back_and_never_holds_a_formula(core):
    await approved_expert(core, name="孙五", employer="=HYPERLINK(\"http://x\")公司", courses=["技术创新方法"])
    await approved_expert(core, name="周六", courses=["创新思维"])
    await submitted_expert(core, name="未审核")
    queue = queue_of(core)

    book = openpyxl.load_workbook(io.BytesIO(await queue.pool_workbook(staff="test", filters=QueueFilters(course="技术创新方法"))))
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == POOL_COLUMNS
    assert [r[1] for r in rows[1:]] == ["孙五"]
    employer = sheet.cell(row=2, column=3)
    assert employer.data_type == "s" and employer.value == '=HYPERLINK("http://x")公司'  # the typed text, as text
    with zipfile.ZipFile(io.BytesIO(await queue.pool_workbook(staff="test", filters=QueueFilters()))) as package:
        assert "<f>" not in package.read("xl/worksheets/sheet1.xml").decode()

    everyone = openpyxl.load_workbook(io.BytesIO(await queue.pool_workbook(staff="test", filters=QueueFilters())))
    assert sorted(r[1] for r in list(everyone.active.iter_rows(values_only=True))[1:]) == ["周六", "孙五"]
