"""Batched, idempotent recording of message metadata (flush on size, interval and shutdown)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.anonymise import scrub_mentions
from bot.store import IdentityRef, open_membership, resolve_identity
from metrics.models import Group, Message, MessageMention

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One group message, already classified, waiting to be written."""

    platform: str
    platform_msg_id: str
    group_id: int
    sender_id: str
    sender_name: str
    sender_role: str
    sent_at: datetime
    week: str
    band: str
    msg_type: str
    length: int
    mention_all: bool
    mention_ids: tuple[str, ...]
    labels: tuple[str, ...]
    is_demand: bool
    is_ack: bool
    deadline_at: datetime | None
    fingerprint: int | None
    reply_to: str | None
    text: str | None


def _insert(conn: AsyncConnection, table: Any) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


class Recorder:
    """Buffers records and writes them in batches; a message id is stored once.

    ``flush`` runs when the buffer reaches ``batch_size``, every
    ``flush_seconds`` while ``run`` is active, and on ``close``. A failed flush
    keeps the batch in the buffer so nothing is lost; the next flush retries.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        batch_size: int = 200,
        flush_seconds: float = 2.0,
        on_flush: Callable[[int], None] | None = None,
    ) -> None:
        self._engine = engine
        self._batch_size = batch_size
        self._flush_seconds = flush_seconds
        self._buffer: list[MessageRecord] = []
        self._lock = asyncio.Lock()
        self._closed = asyncio.Event()
        self._on_flush = on_flush
        self.written = 0

    @property
    def pending(self) -> int:
        return len(self._buffer)

    async def add(self, record: MessageRecord) -> None:
        self._buffer.append(record)
        if len(self._buffer) >= self._batch_size:
            await self.flush()

    async def run(self) -> None:
        """Flush periodically until ``close``."""
        while not self._closed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), timeout=self._flush_seconds)
            try:
                await self.flush()
            except Exception:
                log.exception("flushing %d buffered messages failed; will retry", self.pending)

    async def close(self) -> None:
        self._closed.set()
        await self.flush()

    async def flush(self) -> int:
        async with self._lock:
            if not self._buffer:
                return 0
            batch = self._buffer[:]
            async with self._engine.begin() as conn:
                inserted = await self._write(conn, batch)
            del self._buffer[: len(batch)]
            self.written += inserted
            if self._on_flush:
                self._on_flush(inserted)
            return inserted

    async def _write(self, conn: AsyncConnection, batch: list[MessageRecord]) -> int:
        idents: dict[tuple[str, str], IdentityRef] = {}

        async def ident(platform: str, user_id: str, name: str, at: datetime) -> IdentityRef:
            key = (platform, user_id)
            if key not in idents:
                idents[key] = await resolve_identity(conn, platform, user_id, name, at)
            return idents[key]

        rows = []
        mentions: dict[tuple[str, str], list[int]] = {}
        last_at: dict[int, datetime] = {}
        members_checked: set[tuple[int, int]] = set()
        for r in batch:
            sender = await ident(r.platform, r.sender_id, r.sender_name, r.sent_at)
            # A sender we did not know was a member (missed join) becomes one now;
            # once per sender and group in a batch is enough.
            if (r.group_id, sender.identity_id) not in members_checked:
                members_checked.add((r.group_id, sender.identity_id))
                await open_membership(conn, r.group_id, sender, r.sender_role, r.sent_at)
            targets: list[int] = []
            hidden: list[str] = []  # opted-out accounts: counted in mention_count, never named
            for uid in r.mention_ids:
                m = await ident(r.platform, uid, "", r.sent_at)
                if m.opted_out:
                    hidden.append(uid)
                else:
                    targets.append(m.identity_id)
            text = r.text if not hidden or r.text is None else scrub_mentions(r.text, hidden)
            rows.append(
                {
                    "platform": r.platform,
                    "platform_msg_id": r.platform_msg_id,
                    "group_id": r.group_id,
                    "sender_identity_id": None if sender.opted_out else sender.identity_id,
                    "sent_at": r.sent_at,
                    "week": r.week,
                    "band": r.band,
                    "msg_type": r.msg_type,
                    "length": r.length,
                    "mention_all": r.mention_all,
                    "mention_count": len(r.mention_ids),
                    "labels": ",".join(r.labels),
                    "is_demand": r.is_demand,
                    "is_ack": r.is_ack,
                    "deadline_at": r.deadline_at,
                    "fingerprint": r.fingerprint,
                    "reply_to": r.reply_to,
                    "text": None if sender.opted_out else text,
                }
            )
            mentions[(r.platform, r.platform_msg_id)] = targets
            last_at[r.group_id] = max(r.sent_at, last_at.get(r.group_id, r.sent_at))
        stmt = (
            _insert(conn, Message.__table__)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["platform", "platform_msg_id"])
            .returning(Message.id, Message.platform, Message.platform_msg_id)
        )
        new = (await conn.execute(stmt)).all()
        mention_rows = [
            {"message_id": row.id, "identity_id": iid}
            for row in new
            for iid in dict.fromkeys(mentions[(row.platform, row.platform_msg_id)])
        ]
        if mention_rows:
            await conn.execute(insert(MessageMention), mention_rows)
        for gid, at in last_at.items():
            await conn.execute(
                update(Group)
                .where(
                    Group.id == gid,
                    (Group.last_message_at.is_(None)) | (Group.last_message_at < at),
                )
                .values(last_message_at=at)
            )
        return len(new)
