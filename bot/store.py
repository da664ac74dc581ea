"""Storage operations of the running bot: groups, identities, memberships, opt-out, audit."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.anonymise import OPTED_OUT_NAME, database_salt, is_pseudonym, pseudonym, scrubber
from bot.events import Member
from metrics.models import (
    PSEUDONYM_PREFIX,
    Account,
    AuditEvent,
    Digest,
    Group,
    Identity,
    Membership,
    Message,
    MessageMention,
    Person,
)

log = logging.getLogger(__name__)

@dataclass(frozen=True, slots=True)
class IdentityRef:
    identity_id: int
    person_id: int
    opted_out: bool


@dataclass(frozen=True, slots=True)
class Forgotten:
    """Who opted out, and the names and ids removed from the database, for copies outside it."""

    person_id: int
    terms: tuple[str, ...]


_IDENTITY = select(
    Identity.id,
    Identity.person_id,
    Identity.external_id,
    Identity.display_name,
    Person.opted_out,
).join(Person, Person.id == Identity.person_id)


def find_identity(conn: Connection, platform: str, external_id: str) -> Row[Any] | None:
    """The identity of an account, also when it opted out and only its pseudonym is stored."""
    where = Identity.platform == platform
    row = conn.execute(_IDENTITY.where(where, Identity.external_id == external_id)).first()
    if row is not None or is_pseudonym(external_id):
        return row
    # Computing the pseudonym is deliberately slow: only when someone on this platform opted out.
    anyone = select(Identity.id).where(where, Identity.external_id.startswith(PSEUDONYM_PREFIX))
    if conn.execute(anyone.limit(1)).first() is None:
        return None
    hidden = pseudonym(database_salt(conn), platform, external_id)
    return conn.execute(_IDENTITY.where(where, Identity.external_id == hidden)).first()


def resolve_identity_sync(
    conn: Connection, platform: str, external_id: str, name: str, now: datetime
) -> IdentityRef:
    """The identity row for an account, created (with an automatic person) on first sight."""
    row = find_identity(conn, platform, external_id)
    if row is not None:
        values: dict[str, str] = {}
        if not row.opted_out:
            if row.external_id != external_id:
                values["external_id"] = external_id  # opted in again: the id may show again
            if name and row.display_name != name:
                values["display_name"] = name
        if values:
            conn.execute(update(Identity).where(Identity.id == row.id).values(**values))
        return IdentityRef(row.id, row.person_id, row.opted_out)
    person_id = conn.execute(
        insert(Person)
        .values(name=name or external_id, source="auto", is_head=False, opted_out=False)
        .returning(Person.id)
    ).scalar_one()
    identity_id = conn.execute(
        insert(Identity)
        .values(
            platform=platform,
            external_id=external_id,
            display_name=name,
            person_id=person_id,
            first_seen=now,
        )
        .returning(Identity.id)
    ).scalar_one()
    return IdentityRef(identity_id, person_id, False)


async def resolve_identity(
    conn: AsyncConnection, platform: str, external_id: str, name: str, now: datetime
) -> IdentityRef:
    """``resolve_identity_sync`` on an async connection."""
    return await conn.run_sync(resolve_identity_sync, platform, external_id, name, now)


async def shown_account(conn: AsyncConnection, platform: str, external_id: str | None) -> str | None:
    """``external_id`` as it may be stored in a plain column: None for an opted-out account."""
    if not external_id:
        return None
    row = await conn.run_sync(find_identity, platform, external_id)
    return None if row is not None and row.opted_out else external_id


async def upsert_group(
    conn: AsyncConnection,
    platform: str,
    external_id: str,
    *,
    name: str,
    owner_id: str | None,
    unit: str | None,
    now: datetime,
) -> tuple[int, str, bool]:
    """Insert or refresh a group; returns (id, state, needs_announcement).

    A group needs the announcement when it is new, or pending and never told.
    """
    row = (
        await conn.execute(
            select(Group.id, Group.state, Group.announced_at).where(
                Group.platform == platform, Group.external_id == external_id
            )
        )
    ).first()
    owner_id = await shown_account(conn, platform, owner_id)
    if row is None:
        gid = (
            await conn.execute(
                insert(Group)
                .values(
                    platform=platform,
                    external_id=external_id,
                    name=name,
                    owner_external_id=owner_id,
                    unit=unit,
                    state="pending",
                    first_seen=now,
                )
                .returning(Group.id)
            )
        ).scalar_one()
        return gid, "pending", True
    values: dict[str, object] = {}
    if name:
        values["name"] = name
    if owner_id:
        values["owner_external_id"] = owner_id
    if unit:
        values["unit"] = unit
    if values:
        await conn.execute(update(Group).where(Group.id == row.id).values(**values))
    return row.id, row.state, row.state == "pending" and row.announced_at is None


async def set_group_state(
    conn: AsyncConnection, group_id: int, state: str, **values: object
) -> None:
    await conn.execute(update(Group).where(Group.id == group_id).values(state=state, **values))


async def open_membership(
    conn: AsyncConnection, group_id: int, ident: IdentityRef, role: str, at: datetime
) -> None:
    """Record a join unless the identity is already a member or its person opted out."""
    if ident.opted_out:
        return
    current = (
        await conn.execute(
            select(Membership.id, Membership.role).where(
                Membership.group_id == group_id,
                Membership.identity_id == ident.identity_id,
                Membership.left_at.is_(None),
            )
        )
    ).first()
    if current is None:
        await conn.execute(
            insert(Membership).values(
                group_id=group_id, identity_id=ident.identity_id, role=role, joined_at=at
            )
        )
    elif current.role != role:
        await conn.execute(update(Membership).where(Membership.id == current.id).values(role=role))


async def close_membership(
    conn: AsyncConnection, group_id: int, identity_id: int, at: datetime
) -> None:
    await conn.execute(
        update(Membership)
        .where(
            Membership.group_id == group_id,
            Membership.identity_id == identity_id,
            Membership.left_at.is_(None),
        )
        .values(left_at=at)
    )


async def sync_members(
    conn: AsyncConnection, platform: str, group_id: int, members: Iterable[Member], at: datetime
) -> None:
    """Make open memberships match the platform's member list (joins and leaves at ``at``)."""
    seen: set[int] = set()
    for m in members:
        ident = await resolve_identity(conn, platform, m.user_id, m.name, at)
        await open_membership(conn, group_id, ident, m.role, at)
        seen.add(ident.identity_id)
    open_rows = (
        await conn.execute(
            select(Membership.identity_id).where(
                Membership.group_id == group_id, Membership.left_at.is_(None)
            )
        )
    ).scalars()
    for identity_id in set(open_rows) - seen:
        await close_membership(conn, group_id, identity_id, at)


def forget_person(
    conn: Connection, person_id: int, at: datetime, also: Iterable[str] = ()
) -> Forgotten:
    """The one opt-out operation, whatever asked for it (group, private chat, roster merge).

    Afterwards nothing in the database names the person or holds their ids: their
    memberships and mentions are deleted, their messages stay as anonymous counts
    without text, their account ids become pseudonyms (so later messages are still
    recognised as theirs and stay anonymous), group owner/consent columns that
    pointed at them are cleared, and their names and ids are scrubbed from stored
    texts, digests and audit details. ``also`` adds names known only to the caller
    (the sender's current name, a roster name). Returns what was scrubbed, for the
    saved digest files (``bot.saved_digests.forget_in_saved_digests``).
    """
    person = conn.execute(select(Person.name).where(Person.id == person_id)).scalar_one()
    idents = conn.execute(
        select(Identity.id, Identity.platform, Identity.external_id, Identity.display_name).where(
            Identity.person_id == person_id
        )
    ).all()
    ids = [i.id for i in idents]
    plain = [(i.platform, i.external_id) for i in idents if not is_pseudonym(i.external_id)]
    terms = {person, *also, *(i.display_name for i in idents), *(x for _, x in plain)}
    terms -= {"", OPTED_OUT_NAME}
    conn.execute(delete(Membership).where(Membership.identity_id.in_(ids)))
    conn.execute(delete(MessageMention).where(MessageMention.identity_id.in_(ids)))
    conn.execute(
        update(Message)
        .where(Message.sender_identity_id.in_(ids))
        .values(sender_identity_id=None, text=None)
    )
    conn.execute(
        update(AuditEvent).where(AuditEvent.actor_identity_id.in_(ids)).values(actor_identity_id=None)
    )
    _hide_accounts(conn, plain)
    conn.execute(update(Identity).where(Identity.id.in_(ids)).values(display_name=""))
    conn.execute(
        update(Person)
        .where(Person.id == person_id)
        .values(
            opted_out=True,
            opted_out_at=at,
            name=OPTED_OUT_NAME,
            unit=None,
            department=None,
            title=None,
            is_head=False,
            self_reported_groups=None,
            self_reported_at=None,
        )
    )
    scrub = scrubber(terms)
    for model, column in ((Message, "text"), (Digest, "body"), (AuditEvent, "detail")):
        _scrub_column(conn, model, column, terms, scrub)
    return Forgotten(person_id, tuple(sorted(terms)))


def _hide_accounts(conn: Connection, accounts: list[tuple[str, str]]) -> None:
    """Replace each (platform, id) by its pseudonym wherever a plain column holds it."""
    salt = database_salt(conn) if accounts else ""
    for platform, external_id in accounts:
        hidden = pseudonym(salt, platform, external_id)
        conn.execute(
            update(Identity)
            .where(Identity.platform == platform, Identity.external_id == external_id)
            .values(external_id=hidden)
        )
        for account in (Group.owner_external_id, Group.consented_by):
            conn.execute(
                update(Group)
                .where(Group.platform == platform, account == external_id)
                .values({account.key: None})
            )
        # The slot keeps a digest from going out twice; it needs no readable id.
        conn.execute(
            update(Digest)
            .where(Digest.recipient_platform == platform, Digest.recipient_id == external_id)
            .values(recipient_id=hidden)
        )


def _scrub_column(
    conn: Connection, model: Any, column: str, terms: set[str], scrub: Callable[[str], str]
) -> None:
    if not terms:
        return
    value_of = getattr(model, column)
    rows = conn.execute(
        select(model.id, value_of).where(
            or_(*(value_of.contains(t, autoescape=True) for t in terms))
        )
    ).all()
    for row_id, value in rows:
        conn.execute(update(model).where(model.id == row_id).values({column: scrub(value)}))


async def opt_out(
    conn: AsyncConnection, person_id: int, at: datetime, also: Iterable[str] = ()
) -> Forgotten:
    """``forget_person`` on an async connection."""
    return await conn.run_sync(forget_person, person_id, at, tuple(also))


async def opt_in(
    conn: AsyncConnection, person_id: int, platform: str, external_id: str, name: str, now: datetime
) -> None:
    """Count a person again; the account they wrote from shows its id and name again."""
    await conn.execute(
        update(Person)
        .where(Person.id == person_id)
        .values(opted_out=False, opted_out_at=None, name=name or OPTED_OUT_NAME)
    )
    await resolve_identity(conn, platform, external_id, name, now)


async def truncate_wal(engine: AsyncEngine) -> None:
    """Checkpoint and truncate SQLite's write-ahead log after an opt-out.

    Rows are overwritten in place (``PRAGMA secure_delete``), but the WAL file
    keeps old page images, erased names included, until a checkpoint resets it.
    """
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as conn:
        busy, _, _ = (await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).one()
    if busy:
        log.warning("SQLite's log was busy: erased pages stay in it until its next checkpoint")


async def audit(
    conn: AsyncConnection,
    *,
    at: datetime,
    platform: str,
    action: str,
    outcome: str,
    group_id: int | None = None,
    actor_identity_id: int | None = None,
    detail: str = "",
) -> None:
    await conn.execute(
        insert(AuditEvent).values(
            at=at,
            platform=platform,
            group_id=group_id,
            actor_identity_id=actor_identity_id,
            action=action,
            outcome=outcome,
            detail=detail,
        )
    )


async def purge_older_than(conn: AsyncConnection, cutoff: datetime) -> int:
    """Delete message metadata sent before ``cutoff`` (the retention period); returns rows."""
    old = select(Message.id).where(Message.sent_at < cutoff)
    await conn.execute(delete(MessageMention).where(MessageMention.message_id.in_(old)))
    result = await conn.execute(delete(Message).where(Message.sent_at < cutoff))
    return int(result.rowcount or 0)


async def record_login(
    conn: AsyncConnection, platform: str, self_id: str, name: str, at: datetime
) -> None:
    """Remember the bot's own account on a platform (first and last login)."""
    updated = await conn.execute(
        update(Account)
        .where(Account.platform == platform, Account.self_id == self_id)
        .values(name=name, last_seen=at)
    )
    if not updated.rowcount:
        await conn.execute(
            insert(Account).values(
                platform=platform, self_id=self_id, name=name, first_seen=at, last_seen=at
            )
        )
