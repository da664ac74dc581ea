"""Near-duplicate fingerprints of demand texts, and clusters of repeated demands (rule R6).

A fingerprint is a 64-bit SimHash (Charikar) over character 2- and 3-grams of the
normalised text, returned as a signed int64 so it fits a SQL BIGINT; near-duplicate
texts have fingerprints a small Hamming distance apart. Only the fingerprint needs to
be stored, so repeats can be found with text storage turned off.

Normalisation aims at what differs between two reposts of one notice: @mentions,
a "转：" forward prefix, punctuation, emoji, spacing, full/half width, digits (a
re-sent demand often only moves its date) and function words such as 请/于/的/各位.

Measured on ``shared/corpus/demand-dev.jsonl`` (74 demands of 8+ characters, 2,701
unrelated pairs, five random pairs of small edits per demand): at distance <= 12 the
edited copies were found 90% of the time and no unrelated pair joined; at <= 16, 96%
and still none. The default is the cautious 12, since a false repeat accuses someone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from hashlib import blake2b

from metrics.errors import MetricsError

__all__ = [
    "DEFAULT_MAX_DISTANCE",
    "DemandRef",
    "RepeatCluster",
    "find_repeats",
    "fingerprint",
    "hamming",
    "normalise",
    "simhash",
]

DEFAULT_MAX_DISTANCE = 12
_BITS = 64
_MASK = (1 << _BITS) - 1
_GRAM_SIZES = (2, 3)

_URL = re.compile(r"(?:https?://|www\.)\S+")
# A mention runs to the next space (WeChat ends it with U+2005, which NFKC makes
# a plain space) or punctuation; "@所有人" goes with it.
_MENTION = re.compile(r"@[^\s@,.:;!?，。：；！？、)）】]*")
_FORWARD_PREFIX = re.compile(r"^\W*(?:转发|转)\s*[:：]")
_DIGITS = re.compile(r"\d+")
# Function words and courtesies that vary between senders of one notice but say
# nothing about what is demanded. Removing them also keeps unrelated demands that
# share the template "请各…于…前…" from looking alike.
_FILLER = re.compile(r"谢谢|辛苦了|大家|各位|同志们|同事们|请|于|在|将|把|的|了|和|及|与|并|本")


def normalise(text: str) -> str:
    """The text reduced to what identifies a demand (letters, CJK, '#' for numbers)."""
    t = unicodedata.normalize("NFKC", text).casefold()
    t = _URL.sub(" ", t)
    t = _MENTION.sub(" ", t)
    t = _FORWARD_PREFIX.sub(" ", t)
    t = _DIGITS.sub("#", t)
    t = "".join(c for c in t if c == "#" or unicodedata.category(c)[0] in "LN")
    return _FILLER.sub("", t)


def _grams(norm: str) -> list[str]:
    grams = [norm[i : i + n] for n in _GRAM_SIZES for i in range(len(norm) - n + 1)]
    if not grams and norm:
        grams = [norm]
    return grams


# Grams recur across messages (报送, 台账, 各村 ...); caching skips most hashing.
@lru_cache(maxsize=1 << 16)
def _gram_hash(gram: str) -> int:
    return int.from_bytes(blake2b(gram.encode("utf-8"), digest_size=8).digest(), "big")


def _majority_bits(hashes: Iterable[int]) -> int:
    """Set bit i where more than half of the hashes have bit i set.

    This is SimHash with unit weights (sum of +1/-1 per bit > 0). Instead of 64
    Python counters it keeps bit-sliced counters: ``planes[k]`` holds bit k of all
    64 counts, so adding a hash is a ripple-carry over a few ints. It runs on every
    message, and this is several times faster than a loop over 64 bits per gram.
    """
    planes: list[int] = []
    n = 0
    for h in hashes:
        n += 1
        carry = h
        k = 0
        while carry:
            if k == len(planes):
                planes.append(0)
            plane = planes[k]
            planes[k] = plane ^ carry
            carry = plane & carry
            k += 1
    # count > n // 2, compared lane-wise from the most significant plane down.
    limit = n // 2
    greater, equal = 0, _MASK
    for k in range(max(len(planes), limit.bit_length()) - 1, -1, -1):
        plane = planes[k] if k < len(planes) else 0
        if (limit >> k) & 1:
            equal &= plane
        else:
            greater |= equal & plane
            equal &= ~plane & _MASK
    return greater


def fingerprint(text: str) -> int:
    """Signed 64-bit SimHash of the normalised text; 0 when nothing is left of it."""
    grams = _grams(normalise(text))
    if not grams:
        return 0
    unsigned = _majority_bits(_gram_hash(g) for g in grams)
    return unsigned - (1 << _BITS) if unsigned >> (_BITS - 1) else unsigned


# metrics.annotate imports the algorithm's name; both names stay supported.
simhash = fingerprint


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two fingerprints (signed or unsigned)."""
    return ((a ^ b) & _MASK).bit_count()


@dataclass(frozen=True, slots=True)
class DemandRef:
    """One demand message as find_repeats needs it."""

    message_key: int
    group_key: str
    sender_key: str
    at: datetime
    fingerprint: int


@dataclass(frozen=True, slots=True)
class RepeatCluster:
    """Near-duplicate demands linked within the window; refs ordered by time."""

    refs: tuple[DemandRef, ...]
    group_count: int
    sender_count: int

    @property
    def first_at(self) -> datetime:
        return self.refs[0].at

    @property
    def last_at(self) -> datetime:
        return self.refs[-1].at

    @property
    def matters(self) -> bool:
        """A repeat counts for R6 when it reaches people through 2+ groups or 2+ senders."""
        return self.group_count >= 2 or self.sender_count >= 2


def find_repeats(
    items: Iterable[DemandRef],
    window_days: float = 7,
    max_distance: int = DEFAULT_MAX_DISTANCE,
) -> list[RepeatCluster]:
    """Clusters of near-duplicate demands that span 2+ groups or 2+ senders, oldest first.

    Two demands link when at most ``window_days`` apart and their fingerprints at
    most ``max_distance`` bits apart; clusters are the connected sets (single
    linkage), so a notice re-sent every five days forms one cluster even though its
    first and last copies are further apart than the window. Fingerprint 0 (an
    empty text) never links.
    """
    refs = sorted((r for r in items if r.fingerprint != 0), key=lambda r: r.at)
    keys = [r.message_key for r in refs]
    if len(set(keys)) != len(keys):
        raise MetricsError("find_repeats: the same message_key was given more than once")
    window = timedelta(days=window_days)
    parent = list(range(len(refs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    start = 0
    for i, ref in enumerate(refs):
        while ref.at - refs[start].at > window:
            start += 1
        for j in range(start, i):
            if hamming(ref.fingerprint, refs[j].fingerprint) <= max_distance:
                parent[root(i)] = root(j)

    members: dict[int, list[DemandRef]] = {}
    for i, ref in enumerate(refs):
        members.setdefault(root(i), []).append(ref)
    clusters = [
        RepeatCluster(
            refs=tuple(group),
            group_count=len({r.group_key for r in group}),
            sender_count=len({r.sender_key for r in group}),
        )
        for group in members.values()
        if len(group) > 1
    ]
    return sorted(
        (c for c in clusters if c.matters), key=lambda c: (c.first_at, c.refs[0].message_key)
    )
