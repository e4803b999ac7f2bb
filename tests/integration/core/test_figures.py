"""One set of figures: the console's dashboard, the bot's /stats and the staff digest read the same grouped
queries (core.services.figures), agree with each other and with numbers counted by hand, and never load
application rows (or their answers) into Python to count them. On SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import event, select, update

from bot.routers.staff import stats as stats_command
from console.dashboard_data import load_dashboard
from core.db.models import Application, ExpertCourse, OutboxMessage
from core.domain.permissions import internal
from core.services.notifications import NotificationService
from tests.support.factories import EXPERT, _person, approved_expert, submitted_expert, submitted_university
from tests.support.outbox import add_person, outbox_rows, queue

# 2025-08-10 09:30 Beijing time: five days before the first batch closes (2025-08-15), after the digest hour.
MORNING = datetime(2025, 8, 10, 1, 30, tzinfo=timezone.utc)


class ChatMessage:
    """What the /stats handler needs of an aiogram Message: somewhere to answer."""

    def __init__(self) -> None:
        self.answers: list[str] = []

    async def answer(self, text: str, **_) -> None:
        self.answers.append(text)


async def stats_reply(core) -> str:
    message = ChatMessage()
    await stats_command(message, core, internal("test"))
    (reply,) = message.answers
    return reply


async def a_draft(core) -> int:
    person = await _person(core)
    return (await core.intake.start(person_id=person.id, form="expert")).application_id


async def failed_and_unknown_notices(core) -> None:
    for status, occasion in (("failed", "f1"), ("unknown", "u1")):
        person = await add_person(core, email=f"{occasion}@example.cn")
        [row_id] = await queue(core, person, occasion=occasion)
        async with core.uow() as uow:
            await uow.session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(
                status=status, last_error="SMTP 550"))
            await uow.commit()


async def a_batch_where_answers_and_index_differ(core, clock) -> dict[str, int]:
    clock.now = MORNING
    ids = {
        "A": await approved_expert(core, name="甲专家", courses=["创新思维", "创新管理"], province="北京"),
        "B": await approved_expert(core, name="乙专家", courses=["创新思维"], province="广东"),
        "C": await submitted_expert(core, name="丙专家", courses=["技术创新方法"], province="北京"),
        "D": await submitted_expert(core, name="丁专家", courses=["产品创新方法"], province="北京"),
        "E": await approved_expert(core, name="戊专家", courses=["创新管理"], province="上海"),
        "F": await submitted_expert(core, name="己专家", courses=["创新思维"], province="北京"),
        "G": await a_draft(core),
    }
    await core.review.reject(application_id=ids["F"], staff="staff:test", reason="不符合条件")
    # D is sent back and changes their courses: the answers change now, the index only when D submits again.
    await core.review.request_info(application_id=ids["D"], staff="staff:test", message="请补充职称证书")
    await core.intake.fill(application_id=ids["D"], answers={**EXPERT, "name": "丁专家",
                                                             "courses": ["产品创新方法", "技术创新方法"]})
    # E's answers out of step with the pool index (data written around the services): the index is what counts.
    async with core.uow() as uow:
        answers = (await uow.session.get(Application, ids["E"])).answers
        await uow.session.execute(update(Application).where(Application.id == ids["E"]).values(
            answers={**answers, "courses": ["技术创新方法", "创新思维"]}))
        await uow.commit()
    ids["U1"] = await submitted_university(core, {"创新思维": (32, 2, "online"), "创新管理": (16, 1, "online")})
    await core.review.approve(application_id=ids["U1"], staff="staff:test")
    ids["U2"] = await submitted_university(core, {"创新思维": (32, 3, "online")}, province="浙江",
                                           university_name="某某师范大学")
    await failed_and_unknown_notices(core)
    return ids


async def test_dashboard_stats_and_digest_show_the_same_figures(core, clock):
    await a_batch_where_answers_and_index_differ(core, clock)

    # The case that made the old sources disagree: /stats counted the courses in the answers of every submitted,
    # sent-back or approved expert (创新思维 3, 产品创新方法 1, 技术创新方法 3, 创新管理 1); the dashboard counted
    # approved experts per course in expert_courses. The pool is the second.
    async with core.uow() as uow:
        answered = [course for answers, status in (await uow.session.execute(
            select(Application.answers, Application.status).where(Application.form == "expert"))).all()
            if status in ("submitted", "needs_info", "approved") for course in answers.get("courses") or []]
        indexed = (await uow.session.scalars(select(ExpertCourse.course))).all()
    assert sorted(answered) != sorted(indexed)  # the data does exercise the difference
    pool = {"创新思维": 2, "产品创新方法": 0, "技术创新方法": 0, "创新管理": 2}  # A+B; A+E
    demand = {"创新思维": 2, "产品创新方法": 0, "技术创新方法": 0, "创新管理": 1}  # U1 only (U2 not yet approved)
    expert_status = {"draft": 1, "submitted": 1, "needs_info": 1, "approved": 3, "rejected": 1, "withdrawn": 0}
    university_status = {"draft": 0, "submitted": 1, "needs_info": 0, "approved": 1, "rejected": 0, "withdrawn": 0}

    figures = await core.figures.batch(staff="test")
    assert figures.batch.name == "第一批"
    assert dict(figures.by_status["expert"]) == expert_status
    assert dict(figures.by_status["university"]) == university_status
    assert dict(figures.pool_by_course) == pool and dict(figures.demand_by_course) == demand
    assert figures.pool_by_province == (("上海", 1), ("北京", 1), ("广东", 1))
    assert dict(figures.applicants_by_province) == {"expert": (("北京", 3), ("上海", 1), ("广东", 1)),
                                                    "university": (("江苏", 1), ("浙江", 1))}
    assert figures.waiting == 2 and (await core.figures.queue(staff="test")).waiting == 2

    # The console's dashboard.
    board = await load_dashboard(core.figures, staff="test", zone=core.settings.zone, now=clock(), batch_id=None)
    assert board.batch.name == "第一批"
    assert {form: {status: count for status, _, count in rows} for form, rows in board.counts.items()} == {
        "expert": expert_status, "university": university_status}
    assert board.totals == {"expert": 7, "university": 2}
    assert {c.course: c.pool for c in board.courses} == pool
    assert {c.course: c.demand for c in board.courses} == demand
    assert [(p.province, p.count) for p in board.provinces] == [("上海", 1), ("北京", 1), ("广东", 1)]
    assert board.waiting_count == 2 and len(board.waiting) == 2
    assert (board.failed_count, board.unknown_count) == (1, 1)
    today = clock().astimezone(core.settings.zone).date()
    assert [d.count for d in board.days if d.day == today] == [8]  # every application but the draft

    # The bot's /stats: the same batch, the same numbers.
    reply = await stats_reply(core)
    assert reply.splitlines()[0] == "统计（第一批）"
    assert "专家申请：草稿（未提交） 1，已提交，待审核 1，需补充材料 1，审核通过 3，未通过审核 1" in reply, reply
    assert "高校意向：已提交，待审核 1，审核通过 1" in reply, reply
    assert "资源库专家（按课程，已通过审核）：创新思维 2，创新管理 2" in reply, reply
    assert "高校需求人数（按课程，意向已通过）：创新思维 2，创新管理 1" in reply, reply
    assert "专家省份：北京 3，上海 1，广东 1" in reply and "高校省份：江苏 1，浙江 1" in reply, reply
    assert "技术创新方法" not in reply and "产品创新方法" not in reply and "创新思维 3" not in reply, reply

    # The staff digest.
    notifications = NotificationService.from_settings(core.settings, uow=core.uow, clock=clock)
    assert await notifications.schedule_staff_digest() == 1
    (digest,) = await outbox_rows(core, kind="staff_digest")
    payload = digest.payload
    assert payload["pending_count"] == board.waiting_count == figures.waiting == 2
    assert payload["failed_count"] == board.failed_count + board.unknown_count == 2
    assert payload["new_submissions_count"] == len(payload["new_submissions"]) == 8
    assert payload["needs_info_overdue_count"] == len(payload["needs_info_overdue"]) == 0
    (near,) = payload["drafts_near_deadline"]
    assert near["batch"] == "第一批" and near["count"] == figures.count("draft") == 1


async def test_figures_follow_a_review_and_a_resubmission(core, clock):
    ids = await a_batch_where_answers_and_index_differ(core, clock)
    # D submits again with the courses they changed: now the index has them; approval puts D in the pool.
    await core.intake.submit(application_id=ids["D"])
    await core.review.approve(application_id=ids["D"], staff="staff:test")
    await core.review.approve(application_id=ids["U2"], staff="staff:test")
    figures = await core.figures.batch(staff="test")
    assert dict(figures.pool_by_course) == {"创新思维": 2, "产品创新方法": 1, "技术创新方法": 1, "创新管理": 2}
    assert dict(figures.demand_by_course) == {"创新思维": 5, "产品创新方法": 0, "技术创新方法": 0, "创新管理": 1}
    board = await load_dashboard(core.figures, staff="test", zone=core.settings.zone, now=clock(), batch_id=figures.batch.id)
    assert {c.course: (c.pool, c.demand) for c in board.courses} == {
        "创新思维": (2, 5), "产品创新方法": (1, 0), "技术创新方法": (1, 0), "创新管理": (2, 1)}
    assert board.waiting_count == figures.waiting == (await core.figures.queue(staff="test")).waiting == 1  # C
    reply = await stats_reply(core)
    assert "资源库专家（按课程，已通过审核）：创新思维 2，产品创新方法 1，技术创新方法 1，创新管理 2" in reply, reply
    assert "高校需求人数（按课程，意向已通过）：创新思维 5，创新管理 1" in reply, reply


class Statements:
    """Every statement sent to the database while active."""

    def __init__(self, core) -> None:
        self.engine = core.engine.sync_engine
        self.sent: list[str] = []

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.sent.append(statement)

    def __enter__(self) -> "Statements":
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)


async def compute_every_figure(core, clock) -> None:
    await core.figures.batch(staff="test")
    await core.figures.queue(staff="test")
    await core.figures.outbox(staff="test")
    await load_dashboard(core.figures, staff="test", zone=core.settings.zone, now=clock(), batch_id=None)
    await stats_reply(core)


async def test_figures_never_load_applications_and_cost_the_same_whatever_the_batch_size(core, clock):
    clock.now = MORNING
    await approved_expert(core, courses=["创新思维"])
    await submitted_university(core, {"创新思维": (32, 1, "online")})
    with Statements(core) as small:
        await compute_every_figure(core, clock)

    for n in range(4):
        await approved_expert(core, courses=["创新思维", "创新管理"], province="广东")
        await submitted_expert(core, courses=["技术创新方法"])
        await submitted_university(core, {"创新管理": (16, 2, "online")}, university_name=f"第{n}大学")
    await a_draft(core)
    with Statements(core) as large:
        await compute_every_figure(core, clock)

    selects = [s for s in large.sent if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert selects, large.sent
    # Counted in the database: no statement reads an application's answers (nor its whole row).
    loading = [s for s in large.sent if re.search(r"\banswers\b|\beligibility\b|\bcursor\b", s)]
    assert loading == [], loading
    # A fixed number of statements: five times the applications, not one statement more.
    assert len(large.sent) == len(small.sent), (len(small.sent), len(large.sent))
    assert len(large.sent) <= 30, large.sent
