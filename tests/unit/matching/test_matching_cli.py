"""`innoeng match solve` as tools and benchmarks call it: a real subprocess."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

INSTANCE = {
    "experts": [{"id": "e1", "max_universities": 2, "max_slots": 3}, {"id": "e2", "max_universities": 2, "max_slots": 3}],
    "demands": [
        {"id": "d1", "university": "u1", "need": 1},
        {"id": "d2", "university": "u1", "need": 1},
        {"id": "d3", "university": "u2", "need": 1},
    ],
    "edges": [["e1", "d1", 0.9], ["e1", "d2", 0.9], ["e1", "d3", 0.9], ["e2", "d3", 0.1]],
    "fixed": [],
    "forbidden": [],
}


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "innoeng", "match", "solve", *args],
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_solve_prints_the_result_json(tmp_path):
    path = tmp_path / "instance.json"
    path.write_text(json.dumps(INSTANCE), encoding="utf-8")
    result = run(str(path), "--time-limit", "30")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # stdout is exactly one JSON document
    assert sorted(map(tuple, data["assignments"])) == [("e1", "d1"), ("e1", "d2"), ("e1", "d3")]
    assert data["filled"] == 3
    assert abs(data["score"] - 2.7) < 1e-9
    assert data["status"] == "optimal"
    assert data["gap"] == 0.0
    assert data["bound"] >= data["score"]
    assert isinstance(data["time_s"], float)


def test_solve_reads_standard_input():
    result = run("-", stdin=json.dumps(INSTANCE))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["filled"] == 3


def test_bad_instance_lists_each_problem_and_exits_2(tmp_path):
    bad = dict(INSTANCE)
    bad["demands"] = [{"id": "d1", "university": "u1", "need": -2}]
    bad["edges"] = [["e1", "d1", 1.5], ["e1", "d1", 0.5], ["e1", "d9", 0.5]]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    result = run(str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "need must be an integer >= 0, got -2" in result.stderr
    assert "score must be a number in [0, 1], got 1.5" in result.stderr
    assert "duplicate edge" in result.stderr
    assert "unknown demand 'd9'" in result.stderr


def test_unreadable_and_non_json_input_exit_2(tmp_path):
    missing = run(str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "无法读取" in missing.stderr
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json", encoding="utf-8")
    result = run(str(garbage))
    assert result.returncode == 2 and "不是有效的 JSON" in result.stderr


def test_solve_help_speaks_chinese_like_the_other_commands():
    result = subprocess.run([sys.executable, "-m", "innoeng", "match", "solve", "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0
    assert "求解一个匹配实例" in result.stdout or "先使填补的名额最多" in result.stdout
    assert "时间上限" in result.stdout and "seconds" not in result.stdout
