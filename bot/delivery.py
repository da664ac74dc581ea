"""Delivers each unit's weekly digest to its heads: at most once per unit, week and recipient.

A chat platform cannot take part in a database transaction, so no design can promise
exactly once across a crash: a process killed after the platform accepted a message
but before the database recorded it cannot know whether the message went out. The
guarantee is therefore stated exactly:

- Before sending, the (unit, week, recipient) slot is claimed in the ``digests`` table
  (status ``sending``, committed). ``sent`` and ``sending`` slots are never sent again
  automatically, so a digest reaches a head at most once as far as jianfu can tell.
- A send that raised (the platform refused, the connection was down) is ``failed`` and
  is retried by later runs. If a platform reports an error for a message it did deliver
  (a timeout after delivery), that head receives it twice; this is the only case.
- A slot left ``sending`` for longer than ``STUCK_AFTER`` means the bot stopped between
  sending and recording. It is reported (a warning in the log, and
  ``jianfu delivery status``) and sent again only when the operator, having checked
  with the recipient, runs ``jianfu delivery retry``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Config, Ref
from bot.store import find_identity
from metrics.calendar import WorkSchedule, iso_week
from metrics.chart import render_week_chart
from metrics.digest import build_digest, render_digest
from metrics.models import Digest
from metrics.queries import heads, units

log = logging.getLogger(__name__)

Sender = Callable[[Ref, str, bytes | None], Awaitable[None]]

# A digest takes seconds to send (text, then the picture, at the platform's pace);
# a slot claimed this long ago and still "sending" was abandoned by a stopped process.
STUCK_AFTER = timedelta(minutes=30)
RELEASED_NOTE = "操作员确认对方没有收到，允许重发"


@dataclass(frozen=True, slots=True)
class Delivery:
    unit: str
    week: str
    recipient: Ref
    status: str  # sent / failed / skipped (already sent or in flight)
    body: str


def completed_week(fire_time: datetime, tz: str) -> str:
    """The last whole ISO week before ``fire_time`` (a Monday run reports the week just ended)."""
    local = fire_time.astimezone(ZoneInfo(tz))
    monday = local - timedelta(days=local.weekday())
    return iso_week(monday - timedelta(days=1), tz)


def recipients(conn: Connection, config: Config) -> dict[str, list[Ref]]:
    """Unit -> heads, from the roster in the database plus [[units]] heads in the config."""
    out: dict[str, list[Ref]] = {}
    for unit in units(conn):
        out[unit] = [Ref(p, x) for p, x, _ in heads(conn, unit)]  # type: ignore[arg-type]
    for u in config.units:
        refs = out.setdefault(u.name, [])
        # Like roster heads (queries.heads): a head who opted out is not written to,
        # and their id is not stored again in digests.recipient_id.
        refs.extend(r for r in u.heads if r not in refs and not _opted_out(conn, r))
    return {u: refs for u, refs in out.items() if refs}


def _opted_out(conn: Connection, ref: Ref) -> bool:
    row = find_identity(conn, ref.platform, ref.user_id)
    return row is not None and bool(row.opted_out)


def _slot(unit: str, week: str, ref: Ref) -> tuple[ColumnElement[bool], ...]:
    """The (unit, week, recipient) row that makes a digest go out at most once."""
    return (
        Digest.unit == unit,
        Digest.week == week,
        Digest.recipient_platform == ref.platform,
        Digest.recipient_id == ref.user_id,
    )


def _claim(conn: Connection, unit: str, week: str, ref: Ref, body: str, now: datetime) -> bool:
    """Reserve the (unit, week, recipient) slot; False when it was sent or is being sent."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    inserted = conn.execute(
        dialect.insert(Digest.__table__)
        .values(
            unit=unit,
            week=week,
            recipient_platform=ref.platform,
            recipient_id=ref.user_id,
            status="sending",
            created_at=now,
            body=body,
        )
        .on_conflict_do_nothing()
        .returning(Digest.id)
    ).first()
    if inserted is not None:
        return True
    # A failed earlier attempt may be retried; "sent" and "sending" are final.
    # created_at becomes the time of this attempt, which is what "stuck" is measured from.
    retried = conn.execute(
        update(Digest)
        .where(*_slot(unit, week, ref), Digest.status == "failed")
        .values(status="sending", body=body, error=None, created_at=now)
        .returning(Digest.id)
    ).first()
    return retried is not None


def _finish(
    conn: Connection, unit: str, week: str, ref: Ref, status: str, now: datetime, error: str | None
) -> None:
    conn.execute(
        update(Digest)
        .where(*_slot(unit, week, ref))
        .values(status=status, sent_at=now if status == "sent" else None, error=error)
    )


def save_digest(out_dir: Path, unit: str, week: str, body: str) -> Path:
    folder = out_dir / week
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{unit.replace('/', '_')}.txt"
    path.write_text(body + "\n", encoding="utf-8")
    return path


async def _picture(
    engine: AsyncEngine, week: str, schedule: WorkSchedule, unit: str, path: Path
) -> bytes | None:
    """The digest's heat map and heaviest loads as PNG, saved next to the text."""
    try:
        async with engine.connect() as conn:
            await conn.run_sync(render_week_chart, week, schedule, unit, path)
        return path.read_bytes()
    except Exception:
        # The picture is an extra: the text digest still goes out without it.
        log.exception("rendering the %s chart for %s failed", week, unit)
        return None


@dataclass(frozen=True, slots=True)
class StuckDelivery:
    """A slot claimed for sending and never finished: the digest may or may not have arrived."""

    unit: str
    week: str
    recipient: Ref
    since: datetime


def stuck_deliveries(
    conn: Connection, now: datetime, week: str | None = None, older_than: timedelta = STUCK_AFTER
) -> list[StuckDelivery]:
    """Slots still ``sending`` more than ``older_than`` after they were claimed."""
    query = select(
        Digest.unit, Digest.week, Digest.recipient_platform, Digest.recipient_id, Digest.created_at
    ).where(Digest.status == "sending", Digest.created_at < now - older_than)
    if week is not None:
        query = query.where(Digest.week == week)
    rows = conn.execute(query.order_by(Digest.week, Digest.unit, Digest.recipient_id)).all()
    return [
        StuckDelivery(r.unit, r.week, Ref(r.recipient_platform, r.recipient_id), r.created_at)
        for r in rows
    ]


def release_stuck(
    conn: Connection,
    now: datetime,
    week: str,
    unit: str | None = None,
    recipient: Ref | None = None,
) -> list[StuckDelivery]:
    """Mark stuck slots ``failed`` so the next run sends them again (the operator's decision)."""
    released = [
        s
        for s in stuck_deliveries(conn, now, week)
        if (unit is None or s.unit == unit) and (recipient is None or s.recipient == recipient)
    ]
    for s in released:
        conn.execute(
            update(Digest)
            .where(*_slot(s.unit, s.week, s.recipient), Digest.status == "sending")
            .values(status="failed", error=RELEASED_NOTE)
        )
    return released


def weeks_to_retry(conn: Connection, now: datetime, tz: str) -> dict[str, set[str]]:
    """Week -> units with ``failed`` slots, for the last two completed weeks only.

    Older failures (a head who left, say) are not retried for ever; they stay visible
    in ``jianfu delivery status``.
    """
    recent = {completed_week(now, tz), completed_week(now - timedelta(days=7), tz)}
    rows = conn.execute(
        select(Digest.week, Digest.unit)
        .where(Digest.status == "failed", Digest.week.in_(recent))
        .distinct()
    ).all()
    out: dict[str, set[str]] = {}
    for week, unit in rows:
        out.setdefault(week, set()).add(unit)
    return out


async def deliver_week(
    engine: AsyncEngine,
    config: Config,
    send: Sender,
    week: str,
    now: datetime,
    only_units: set[str] | None = None,
) -> list[Delivery]:
    """Render and send every unit's digest for ``week`` to its heads, at most once each."""
    async with engine.connect() as conn:
        targets = await conn.run_sync(recipients, config)
    if only_units is not None:
        targets = {u: refs for u, refs in targets.items() if u in only_units}
    results: list[Delivery] = []
    for unit, refs in sorted(targets.items()):
        schedule = config.schedule_for(unit)
        try:
            async with engine.connect() as conn:
                data = await conn.run_sync(
                    build_digest, week, schedule, unit, settings=config.digest.settings
                )
            body = render_digest(data, config.digest.top_n)
            text_path = save_digest(config.digest.out_dir, unit, week, body)
            picture = await _picture(engine, week, schedule, unit, text_path.with_suffix(".png"))
        except Exception as e:
            # One unit's broken digest must not stop the others; nothing is claimed,
            # so the next run retries it.
            log.exception("building the %s digest for %s failed", week, unit)
            results += [
                Delivery(unit, week, ref, "failed", f"{type(e).__name__}: {e}") for ref in refs
            ]
            continue
        for ref in refs:
            async with engine.begin() as conn:
                claimed = await conn.run_sync(_claim, unit, week, ref, body, now)
            if not claimed:
                results.append(Delivery(unit, week, ref, "skipped", body))
                continue
            status, error = "sent", None
            try:
                await send(ref, body, picture)
            except Exception as e:  # a failed send is recorded and retried on the next run
                status, error = "failed", f"{type(e).__name__}: {e}"
                log.warning("digest for %s %s to %s failed: %s", unit, week, ref, error)
            async with engine.begin() as conn:
                await conn.run_sync(_finish, unit, week, ref, status, now, error)
            results.append(Delivery(unit, week, ref, status, body))
    return results
