"""The SQL behind recording: one batch of message records, and records set aside."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.adapters.edge import clean_text
from bot.anonymise import scrub_mentions
from bot.records import MessageRecord
from bot.store import IdentityRef, open_membership, resolve_identity
from metrics.models import Group, Message, MessageMention, QuarantinedMessage


def _insert(conn: AsyncConnection, table: Any) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


async def write_records(conn: AsyncConnection, batch: list[MessageRecord]) -> int:
    """Insert ``batch`` (identities, memberships, mentions, group activity); new rows count.

    A message id already stored is skipped, so writing a record twice stores it once.
    """
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
    # One cached statement run with many parameter sets ("insertmanyvalues"): a
    # .values(rows) statement is compiled afresh for every batch, which cost more
    # than the writing itself at a few hundred messages a second.
    stmt = (
        _insert(conn, Message.__table__)
        .on_conflict_do_nothing(index_elements=["platform", "platform_msg_id"])
        .returning(Message.id, Message.platform, Message.platform_msg_id)
    )
    new = (await conn.execute(stmt, rows)).all()
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


async def quarantine_records(
    conn: AsyncConnection, bad: Iterable[tuple[MessageRecord, BaseException]], now: datetime
) -> None:
    """Set records aside with the reason they failed: where they were, never who or what."""
    rows = [
        {
            "platform": clean_text(str(r.platform), 16),
            "platform_msg_id": clean_text(str(r.platform_msg_id), 128),
            "group_id": r.group_id if isinstance(r.group_id, int) else None,
            "sent_at": _aware_or_none(r.sent_at),
            "quarantined_at": now,
            "reason": clean_text(error_kinds(e), 500),
        }
        for r, e in bad
    ]
    await conn.execute(insert(QuarantinedMessage), rows)


def error_kinds(error: BaseException) -> str:
    """The kinds of error along the chain, never their messages.

    Driver messages quote the offending values (asyncpg: "invalid input for query
    argument $1: '王五…'"), and SQLAlchemy's list the statement's parameters: the
    names and texts an opt-out must be able to erase. Kinds are enough to act on.
    """
    kinds: list[str] = []
    seen: BaseException | None = error
    while seen is not None and len(kinds) < 5:
        kind = type(seen).__name__
        if isinstance(seen, UnicodeEncodeError | UnicodeDecodeError):
            kind += f" ({seen.reason})"  # e.g. "surrogates not allowed"
        if kind not in kinds:
            kinds.append(kind)
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return " ← ".join(kinds)


def _aware_or_none(value: object) -> datetime | None:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return None
