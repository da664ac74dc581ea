"""Tests for linking acknowledgements to demands and for delay statistics."""

# House style puts the expected value first in asserts; ruff reads that as Yoda.

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import pytest

from metrics.acks import AckItem, ack_delays, joined_roll_calls, latency_stats, link_acks
from metrics.calendar import WorkingCalendar, WorkSchedule
from metrics.errors import MetricsError
from metrics.working_time import working_time

T0 = datetime(2025, 9, 9, 19, 40, tzinfo=UTC)

Kind = Literal["demand", "ack", "roll_call", "ack+demand", "chat", "notice"]


def msg(
    key: int,
    sender: str,
    minutes: float,
    kind: Kind,
    *,
    group: str = "g1",
    mention_all: bool = False,
    mentions: frozenset[str] = frozenset(),
    reply_to: int | None = None,
    chain: bool = False,
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
        reply_to=reply_to,
        joins_roll_call=chain,
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
        "@所有人 earns no preference over a later chase",
        [
            msg(1, "boss", 0, "demand", mention_all=True),
            msg(2, "boss", 10, "demand"),
            msg(3, "cadre", 15, "ack"),
        ],
        {3: 2},
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
        {2: 1, 3: 2},
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
        "a platform reply to an older demand links there, past a newer one",
        [
            msg(1, "boss", 0, "demand"),
            msg(2, "boss", 10, "demand"),
            msg(3, "cadre", 15, "ack", reply_to=1),
        ],
        {3: 1},
    ),
    (
        "a platform reply to a notice is no latency, though a demand is open",
        [
            msg(1, "boss", 0, "demand"),
            msg(2, "boss", 10, "notice"),
            msg(3, "cadre", 15, "ack", reply_to=2),
        ],
        {},
    ),
    (
        "a platform reply to one's own demand links to nothing",
        [
            msg(1, "boss", 0, "demand"),
            msg(2, "cadre", 3, "demand"),
            msg(3, "cadre", 5, "ack", reply_to=2),
        ],
        {},
    ),
    (
        "a second 好的 after a notice answers the notice",
        [
            msg(1, "boss", 0, "demand"),
            msg(2, "cadre", 5, "ack"),
            msg(3, "boss", 30, "notice"),
            msg(4, "cadre", 31, "ack"),
        ],
        {2: 1},
    ),
    (
        "好的谢谢 after the answer to one's own question answers the answer",
        [
            msg(1, "boss", 0, "demand"),
            msg(2, "cadre", 5, "chat"),  # the cadre's question
            msg(3, "clerk", 8, "chat"),  # its answer
            msg(4, "cadre", 9, "ack"),
            msg(5, "other", 12, "ack"),
        ],
        {5: 1},
    ),
    (
        "others' chat between a demand and an ack does not hide the demand",
        [msg(1, "boss", 0, "demand"), msg(2, "a", 2, "chat"), msg(3, "cadre", 5, "ack")],
        {3: 1},
    ),
    (
        "a 接龙 list joins the roll call it extends, not a later chase naming the sender",
        [
            msg(1, "boss", 0, "roll_call"),
            msg(2, "a", 2, "ack", chain=True),
            msg(3, "boss", 60, "roll_call", mentions=frozenset({"b"})),
            msg(4, "b", 62, "ack", chain=True),
        ],
        {2: 1, 4: 1},
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


def test_joined_roll_calls_count_each_person_once() -> None:
    """A member who posts the 接龙 list twice, or 收到 and the list, joins that roll call once."""
    items = [
        msg(1, "boss", 0, "roll_call"),
        msg(2, "a", 1, "ack", chain=True),
        msg(3, "a", 2, "ack", chain=True),  # a corrected line
        msg(4, "b", 3, "ack", chain=True),
        msg(5, "boss", 10, "demand"),
        msg(6, "c", 11, "ack"),
    ]
    links = link_acks(items)
    assert {2: 1, 3: 1, 4: 1, 6: 5} == links
    assert {("a", 1), ("b", 1)} == joined_roll_calls(items, links)


SH = ZoneInfo("Asia/Shanghai")


def _sh(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ("2025-11-12T09:00", "2025-11-12T10:30", 1.5),  # inside the morning
        ("2025-11-12T11:00", "2025-11-12T15:00", 2.0),  # lunch 12:00-14:00 does not count
        ("2025-11-12T20:00", "2025-11-13T07:00", 0.0),  # a night
        ("2025-11-14T17:00", "2025-11-17T09:00", 1.0),  # Friday 17:00 to Monday 09:00
        ("2025-06-12T14:00", "2025-06-12T18:00", 3.5),  # summer afternoon 14:30-18:00
        ("2025-09-30T17:00", "2025-10-09T09:00", 1.5),  # National Day week off
        ("2025-09-28T08:30", "2025-09-28T12:00", 3.5),  # a make-up working Sunday
        ("2025-11-12T10:00", "2025-11-12T09:00", 0.0),  # an end before the start
    ],
)
def test_working_time(start: str, end: str, hours: float) -> None:
    """Working time counts office hours of working days only, summer hours and 调休 included."""
    elapsed = working_time(WorkingCalendar())
    assert timedelta(hours=hours) == elapsed(_sh(start), _sh(end))


def test_working_time_honours_extra_holidays() -> None:
    """A day the operator declares off uses no working time."""
    off = WorkingCalendar(WorkSchedule(extra_holidays=frozenset({date(2025, 11, 13)})))
    elapsed = working_time(off)
    assert timedelta(minutes=30) == elapsed(_sh("2025-11-12T17:00"), _sh("2025-11-14T08:30"))


def test_window_in_working_time_spans_a_weekend() -> None:
    """A Friday-evening demand answered on Monday is within 24 working hours, not 24 clock hours."""
    friday = _sh("2025-11-14T18:00")
    items = [
        AckItem(1, "g", "boss", friday, True, False, False, False, frozenset()),
        AckItem(
            2, "g", "cadre", friday + timedelta(days=3), False, True, False, False, frozenset()
        ),
    ]
    assert {} == link_acks(items)
    assert {2: 1} == link_acks(items, elapsed=working_time(WorkingCalendar()))
