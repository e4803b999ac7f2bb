"""`innoeng` as staff and tools use it: a real process, a real database file."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

EXPERT = {
    "name": "李四", "birth_date": "1959/8/15", "mobile": "138 1234 5678", "email": "ls@example.cn", "province": "上海",
    "city": "上海", "employer": "某某装备集团有限公司", "employer_type": "national_key", "years_at_employer": 12,
    "position": "首席技师", "education": "associate", "title": "none", "craftsman_description": "三十年数控加工经验，全国技术能手",
    "urgent_field": "高端装备", "priority_conditions": ["skill_master_studio_head"], "priority_description": "国家级技能大师工作室",
    "society_member": "是", "courses": ["创新思维"], "duties": ["teaching", "guiding_practice"], "teaching_mode": "online",
    "available_times": ["weekend_intensive"], "max_universities": "1", "employer_consent": "是",
    "profile": "长期从事数控加工与工艺创新，带徒百余人，多项工艺改进获奖。", "declaration": "是",
}


def innoeng(*args: str, cwd: Path, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DEFAULT_BATCH"))}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "innoeng", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def test_forms_show_json_lists_keys_kinds_choices_and_conditions(workdir):
    result = innoeng("forms", "show", "expert", "--json", cwd=workdir)
    assert result.returncode == 0, result.stderr
    form = json.loads(result.stdout)
    by_key = {q["key"]: q for q in form["questions"]}
    assert by_key["birth_date"]["kind"] == "date"
    assert by_key["duties"]["limits"]["min_picks"] == 2
    assert {c["value"] for c in by_key["employer_type"]["choices"]} >= {"national_key", "high_tech"}
    assert by_key["urgent_field"]["shown_when"]["depends_on"] == ["birth_date"]

    university = json.loads(innoeng("forms", "show", "university", "--json", cwd=workdir).stdout)
    follow_up = next(q for q in university["questions"] if q["kind"] == "follow_up")
    assert follow_up["for_each_item_of"] == "courses"
    assert next(q for q in follow_up["questions"] if q["key"] == "hours")["limits"]["max_value"] == 64


def test_forms_show_text_is_readable(workdir):
    result = innoeng("forms", "show", "university", cwd=workdir)
    assert result.returncode == 0
    assert "创新工程微专业建设意向表" in result.stdout and "对「courses」中选中的每一项分别回答" in result.stdout


def test_eligibility_check_gives_the_verdict(workdir):
    path = workdir / "answers.json"
    path.write_text(json.dumps(EXPERT, ensure_ascii=False), encoding="utf-8")
    result = innoeng("eligibility", "check", str(path), "--deadline", "2025-08-15", cwd=workdir)
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    rules = {r["rule"]: r["outcome"] for r in verdict["rules"]}
    assert verdict["outcome"] == "needs_judgement"
    assert rules == {"declaration": "pass", "employment": "pass", "age": "needs_judgement",
                     "qualification": "needs_judgement", "duties": "pass", "employer_consent": "pass"}
    assert verdict["priority_score"] == 20


def test_eligibility_check_lists_each_bad_field_and_exits_2(workdir):
    path = workdir / "answers.json"
    path.write_text(json.dumps({**EXPERT, "mobile": "12345", "duties": ["teaching"], "favourite": 1}, ensure_ascii=False), encoding="utf-8")
    result = innoeng("eligibility", "check", str(path), "--deadline", "2025-08-15", cwd=workdir)
    assert result.returncode == 2
    assert result.stdout == ""
    for fragment in ("mobile", "不是有效的中国大陆手机号", "duties", "至少选择 2 项", "favourite", "不是本表的题目"):
        assert fragment in result.stderr


def test_eligibility_check_refuses_a_file_that_is_not_json(workdir):
    path = workdir / "answers.json"
    path.write_text("{name: 李四", encoding="utf-8")
    result = innoeng("eligibility", "check", str(path), "--deadline", "2025-08-15", cwd=workdir)
    assert result.returncode == 2 and "不是有效的 JSON" in result.stderr


def test_batches_db_and_sample_on_a_fresh_database(workdir):
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'cli.sqlite3'}", "DOCUMENTS_DIR": str(workdir / "docs")}
    assert innoeng("db", "upgrade", cwd=workdir, env_extra=env).returncode == 0
    listed = json.loads(innoeng("batch", "list", "--json", cwd=workdir, env_extra=env).stdout)
    assert [b["name"] for b in listed] == ["第一批"]  # created on first start

    created = innoeng("batch", "create", "--name", "第二批", "--opens", "2027-01-01", "--closes", "2027年3月31日",
                      "--matching", "2027-04-10", cwd=workdir, env_extra=env)
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["registration_closes_at"] == "2027-03-31T23:59:59+08:00"

    bad = innoeng("batch", "update", "第二批", "--publicity", "2027-04-01", cwd=workdir, env_extra=env)
    assert bad.returncode == 2 and "公示开始时间不能早于匹配开始时间" in bad.stderr
    moved = innoeng("batch", "update", "第二批", "--closes", "2027-04-05", cwd=workdir, env_extra=env)
    assert json.loads(moved.stdout)["registration_closes_at"].startswith("2027-04-05")
    missing = innoeng("batch", "update", "第九批", "--name", "x", cwd=workdir, env_extra=env)
    assert missing.returncode == 2 and "没有找到批次" in missing.stderr

    sample = innoeng("sample", "--experts", "6", "--universities", "2", cwd=workdir, env_extra=env)
    assert sample.returncode == 0, sample.stderr
    assert "已生成模拟申请：专家 6 份，高校意向表 2 份" in sample.stdout and "example.com" in sample.stdout
    # No BOT_TOKEN: each sample person has a stand-in user id to answer as, listed with who they are.
    assert "http://127.0.0.1:8081/" in sample.stdout
    assert re.search(r"^  7100001  专家  \S+（\S+）$", sample.stdout, re.M), sample.stdout
    assert re.search(r"^  7100008  高校联系人  \S+（\S+）$", sample.stdout, re.M), sample.stdout
    scripted = innoeng("sample", "--experts", "3", "--universities", "1", "--seed", "45112", "--json", cwd=workdir, env_extra=env)
    assert scripted.returncode == 0, scripted.stderr
    output = json.loads(scripted.stdout)
    assert {k: v for k, v in output.items() if k not in ("seconds", "people")} == {
        "experts": 3, "universities": 1, "approved": 0, "seed": 45112}
    # A second run goes on after the first one's ids.
    assert [(p["form"], p["telegram_id"]) for p in output["people"]] == [
        ("expert", 7100009), ("expert", 7100010), ("expert", 7100011), ("university", 7100012)]
    assert all(p["name"] and p["organization"] for p in output["people"])
    real_bot = innoeng("sample", "--experts", "1", "--universities", "0", "--json", cwd=workdir,
                       env_extra={**env, "BOT_TOKEN": "123456:real-token"})
    assert [p["telegram_id"] for p in json.loads(real_bot.stdout)["people"]] == [None]


def test_match_run_show_export_and_confirm(workdir):
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'match.sqlite3'}", "DOCUMENTS_DIR": str(workdir / "docs")}
    assert innoeng("sample", "--experts", "30", "--universities", "4", "--approve", cwd=workdir, env_extra=env).returncode == 0
    ran = innoeng("match", "run", "--batch", "第一批", cwd=workdir, env_extra=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("第 1 次匹配")
    shown = json.loads(innoeng("match", "show", "1", "--json", cwd=workdir, env_extra=env).stdout)
    assert shown["filled"] == len(shown["proposals"]) > 0
    assert all(p["explanation"] and 0 <= p["score"] <= 1 for p in shown["proposals"])

    assert [p["number"] for p in shown["proposals"]] == list(range(1, len(shown["proposals"]) + 1))

    out = workdir / "run.xlsx"
    exported = innoeng("match", "export", "1", "--out", str(out), cwd=workdir, env_extra=env)
    assert exported.returncode == 0 and str(out.resolve()) in exported.stdout
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["第1次匹配", "未填补名额", "运行参数"]
    assert book["第1次匹配"].max_row == 1 + len(shown["proposals"])
    assert book["未填补名额"].max_row == 1 + len(shown["unfilled"])
    params = {row[0]: row[1] for row in book["运行参数"].iter_rows(min_row=2, values_only=True)}
    assert params["最优性差距"] == f"{shown['gap']:.4%}" and params["填补名额"] == f"{shown['filled']}/{shown['total_need']}"
    scripted = innoeng("match", "export", "1", "--out", str(out), "--json", cwd=workdir, env_extra=env)
    assert json.loads(scripted.stdout)["written"] == str(out.resolve())

    # --pairs takes the numbers staff see (1, 2, ... within the run), not database ids.
    first = innoeng("match", "confirm", "1", "--pairs", "1", "--json", cwd=workdir, env_extra=env)
    assert first.returncode == 0, first.stderr
    after = json.loads(first.stdout)["proposals"]
    assert after[0]["appointment_id"] and not any(p["appointment_id"] for p in after[1:])
    wrong = innoeng("match", "confirm", "1", "--pairs", "999", cwd=workdir, env_extra=env)
    assert wrong.returncode == 2 and "没有序号为 999 的配对" in wrong.stderr
    confirmed = innoeng("match", "confirm", "1", cwd=workdir, env_extra=env)
    assert confirmed.returncode == 0 and "已确认" in confirmed.stdout and "聘任 " in confirmed.stdout

    listing = workdir / "publicity.xlsx"
    publicity = innoeng("match", "publicity", "--out", str(listing), cwd=workdir, env_extra=env)
    assert publicity.returncode == 0 and f"已写入公示名单：{listing.resolve()}" in publicity.stdout
    assert listing.exists()
    assert json.loads(innoeng("match", "publicity", "--json", cwd=workdir, env_extra=env).stdout)["appointments"] == []
    missing = innoeng("match", "show", "99", cwd=workdir, env_extra=env)
    assert missing.returncode == 2 and "没有找到第 99 次匹配" in missing.stderr


@pytest.mark.parametrize("left_out", ["name", "email", "mobile", "birth_date"])
def test_eligibility_check_lists_missing_answers_like_invalid_ones_unless_partial(workdir, left_out):
    path = workdir / "answers.json"
    # Without a birth date the urgent-field question (asked over 65) is not shown either.
    dropped = {left_out, "urgent_field"} if left_out == "birth_date" else {left_out}
    path.write_text(json.dumps({k: v for k, v in EXPERT.items() if k not in dropped}, ensure_ascii=False), encoding="utf-8")
    refused = innoeng("eligibility", "check", str(path), "--deadline", "2025-08-15", cwd=workdir)
    assert refused.returncode == 2 and refused.stdout == ""
    assert f"{left_out}：此题为必答题" in refused.stderr

    partial = innoeng("eligibility", "check", str(path), "--deadline", "2025-08-15", "--partial", cwd=workdir)
    assert partial.returncode == 0, partial.stderr
    assert json.loads(partial.stdout)["missing"] == [left_out]
