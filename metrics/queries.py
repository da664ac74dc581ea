"""Weekly load figures per person, straight from the database (SQLite or PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, text

from metrics.calendar import week_bounds
from metrics.models import PSEUDONYM_PREFIX, UTCDateTime


def scope_sql(alias: str, unit: str | None) -> str:
    """SQL condition: group ``alias`` is one of ``unit``'s (bound as ``:unit``); all when None.

    A unit's groups are those it owns (groups.unit) and those with a member of it,
    so a county group that loads the unit's people counts for the unit too. The
    condition is left out rather than written ":unit IS NULL OR ...", which
    PostgreSQL refuses (it cannot type a parameter compared only with NULL).
    """
    if unit is None:
        return "1 = 1"
    return f"""({alias}.unit = :unit OR {alias}.id IN (
        SELECT sc_ms.group_id FROM memberships sc_ms
        JOIN identities sc_i ON sc_i.id = sc_ms.identity_id
        JOIN people sc_p ON sc_p.id = sc_i.person_id WHERE sc_p.unit = :unit))"""


@dataclass(frozen=True, slots=True)
class PersonWeek:
    """One cadre's load in one ISO week (opted-out people never appear)."""

    person_id: int
    name: str
    unit: str | None
    department: str | None
    groups: int  # monitored groups they belonged to during the week
    platforms: str  # e.g. "qq,wechat"
    received: int  # messages from others in those groups
    received_off_hours: int  # ... outside working time (any band but work)
    pings_off_hours: int  # @-mentions of them, outside working time
    pings_all_off_hours: int  # @所有人 in their groups, outside working time
    demands: int  # demands (ack, roll call, materials, proof...) in their groups
    demands_off_hours: int
    self_reported_groups: int | None


_PERSON_WEEK = """
WITH wk_groups AS (
    SELECT DISTINCT i.person_id, ms.group_id, g.platform
    FROM memberships ms
    JOIN identities i ON i.id = ms.identity_id
    JOIN groups g ON g.id = ms.group_id
    WHERE g.consented_at IS NOT NULL AND g.consented_at < :end
      AND (g.stopped_at IS NULL OR g.stopped_at > :start)
      AND ms.joined_at < :end AND (ms.left_at IS NULL OR ms.left_at > :start)
),
received AS (
    SELECT DISTINCT i.person_id, m.id, m.band, m.mention_all, m.is_demand
    FROM messages m
    JOIN memberships ms ON ms.group_id = m.group_id
        AND ms.joined_at <= m.sent_at AND (ms.left_at IS NULL OR ms.left_at > m.sent_at)
    JOIN identities i ON i.id = ms.identity_id
    LEFT JOIN identities si ON si.id = m.sender_identity_id
    WHERE m.week = :week AND (si.person_id IS NULL OR si.person_id <> i.person_id)
),
pings AS (
    SELECT DISTINCT i.person_id, m.id
    FROM message_mentions mm
    JOIN messages m ON m.id = mm.message_id
    JOIN identities i ON i.id = mm.identity_id
    LEFT JOIN identities si ON si.id = m.sender_identity_id
    WHERE m.week = :week AND m.band <> 'work'
      AND (si.person_id IS NULL OR si.person_id <> i.person_id)
),
g AS (
    SELECT person_id, COUNT(DISTINCT group_id) AS groups,
           MIN(platform) AS p1, MAX(platform) AS p2
    FROM wk_groups GROUP BY person_id
),
r AS (
    SELECT person_id,
           COUNT(*) AS received,
           SUM(CASE WHEN band <> 'work' THEN 1 ELSE 0 END) AS received_off,
           SUM(CASE WHEN band <> 'work' AND mention_all THEN 1 ELSE 0 END) AS all_off,
           SUM(CASE WHEN is_demand THEN 1 ELSE 0 END) AS demands,
           SUM(CASE WHEN is_demand AND band <> 'work' THEN 1 ELSE 0 END) AS demands_off
    FROM received GROUP BY person_id
),
pg AS (SELECT person_id, COUNT(*) AS pings FROM pings GROUP BY person_id)
SELECT p.id, p.name, p.unit, p.department, p.self_reported_groups,
       COALESCE(g.groups, 0) AS groups, g.p1, g.p2,
       COALESCE(r.received, 0) AS received, COALESCE(r.received_off, 0) AS received_off,
       COALESCE(r.all_off, 0) AS all_off, COALESCE(r.demands, 0) AS demands,
       COALESCE(r.demands_off, 0) AS demands_off, COALESCE(pg.pings, 0) AS pings
FROM people p
JOIN g ON g.person_id = p.id
LEFT JOIN r ON r.person_id = p.id
LEFT JOIN pg ON pg.person_id = p.id
WHERE NOT p.opted_out {unit_filter}
ORDER BY pings DESC, received_off DESC, groups DESC, p.id
"""


def person_week(conn: Connection, week: str, tz: str, unit: str | None = None) -> list[PersonWeek]:
    """Every non-opted-out person in a monitored group that week (optionally one unit's)."""
    start, end = week_bounds(week, tz)
    sql = _PERSON_WEEK.replace("{unit_filter}", "" if unit is None else "AND p.unit = :unit")
    stmt = text(sql).bindparams(
        bindparam("start", type_=UTCDateTime()),
        bindparam("end", type_=UTCDateTime()),
    )
    rows = conn.execute(stmt, {"week": week, "start": start, "end": end, "unit": unit}).all()
    return [
        PersonWeek(
            person_id=row.id,
            name=row.name,
            unit=row.unit,
            department=row.department,
            groups=row.groups,
            platforms=",".join(sorted({row.p1, row.p2})),
            received=row.received,
            received_off_hours=row.received_off,
            pings_off_hours=row.pings,
            pings_all_off_hours=row.all_off,
            demands=row.demands,
            demands_off_hours=row.demands_off,
            self_reported_groups=row.self_reported_groups,
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class WeekTotals:
    groups: int
    messages: int
    off_hours: int
    mention_all_off_hours: int
    demands: int
    demands_off_hours: int
    bands: dict[str, int]


def week_totals(conn: Connection, week: str, unit: str | None = None) -> WeekTotals:
    """Messages in the week, in ``unit``'s groups (see ``scope_sql``; all if None)."""
    rows = conn.execute(
        text(
            f"""SELECT m.band, COUNT(*) AS n,
                   SUM(CASE WHEN m.mention_all THEN 1 ELSE 0 END) AS n_all,
                   SUM(CASE WHEN m.is_demand THEN 1 ELSE 0 END) AS n_dem
            FROM messages m JOIN groups g ON g.id = m.group_id
            WHERE m.week = :week AND {scope_sql("g", unit)} GROUP BY m.band"""
        ),
        {"week": week, "unit": unit},
    ).all()
    groups = conn.execute(
        text(
            f"""SELECT COUNT(DISTINCT m.group_id) FROM messages m JOIN groups g ON g.id = m.group_id
            WHERE m.week = :week AND {scope_sql("g", unit)}"""
        ),
        {"week": week, "unit": unit},
    ).scalar_one()
    bands = {row.band: row.n for row in rows}
    off = [row for row in rows if row.band != "work"]
    return WeekTotals(
        groups=groups,
        messages=sum(bands.values()),
        off_hours=sum(row.n for row in off),
        mention_all_off_hours=sum(row.n_all for row in off),
        demands=sum(row.n_dem for row in rows),
        demands_off_hours=sum(row.n_dem for row in off),
        bands=bands,
    )


def monitored_groups(conn: Connection, week: str, tz: str, unit: str | None = None) -> int:
    """Groups under consent at some point of the week (``unit``'s groups, see ``scope_sql``)."""
    start, end = week_bounds(week, tz)
    stmt = text(
        f"""SELECT COUNT(*) FROM groups g WHERE g.consented_at IS NOT NULL
            AND g.consented_at < :end AND (g.stopped_at IS NULL OR g.stopped_at > :start)
            AND {scope_sql("g", unit)}"""
    ).bindparams(bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime()))
    return int(conn.execute(stmt, {"start": start, "end": end, "unit": unit}).scalar_one())


def latest_week_with_data(conn: Connection) -> str | None:
    return conn.execute(text("SELECT MAX(week) FROM messages")).scalar_one_or_none()


def units(conn: Connection) -> list[str]:
    return list(
        conn.execute(
            text("SELECT DISTINCT unit FROM people WHERE unit IS NOT NULL ORDER BY unit")
        ).scalars()
    )


def heads(conn: Connection, unit: str) -> list[tuple[str, str, str]]:
    """(platform, external id, name) of a unit's heads from the roster, one account each.

    A head with both a WeChat and a QQ account gets the digest once, on WeChat.
    """
    rows = conn.execute(
        text(
            """SELECT p.id, i.platform, i.external_id, p.name FROM people p
               JOIN identities i ON i.person_id = p.id
               WHERE p.unit = :unit AND p.is_head AND NOT p.opted_out
                 AND i.external_id NOT LIKE :pseudonyms
               ORDER BY p.id, i.platform DESC, i.external_id"""
        ),
        # An account still under its opt-out pseudonym cannot be written to.
        {"unit": unit, "pseudonyms": PSEUDONYM_PREFIX + "%"},
    ).all()
    seen: set[int] = set()
    out = []
    for r in rows:
        if r.id not in seen:
            seen.add(r.id)
            out.append((r.platform, r.external_id, r.name))
    return out


def unmapped_members(conn: Connection, limit: int = 30) -> list[tuple[str, str, str, int, int]]:
    """Accounts not in the roster, most active first: (platform, id, name, messages, groups).

    They appear under their platform names until the operator maps them.
    """
    rows = conn.execute(
        text(
            """SELECT i.platform, i.external_id, i.display_name,
                      (SELECT COUNT(*) FROM messages m WHERE m.sender_identity_id = i.id) AS n_msgs,
                      (SELECT COUNT(DISTINCT ms.group_id) FROM memberships ms
                        WHERE ms.identity_id = i.id AND ms.left_at IS NULL) AS n_groups
               FROM identities i JOIN people p ON p.id = i.person_id
               WHERE p.source = 'auto' AND NOT p.opted_out AND i.external_id NOT LIKE :pseudonyms
               ORDER BY n_msgs DESC, n_groups DESC, i.platform, i.external_id
               LIMIT :limit"""
        ),
        {"limit": limit, "pseudonyms": PSEUDONYM_PREFIX + "%"},
    ).all()
    return [(r.platform, r.external_id, r.display_name, r.n_msgs, r.n_groups) for r in rows]
