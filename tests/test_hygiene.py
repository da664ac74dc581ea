"""Tests for group hygiene checks: dormant, overlapping and over-cap groups."""

# House style puts the expected value first in asserts; ruff reads that as Yoda.

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from metrics.errors import MetricsError
from metrics.hygiene import dormant_groups, over_cap, overlapping_pairs

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def days_ago(days: float) -> datetime:
    """The moment ``days`` before NOW."""
    return NOW - timedelta(days=days)


@pytest.mark.parametrize(
    ("last", "idle_days", "expected"),
    [
        ({"busy": days_ago(1), "quiet": days_ago(40)}, 30, ["quiet"]),
        ({"edge": days_ago(30)}, 30, ["edge"]),
        ({"almost": days_ago(29.99)}, 30, []),
        ({"a": days_ago(31), "b": days_ago(90), "c": days_ago(31)}, 30, ["b", "a", "c"]),
        ({"never": None, "old": days_ago(60)}, 30, ["never", "old"]),
        ({}, 30, []),
    ],
)
def test_dormant_groups(
    last: dict[str, datetime | None], idle_days: float, expected: list[str]
) -> None:
    """Groups idle at least idle_days are listed, never-seen first, then longest idle."""
    assert expected == dormant_groups(last, NOW, idle_days)


def test_dormant_groups_never_seen_counts_from_observation_start() -> None:
    """A silent group is only dormant once it has been watched for idle_days."""
    last: dict[str, datetime | None] = {"new": None, "watched": None}
    since = {"new": days_ago(3), "watched": days_ago(45)}
    assert ["watched"] == dormant_groups(last, NOW, 30, observed_since=since)


def test_dormant_groups_accepts_other_time_zones() -> None:
    """Last-message times in UTC compare correctly with a Shanghai now."""
    last: dict[str, datetime | None] = {"g": datetime(2026, 10, 24, 1, 0, tzinfo=ZoneInfo("UTC"))}
    assert ["g"] == dormant_groups(last, NOW, 30)
    assert [] == dormant_groups(last, NOW, 31)


@pytest.mark.parametrize(
    ("now", "idle_days", "message"),
    [
        (NOW, 0, "idle_days must be positive"),
        (NOW, -5, "idle_days must be positive"),
        (datetime(2026, 11, 23, 9, 0), 30, "has no time zone"),
    ],
)
def test_dormant_groups_bad_input(now: datetime, idle_days: float, message: str) -> None:
    """A non-positive idle period or a naive now is reported."""
    with pytest.raises(MetricsError, match=message):
        dormant_groups({"g": None}, now, idle_days)


def people(*names: str) -> frozenset[str]:
    """A set of member keys."""
    return frozenset(names)


def rounded(pairs: list[tuple[str, str, float]]) -> list[tuple[str, str, float]]:
    """Pairs with the overlap rounded, so float division noise does not matter."""
    return [(a, b, round(overlap, 9)) for a, b, overlap in pairs]


TOWN = people(*[f"p{i}" for i in range(20)])
FLOOD = people("p1", "p2", "p3", "p4", "p5", "p6")  # wholly inside TOWN
FIRE = people("p1", "p2", "p3", "p4", "x1", "x2", "x3", "x4", "x5", "x6")
TINY = people("p1", "p2")


@pytest.mark.parametrize(
    ("members", "threshold", "expected"),
    [
        ({"town": TOWN, "flood": FLOOD}, 0.8, [("flood", "town", 1.0)]),
        ({"town": TOWN, "fire": FIRE}, 0.8, []),
        ({"town": TOWN, "fire": FIRE}, 0.4, [("fire", "town", 0.4)]),
        (
            {"town": TOWN, "flood": FLOOD, "fire": FIRE},
            0.6,
            [("flood", "town", 1.0), ("fire", "flood", 4 / 6)],
        ),
        ({"town": TOWN, "tiny": TINY}, 0.5, []),
        ({"town": TOWN}, 0.5, []),
        ({}, 0.5, []),
    ],
)
def test_overlapping_pairs(
    members: dict[str, frozenset[str]], threshold: float, expected: list[tuple[str, str, float]]
) -> None:
    """Pairs at or above the overlap coefficient threshold are listed, highest first."""
    assert rounded(expected) == rounded(overlapping_pairs(members, threshold))


def test_overlapping_pairs_ignores_bot_and_small_groups() -> None:
    """The bot's own account neither creates overlap nor counts toward a group's size."""
    bot = "bot"
    a = people(bot, "a1", "a2", "a3", "a4", "a5")
    b = people(bot, "b1", "b2", "b3", "b4", "b5")
    assert rounded([("a", "b", 1 / 6)]) == rounded(overlapping_pairs({"a": a, "b": b}, 0.1))
    assert [] == overlapping_pairs({"a": a, "b": b}, 0.1, ignore=people(bot))
    assert [] == overlapping_pairs({"a": a, "b": a}, 0.5, min_size=6, ignore=people(bot))
    assert [("a", "b", 1.0)] == overlapping_pairs({"a": a, "b": a}, 0.5, min_size=5)


@pytest.mark.parametrize(
    ("threshold", "min_size", "message"),
    [
        (0.0, 5, "threshold must be in"),
        (1.5, 5, "threshold must be in"),
        (0.8, 0, "min_size must be at least 1"),
    ],
)
def test_overlapping_pairs_bad_input(threshold: float, min_size: int, message: str) -> None:
    """A threshold outside (0, 1] or a min_size below 1 is reported."""
    with pytest.raises(MetricsError, match=message):
        overlapping_pairs({"a": TOWN}, threshold, min_size=min_size)


@pytest.mark.parametrize(
    ("counts", "cap", "expected"),
    [
        ({"张伟": 14, "刘洋": 8, "李娜": 27}, 10, [("李娜", 27), ("张伟", 14)]),
        ({"张伟": 10}, 10, []),
        ({"b": 11, "a": 11}, 10, [("a", 11), ("b", 11)]),
        ({"a": 1}, 0, [("a", 1)]),
        ({}, 10, []),
    ],
)
def test_over_cap(counts: dict[str, int], cap: int, expected: list[tuple[str, int]]) -> None:
    """Only counts strictly above the cap are listed, largest first, ties by key."""
    assert expected == over_cap(counts, cap)


def test_over_cap_rejects_negative_cap() -> None:
    """A negative cap is reported."""
    with pytest.raises(MetricsError, match="cap must be 0 or more"):
        over_cap({"a": 1}, -1)
