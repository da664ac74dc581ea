"""Async storage operations of the running bot: groups, identities, memberships, audit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.events import Member
from metrics.models import (
    Account,
    AuditEvent,
    Group,
    Identity,
    Membership,
    Message,
    MessageMention,
    Person,
)

OPTED_OUT_NAME = "已退出成员"


@dataclass(frozen=True, slots=True)
class IdentityRef:
    identity_id: int
    person_id: int
    opted_out: bool


async def resolve_identity(
    conn: AsyncConnection, platform: str, external_id: str, name: str, now: datetime
) -> IdentityRef:
    """The identity row for an account, created (with an automatic person) on first sight."""
    row = (
        await conn.execute(
            select(Identity.id, Identity.person_id, Identity.display_name, Person.opted_out)
            .join(Person, Person.id == Identity.person_id)
            .where(Identity.platform == platform, Identity.external_id == external_id)
        )
    ).first()
    if row is not None:
        if name and not row.opted_out and row.display_name != name:
            await conn.execute(
                update(Identity).where(Identity.id == row.id).values(display_name=name)
            )
        return IdentityRef(row.id, row.person_id, row.opted_out)
    person_id = (
        await conn.execute(
            insert(Person)
            .values(name=name or external_id, source="auto", is_head=False, opted_out=False)
            .returning(Person.id)
        )
    ).scalar_one()
    identity_id = (
        await conn.execute(
            insert(Identity)
            .values(
                platform=platform,
                external_id=external_id,
                display_name=name,
                person_id=person_id,
                first_seen=now,
            )
            .returning(Identity.id)
        )
    ).scalar_one()
    return IdentityRef(identity_id, person_id, False)


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


async def opt_out(conn: AsyncConnection, person_id: int, at: datetime) -> None:
    """Remove a person's rows; from now on their messages are anonymous counts only."""
    identity_ids = select(Identity.id).where(Identity.person_id == person_id)
    await conn.execute(delete(Membership).where(Membership.identity_id.in_(identity_ids)))
    await conn.execute(delete(MessageMention).where(MessageMention.identity_id.in_(identity_ids)))
    await conn.execute(
        update(Message)
        .where(Message.sender_identity_id.in_(identity_ids))
        .values(sender_identity_id=None, text=None)
    )
    await conn.execute(
        update(AuditEvent)
        .where(AuditEvent.actor_identity_id.in_(identity_ids))
        .values(actor_identity_id=None)
    )
    await conn.execute(
        update(Identity).where(Identity.person_id == person_id).values(display_name="")
    )
    await conn.execute(
        update(Person)
        .where(Person.id == person_id)
        .values(
            opted_out=True,
            opted_out_at=at,
            name=OPTED_OUT_NAME,
            self_reported_groups=None,
            self_reported_at=None,
        )
    )


async def opt_in(conn: AsyncConnection, person_id: int, name: str) -> None:
    await conn.execute(
        update(Person)
        .where(Person.id == person_id)
        .values(opted_out=False, opted_out_at=None, name=name or OPTED_OUT_NAME)
    )


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
