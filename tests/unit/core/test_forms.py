"""The questionnaires as data: what is asked, when, and what each rejection says."""
from __future__ import annotations

from datetime import date

import pytest

from core.forms import (
    EXPERT_FORM,
    REVIEW,
    UNIVERSITY_FORM,
    AnswerError,
    FormContext,
    Kind,
    missing_required,
    next_step,
    previous_step,
    prune_hidden,
    validate_all,
    validate_answer,
    visible_steps,
)

CTX = FormContext(deadline=date(2025, 8, 15), today=date(2025, 7, 1))


def keys(form, answers):
    return [s.key for s in visible_steps(form, answers, CTX)]


def test_expert_form_asks_the_fields_of_attachment_1_and_no_more():
    top = set(EXPERT_FORM.top_level_keys())
    assert {"name", "birth_date", "mobile", "email", "province", "city", "employer", "employer_type", "years_at_employer",
            "position", "education", "title", "craftsman_description", "urgent_field", "priority_conditions",
            "priority_description", "society_member", "courses", "duties", "teaching_mode", "available_times",
            "offline_provinces", "max_universities", "employer_consent", "proof_files", "profile", "declaration"} == top


def test_every_kind_is_used_by_some_question():
    kinds = {s.question.kind for f in (EXPERT_FORM, UNIVERSITY_FORM)
             for s in visible_steps(f, {"courses": ["创新思维"]}, CTX)}
    assert kinds == set(Kind) - {Kind.FILE} | ({Kind.FILE} & kinds)
    assert Kind.FILE in {s.question.kind for s in visible_steps(EXPERT_FORM, {}, CTX)}


def test_craftsman_question_only_when_neither_degree_nor_title_qualifies():
    assert "craftsman_description" not in keys(EXPERT_FORM, {"education": "bachelor", "title": "none"})
    assert "craftsman_description" not in keys(EXPERT_FORM, {"education": "associate", "title": "senior_technician"})
    assert "craftsman_description" in keys(EXPERT_FORM, {"education": "associate", "title": "none"})
    # Not before both are known.
    assert "craftsman_description" not in keys(EXPERT_FORM, {"education": "associate"})


def test_urgent_field_only_for_people_older_than_65_on_the_deadline():
    assert "urgent_field" not in keys(EXPERT_FORM, {"birth_date": "1960-08-15"})  # exactly 65
    assert "urgent_field" in keys(EXPERT_FORM, {"birth_date": "1959-08-15"})  # 66


def test_offline_provinces_only_when_teaching_offline():
    assert "offline_provinces" not in keys(EXPERT_FORM, {"teaching_mode": "online"})
    assert "offline_provinces" in keys(EXPERT_FORM, {"teaching_mode": "both"})


def test_university_follow_ups_per_picked_course_in_questionnaire_order():
    answers = {"courses": validate_answer(UNIVERSITY_FORM.question("courses"), "创新管理、创新思维")}
    follow = [k for k in keys(UNIVERSITY_FORM, answers) if k.startswith("course_demand[")]
    assert follow == [
        "course_demand[创新思维].hours", "course_demand[创新思维].experts_needed", "course_demand[创新思维].mode",
        "course_demand[创新管理].hours", "course_demand[创新管理].experts_needed", "course_demand[创新管理].mode",
    ]


def test_hours_above_32_are_accepted_as_the_notice_says_generally_and_beyond_64_refused_naming_the_rule():
    step = next(s for s in visible_steps(UNIVERSITY_FORM, {"courses": ["创新思维"]}, CTX) if s.question.key == "hours")
    assert "一般不超过 32 学时" in step.question.help
    assert validate_answer(step.question, "36", CTX) == 36  # eligibility puts it to staff
    with pytest.raises(AnswerError) as error:
        validate_answer(step.question, "70", CTX)
    assert "32" in error.value.message and "学时" in error.value.message
    assert validate_answer(step.question, "３２", CTX) == 32


@pytest.mark.parametrize(
    ("key", "raw", "fragment"),
    [
        ("name", "王", "至少需要 2 个字"),
        ("profile", "短", "至少需要 20 个字"),
        ("profile", "长" * 1001, "最多 1000 个字"),
        ("years_at_employer", "三年", "请输入一个整数"),
        ("years_at_employer", "99", "不能大于 60"),
        ("birth_date", "2030-01-01", "不能晚于 2025-07-01"),
        ("birth_date", "1975.13.01", "无法识别的日期"),
        ("mobile", "12345", "不是有效的中国大陆手机号"),
        ("email", "zs@", "不是有效的电子邮箱"),
        ("employer_type", "国企", "不是可选项"),
        ("courses", "", "必答题"),
        ("duties", ["teaching"], "至少选择 2 项"),
        ("courses", "创新思维、创新思维", "重复"),
        ("declaration", "否", "必须确认"),
        ("society_member", "也许", "请回答「是」或「否」"),
    ],
)
def test_each_rejection_says_which_rule_was_broken(key, raw, fragment):
    with pytest.raises(AnswerError) as error:
        validate_answer(EXPERT_FORM.question(key), raw, CTX)
    assert fragment in error.value.message


def test_choices_accept_value_label_or_number():
    question = EXPERT_FORM.question("employer_type")
    assert validate_answer(question, "high_tech") == "high_tech"
    assert validate_answer(question, "高新技术企业") == "high_tech"
    assert validate_answer(question, "３") == "high_tech"


def test_multi_choice_typed_with_chinese_separators_keeps_questionnaire_order():
    question = EXPERT_FORM.question("courses")
    assert validate_answer(question, "创新管理，创新思维；技术创新方法") == ["创新思维", "技术创新方法", "创新管理"]


def test_optional_question_can_be_skipped_but_required_cannot():
    assert validate_answer(UNIVERSITY_FORM.question("remuneration"), "  ") is None
    with pytest.raises(AnswerError):
        validate_answer(UNIVERSITY_FORM.question("contact_name"), None)


def test_file_question_needs_at_least_one_file():
    question = EXPERT_FORM.question("proof_files")
    with pytest.raises(AnswerError) as error:
        validate_answer(question, [], CTX)
    assert "至少上传 1 份" in error.value.message
    assert validate_answer(question, [7, 8], CTX) == [7, 8]


def test_navigation_next_back_and_review():
    answers = {"name": "张三"}
    assert next_step(EXPERT_FORM, answers, CTX, after="name").key == "birth_date"
    assert previous_step(EXPERT_FORM, answers, CTX, "birth_date").key == "name"
    assert previous_step(EXPERT_FORM, answers, CTX, "name") is None
    everything = {"education": "bachelor", "title": "none", "teaching_mode": "online", "priority_conditions": []}
    everything |= {s.key: "x" for s in visible_steps(EXPERT_FORM, everything, CTX) if s.key not in everything}
    assert next_step(EXPERT_FORM, everything, CTX) is None
    assert previous_step(EXPERT_FORM, everything, CTX, REVIEW).key == "declaration"


def test_missing_required_and_pruning_of_answers_no_longer_asked():
    answers = {"teaching_mode": "online", "offline_provinces": ["北京"], "name": "张三"}
    assert "offline_provinces" not in prune_hidden(EXPERT_FORM, answers, CTX)
    missing = {s.key for s in missing_required(EXPERT_FORM, answers, CTX)}
    assert "name" not in missing and "email" in missing and "urgent_field" not in missing


def test_validate_all_reports_each_bad_field_and_unknown_keys():
    values, problems = validate_all(
        UNIVERSITY_FORM,
        {"university_name": "某某大学测试", "courses": ["创新思维"], "course_demand[创新思维].hours": 70,
         "course_demand[创新管理].hours": 16, "colour": "red", "expected_students": "80人"},
        CTX,
    )
    assert values["expected_students"] == 80
    assert set(problems) == {"course_demand[创新思维].hours", "course_demand[创新管理].hours", "colour"}
    assert "不需要填写" in problems["course_demand[创新管理].hours"]
    assert "不是本表的题目" in problems["colour"]


@pytest.mark.parametrize("raw", ["\u200b\u200b", "\u2060\u200d\u200c", "\u202e"])
def test_an_answer_of_invisible_characters_only_is_refused_with_its_reason(raw):
    for key in ("name", "remuneration"):
        form = EXPERT_FORM if key == "name" else UNIVERSITY_FORM
        with pytest.raises(AnswerError) as error:
            validate_answer(form.question(key), raw, CTX)
        assert "不可见的字符" in error.value.message


def test_bidi_controls_are_removed_from_a_stored_text_answer():
    assert validate_answer(EXPERT_FORM.question("name"), "\u202e张三\u202c", CTX) == "张三"


def test_free_text_is_stored_as_typed_with_its_chinese_punctuation():
    profile = "二十年，主持（TRIZ）项目：带领团队完成多项技术攻关；获奖三次。"
    assert validate_answer(EXPERT_FORM.question("profile"), profile, CTX) == profile


@pytest.mark.parametrize(("key", "raw"), [("birth_date", "1" * 5000), ("employer_type", "😀" * 2100),
                                          ("courses", "😀" * 2100), ("mobile", "9" * 5000), ("email", "@" * 5000),
                                          ("years_at_employer", "x" * 5000), ("profile", "长" * 5000)])
def test_a_refusal_quotes_at_most_a_short_prefix_of_the_input(key, raw):
    with pytest.raises(AnswerError) as error:
        validate_answer(EXPERT_FORM.question(key), raw, CTX)
    assert len(error.value.message) < 600


def _walk_totals(form, answers):
    """The bound after each answer, answering in questionnaire order as a person would."""
    from core.forms.navigation import most_steps, visible_steps

    given: dict = {}
    totals = [most_steps(form, given, CTX)]
    while True:
        pending = [s for s in visible_steps(form, given, CTX) if s.key not in given]
        if not pending:
            return totals, len(visible_steps(form, given, CTX))
        step = pending[0]
        given[step.key] = answers[step.key] if step.key in answers else None
        totals.append(most_steps(form, given, CTX))


def test_the_number_of_questions_shown_never_grows_as_answers_come_in():
    from core.forms.navigation import most_steps

    expert = {"name": "张三", "birth_date": "1975-06-01", "mobile": "13812345678", "email": "a@b.cn", "province": "北京",
              "city": "北京", "employer": "某公司", "employer_type": "high_tech", "years_at_employer": 10, "position": "总工",
              "education": "bachelor", "title": "none", "craftsman_description": "高级技师" * 3,
              "priority_conditions": ["major_invention_patent"], "priority_description": "发明专利一项",
              "society_member": True, "courses": ["创新思维"], "duties": ["teaching", "co_developing"],
              "teaching_mode": "offline", "available_times": ["weekend_intensive"], "offline_provinces": ["北京"],
              "max_universities": "2", "employer_consent": True, "proof_files": [1], "profile": "二十年经验" * 5,
              "declaration": True}
    totals, asked = _walk_totals(EXPERT_FORM, expert)
    assert totals == sorted(totals, reverse=True) and totals[-1] == asked, totals
    university = {"courses": ["产品创新方法", "创新管理"]}
    given = {k: None for k in ("university_name", "level", "province")}
    before = most_steps(UNIVERSITY_FORM, given, CTX)
    after = most_steps(UNIVERSITY_FORM, {**given, **university}, CTX)
    assert before > after


def test_no_question_speaks_of_a_control_only_one_channel_has():
    """A question reads the same in the chat and on the web: the bot's share-my-phone button, and a multiple
    choice's last button (「完成」 in the chat, 「继续」 on the web), are named by the renderer that draws them, never
    in the question. (A file question's 「完成」 is the same word in both.)"""
    for form in (EXPERT_FORM, UNIVERSITY_FORM):
        for step in visible_steps(form, {}, CTX) + visible_steps(form, {"employer_type": "enterprise"}, CTX):
            prompt = step.question.prompt
            assert "按钮" not in prompt, (step.key, prompt)
            if step.question.kind is Kind.MULTI:
                assert "「完成」" not in prompt and "「继续」" not in prompt, (step.key, prompt)
