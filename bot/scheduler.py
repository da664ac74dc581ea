"""Weekly digest scheduling with APScheduler, with catch-up after downtime."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Config, ConfigError
from bot.delivery import Delivery, Sender, completed_week, deliver_week
from bot.store import purge_older_than
from metrics.models import Message

log = logging.getLogger(__name__)


def make_trigger(cron: str, tz: str) -> CronTrigger:
    try:
        return CronTrigger.from_crontab(cron, timezone=tz)
    except ValueError as e:
        raise ConfigError(f'digest.cron: "{cron}" is not a crontab expression ({e})') from None


def previous_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The last time the trigger fired at or before ``now`` (within the past 8 days)."""
    t: datetime | None = trigger.get_next_fire_time(None, now - timedelta(days=8))
    last = None
    while t is not None and t <= now:
        last = t
        t = trigger.get_next_fire_time(t, t + timedelta(seconds=1))
    return last


class DigestScheduler:
    """Sends the digest on the configured cron; on start, catches up a missed run.

    Delivery is idempotent per (unit, week, recipient), so a catch-up after a
    restart never sends anything twice.
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

    async def run_once(self, fire_time: datetime | None = None) -> list[Delivery]:
        fire = fire_time or self.clock()
        week = completed_week(fire, self.config.timezone)
        results = await deliver_week(self.engine, self.config, self.send, week, self.clock())
        sent = sum(r.status == "sent" for r in results)
        log.info("digest %s: %d sent, %d results", week, sent, len(results))
        if self.on_delivered:
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
            self.run_once,
            self.trigger,
            id="weekly-digest",
            coalesce=True,
            misfire_grace_time=6 * 3600,
            replace_existing=True,
        )
        self.scheduler.add_job(
            self.purge,
            CronTrigger(hour=3, minute=17, timezone=self.config.timezone),
            id="retention",
            coalesce=True,
            replace_existing=True,
        )
        prev = previous_fire_time(self.trigger, self.clock())
        if prev is not None and await self._missed_week_has_data(prev):
            # Down at the scheduled time, or just started after it: send what is
            # missing now. Already-sent digests are skipped by delivery.
            self.scheduler.add_job(
                self.run_once,
                args=[prev],
                id="digest-catch-up",
                next_run_time=datetime.now(prev.tzinfo),
            )
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
