"""Weekly digest scheduling with APScheduler, with catch-up after downtime."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Config, cron_trigger
from bot.delivery import (
    STUCK_AFTER,
    Delivery,
    Sender,
    completed_week,
    deliver_week,
    stuck_deliveries,
    weeks_to_retry,
)
from bot.store import purge_older_than
from metrics.models import Message

log = logging.getLogger(__name__)


def make_trigger(cron: str, tz: str) -> CronTrigger:
    trigger: CronTrigger = cron_trigger(cron, tz)
    return trigger


def previous_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The last time the trigger fired at or before ``now`` (within the past 8 days)."""
    t: datetime | None = trigger.get_next_fire_time(None, now - timedelta(days=8))
    last = None
    while t is not None and t <= now:
        last = t
        t = trigger.get_next_fire_time(t, t + timedelta(seconds=1))
    return last


# How often failed sends are retried and abandoned ("stuck") sends looked for.
CHECK_INTERVAL = timedelta(minutes=10)


class DigestScheduler:
    """Sends the digest on the configured cron; on start, catches up a missed run.

    Delivery claims each (unit, week, recipient) before sending, so a catch-up after
    a restart never sends anything twice. Every ``CHECK_INTERVAL`` it retries failed
    sends of the last two weeks and warns once about each send stuck in ``sending``.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        config: Config,
        send: Sender,
        *,
        clock: Callable[[], datetime],
        on_delivered: Callable[[list[Delivery]], None] | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.send = send
        self.clock = clock
        self.trigger = make_trigger(config.digest.cron, config.timezone)
        self.scheduler = AsyncIOScheduler(timezone=config.timezone)
        self.on_delivered = on_delivered
        self._reported: set[tuple[str, str, str]] = set()
        self._jobs: set[asyncio.Task[Any]] = set()

    async def run_once(self, fire_time: datetime | None = None) -> list[Delivery]:
        fire = fire_time or self.clock()
        week = completed_week(fire, self.config.timezone)
        results = await deliver_week(self.engine, self.config, self.send, week, self.clock())
        sent = sum(r.status == "sent" for r in results)
        log.info("digest %s: %d sent, %d results", week, sent, len(results))
        await self.report_stuck()
        if self.on_delivered:
            self.on_delivered(results)
        return results

    async def report_stuck(self) -> int:
        """Warn once per stuck send; returns how many are stuck now."""
        async with self.engine.connect() as conn:
            stuck = await conn.run_sync(stuck_deliveries, self.clock())
        for s in stuck:
            key = (s.unit, s.week, str(s.recipient))
            if key in self._reported:
                continue
            self._reported.add(key)
            log.warning(
                "digest %s for %s to %s has been 'sending' since %s (over %d minutes): the bot"
                " stopped between sending and recording it, so it may or may not have arrived."
                " It is not sent again on its own; after checking with the recipient run"
                " `jianfu delivery retry --week %s --unit %s --to %s`",
                s.week,
                s.unit,
                s.recipient,
                s.since.isoformat(timespec="seconds"),
                STUCK_AFTER // timedelta(minutes=1),
                s.week,
                s.unit,
                s.recipient,
            )
        return len(stuck)

    async def check_deliveries(self) -> list[Delivery]:
        """Retry the last two weeks' failed sends (and released stuck ones); report stuck ones."""
        now = self.clock()
        async with self.engine.connect() as conn:
            due = await conn.run_sync(weeks_to_retry, now, self.config.timezone)
        results: list[Delivery] = []
        for week, unit_names in sorted(due.items()):
            results += await deliver_week(
                self.engine, self.config, self.send, week, now, only_units=unit_names
            )
        await self.report_stuck()
        if results and self.on_delivered:
            self.on_delivered(results)
        return results

    async def purge(self) -> int:
        """Apply the retention period: message metadata older than it is deleted."""
        days = self.config.privacy.retention_days
        if days <= 0:
            return 0
        async with self.engine.begin() as conn:
            n = await purge_older_than(conn, self.clock() - timedelta(days=days))
        if n:
            log.info("retention: deleted %d messages older than %d days", n, days)
        return n

    async def _missed_week_has_data(self, fire: datetime) -> bool:
        week = completed_week(fire, self.config.timezone)
        async with self.engine.connect() as conn:
            n = (await conn.execute(select(func.count()).where(Message.week == week))).scalar_one()
        return bool(n)

    async def start(self) -> None:
        self.scheduler.add_job(
            self._tracked,
            self.trigger,
            args=[self.run_once],
            id="weekly-digest",
            coalesce=True,
            misfire_grace_time=6 * 3600,
            replace_existing=True,
        )
        self.scheduler.add_job(
            self._tracked,
            CronTrigger(hour=3, minute=17, timezone=self.config.timezone),
            args=[self.purge],
            id="retention",
            coalesce=True,
            replace_existing=True,
        )
        self.scheduler.add_job(
            self._tracked,
            "interval",
            args=[self.check_deliveries],
            seconds=CHECK_INTERVAL.total_seconds(),
            id="delivery-check",
            coalesce=True,
            replace_existing=True,
            # Also once at start: sends released while the bot was down go out now.
            next_run_time=datetime.now(UTC),
        )
        prev = previous_fire_time(self.trigger, self.clock())
        if prev is not None and await self._missed_week_has_data(prev):
            # Down at the scheduled time, or just started after it: send what is
            # missing now. Already-sent digests are skipped by delivery.
            self.scheduler.add_job(
                self._tracked,
                args=[self.run_once, prev],
                id="digest-catch-up",
                next_run_time=datetime.now(prev.tzinfo),
            )
        self.scheduler.start()

    async def _tracked(self, job: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """Run one scheduled job so that ``stop`` can wait for it instead of killing it."""
        task = asyncio.current_task()
        assert task is not None
        self._jobs.add(task)
        try:
            return await job(*args)
        except asyncio.CancelledError:
            # Only ``stop`` cancels jobs, after they overran its grace period; the job
            # is retried by the next run (deliveries are claimed, purges idempotent).
            log.info("scheduled job %s interrupted by shutdown", job.__name__)
            return None
        finally:
            self._jobs.discard(task)

    async def stop(self, grace: float = 5.0) -> None:
        """Stop scheduling; let running jobs finish for up to ``grace`` seconds, then cancel."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if not self._jobs:
            return
        _, late = await asyncio.wait(set(self._jobs), timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
