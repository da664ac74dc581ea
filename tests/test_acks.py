"""Tests for linking acknowledgements to demands and for delay statistics."""

# House style puts the expected value first in asserts; ruff reads that as Yoda.

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest

from metrics.acks import AckItem, ack_delays, latency_stats, link_acks
from metrics.errors import MetricsError

T0 = datetime(2025, 9, 9, 19, 40, tzinfo=UTC)

Kind = Literal["demand", "ack", "roll_call", "ack+demand", "chat"]


def msg(
    key: int,
    sender: str,
    minutes: float,
    kind: Kind,
    *,
    group: str = "g1",
    mention_all: bool = False,
    mentions: frozenset[str] = frozenset(),
) -> AckItem:
    """A message ``minutes`` after T0 of the given kind."""
    return AckItem(
        key=key,
        group_key=group,
        sender_key=sender,
        at=T0 + timedelta(minutes=minutes),
        is_demand=kind in ("demand", "ack+demand"),
        is_ack=kind in ("ack", "ack+demand"),
        is_roll_call=kind == "roll_call",
        mention_all=mention_all,
        mentions=mentions,
    )


DAY = 24 * 60

CASES: list[tuple[str, list[AckItem], dict[int, int]]] = [
    (
        "reply to a demand",
        [msg(1, "boss", 0, "demand"), msg(2, "cadre", 5, "ack")],
        {2: 1},
    ),
    (
        "no link to a demand by the same sender",
        [msg(1, "boss", 0, "demand"), msg(2, "boss", 5, "ack")],
        {},
    ),
    (
        "no link across groups",
        [msg(1, "boss", 0, "demand", group="g1"), msg(2, "cadre", 5, "ack", group="g2")],
        {},
    ),
    (
        "an ack before any demand stays unlinked",
        [msg(1, "cadre", 0, "ack"), msg(2, "boss", 5, "demand")],
        {},
    ),
    (
        "ordinary chat is neither demand nor ack",
        [msg(1, "boss", 0, "chat"), msg(2, "cadre", 5, "ack"), msg(3, "cadre", 6, "chat")],
        {},
    ),
    (
        "the window's edge is inclusive",
        [msg(1, "boss", 0, "demand"), msg(2, "cadre", DAY, "ack")],
        {2: 1},
    ),
    (
        "a demand older than the window is not answered",
        [msg(1, "boss", 0, "demand"), msg(2, "cadre", DAY + 1, "ack")],
        {},
    ),
    (
        "without mentions the most recent demand wins",
        [msg(1, "boss", 0, "demand"), msg(2, "boss", 10, "demand"), msg(3, "cadre", 15, "ack")],
        {3: 2},
    ),
    (
        "a demand mentioning the replier beats a later plain one",
        [
            msg(1, "boss", 0, "demand", mentions=frozenset({"cadre"})),
            msg(2, "boss", 10, "demand"),
            msg(3, "cadre", 15, "ack"),
        ],
        {3: 1},
    ),
    (
        "a demand mentioning everyone beats a later plain one",
        [
            msg(1, "boss", 0, "demand", mention_all=True),
            msg(2, "boss", 10, "demand"),
            msg(3, "cadre", 15, "ack"),
        ],
        {3: 1},
    ),
    (
        "mentioning the replier beats a later @所有人",
        [
            msg(1, "boss", 0, "demand", mentions=frozenset({"cadre"})),
            msg(2, "boss", 10, "demand", mention_all=True),
            msg(3, "cadre", 15, "ack"),
        ],
        {3: 1},
    ),
    (
        "of two demands mentioning the replier the most recent wins",
        [
            msg(1, "boss", 0, "demand", mentions=frozenset({"cadre"})),
            msg(2, "deputy", 10, "demand", mentions=frozenset({"cadre", "other"})),
            msg(3, "cadre", 15, "ack"),
        ],
        {3: 2},
    ),
    (
        "a demand mentioning someone else is still a fallback",
        [msg(1, "boss", 0, "demand", mentions=frozenset({"other"})), msg(2, "cadre", 5, "ack")],
        {2: 1},
    ),
    (
        "the replier's own newer demand is skipped for an older one",
        [msg(1, "boss", 0, "demand"), msg(2, "cadre", 10, "demand"), msg(3, "cadre", 15, "ack")],
        {3: 1},
    ),
    (
        "a 接龙 roll call is answered like a demand",
        [msg(1, "boss", 0, "roll_call"), msg(2, "a", 4, "ack"), msg(3, "b", 6, "ack")],
        {2: 1, 3: 1},
    ),
    (
        "a reply that also demands is linked and can be answered",
        [
            msg(1, "boss", 0, "demand", mention_all=True),
            msg(2, "deputy", 3, "ack+demand"),
            msg(3, "cadre", 8, "ack"),
        ],
        {2: 1, 3: 1},
    ),
    (
        "several members answer one @所有人 demand",
        [
            msg(1, "boss", 0, "demand", mention_all=True),
            msg(2, "a", 1, "ack"),
            msg(3, "b", 2, "ack"),
            msg(4, "c", 600, "ack"),
        ],
        {2: 1, 3: 1, 4: 1},
    ),
    (
        "an ack in the same second after the demand is linked",
        [msg(1, "boss", 0, "demand"), msg(2, "cadre", 0, "ack")],
        {2: 1},
    ),
    (
        "an ack listed before a demand of the same second is not",
        [msg(2, "cadre", 0, "ack"), msg(1, "boss", 0, "demand")],
        {},
    ),
    (
        "input out of time order is read in time order",
        [msg(3, "cadre", 15, "ack"), msg(2, "boss", 10, "demand"), msg(1, "boss", 0, "demand")],
        {3: 2},
    ),
]


@pytest.mark.parametrize(("items", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_link_acks(items: list[AckItem], expected: dict[int, int]) -> None:
    """Each ack links to the demand the preference rules pick, or to none."""
    assert expected == link_acks(items)


def test_link_acks_custom_window() -> None:
    """A shorter window leaves a late ack unlinked."""
    items = [msg(1, "boss", 0, "demand"), msg(2, "cadre", 61, "ack")]
    assert {} == link_acks(items, window=timedelta(hours=1))
    assert {2: 1} == link_acks(items, window=timedelta(hours=2))


def test_link_acks_rejects_negative_window() -> None:
    """A negative window is a caller bug and is reported."""
    with pytest.raises(MetricsError, match="negative"):
        link_acks([], window=timedelta(hours=-1))


def test_ack_delays() -> None:
    """Delays are the seconds from the linked demand to each ack."""
    items = [msg(1, "boss", 0, "demand"), msg(2, "a", 1.5, "ack"), msg(3, "b", 60, "ack")]
    assert {2: 90.0, 3: 3600.0} == ack_delays(items, link_acks(items))


def test_ack_delays_unknown_key() -> None:
    """A link naming a message not among the items is reported."""
    with pytest.raises(MetricsError, match="message key 9"):
        ack_delays([msg(1, "boss", 0, "demand")], {9: 1})


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        ([], None),
        ([42.0], (42.0, 42.0)),
        ([10.0, 20.0], (15.0, 19.0)),
        ([4.0, 1.0, 3.0, 2.0], (2.5, 3.7)),
        ([float(s) for s in range(11)], (5.0, 9.0)),
        ([60.0] * 9 + [3600.0], (60.0, 414.0)),
        ([0.0, 0.0, 0.0], (0.0, 0.0)),
    ],
)
def test_latency_stats(seconds: list[float], expected: tuple[float, float] | None) -> None:
    """Median and p90 use linear interpolation between closest ranks; no delays give None."""
    result = latency_stats(seconds)
    if expected is None:
        assert result is None
    else:
        assert result is not None
        assert expected == pytest.approx(result)


@pytest.mark.parametrize("bad", [-1.0, math.nan])
def test_latency_stats_rejects_impossible_delays(bad: float) -> None:
    """A negative or NaN delay is a bug upstream and is reported, not averaged in."""
    with pytest.raises(MetricsError, match="delays must be >= 0"):
        latency_stats([5.0, bad])
