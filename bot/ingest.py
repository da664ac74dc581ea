"""Batched, idempotent recording of message metadata (flush on size, interval and shutdown).

Two kinds of failure are told apart. When *the database* cannot be written
(disk full, read-only, locked, server gone) every record fails: the buffer is
kept and retried, and what is still buffered at shutdown goes to the spill file.
When *a record* is bad (a string the driver cannot encode, a value too long for
its column) only it fails: the batch is split until the bad records are found,
they are set aside in ``quarantined_messages`` and everything else is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.edge import LogThrottle
from bot.events import BotError
from bot.ingest_sql import error_kinds, quarantine_records, write_records
from bot.records import MessageRecord
from bot.spill import SpillFile

__all__ = ["DatabaseUnavailable", "MessageRecord", "Recorder", "is_unavailable"]

log = logging.getLogger(__name__)
_throttle = LogThrottle(log)

# While the database refuses writes, at most this many records wait in memory; the
# oldest go to the spill file beyond it (an outage at 300 msg/s is a million an hour).
MAX_BUFFERED = 100_000
# Rows per INSERT: 18 parameters each must stay under SQLite's 32,766-variable limit,
# whatever batch_size says (a too-large statement fails like an unavailable database).
_MAX_ROWS_PER_STATEMENT = 1000


class DatabaseUnavailable(BotError):
    """The database cannot be written now; buffered records are kept for a retry."""


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database, not the data, is the problem.

    OperationalError is what SQLite gives for a full disk, a read-only file, a
    held lock or an unopenable file, and what the PostgreSQL drivers give for a
    lost server; the pool's timeout and OS errors are the same kind of trouble.
    """
    return isinstance(
        error,
        sa_exc.OperationalError
        | sa_exc.InterfaceError
        | sa_exc.TimeoutError
        | sa_exc.DisconnectionError
        | OSError
        | DatabaseUnavailable,
    )


class Recorder:
    """Buffers records and writes them in batches; a message id is stored once.

    ``add`` never waits for the database: it only appends and, once
    ``batch_size`` records wait, wakes the writer (``run``), which also flushes
    every ``flush_seconds``. ``close`` flushes what is left and, if the
    database cannot take it, writes it to ``spill``.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        batch_size: int = 200,
        flush_seconds: float = 2.0,
        on_flush: Callable[[int], None] | None = None,
        spill: SpillFile | None = None,
        max_buffered: int = MAX_BUFFERED,
    ) -> None:
        self._engine = engine
        self._batch_size = batch_size
        self._chunk = max(1, min(batch_size, _MAX_ROWS_PER_STATEMENT))
        self._flush_seconds = flush_seconds
        self._buffer: list[MessageRecord] = []
        self._lock = asyncio.Lock()
        self._closed = asyncio.Event()
        self._due = asyncio.Event()
        self._on_flush = on_flush
        self.spill = spill
        self._max_buffered = max_buffered
        self._spilled_while_running = False
        self.written = 0  # new rows stored by this recorder
        self.quarantined = 0
        self.spilled = 0
        self.lost = 0
        self.failing_since: datetime | None = None  # set while the database refuses writes

    @property
    def pending(self) -> int:
        return len(self._buffer)

    async def add(self, record: MessageRecord) -> None:
        self._buffer.append(record)
        if len(self._buffer) >= self._batch_size:
            self._due.set()

    async def run(self) -> None:
        """Flush on size or interval until ``close``; failures are retried, not raised."""
        while not self._closed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._due.wait(), timeout=self._flush_seconds)
            self._due.clear()
            if self._closed.is_set():
                break
            try:
                await self.flush()
                if self._spilled_while_running:
                    # The database takes writes again: what overflowed goes in now.
                    self._spilled_while_running = False
                    await self.replay()
            except DatabaseUnavailable as e:
                _throttle.error(
                    "flush-unavailable", "%s; %d messages kept in memory", e, self.pending
                )
                if self.pending > self._max_buffered:
                    async with self._lock:
                        self._spilled_while_running |= self._spill_buffer()
                # Do not spin on a broken database: wait a whole interval.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closed.wait(), timeout=self._flush_seconds)

    async def close(self) -> None:
        """Final flush; what cannot be written goes to the spill file, else counts as lost."""
        self._closed.set()
        self._due.set()
        try:
            await self.flush()
        except DatabaseUnavailable as e:
            log.error("the last %d messages cannot be written: %s", self.pending, e)
        if self._buffer:
            self._spill_buffer()

    async def flush(self) -> int:
        """Write everything buffered; raise DatabaseUnavailable (keeping the rest) if it cannot."""
        async with self._lock:
            before = self.written
            try:
                while self._buffer:
                    await self._flush_chunk(self._buffer[: self._chunk])
            finally:
                inserted = self.written - before
                if inserted and self._on_flush:
                    self._on_flush(inserted)
            if self.failing_since is not None:
                log.warning(
                    "the database takes writes again (failing since %s)", self.failing_since
                )
                self.failing_since = None
            return inserted

    async def replay(self) -> int:
        """Write the records of the spill file, then remove it; returns how many there were."""
        if self.spill is None or not self.spill.paths():
            return 0
        where = ", ".join(map(str, self.spill.paths()))
        records = self.spill.read()
        before = self.written
        self._buffer[:0] = records
        try:
            await self.flush()
        except DatabaseUnavailable:
            # The file keeps them; a later close must not spill them a second time.
            replayed = {id(r) for r in records}
            self._buffer = [r for r in self._buffer if id(r) not in replayed]
            raise
        self.spill.clear()
        self.spilled = max(0, self.spilled - len(records))
        log.warning(
            "replayed %d spilled messages from %s (%d new, the rest were stored already)",
            len(records),
            where,
            self.written - before,
        )
        return len(records)

    async def _flush_chunk(self, chunk: list[MessageRecord]) -> None:
        """Write ``chunk``, isolating bad records; remove what is done from the buffer."""
        done: list[MessageRecord] = []
        try:
            try:
                await self._commit(chunk, done)
            except DatabaseUnavailable:
                raise
            except Exception as first:
                bad = await self._isolate(chunk, first, done)
                if not done and len(bad) > 1:
                    # Nothing in the batch could be written: that is the database's
                    # doing (or ours), not every single record's. Keep them all.
                    raise DatabaseUnavailable(
                        f"no record of a batch of {len(chunk)} could be written: "
                        + error_kinds(first)
                    ) from first
                await self._set_aside(bad)
                done += [r for r, _ in bad]
        finally:
            gone = {id(r) for r in done}
            self._buffer = [r for r in self._buffer if id(r) not in gone]

    async def _commit(self, records: list[MessageRecord], done: list[MessageRecord]) -> None:
        try:
            async with self._engine.begin() as conn:
                inserted = await write_records(conn, records)
        except Exception as e:
            if is_unavailable(e):
                self.failing_since = self.failing_since or datetime.now(UTC)
                raise DatabaseUnavailable(f"the database cannot be written: {_why(e)}") from e
            raise
        done += records
        self.written += inserted

    async def _isolate(
        self, records: list[MessageRecord], error: Exception, done: list[MessageRecord]
    ) -> list[tuple[MessageRecord, Exception]]:
        """Split ``records`` (which failed with ``error``) until each bad one stands alone.

        A batch with one bad record costs about two transactions per halving.
        """
        if len(records) == 1:
            return [(records[0], error)]
        bad = []
        mid = len(records) // 2
        for half in (records[:mid], records[mid:]):
            try:
                await self._commit(half, done)
            except DatabaseUnavailable:
                raise
            except Exception as e:
                bad += await self._isolate(half, e, done)
        return bad

    async def _set_aside(self, bad: list[tuple[MessageRecord, Exception]]) -> None:
        try:
            async with self._engine.begin() as conn:
                await quarantine_records(conn, bad, datetime.now(UTC))
        except Exception as e:
            raise DatabaseUnavailable(f"bad records cannot be set aside: {_why(e)}") from e
        self.quarantined += len(bad)
        for record, error in bad:
            log.warning(
                "set aside %s message %.40s of group %s in quarantined_messages: %s",
                record.platform,
                record.platform_msg_id,
                record.group_id,
                type(error).__name__,
            )

    def _spill_buffer(self) -> bool:
        """Move the buffer to the spill file; True if it is there now.

        At close a failure loses the records (and says so); while running they
        stay in memory instead.
        """
        count, closing = len(self._buffer), self._closed.is_set()
        try:
            if self.spill is None:
                raise OSError("no spill file is configured")
            path = self.spill.write(self._buffer)
        except OSError as e:
            if closing:
                self.lost += count
                log.error("%d messages lost: they could not be spilled either (%s)", count, e)
                self._buffer.clear()
            else:
                _throttle.error("spill-failed", "cannot spill %d messages: %s", count, e)
            return False
        self.spilled += count
        self._buffer.clear()
        when = "at the next start" if closing else "once the database takes writes again"
        log.warning("%d messages spilled to %s; they are written %s", count, path, when)
        return True


def _why(error: BaseException) -> str:
    orig = getattr(error, "orig", None)  # the driver's message, without SQL parameters
    return str(orig if orig is not None else error)
