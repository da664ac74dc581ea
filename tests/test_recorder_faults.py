"""The recorder against real SQLite failures: a poison record, a full database, a read-only one."""

from __future__ import annotations

import asyncio
import logging
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import store
from bot.adapters.edge import LogThrottle
from bot.ingest import DatabaseUnavailable, Recorder
from bot.records import MessageRecord
from bot.simulator.demo import wait_until
from bot.spill import SpillFile
from metrics.db import make_async_engine, sqlite_path

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def record(gid: int, n: int, **overrides: Any) -> MessageRecord:
    """A plain group message record, the n-th of a run."""
    fields: dict[str, Any] = {
        "platform": "qq",
        "platform_msg_id": str(1000 + n),
        "group_id": gid,
        "sender_id": str(20000 + n % 7),
        "sender_name": f"成员{n % 7}",
        "sender_role": "member",
        "sent_at": T0 + timedelta(seconds=n),
        "week": "2026-W48",
        "band": "work",
        "msg_type": "text",
        "length": 4,
        "mention_all": False,
        "mention_ids": (),
        "labels": (),
        "is_demand": False,
        "is_ack": False,
        "deadline_at": None,
        "fingerprint": None,
        "reply_to": None,
        "text": "收到" * 200,
    }
    return MessageRecord(**(fields | overrides))


async def make_group(engine: AsyncEngine) -> int:
    async with engine.begin() as conn:
        gid, _, _ = await store.upsert_group(
            conn, "qq", "123456", name="工作群", owner_id=None, unit=None, now=T0
        )
    return gid


async def count(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT COUNT(*) FROM {table}"))).scalar_one())


def limit_writes(engine: AsyncEngine, pragma: Callable[[], str | None]) -> None:
    """Run ``pragma()`` (if any) on every new connection: a real SQLite limit, not a stand-in."""

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        sql = pragma()
        if sql:
            cur = dbapi_conn.cursor()
            cur.execute(sql)
            cur.close()

    event.listen(engine.sync_engine, "connect", on_connect)


async def test_a_poison_record_among_200_is_set_aside_and_the_rest_recorded(
    any_db_url: str,
) -> None:
    """199 of 200 are stored, the bad one is quarantined with its id and reason, later ones flow."""
    engine = make_async_engine(any_db_url)
    gid = await make_group(engine)
    recorder = Recorder(engine, batch_size=200)
    batch = [record(gid, n) for n in range(200)]
    # A new sender whose card holds a lone surrogate, as a frame once delivered it.
    batch[137] = record(gid, 137, sender_id="29999", sender_name="王五\ud83d")
    for r in batch:
        await recorder.add(r)
    await recorder.flush()
    for n in range(200, 210):
        await recorder.add(record(gid, n))
    await recorder.flush()
    async with engine.connect() as conn:
        bad = (
            await conn.execute(
                text("SELECT platform, platform_msg_id, group_id, sent_at, reason FROM quarantined_messages")
            )
        ).one()
    assert 209 == await count(engine, "messages")
    assert ("qq", "1137", gid) == tuple(bad[:3])
    assert bad.sent_at is not None
    assert "UnicodeEncodeError (surrogates not allowed)" in bad.reason
    assert "王五" not in bad.reason  # kinds of error only: no name or text is kept here
    assert (209, 1, 0) == (recorder.written, recorder.quarantined, recorder.pending)
    await engine.dispose()


async def test_a_full_database_keeps_every_record_instead_of_quarantining_them(
    db_url: str,
) -> None:
    """SQLITE_FULL fails every record: nothing is set aside, everything waits for the retry."""
    engine = make_async_engine(db_url)
    gid = await make_group(engine)
    async with engine.connect() as conn:
        pages = (await conn.execute(text("PRAGMA page_count"))).scalar_one()
    limit: dict[str, str | None] = {"sql": f"PRAGMA max_page_count = {pages}"}
    limit_writes(engine, lambda: limit["sql"])
    await engine.dispose()  # pooled connections pick up the limit
    recorder = Recorder(engine, batch_size=200)
    for n in range(600):
        await recorder.add(record(gid, n))
    with pytest.raises(DatabaseUnavailable, match="full"):
        await recorder.flush()
    assert (600, 0) == (recorder.pending, recorder.quarantined)
    limit["sql"] = None
    await engine.dispose()
    await recorder.flush()
    assert 600 == await count(engine, "messages")
    assert 0 == await count(engine, "quarantined_messages")
    await engine.dispose()


async def test_shutdown_while_full_spills_the_buffer_and_the_next_start_replays_it(
    db_url: str,
) -> None:
    """600 messages that cannot be written at close go to an owner-only file, written next time once."""
    engine = make_async_engine(db_url)
    gid = await make_group(engine)
    async with engine.connect() as conn:
        pages = (await conn.execute(text("PRAGMA page_count"))).scalar_one()
    limit: dict[str, str | None] = {"sql": f"PRAGMA max_page_count = {pages}"}
    limit_writes(engine, lambda: limit["sql"])
    await engine.dispose()
    db = sqlite_path(db_url)
    assert db is not None
    spill = SpillFile.next_to(db)
    recorder = Recorder(engine, batch_size=200, spill=spill)
    for n in range(600):
        await recorder.add(record(gid, n))
    await recorder.close()
    assert (600, 0, 0) == (recorder.spilled, recorder.lost, recorder.written)
    assert [db.with_name(db.name + ".spill.jsonl")] == spill.paths()
    assert 0o600 == stat.S_IMODE(spill.primary.stat().st_mode)

    limit["sql"] = None
    await engine.dispose()
    restarted = Recorder(engine, batch_size=200, spill=SpillFile.next_to(db))
    assert 600 == await restarted.replay()
    assert [] == spill.paths()
    assert 0 == await Recorder(engine, spill=SpillFile.next_to(db)).replay()
    assert 600 == await count(engine, "messages")
    await engine.dispose()


async def test_replaying_a_spill_twice_stores_each_message_once(db_url: str, tmp_path: Path) -> None:
    """Message ids are unique: a spill file replayed after a crash mid-replay counts nothing twice."""
    engine = make_async_engine(db_url)
    gid = await make_group(engine)
    spill = SpillFile(tmp_path / "x.spill.jsonl", fallback_dir=tmp_path / "fallback")
    spill.write([record(gid, n) for n in range(50)])
    await Recorder(engine, spill=spill).replay()
    spill.write([record(gid, n) for n in range(25, 75)])  # half of it again
    await Recorder(engine, spill=spill).replay()
    assert 75 == await count(engine, "messages")
    await engine.dispose()


async def test_a_read_only_database_is_unavailable_not_a_pile_of_bad_records(db_url: str) -> None:
    """Every write refused (SQLITE_READONLY): the batch is kept, not bisected into quarantine."""
    engine = make_async_engine(db_url)
    gid = await make_group(engine)
    limit_writes(engine, lambda: "PRAGMA query_only = ON")
    await engine.dispose()
    recorder = Recorder(engine, batch_size=50)
    for n in range(50):
        await recorder.add(record(gid, n))
    with pytest.raises(DatabaseUnavailable, match="readonly"):
        await recorder.flush()
    assert (50, 0) == (recorder.pending, recorder.quarantined)
    await engine.dispose()


def test_repeated_identical_errors_are_one_line_per_interval_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A thousand identical failures in a minute are one line, then one more with the count."""
    now = [0.0]
    throttle = LogThrottle(logging.getLogger("test.throttle"), interval=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="test.throttle"):
        for _ in range(1000):
            throttle.warning("disk-full", "database or disk is full")
            now[0] += 0.01
        throttle.warning("other", "something else")
        now[0] = 61
        throttle.warning("disk-full", "database or disk is full")
    lines = [r.getMessage() for r in caplog.records]
    assert [
        "database or disk is full",
        "something else",
        "database or disk is full (999 more like this in the last 61s)",
    ] == lines


async def test_a_long_outage_spills_the_overflow_and_writes_it_back_once_the_disk_recovers(
    db_url: str,
) -> None:
    """Memory stays bounded while full; after recovery everything is stored once, the file gone."""
    engine = make_async_engine(db_url)
    gid = await make_group(engine)
    async with engine.connect() as conn:
        pages = (await conn.execute(text("PRAGMA page_count"))).scalar_one()
    limit: dict[str, str | None] = {"sql": f"PRAGMA max_page_count = {pages}"}
    limit_writes(engine, lambda: limit["sql"])
    await engine.dispose()
    db = sqlite_path(db_url)
    assert db is not None
    recorder = Recorder(
        engine, batch_size=100, flush_seconds=0.05, spill=SpillFile.next_to(db), max_buffered=250
    )
    writer = asyncio.create_task(recorder.run())
    for n in range(600):
        await recorder.add(record(gid, n))
        if n % 100 == 99:
            await wait_until(lambda: recorder.pending <= 250, "the overflow to be spilled")
    await wait_until(lambda: recorder.spilled >= 350, "the overflow to be spilled")
    limit["sql"] = None
    await engine.dispose()
    await wait_until(lambda: recorder.written == 600, "everything to be written")
    await recorder.close()
    await writer
    assert (600, 0, 0) == (await count(engine, "messages"), recorder.spilled, recorder.lost)
    assert [] == SpillFile.next_to(db).paths()
    await engine.dispose()


async def test_records_that_can_go_nowhere_are_counted_as_lost_and_said_so(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a spill file a full database at close loses the buffer: counted and logged."""
    engine = make_async_engine(db_url)
    gid = await make_group(engine)
    limit_writes(engine, lambda: "PRAGMA query_only = ON")
    await engine.dispose()
    recorder = Recorder(engine, spill=None)
    for n in range(30):
        await recorder.add(record(gid, n))
    with caplog.at_level(logging.ERROR, logger="bot.ingest"):
        await recorder.close()
    assert (30, 0, 0) == (recorder.lost, recorder.spilled, recorder.pending)
    assert "30 messages lost" in caplog.text
    await engine.dispose()
