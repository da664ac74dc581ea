"""Group hygiene checks: dormant groups (R3), overlapping groups and too many groups (R2).

Pure: takes plain mappings and a ``now``, does no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from itertools import combinations

from metrics.errors import MetricsError

__all__ = ["dormant_groups", "over_cap", "overlapping_pairs"]


def dormant_groups(
    last_message_at: Mapping[str, datetime | None],
    now: datetime,
    idle_days: float,
    *,
    observed_since: Mapping[str, datetime] | None = None,
) -> list[str]:
    """Groups with no message for at least ``idle_days`` before ``now``, longest idle first.

    A group with no message at all (None) is idle since the bot began watching it,
    when ``observed_since`` says so; without that it is reported, since nothing was
    ever seen in it. Groups idle equally long come in key order.
    """
    if idle_days <= 0:
        raise MetricsError(f"dormant_groups: idle_days must be positive, got {idle_days}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise MetricsError(f"dormant_groups: now {now.isoformat()} has no time zone")
    limit = timedelta(days=idle_days)
    since = observed_since or {}
    idle: list[tuple[timedelta | None, str]] = []
    for key, last in last_message_at.items():
        start = last if last is not None else since.get(key)
        if start is None:
            idle.append((None, key))
        elif now - start >= limit:
            idle.append((now - start, key))
    # Never-seen groups first, then the longest idle.
    idle.sort(key=lambda pair: (pair[0] is not None, -(pair[0] or timedelta()), pair[1]))
    return [key for _, key in idle]


def overlapping_pairs(
    members: Mapping[str, frozenset[str]],
    threshold: float = 0.8,
    *,
    min_size: int = 5,
    ignore: frozenset[str] = frozenset(),
) -> list[tuple[str, str, float]]:
    """Pairs of groups whose memberships overlap by ``threshold`` or more, most overlapping first.

    Overlap is |A∩B| / min(|A|, |B|), the overlap coefficient: it is 1.0 when a
    small special-task group sits wholly inside a big unit group, the duplication
    R2 targets, where Jaccard (|A∩B| / |A∪B|) would stay low. Members in ``ignore``
    (the bot's own accounts, which are in every watched group) are left out first;
    groups then smaller than ``min_size`` are skipped, since two groups of three
    overlap by chance. Each pair is (a, b, overlap) with a < b.
    """
    if not 0 < threshold <= 1:
        raise MetricsError(f"overlapping_pairs: threshold must be in (0, 1], got {threshold}")
    if min_size < 1:
        raise MetricsError(f"overlapping_pairs: min_size must be at least 1, got {min_size}")
    groups = sorted(
        (key, people - ignore)
        for key, people in members.items()
        if len(people - ignore) >= min_size
    )
    pairs: list[tuple[str, str, float]] = []
    for (a, a_people), (b, b_people) in combinations(groups, 2):
        overlap = len(a_people & b_people) / min(len(a_people), len(b_people))
        if overlap >= threshold:
            pairs.append((a, b, overlap))
    pairs.sort(key=lambda pair: (-pair[2], pair[0], pair[1]))
    return pairs


def over_cap(counts: Mapping[str, int], cap: int) -> list[tuple[str, int]]:
    """Keys whose count exceeds ``cap`` (e.g. groups per cadre), largest first, then by key."""
    if cap < 0:
        raise MetricsError(f"over_cap: cap must be 0 or more, got {cap}")
    over = [(key, count) for key, count in counts.items() if count > cap]
    over.sort(key=lambda pair: (-pair[1], pair[0]))
    return over
