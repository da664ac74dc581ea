"""The operator's roster in the database: people, their units and accounts on both platforms.

The file format and its checks live in ``bot/roster_file.py`` (see docs/roster.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from bot.config import Config
from bot.roster_file import (
    COLUMNS,
    RosterEntry,
    RosterError,
    RosterFile,
    parse_roster,
    read_roster,
    write_roster,
)
from metrics.models import Identity, Person

__all__ = [
    "COLUMNS",
    "RosterEntry",
    "RosterError",
    "RosterFile",
    "apply_roster",
    "config_entries",
    "parse_roster",
    "read_roster",
    "write_roster",
]


def config_entries(config: Config) -> list[RosterEntry]:
    """People listed under [[units]] heads/members, for deployments without a roster file."""
    out: dict[tuple[str, str], RosterEntry] = {}
    for unit in config.units:
        for ref, head in [(r, True) for r in unit.heads] + [(r, False) for r in unit.members]:
            key = (ref.platform, ref.user_id)
            if key in out and out[key].is_head:
                continue
            out[key] = RosterEntry(
                name=ref.user_id,
                unit=unit.name,
                wechat_id=ref.user_id if ref.platform == "wechat" else "",
                qq_id=ref.user_id if ref.platform == "qq" else "",
                is_head=head,
            )
    return list(out.values())


def apply_roster(conn: Connection, entries: Iterable[RosterEntry], now: datetime) -> int:
    """Map identities to roster people; returns how many people were written.

    An identity first seen in a group got an automatic person; the roster moves
    it to the roster person, so both platforms count as one cadre.
    """
    written = 0
    for e in entries:
        idents = e.identities()
        existing = conn.execute(
            select(
                Identity.id,
                Identity.platform,
                Identity.external_id,
                Identity.person_id,
                Person.source,
            )
            .join(Person, Person.id == Identity.person_id)
            .where(Identity.platform.in_([p for p, _ in idents]))
            .where(Identity.external_id.in_([x for _, x in idents]))
        ).all()
        existing = [r for r in existing if (r.platform, r.external_id) in idents]
        roster_person = next((r.person_id for r in existing if r.source == "roster"), None)
        values = {
            "unit": e.unit,
            "department": e.department or None,
            "title": e.title or None,
            "is_head": e.is_head,
            "source": "roster",
        }
        if roster_person is None:
            roster_person = conn.execute(
                insert(Person).values(name=e.name, opted_out=False, **values).returning(Person.id)
            ).scalar_one()
        else:
            conn.execute(update(Person).where(Person.id == roster_person).values(**values))
            conn.execute(
                update(Person)
                .where(Person.id == roster_person, Person.opted_out.is_(False))
                .values(name=e.name)
            )
        for platform, external_id in idents:
            row = next(
                (r for r in existing if (r.platform, r.external_id) == (platform, external_id)),
                None,
            )
            if row is None:
                conn.execute(
                    insert(Identity).values(
                        platform=platform,
                        external_id=external_id,
                        display_name=e.name,
                        person_id=roster_person,
                        first_seen=now,
                    )
                )
            elif row.person_id != roster_person:
                old = row.person_id
                conn.execute(
                    update(Identity).where(Identity.id == row.id).values(person_id=roster_person)
                )
                _carry_opt_out(conn, old, roster_person)
        written += 1
    return written


def _carry_opt_out(conn: Connection, old: int, new: int) -> None:
    """An opt-out given on one platform holds for the merged person too."""
    opted = conn.execute(select(Person.opted_out).where(Person.id == old)).scalar_one()
    if opted:
        conn.execute(
            update(Person).where(Person.id == new).values(opted_out=True, name="已退出成员")
        )
