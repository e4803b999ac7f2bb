"""The participant's dialog driven by its screens alone, as a channel (the chat, the web) drives it: no aiogram,
no HTTP. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio

import pytest

from core.dialog import (
    Action,
    ConsentScreen,
    OutcomeKind,
    QuestionScreen,
    ReviewScreen,
    RoleScreen,
    StatusScreen,
)
from core.domain import NotFound
from core.sample import SAMPLE_PDF

# What a person types or picks, by question key (the web posts the same values).
EXPERT = {
    "name": "张三", "birth_date": "1975-06-01", "mobile": "13812345678", "email": "zhangsan@example.com",
    "province": "北京", "city": "北京", "employer": "某某科技有限公司", "employer_type": "high_tech",
    "years_at_employer": "10", "position": "总工程师", "education": "master", "title": "senior_associate",
    "priority_conditions": ["major_invention_patent"], "priority_description": "发明专利 ZL2019 一项",
    "society_member": "yes", "courses": ["创新思维", "技术创新方法"], "duties": ["teaching", "co_developing"],
    "teaching_mode": "both", "available_times": ["weekend_intensive"], "offline_provinces": ["北京", "天津"],
    "max_universities": "2", "employer_consent": "yes",
    "profile": "二十年产品研发经验，长期运用 TRIZ 解决工程难题，带领团队完成多项技术攻关。", "declaration": "yes",
}


async def consenting_expert(core, name="张三"):
    person = await core.people.create(display_name=name)
    outcome = await core.dialog.act(person.id, Action.AGREE, "consent")
    assert isinstance(outcome.screen, RoleScreen)
    outcome = await core.dialog.act(person.id, Action.ROLE, outcome.screen.token, "expert")
    assert isinstance(outcome.screen, QuestionScreen)
    return person, outcome.screen


async def answer_until_review(core, person_id, screen):
    """Answers every question the screens ask, the way a channel would: by the screen's kind and actions."""
    seen_totals = []
    for _ in range(80):
        if isinstance(screen, ReviewScreen):
            return screen, seen_totals
        if isinstance(screen, ConsentScreen):
            assert screen.kind == "sensitive"
            outcome = await core.dialog.act(person_id, Action.AGREE, screen.token)
        elif screen.kind == "file":
            outcome = await core.dialog.act(person_id, Action.UPLOAD, screen.token, (SAMPLE_PDF, "学位证书.pdf"))
            assert outcome.kind is OutcomeKind.DONE and outcome.screen.files[0].name == "学位证书.pdf"
            outcome = await core.dialog.act(person_id, Action.FINISH, outcome.screen.token)
        else:
            seen_totals.append(screen.total)
            assert screen.progress == f"第 {screen.position}/{screen.total} 题"
            if screen.key in EXPERT:
                outcome = await core.dialog.act(person_id, Action.ANSWER, screen.token, EXPERT[screen.key])
            else:
                assert Action.SKIP in screen.actions, screen.key
                outcome = await core.dialog.act(person_id, Action.SKIP, screen.token)
        assert outcome.kind is OutcomeKind.DONE, (screen, outcome.message)
        screen = outcome.screen
    raise AssertionError("the dialog never reached the review")


async def test_a_whole_expert_application_through_the_screens_from_consent_to_receipt(core):
    person = await core.people.create(display_name="张三")
    screen = await core.dialog.screen(person.id)
    assert isinstance(screen, ConsentScreen) and screen.kind == "general" and "个人信息处理告知" in screen.notice
    person, first = await consenting_expert(core)
    assert first.position == 1 and first.key == "name" and Action.BACK in first.actions  # back to the role
    review, totals = await answer_until_review(core, person.id, first)
    assert totals == sorted(totals, reverse=True), "the progress total never grows"
    # Every answer whole, numbered, each with its edit; the verdict rule by rule in plain words.
    assert [line.number for line in review.lines] == list(range(1, len(review.lines) + 1))
    profile = next(line for line in review.lines if line.step_key == "profile")
    assert profile.value == EXPERT["profile"]
    assert any("学位证书.pdf" in line.value for line in review.lines)
    assert review.verdict.lines and review.verdict.summary.startswith("您目前满足第")
    assert {Action.EDIT, Action.SUBMIT} <= review.actions
    outcome = await core.dialog.act(person.id, Action.SUBMIT, review.token)
    assert outcome.kind is OutcomeKind.SUBMITTED
    receipt = outcome.receipt
    assert receipt.reference.startswith("E") and receipt.reference in receipt.text()
    assert "北京时间" in receipt.submitted_at_text
    assert isinstance(outcome.screen, StatusScreen) and outcome.screen.items[0].status == "submitted"
    # The same page posted again (a double tap, a reload) changes nothing.
    again = await core.dialog.act(person.id, Action.SUBMIT, review.token)
    assert again.kind is OutcomeKind.STALE and isinstance(again.screen, StatusScreen)


async def test_a_wrong_role_is_undone_from_the_first_question_and_an_untouched_draft_goes_with_it(core):
    person, first = await consenting_expert(core)
    back = await core.dialog.act(person.id, Action.BACK, first.token)
    assert back.kind is OutcomeKind.DONE and isinstance(back.screen, RoleScreen)
    assert [c.picked for c in back.screen.choices] == [True, False]  # the role chosen, shown as chosen
    other = await core.dialog.act(person.id, Action.ROLE, back.screen.token, "university")
    assert isinstance(other.screen, QuestionScreen) and other.screen.position == 1
    assert other.screen.key != first.key  # the university's questions
    # The expert draft nothing was entered into is gone: the status lists the university intent alone.
    assert [item.name for item in (await core.dialog.status(person.id)).items] == ["创新工程微专业建设意向表"]
    # Back again, and the expert after all: a new expert draft, first question.
    again = await core.dialog.act(person.id, Action.BACK, other.screen.token)
    expert = await core.dialog.act(person.id, Action.ROLE, again.screen.token, "expert")
    assert isinstance(expert.screen, QuestionScreen) and expert.screen.key == first.key


async def test_a_draft_with_answers_is_kept_when_the_other_role_is_chosen(core):
    person, first = await consenting_expert(core)
    second = (await core.dialog.act(person.id, Action.ANSWER, first.token, "张三")).screen
    at_first = (await core.dialog.act(person.id, Action.BACK, second.token)).screen
    role = (await core.dialog.act(person.id, Action.BACK, at_first.token)).screen
    assert isinstance(role, RoleScreen)
    await core.dialog.act(person.id, Action.ROLE, role.token, "university")
    names = [item.name for item in (await core.dialog.status(person.id)).items]
    assert len(names) == 2  # what was typed is not thrown away
    back_to_expert = await core.dialog.act(person.id, Action.ROLE, role.token, "expert")
    assert back_to_expert.screen.key == second.key or back_to_expert.screen.key == first.key
    assert (await core.dialog.current_draft(person.id)).answers["name"] == "张三"


async def test_a_refused_answer_names_the_problem_and_keeps_the_question(core):
    person, first = await consenting_expert(core)
    outcome = await core.dialog.act(person.id, Action.ANSWER, first.token, "")
    assert outcome.kind is OutcomeKind.REFUSED and "必答" in outcome.message
    assert outcome.screen.key == "name" and outcome.screen.token == first.token
    long = await core.dialog.act(person.id, Action.ANSWER, first.token, "字" * 100_000)
    assert long.kind is OutcomeKind.REFUSED and "太长" in long.message


async def test_an_old_page_posted_after_a_later_answer_changes_nothing(core):
    person, first = await consenting_expert(core)
    second = (await core.dialog.act(person.id, Action.ANSWER, first.token, "张三")).screen
    stale = await core.dialog.act(person.id, Action.ANSWER, first.token, "李四")
    assert stale.kind is OutcomeKind.STALE and stale.screen.key == second.key
    draft = await core.dialog.current_draft(person.id)
    assert draft.answers["name"] == "张三" and second.key not in draft.answers


async def test_back_then_an_old_page_of_the_same_question_is_stale(core):
    person, first = await consenting_expert(core)
    second = (await core.dialog.act(person.id, Action.ANSWER, first.token, "张三")).screen
    back = (await core.dialog.act(person.id, Action.BACK, second.token)).screen
    assert back.key == "name" and back.token != first.token and back.current == "张三"
    stale = await core.dialog.act(person.id, Action.ANSWER, first.token, "李四")
    assert stale.kind is OutcomeKind.STALE
    ok = await core.dialog.act(person.id, Action.KEEP, back.token)
    assert ok.kind is OutcomeKind.DONE and ok.recorded.display == "张三"


async def test_two_tabs_answering_the_same_question_at_once_one_wins(core):
    person, first = await consenting_expert(core)
    outcomes = await asyncio.gather(
        core.dialog.act(person.id, Action.ANSWER, first.token, "张三"),
        core.dialog.act(person.id, Action.ANSWER, first.token, "李四"),
    )
    kinds = sorted(o.kind.value for o in outcomes)
    assert kinds == ["done", "stale"]
    winner = next(o for o in outcomes if o.kind is OutcomeKind.DONE)
    draft = await core.dialog.current_draft(person.id)
    assert draft.answers["name"] == winner.recorded.display


async def test_an_upload_from_an_old_page_or_to_another_question_is_refused(core):
    person, first = await consenting_expert(core)
    outcome = await core.dialog.act(person.id, Action.UPLOAD, first.token, (SAMPLE_PDF, "x.pdf"))
    assert outcome.kind is OutcomeKind.STALE  # the name question takes no files
    assert not (await core.dialog.current_draft(person.id)).answers


async def test_file_names_are_kept_without_folders_or_control_characters(core):
    person, screen = await consenting_expert(core)
    while not (isinstance(screen, ConsentScreen) or getattr(screen, "kind", "") == "file"):
        value = EXPERT.get(screen.key)
        outcome = await core.dialog.act(person.id, Action.ANSWER if value is not None else Action.SKIP, screen.token, value)
        screen = outcome.screen
    screen = (await core.dialog.act(person.id, Action.AGREE, screen.token)).screen
    outcome = await core.dialog.act(person.id, Action.UPLOAD, screen.token, (SAMPLE_PDF, "../../etc/pass\x00wd\n.pdf"))
    assert outcome.screen.files[0].name == "passwd.pdf"
    exe = await core.dialog.act(person.id, Action.UPLOAD, screen.token, (b"MZ\x90\x00" + b"\x00" * 64, "证书.pdf"))
    assert exe.kind is OutcomeKind.REFUSED and "PDF、JPG、PNG" in exe.message
    empty = await core.dialog.act(person.id, Action.UPLOAD, screen.token, (b"", "空.pdf"))
    assert empty.kind is OutcomeKind.REFUSED and "空" in empty.message
    removed = await core.dialog.act(person.id, Action.REMOVE_FILE, screen.token, outcome.screen.files[0].id)
    assert removed.kind is OutcomeKind.DONE and removed.screen.files == ()


async def test_another_persons_application_and_documents_read_as_missing(core):
    owner, first = await consenting_expert(core, "张三")
    other, _ = await consenting_expert(core, "李四")
    # The owner's page token posted by someone else: nothing happens to the owner's draft.
    outcome = await core.dialog.act(other.id, Action.ANSWER, first.token, "冒名")
    assert outcome.kind is OutcomeKind.STALE
    assert "name" not in (await core.dialog.current_draft(owner.id)).answers
    with pytest.raises(NotFound) as foreign:
        await core.intake.get(application_id=first.application_id, person_id=other.id)
    with pytest.raises(NotFound) as missing:
        await core.intake.get(application_id=10**9, person_id=other.id)
    assert foreign.value.message == missing.value.message
    with pytest.raises(NotFound):
        await core.intake.withdraw(application_id=first.application_id, person_id=other.id)


async def test_without_consent_nothing_is_asked_and_declining_collects_nothing(core):
    person = await core.people.create()
    declined = await core.dialog.act(person.id, Action.DECLINE, "consent")
    assert declined.kind is OutcomeKind.DECLINED and "不会收集" in declined.message
    sneaky = await core.dialog.act(person.id, Action.ROLE, "role", "expert")
    assert sneaky.kind is OutcomeKind.STALE and isinstance(sneaky.screen, ConsentScreen)
    assert await core.dialog.current_draft(person.id) is None


async def test_edit_from_review_comes_back_to_the_review(core):
    person, first = await consenting_expert(core)
    review, _ = await answer_until_review(core, person.id, first)
    editing = (await core.dialog.act(person.id, Action.EDIT, review.token, "city")).screen
    assert editing.key == "city" and editing.editing and editing.current == "北京"
    back = (await core.dialog.act(person.id, Action.ANSWER, editing.token, "天津")).screen
    assert isinstance(back, ReviewScreen)
    assert next(line.value for line in back.lines if line.step_key == "city") == "天津"
    unknown = await core.dialog.act(person.id, Action.EDIT, back.token, "no_such_question")
    assert unknown.kind is OutcomeKind.STALE
