"""Group hygiene at a week's end, from the database: dormant, overlapping, too many (R2, R3)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Integer, String, bindparam, text

from metrics.burden import scope_sql
from metrics.calendar import week_bounds
from metrics.hygiene import dormant_groups, over_cap, overlapping_pairs
from metrics.models import UTCDateTime

__all__ = [
    "DormantGroup",
    "EndedGroup",
    "GroupRef",
    "HygieneReport",
    "HygieneSettings",
    "Overlap",
    "PersonGroups",
    "UnitGroups",
    "group_hygiene",
]


@dataclass(frozen=True, slots=True)
class HygieneSettings:
    """Thresholds of the hygiene checks.

    Defaults: a group idle for two weeks has likely finished its task (R3); 80%
    shared members (overlap coefficient) means one group could serve both (R2);
    the clean-ups cited in DOMAIN.md left about 8 groups a cadre (巴汝镇 34 → 8),
    and R2's "one group per unit" plus a couple of special-task groups gives 3 a unit.
    """

    idle_days: float = 14
    overlap: float = 0.8
    overlap_min_size: int = 5
    person_cap: int = 8
    unit_cap: int = 3


@dataclass(frozen=True, slots=True)
class GroupRef:
    id: int
    name: str
    unit: str | None


@dataclass(frozen=True, slots=True)
class DormantGroup:
    group: GroupRef
    last_message_at: datetime | None  # None: nothing recorded since consent
    idle_days: int
    rule: str = "R3"


@dataclass(frozen=True, slots=True)
class EndedGroup:
    group: GroupRef
    end_date: datetime
    rule: str = "R3"


@dataclass(frozen=True, slots=True)
class Overlap:
    a: GroupRef
    b: GroupRef
    overlap: float  # |A∩B| / min(|A|, |B|)
    shared: int
    rule: str = "R2"


@dataclass(frozen=True, slots=True)
class PersonGroups:
    """A person's monitored groups at the week's end, and what they reported themselves."""

    person_id: int
    name: str
    unit: str | None
    monitored: int
    self_reported: int | None
    rule: str = "R2"


@dataclass(frozen=True, slots=True)
class UnitGroups:
    unit: str
    groups: int
    rule: str = "R2"


@dataclass(frozen=True, slots=True)
class HygieneReport:
    settings: HygieneSettings
    dormant: list[DormantGroup]
    ended: list[EndedGroup]
    overlapping: list[Overlap]
    people_over_cap: list[PersonGroups]
    units_over_cap: list[UnitGroups]
    self_reported: list[PersonGroups]  # people who reported a count, largest gap first

    @property
    def empty(self) -> bool:
        return not (
            self.dormant
            or self.ended
            or self.overlapping
            or self.people_over_cap
            or self.units_over_cap
        )


# Groups under consent at the week's end. A group's unit is its own (from the config),
# else its owner's: 谁建群谁负责.
_GROUPS = """
SELECT g.id, g.name, COALESCE(g.unit, op.unit) AS unit, g.consented_at, g.end_date,
       (SELECT MAX(m.sent_at) FROM messages m WHERE m.group_id = g.id AND m.sent_at < :end)
           AS last_at,
       CASE WHEN {scope} THEN 1 ELSE 0 END AS in_scope
FROM groups g
LEFT JOIN identities oi ON oi.platform = g.platform AND oi.external_id = g.owner_external_id
LEFT JOIN people op ON op.id = oi.person_id
WHERE g.consented_at IS NOT NULL AND g.consented_at < :end
  AND (g.stopped_at IS NULL OR g.stopped_at >= :end)
ORDER BY g.id
"""

# Members at the week's end, by person (the bot has no identity row, so it never appears).
_MEMBERS = """
SELECT DISTINCT ms.group_id, p.id AS pid, p.name, p.unit, p.opted_out, p.self_reported_groups
FROM memberships ms
JOIN identities i ON i.id = ms.identity_id
JOIN people p ON p.id = i.person_id
WHERE ms.joined_at < :end AND (ms.left_at IS NULL OR ms.left_at >= :end)
"""


def group_hygiene(
    conn: Connection,
    week: str,
    tz: str,
    unit: str | None = None,
    settings: HygieneSettings = HygieneSettings(),
) -> HygieneReport:
    """Hygiene findings for ``unit``'s groups (all when None) as of the end of ``week``."""
    _, end = week_bounds(week, tz)
    moments = (bindparam("end", type_=UTCDateTime()),)
    g_stmt = (
        text(_GROUPS.format(scope=scope_sql("g", unit)))
        .bindparams(*moments)
        .columns(
            id=Integer(),
            name=String(),
            unit=String(),
            consented_at=UTCDateTime(),
            end_date=UTCDateTime(),
            last_at=UTCDateTime(),
            in_scope=Integer(),
        )
    )
    groups = conn.execute(g_stmt, {"end": end, "unit": unit}).all()
    refs = {g.id: GroupRef(g.id, g.name or f"群{g.id}", g.unit) for g in groups}
    scoped = [g for g in groups if g.in_scope]
    key = {g.id: str(g.id) for g in groups}

    idle = dormant_groups(
        {key[g.id]: g.last_at for g in scoped},
        end,
        settings.idle_days,
        observed_since={key[g.id]: g.consented_at for g in scoped},
    )
    by_key = {key[g.id]: g for g in scoped}
    dormant = []
    for k in idle:
        g = by_key[k]
        since = g.last_at or g.consented_at
        dormant.append(DormantGroup(refs[g.id], g.last_at, (end - since).days))
    ended = [
        EndedGroup(refs[g.id], g.end_date)
        for g in scoped
        if g.end_date is not None and g.end_date < end
    ]

    members: dict[int, set[int]] = defaultdict(set)
    person_groups: dict[int, set[int]] = defaultdict(set)
    people = {}
    for r in conn.execute(text(_MEMBERS).bindparams(*moments), {"end": end}).all():
        if r.group_id not in refs:
            continue
        members[r.group_id].add(r.pid)
        if not r.opted_out:
            person_groups[r.pid].add(r.group_id)
            people[r.pid] = r
    scoped_ids = {g.id for g in scoped}
    pairs = overlapping_pairs(
        {str(gid): frozenset(str(p) for p in ps) for gid, ps in members.items()},
        settings.overlap,
        min_size=settings.overlap_min_size,
    )
    overlapping = [
        Overlap(refs[int(a)], refs[int(b)], round(share, 2), len(members[int(a)] & members[int(b)]))
        for a, b, share in pairs
        if int(a) in scoped_ids or int(b) in scoped_ids
    ]

    def in_unit(pid: int) -> bool:
        return unit is None or people[pid].unit == unit

    counts = {pid: len(gs) for pid, gs in person_groups.items() if in_unit(pid)}

    def person(pid: int) -> PersonGroups:
        p = people[pid]
        return PersonGroups(pid, p.name, p.unit, counts[pid], p.self_reported_groups)

    over = [
        person(int(pid))
        for pid, _ in over_cap({str(k): v for k, v in counts.items()}, settings.person_cap)
    ]
    unit_counts: dict[str, int] = defaultdict(int)
    for g in groups:
        if g.unit is not None and (unit is None or g.unit == unit):
            unit_counts[g.unit] += 1
    units_over = [UnitGroups(u, n) for u, n in over_cap(unit_counts, settings.unit_cap)]
    reported = [person(pid) for pid in counts if people[pid].self_reported_groups is not None]
    reported.sort(key=lambda p: (-((p.self_reported or 0) - p.monitored), p.name))
    return HygieneReport(settings, dormant, ended, overlapping, over, units_over, reported)
