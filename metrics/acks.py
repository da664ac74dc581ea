"""Link acknowledgements (收到, 1, 接龙 lines ...) to the demands they answer, and summarise delays.

Pure: takes plain items already classified (is_demand, is_ack, ...) and a clock for elapsed
time (wall clock, or working time from a metrics.calendar.WorkingCalendar), and does no I/O.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from metrics.errors import MetricsError

__all__ = [
    "DEFAULT_WINDOW",
    "AckItem",
    "Elapsed",
    "ack_delays",
    "joined_roll_calls",
    "latency_stats",
    "link_acks",
    "wall_clock",
]

# 24 hours of working time is three to four working days (7 h a day by default): a demand
# sent on Friday afternoon is still answered on Tuesday, and a submission due "this week"
# is still its reply, while an ack a week later answers something newer. Nights, weekends
# and holidays do not use the window up. Without a working clock (``elapsed``) the same
# 24 hours are read on the wall clock, as callers that pass none have always had it.
DEFAULT_WINDOW = timedelta(hours=24)

Elapsed = Callable[[datetime, datetime], timedelta]


@dataclass(frozen=True, slots=True)
class AckItem:
    """One group message as acknowledgement linking needs it.

    ``mentions`` holds sender keys of specifically @-mentioned members, in the same
    key space as ``sender_key``. A roll call (接龙) asks for replies, so an item with
    ``is_roll_call`` can be answered like a demand even if ``is_demand`` is false.
    ``reply_to`` is the key of the message the platform shows this one quoting or
    replying to, when it does; ``joins_roll_call`` marks a 接龙 list with the sender's
    line added.
    """

    key: int
    group_key: str
    sender_key: str
    at: datetime
    is_demand: bool
    is_ack: bool
    is_roll_call: bool
    mention_all: bool
    mentions: frozenset[str]
    reply_to: int | None = None
    joins_roll_call: bool = False

    @property
    def asks_for_reply(self) -> bool:
        return self.is_demand or self.is_roll_call


def wall_clock(start: datetime, end: datetime) -> timedelta:
    """Elapsed time on the wall clock."""
    return end - start


class _Group:
    """One group's recent past as the linker walks it in time order."""

    def __init__(self) -> None:
        self.open: deque[AckItem] = deque()  # demands still in the window, oldest first
        self.answered: dict[int, set[str]] = {}  # demand key -> who has acknowledged it
        self.last_said: dict[str, AckItem] = {}  # sender -> their latest message that is no ack
        self.last_other: AckItem | None = None  # the latest message that is no ack


def _choose(ack: AckItem, group: _Group) -> AckItem | None:
    """The demand an ack answers: the latest that @-mentions the replier, else the latest.

    @所有人 earns no preference: measured on the everyday sets, preferring an older
    @所有人 demand over a newer chase (还差X村没报) linked replies to the wrong demand.
    """
    latest: AckItem | None = None
    for demand in reversed(group.open):  # newest first
        if demand.sender_key == ack.sender_key:
            continue
        if ack.sender_key in demand.mentions:
            return demand
        if latest is None:
            latest = demand
    return latest


def _answers_something_newer(ack: AckItem, demand: AckItem, group: _Group) -> bool:
    """The ack follows a newer message that is no demand, and plausibly answers that instead.

    It does when the replier has already acknowledged the demand (a second 好的 answers
    the notice or answer posted since), or when the newer message follows one the replier
    wrote after the demand (their question, its answer, their 好的谢谢).
    """
    newer = group.last_other
    if newer is None or newer.asks_for_reply or newer.at < demand.at:
        return False
    if newer.sender_key == ack.sender_key or newer.key == demand.key:
        return False
    if ack.sender_key in group.answered.get(demand.key, ()):
        return True
    own = group.last_said.get(ack.sender_key)
    return own is not None and demand.at <= own.at <= newer.at


def link_acks(
    items: Iterable[AckItem],
    window: timedelta = DEFAULT_WINDOW,
    *,
    elapsed: Elapsed = wall_clock,
) -> dict[int, int]:
    """Map each ack's key to the key of the demand it answers.

    An ack answers a demand (or roll call) in the same group, sent no later than it
    (and earlier in the input when at the same moment), at most ``window`` before it as
    ``elapsed`` measures time (metrics.calendar_time.working_time gives working time),
    never one of its own sender's. A platform reply or quote (``reply_to``) decides: it
    links to the quoted message if that is such a demand, and to nothing otherwise (a
    reply to a notice or to chat is no reply latency). Otherwise the ack prefers the
    most recent demand that @-mentions the replier, then the most recent demand (a
    demand to @所有人 gets no preference over a newer one); it is left unlinked when it rather
    answers a newer message that asks nothing (a notice, or the answer to the replier's
    own question). A 接龙 list joins the roll call it extends: the earliest open one.
    A reply that is also a new demand is linked as an ack and can then be answered.
    """
    if window < timedelta(0):
        raise MetricsError(f"link_acks: window {window} is negative")
    # A stable sort keeps the caller's order for messages in the same second.
    ordered = sorted(items, key=lambda item: item.at)
    by_key = {item.key: item for item in ordered}
    groups: dict[str, _Group] = {}
    links: dict[int, int] = {}
    for item in ordered:
        group = groups.setdefault(item.group_key, _Group())
        while group.open and elapsed(group.open[0].at, item.at) > window:
            group.open.popleft()
        if item.is_ack:
            demand = _target(item, group, by_key, window, elapsed)
            if demand is not None:
                links[item.key] = demand.key
                group.answered.setdefault(demand.key, set()).add(item.sender_key)
        if item.asks_for_reply:
            group.open.append(item)
        if not item.is_ack or item.asks_for_reply:
            group.last_said[item.sender_key] = item
            group.last_other = item
    return links


def _target(
    ack: AckItem,
    group: _Group,
    by_key: Mapping[int, AckItem],
    window: timedelta,
    elapsed: Elapsed,
) -> AckItem | None:
    if ack.reply_to is not None:
        quoted = by_key.get(ack.reply_to)
        if (
            quoted is None
            or quoted.group_key != ack.group_key
            or not quoted.asks_for_reply
            or quoted.sender_key == ack.sender_key
            or quoted.at > ack.at
            or elapsed(quoted.at, ack.at) > window
        ):
            return None
        return quoted
    if ack.joins_roll_call:
        for roll_call in group.open:  # oldest first: the roll call that started the chain
            if roll_call.is_roll_call and roll_call.sender_key != ack.sender_key:
                return roll_call
    demand = _choose(ack, group)
    if demand is None or _answers_something_newer(ack, demand, group):
        return None
    return demand


def joined_roll_calls(items: Iterable[AckItem], links: Mapping[int, int]) -> set[tuple[str, int]]:
    """(sender, roll call) pairs: each person joins a roll call once, however often they post."""
    listed = list(items)
    roll_calls = {item.key for item in listed if item.is_roll_call}
    senders = {item.key: item.sender_key for item in listed}
    return {
        (senders[ack], demand)
        for ack, demand in links.items()
        if demand in roll_calls and ack in senders
    }


def ack_delays(items: Iterable[AckItem], links: Mapping[int, int]) -> dict[int, float]:
    """Seconds from each linked demand to its ack, keyed by the ack's key."""
    at = {item.key: item.at for item in items}
    try:
        return {ack: (at[ack] - at[demand]).total_seconds() for ack, demand in links.items()}
    except KeyError as exc:
        raise MetricsError(f"ack_delays: message key {exc.args[0]} is not among the items") from exc


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default, Excel PERCENTILE.INC)."""
    pos = (len(ordered) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def latency_stats(seconds: Sequence[float]) -> tuple[float, float] | None:
    """(median, 90th percentile) of delays in seconds, or None when there are none.

    Both use linear interpolation between closest ranks, so the median of an even
    count is the mean of the middle two, as usual. A delay cannot be negative or
    NaN; such a value means a bug upstream and raises MetricsError.
    """
    if not seconds:
        return None
    bad = [s for s in seconds if math.isnan(s) or s < 0]
    if bad:
        raise MetricsError(f"latency_stats: delays must be >= 0 seconds, got {bad[:3]}")
    ordered = sorted(seconds)
    return _quantile(ordered, 0.5), _quantile(ordered, 0.9)
