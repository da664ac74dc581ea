"""The operator's roster in the database: people, their units and accounts on both platforms.

The file format and its checks live in ``bot/roster_file.py`` (see docs/roster.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, exists, insert, select, update

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
from bot.store import Forgotten, find_identity, forget_person
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


@dataclass(frozen=True, slots=True)
class RosterApplied:
    """How many roster people were written, and who was forgotten because they opted out."""

    written: int
    forgotten: tuple[Forgotten, ...] = ()


def apply_roster(conn: Connection, entries: Iterable[RosterEntry], now: datetime) -> RosterApplied:
    """Map identities to roster people.

    An identity first seen in a group got an automatic person; the roster moves
    it to the roster person, so both platforms count as one cadre. An opt-out
    given on any of a person's accounts holds for the whole roster person, through
    the same ``forget_person`` as 退出统计 itself: the roster's name and ids never
    reach the database for them.
    """
    written = 0
    forgotten: list[Forgotten] = []
    for e in entries:
        found = {pair: row for pair in e.identities() if (row := find_identity(conn, *pair))}
        people = {
            p.id: p
            for p in conn.execute(
                select(Person.id, Person.source, Person.opted_out, Person.name).where(
                    Person.id.in_({r.person_id for r in found.values()})
                )
            )
        }
        roster_person = next(
            (r.person_id for r in found.values() if people[r.person_id].source == "roster"), None
        )
        was_opted_out = roster_person is not None and people[roster_person].opted_out
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
            conn.execute(
                update(Person)
                .where(Person.id == roster_person, Person.opted_out.is_(False))
                .values(name=e.name, **values)
            )
        changed, merged_names = False, [e.name]
        for platform, external_id in e.identities():
            row = found.get((platform, external_id))
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
                changed = True
            elif row.person_id != roster_person:
                conn.execute(
                    update(Identity).where(Identity.id == row.id).values(person_id=roster_person)
                )
                merged_names.append(people[row.person_id].name)
                _drop_if_empty(conn, row.person_id)
                changed = True
            if row is not None and row.external_id != external_id and not was_opted_out:
                # Found under its pseudonym, but the person opted in again: show the id again.
                conn.execute(
                    update(Identity).where(Identity.id == row.id).values(external_id=external_id)
                )
        if any(p.opted_out for p in people.values()) and (changed or not was_opted_out):
            forgotten.append(forget_person(conn, roster_person, now, also=merged_names))
        written += 1
    return RosterApplied(written, tuple(forgotten))


def _drop_if_empty(conn: Connection, person_id: int) -> None:
    """Delete an automatic person whose accounts all moved to a roster person (and its name)."""
    conn.execute(
        delete(Person).where(
            Person.id == person_id,
            Person.source == "auto",
            ~exists().where(Identity.person_id == person_id),
        )
    )
