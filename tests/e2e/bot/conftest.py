"""The real bot, in-process or as its own process, polling the stand-in; people act through the control API."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.factory import create_bot
from bot.main import run_polling
from bot.sandbox import SandboxServer
from core.bootstrap import Core, bootstrap
from core.sample import SAMPLE_PDF
from tests.support.staff import linked_staff

STAFF_ID = 900001  # linked to a coordinator's staff account: runs matching, publicity, workshops
REVIEWER_ID = 900002  # linked to a reviewer's staff account
UNLINKED_STAFF_ID = 900003  # in STAFF_TELEGRAM_IDS, no staff account linked: reviews, nothing else
DEADLINE = (date.today() + timedelta(days=60)).isoformat()

EXPERT_ANSWERS = {
    "name": "张三", "birth_date": "1975-06-01", "mobile": "13812345678", "email": "zhangsan@example.com",
    "province": "北京", "city": "北京", "employer": "某某科技有限公司", "employer_type": "high_tech",
    "years_at_employer": "10", "position": "总工程师", "education": "master", "title": "senior_associate",
    "priority_conditions": ["major_invention_patent"], "priority_description": "发明专利 ZL2019 一项",
    "society_member": True, "courses": ["创新思维", "技术创新方法"], "duties": ["teaching", "co_developing"],
    "teaching_mode": "both", "available_times": ["weekend_intensive"], "offline_provinces": ["北京", "天津"],
    "max_universities": "2", "employer_consent": True, "proof_files": [("学位证书.pdf", SAMPLE_PDF)],
    "profile": "二十年产品研发经验，长期运用 TRIZ 解决工程难题，带领团队完成多项技术攻关。", "declaration": True,
}

UNIVERSITY_ANSWERS = {
    "university_name": "某某理工大学", "level": "undergraduate", "province": "江苏", "city": "南京",
    "contact_name": "李老师", "contact_department": "教务处", "contact_position": "副处长",
    "contact_mobile": "13900001111", "contact_email": "li@example.edu.cn", "planned_start": "2027-03",
    "expected_students": "80", "courses": ["产品创新方法", "创新管理"],
    "course_demand[产品创新方法].hours": "32", "course_demand[产品创新方法].experts_needed": "1",
    "course_demand[产品创新方法].mode": "online",
    "course_demand[创新管理].hours": "16", "course_demand[创新管理].experts_needed": "2",
    "course_demand[创新管理].mode": "both",
    "schedule_preference": ["weekend_intensive", "vacation_intensive"], "remuneration": None,
    "society_member_unit": False, "other_needs": None,
}


@pytest.fixture
def bot_settings(database_url, settings_for):
    return settings_for(database_url, default_batch_deadline=DEADLINE,
                        staff_telegram_ids=[STAFF_ID, REVIEWER_ID, UNLINKED_STAFF_ID])


@pytest.fixture
async def live_core(bot_settings) -> AsyncIterator[Core]:
    """The core on the real clock, as the bot process runs it."""
    core = bootstrap(bot_settings)
    await core.prepare()
    await linked_staff(core, STAFF_ID, "coordinator")
    await linked_staff(core, REVIEWER_ID, "reviewer")
    try:
        yield core
    finally:
        await core.close()


class RunningBot:
    def __init__(self, core: Core, stand_in: SandboxServer) -> None:
        self.core = core
        self.stand_in = stand_in
        self.stop = asyncio.Event()
        self.bot = create_bot(stand_in.token, stand_in.base_url)
        self.task: asyncio.Task | None = None

    async def start(self) -> "RunningBot":
        self.task = asyncio.create_task(run_polling(self.core, self.bot, self.stop))
        return self

    async def close(self) -> None:
        self.stop.set()
        if self.task is not None:
            await asyncio.wait_for(self.task, 15)
        await self.bot.session.close()


@pytest.fixture
async def running_bot(live_core: Core, stand_in: SandboxServer) -> AsyncIterator[RunningBot]:
    running = await RunningBot(live_core, stand_in).start()
    try:
        yield running
    finally:
        await running.close()


class BotProcess:
    """`innoeng bot` in a process of its own, as production runs it."""

    def __init__(self, settings, stand_in: SandboxServer, workdir: Path) -> None:
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)},
            "DATABASE_URL": settings.database_url,
            "DOCUMENTS_DIR": str(settings.documents_dir),
            "DEFAULT_BATCH_DEADLINE": DEADLINE,
            "STAFF_TELEGRAM_IDS": ",".join(str(i) for i in settings.staff_telegram_ids),
            "BOT_TOKEN": stand_in.token,
            "BOT_API_URL": stand_in.base_url,
        }
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    def start(self) -> "BotProcess":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "innoeng", "bot"], cwd=self.workdir, env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        return self

    def kill(self) -> str:
        assert self.process is not None
        self.process.kill()
        output, _ = self.process.communicate(timeout=15)
        return output.decode("utf-8", "replace")


@pytest.fixture
def bot_process(bot_settings, stand_in, tmp_path):
    started: list[BotProcess] = []

    def start() -> BotProcess:
        process = BotProcess(bot_settings, stand_in, tmp_path).start()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.process and process.process.poll() is None:
            process.kill()
