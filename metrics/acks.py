"""Link acknowledgements (收到, 1, 接龙 lines ...) to the demands they answer, and summarise delays.

Pure: takes plain items already classified (is_demand, is_ack, ...) and does no I/O.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from metrics.errors import MetricsError

__all__ = ["AckItem", "ack_delays", "latency_stats", "link_acks"]

DEFAULT_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class AckItem:
    """One group message as acknowledgement linking needs it.

    ``mentions`` holds sender keys of specifically @-mentioned members, in the same
    key space as ``sender_key``. A roll call (接龙) asks for replies, so an item with
    ``is_roll_call`` can be answered like a demand even if ``is_demand`` is false.
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

    @property
    def asks_for_reply(self) -> bool:
        return self.is_demand or self.is_roll_call


def _choose(ack: AckItem, demands: Iterable[AckItem]) -> AckItem | None:
    """The demand an ack answers: @-mentions the replier, else @所有人, else the latest."""
    latest: AckItem | None = None
    latest_all: AckItem | None = None
    # Newest first, so the first match at each preference level is the most recent.
    for demand in demands:
        if demand.sender_key == ack.sender_key:
            continue
        if ack.sender_key in demand.mentions:
            return demand
        if latest_all is None and demand.mention_all:
            latest_all = demand
        if latest is None:
            latest = demand
    return latest_all or latest


def link_acks(items: Iterable[AckItem], window: timedelta = DEFAULT_WINDOW) -> dict[int, int]:
    """Map each ack's key to the key of the demand it answers.

    An ack answers a demand in the same group sent no later than it (and earlier in
    the input when at the same moment) and at most ``window`` before it, never one
    of its own sender's. Among those it prefers, in order, the most recent demand
    that @-mentions the replier, the most recent that @-mentions everyone, and the
    most recent demand. A reply that is also a new demand is linked as an ack and
    can then be answered itself. Acks with no such demand are left out.
    """
    if window < timedelta(0):
        raise MetricsError(f"link_acks: window {window} is negative")
    # A stable sort keeps the caller's order for messages in the same second.
    ordered = sorted(items, key=lambda item: item.at)
    open_demands: dict[str, deque[AckItem]] = {}
    links: dict[int, int] = {}
    for item in ordered:
        demands = open_demands.setdefault(item.group_key, deque())
        while demands and item.at - demands[0].at > window:
            demands.popleft()
        if item.is_ack:
            demand = _choose(item, reversed(demands))
            if demand is not None:
                links[item.key] = demand.key
        if item.asks_for_reply:
            demands.append(item)
    return links


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
