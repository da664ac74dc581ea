"""Digest delivery across a crash: a process killed between sending and recording.

The guarantee is at most once per (unit, week, recipient); a send left "sending" by
a crash is reported and sent again only when the operator releases it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from bot.cli import main
from bot.config import Config, DigestConfig, Ref
from bot.delivery import completed_week, deliver_week, stuck_deliveries
from bot.roster import RosterEntry
from bot.scheduler import DigestScheduler
from metrics.db import make_async_engine, make_engine
from tests.harness import apply

HEAD = Ref("wechat", "wx_head")
ROSTER = [
    RosterEntry("欧阳主任", "镇党政办", wechat_id="wx_head", is_head=True),
    RosterEntry("徐干事", "镇党政办", wechat_id="wx_x"),
]

# Runs the real delivery in its own process; the platform accepts the message (SENT is
# printed) and the process is then killed before it can record that.
CRASHING_SENDER = """
import asyncio, sys
from datetime import datetime
from pathlib import Path
from bot.config import Config, DigestConfig
from bot.delivery import deliver_week
from metrics.db import make_async_engine

async def main() -> None:
    url, out, week, now = sys.argv[1:5]
    config = Config(database_url=url, digest=DigestConfig(out_dir=Path(out)))
    async def send(ref, body, picture):
        print("SENT", ref, flush=True)
        await asyncio.Event().wait()  # killed here, between sending and recording
    await deliver_week(make_async_engine(url), config, send, week, datetime.fromisoformat(now))

asyncio.run(main())
"""


class Platform:
    """The chat platform's side: what reached each head."""

    def __init__(self) -> None:
        self.sent: list[tuple[Ref, str]] = []

    async def __call__(self, ref: Ref, body: str, picture: bytes | None) -> None:
        self.sent.append((ref, body))


def statuses(db_url: str) -> list[tuple[str, str, str]]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT unit, recipient_id, status FROM digests")).all()
    engine.dispose()
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def crash_while_sending(db_url: str, out: Path, week: str, now: datetime) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CRASHING_SENDER,
        db_url,
        str(out),
        week,
        now.isoformat(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 120)
        assert line.startswith(b"SENT wechat:wx_head"), (line, await proc.stderr.read())  # type: ignore[union-attr]
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        await proc.wait()
    assert -signal.SIGKILL == proc.returncode


@pytest.fixture
def crashed(db_url: str, tmp_path: Path) -> tuple[str, str, datetime]:
    """A database where a real process was killed right after the platform took the digest."""
    claimed_at = datetime.now(UTC) - timedelta(hours=2)
    week = completed_week(claimed_at, "Asia/Shanghai")
    apply(Config(), ROSTER, db_url, claimed_at)
    asyncio.run(crash_while_sending(db_url, tmp_path / "digests", week, claimed_at))
    return db_url, week, claimed_at


def test_a_crash_leaves_the_slot_sending_and_it_is_never_resent_on_its_own(
    crashed: tuple[str, str, datetime], tmp_path: Path
) -> None:
    """After the kill the slot is 'sending'; later runs, catch-up included, skip it."""
    db_url, week, claimed_at = crashed
    assert [("镇党政办", "wx_head", "sending")] == statuses(db_url)
    platform = Platform()
    config = Config(database_url=db_url, digest=DigestConfig(out_dir=tmp_path / "digests"))

    async def rerun() -> list[str]:
        engine = make_async_engine(db_url)
        results = await deliver_week(engine, config, platform, week, claimed_at + timedelta(days=1))
        scheduler = DigestScheduler(engine, config, platform, clock=lambda: datetime.now(UTC))
        retried = await scheduler.check_deliveries()
        await engine.dispose()
        return [r.status for r in results + retried]

    assert ["skipped"] == asyncio.run(rerun())
    assert [] == platform.sent  # at most once: the head may already have it
    assert [("镇党政办", "wx_head", "sending")] == statuses(db_url)


def test_a_stuck_send_is_reported_once_in_the_log(
    crashed: tuple[str, str, datetime], caplog: pytest.LogCaptureFixture
) -> None:
    """The scheduler warns about a send stuck for over 30 minutes, once, with the command to run."""
    db_url, week, claimed_at = crashed

    async def report() -> list[int]:
        engine = make_async_engine(db_url)
        scheduler = DigestScheduler(
            engine, Config(database_url=db_url), Platform(), clock=lambda: datetime.now(UTC)
        )
        counts = [await scheduler.report_stuck(), await scheduler.report_stuck()]
        async with engine.connect() as conn:
            early = await conn.run_sync(stuck_deliveries, claimed_at + timedelta(minutes=10))
        await engine.dispose()
        return [*counts, len(early)]

    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        assert [1, 1, 0] == asyncio.run(report())
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert 1 == len(warnings)
    assert f"jianfu delivery retry --week {week} --unit 镇党政办 --to wechat:wx_head" in warnings[0]


def test_status_shows_the_stuck_send_and_retry_releases_it(
    crashed: tuple[str, str, datetime], tmp_path: Path
) -> None:
    """`delivery status` flags it; after `delivery retry` the next check sends it exactly once more."""
    db_url, week, _ = crashed
    db = db_url.removeprefix("sqlite:///")
    runner = CliRunner()
    status = runner.invoke(main, ["delivery", "status", "--db", db])
    assert 0 == status.exit_code, status.output
    assert (
        f"{week} 镇党政办 → wechat:wx_head：卡在发送中（可能已送达，需人工确认）" in status.output
    )
    assert "有 1 份周报卡在“发送中”超过 30 分钟" in status.output
    assert (
        f"  jianfu delivery retry --week {week} --unit 镇党政办 --to wechat:wx_head"
        in status.output
    )

    wrong = runner.invoke(main, ["delivery", "retry", "--week", "2020-W01", "--db", db])
    assert 2 == wrong.exit_code
    assert "2020-W01 没有符合条件" in wrong.output

    retry = runner.invoke(
        main, ["delivery", "retry", "--week", week, "--to", "wechat:wx_head", "--db", db]
    )
    assert 0 == retry.exit_code, retry.output
    assert f"已允许重发：{week} 镇党政办 → wechat:wx_head" in retry.output
    assert [("镇党政办", "wx_head", "failed")] == statuses(db_url)

    platform = Platform()
    config = Config(database_url=db_url, digest=DigestConfig(out_dir=tmp_path / "digests"))

    async def check_twice() -> None:
        engine = make_async_engine(db_url)
        scheduler = DigestScheduler(engine, config, platform, clock=lambda: datetime.now(UTC))
        await scheduler.check_deliveries()
        await scheduler.check_deliveries()
        await engine.dispose()

    asyncio.run(check_twice())
    assert [HEAD] == [ref for ref, _ in platform.sent]
    assert platform.sent[0][1].startswith("【减负周报】镇党政办")
    assert [("镇党政办", "wx_head", "sent")] == statuses(db_url)


def test_failed_sends_are_retried_by_the_periodic_check(db_url: str, tmp_path: Path) -> None:
    """A send the platform refused is retried on the next check, without a restart."""
    now = datetime.now(UTC)
    week = completed_week(now, "Asia/Shanghai")
    apply(Config(), ROSTER, db_url, now)
    config = Config(database_url=db_url, digest=DigestConfig(out_dir=tmp_path / "digests"))
    delivered = Platform()

    async def refuse(ref: Ref, body: str, picture: bytes | None) -> None:
        raise ConnectionError("platform down")

    async def scenario() -> list[str]:
        engine = make_async_engine(db_url)
        first = await deliver_week(engine, config, refuse, week, now)
        scheduler = DigestScheduler(engine, config, delivered, clock=lambda: now)
        again = await scheduler.check_deliveries()
        await engine.dispose()
        return [r.status for r in first + again]

    assert ["failed", "sent"] == asyncio.run(scenario())
    assert [HEAD] == [ref for ref, _ in delivered.sent]
