"""The operator's roster: who is who across WeChat and QQ, their unit and department.

CSV (UTF-8, header required; TOML is also accepted with a ``[[people]]`` array):

    name,unit,department,title,wechat_id,qq_id,is_head
    王建国,镇党政办,党政办,党政办主任,wxid_wjg01,10001,yes

``wechat_id`` / ``qq_id`` may be empty; ``is_head`` is yes/no (also 是/否, true/false, 1/0).
Unit heads receive that unit's weekly digest.
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, delete, exists, insert, select, update

from bot.config import Config, ConfigError
from bot.store import Forgotten, find_identity, forget_person
from metrics.models import Identity, Person

_TRUE = {"yes", "y", "true", "1", "是", "√"}
_FALSE = {"", "no", "n", "false", "0", "否"}
COLUMNS = ("name", "unit", "department", "title", "wechat_id", "qq_id", "is_head")


@dataclass(frozen=True, slots=True)
class RosterEntry:
    name: str
    unit: str
    department: str = ""
    title: str = ""
    wechat_id: str = ""
    qq_id: str = ""
    is_head: bool = False

    def identities(self) -> list[tuple[str, str]]:
        out = []
        if self.wechat_id:
            out.append(("wechat", self.wechat_id))
        if self.qq_id:
            out.append(("qq", self.qq_id))
        return out


def _entry(raw: dict[str, object], where: str) -> RosterEntry:
    def field(key: str) -> str:
        value = raw.get(key)
        return "" if value is None else str(value).strip()

    head = field("is_head").lower()
    if head not in _TRUE | _FALSE:
        raise ConfigError(f'{where}: is_head "{head}" should be yes or no')
    entry = RosterEntry(
        name=field("name"),
        unit=field("unit"),
        department=field("department"),
        title=field("title"),
        wechat_id=field("wechat_id"),
        qq_id=field("qq_id"),
        is_head=head in _TRUE,
    )
    if not entry.name or not entry.unit:
        raise ConfigError(f"{where}: name and unit are required")
    if not entry.identities():
        raise ConfigError(f"{where}: {entry.name} needs a wechat_id or a qq_id")
    return entry


def parse_roster(path: Path) -> list[RosterEntry]:
    """Read a roster file; errors name the file, the row and what is wrong."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"roster {path} does not exist") from None
    text = raw.decode("utf-8-sig")
    if path.suffix == ".toml":
        try:
            rows = tomllib.loads(text).get("people", [])
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML: {e}") from None
        entries = [_entry(r, f"{path} people[{i}]") for i, r in enumerate(rows)]
    else:
        reader = csv.DictReader(io.StringIO(text))
        missing = {"name", "unit"} - set(reader.fieldnames or ())
        if missing:
            raise ConfigError(f"{path}: header must have {', '.join(COLUMNS)}; missing {missing}")
        entries = [_entry(r, f"{path} line {i + 2}") for i, r in enumerate(reader)]
    seen: dict[tuple[str, str], str] = {}
    for entry in entries:
        for ident in entry.identities():
            if ident in seen:
                raise ConfigError(
                    f"{path}: {ident[0]}:{ident[1]} is listed for both {seen[ident]} and {entry.name}"
                )
            seen[ident] = entry.name
    return entries


def write_roster(path: Path, entries: Iterable[RosterEntry]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for e in entries:
            w.writerow(
                [
                    e.name,
                    e.unit,
                    e.department,
                    e.title,
                    e.wechat_id,
                    e.qq_id,
                    "yes" if e.is_head else "no",
                ]
            )


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
