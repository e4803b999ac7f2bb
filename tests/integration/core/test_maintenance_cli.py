"""`innoeng maintenance reconcile|retention` as an operator or a cron job runs them: a real process, a real database file."""
from __future__ import annotations

import json

from core.sample import SAMPLE_PDF
from tests.integration.core.test_cli import innoeng


def test_reconcile_removes_an_unreferenced_file_and_retention_dry_run_changes_nothing(tmp_path):
    documents = tmp_path / "data" / "documents"
    documents.mkdir(parents=True)
    orphan = documents / ("a" * 32 + ".pdf")
    orphan.write_bytes(SAMPLE_PDF)

    preview = innoeng("maintenance", "reconcile", "--dry-run", "--json", cwd=tmp_path)
    assert preview.returncode == 0, preview.stderr
    assert json.loads(preview.stdout)["orphans_removed"] == [orphan.name] and orphan.exists()

    done = innoeng("maintenance", "reconcile", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "无记录引用的文件：1 个（已删除）" in done.stdout and not orphan.exists()

    dry = innoeng("maintenance", "retention", "--dry-run", "--json", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["dry_run"] is True and report["periods_days"]["outbox_payloads"] == 30
    assert set(report["counts"]) >= {"outbox_payloads", "processed_updates", "chat_states", "abandoned_drafts",
                                     "closed_applications", "audit_entries"}
    custom = innoeng("maintenance", "retention", "--json", cwd=tmp_path, env_extra={"RETENTION_OUTBOX_PAYLOAD_DAYS": "10"})
    assert custom.returncode == 0 and json.loads(custom.stdout)["periods_days"]["outbox_payloads"] == 10
