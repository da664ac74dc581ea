"""What every adapter does at the wire edge: clean strings, bound times, throttle warnings.

Both platform adapters pass each normalised event and group description through
``clean_event`` / ``clean_group`` before the bot sees it, so nothing off the wire
reaches storage with a lone UTF-16 surrogate (SQLite and PostgreSQL drivers refuse
to encode it, which once stopped all recording), a NUL or other control character,
an unbounded length, or a time far in the future. This module imports nothing
else of the project except ``bot.events``: adapters may depend only on that.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from bot.events import AdapterError, Event, GroupInfo, Member

logger = logging.getLogger(__name__)

# How far ahead of the receive time an event may be dated: platform and host
# clocks drift a little; anything beyond is a wrong clock or a forged frame.
MAX_FUTURE_SKEW = timedelta(minutes=5)

# Column widths in metrics/models.py (PostgreSQL enforces VARCHAR lengths).
ID_LIMIT = 128
NAME_LIMIT = 128
GROUP_NAME_LIMIT = 256
TEXT_LIMIT = 20_000

_LIMITS = {
    "text": TEXT_LIMIT,
    "name": NAME_LIMIT,
    "sender_name": NAME_LIMIT,
    "self_name": NAME_LIMIT,
    "group_name": GROUP_NAME_LIMIT,
    "reason": 500,
}
# Fields holding ids: truncating one could merge two accounts, so an over-long id
# makes the whole event unusable instead.
_ID_FIELDS = {
    "group_id",
    "message_id",
    "sender_id",
    "user_id",
    "self_id",
    "operator_id",
    "inviter_id",
    "invitation_id",
    "reply_to",
    "owner_id",
    "mentions",
}
_SURROGATE = re.compile("[\ud800-\udfff]")
# C0 controls except tab and newline, DEL and C1 controls.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Anything clean_text would change (CR included): most strings have none of it.
_UNCLEAN = re.compile("[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f-\x9f]")

T = TypeVar("T")
E = TypeVar("E", bound=Event)


class UnusableField(ValueError):
    """A field cannot be cleaned into something storable (an id that is too long)."""


def clean_text(value: str, limit: int = TEXT_LIMIT) -> str:
    """``value`` without lone surrogates or control characters, at most ``limit`` characters.

    A lone surrogate becomes U+FFFD so the reader sees something was there; CR LF
    and lone CR become newlines; other control characters except tab are dropped.
    """
    if len(value) <= limit and not _UNCLEAN.search(value):
        return value
    value = _SURROGATE.sub("\ufffd", value)
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return value


def clean_id(value: str) -> str:
    """An id with surrounding spaces removed; raises UnusableField if it cannot be stored."""
    cleaned = value.strip()
    if not cleaned or len(cleaned) > ID_LIMIT or _UNCLEAN.search(cleaned):
        raise UnusableField(f"unusable id {cleaned[:40]!r}")
    return cleaned


def _clean_value(name: str, value: Any, received: datetime) -> Any:
    if isinstance(value, str):
        if name in _ID_FIELDS:
            return clean_id(value)
        return clean_text(value, _LIMITS.get(name, NAME_LIMIT))
    if isinstance(value, tuple) and name in _ID_FIELDS:
        # One unusable mention loses that mention, not the message.
        return tuple(v for v in map(_usable_id, value) if v is not None)
    if isinstance(value, datetime) and name == "at":
        return bound_time(value, received)
    return value


def _usable_id(value: object) -> str | None:
    try:
        return clean_id(value) if isinstance(value, str) else None
    except UnusableField:
        return None


def _clean_dataclass(obj: T, received: datetime) -> T:
    assert dataclasses.is_dataclass(obj) and not isinstance(obj, type)
    changes = {}
    for f in dataclasses.fields(obj):
        old = getattr(obj, f.name)
        new = _clean_value(f.name, old, received)
        if new is not old:
            changes[f.name] = new
    return dataclasses.replace(obj, **changes) if changes else obj


def clean_event(event: E, received: datetime | None = None) -> E | None:
    """The event with every string cleaned and its time bounded; None if unusable.

    ``received`` is when the adapter got the event (now by default).
    """
    try:
        return _clean_dataclass(event, received or datetime.now(UTC))
    except UnusableField as e:
        THROTTLE.warning("unusable-field", "dropping a %s event: %s", type(event).__name__, e)
        return None


def clean_group(info: GroupInfo) -> GroupInfo:
    """A group description with its name, owner and members cleaned.

    Members with unusable ids are left out rather than losing the whole group;
    an unusable group id raises AdapterError like any failed platform call.
    """
    try:
        group_id = clean_id(info.group_id)
    except UnusableField as e:
        raise AdapterError(f"group {e}") from None
    members = []
    for m in info.members:
        uid = _usable_id(m.user_id)
        if uid is None:
            THROTTLE.warning("unusable-member", "skipping a member of %s: bad id", info.group_id)
            continue
        members.append(Member(uid, clean_text(m.name, NAME_LIMIT), m.role))
    owner = _usable_id(info.owner_id)
    return dataclasses.replace(
        info,
        group_id=group_id,
        name=clean_text(info.name, GROUP_NAME_LIMIT),
        owner_id=owner,
        members=tuple(members),
    )


def bound_time(at: datetime, received: datetime) -> datetime:
    """``at``, or ``received`` when ``at`` lies beyond the allowed skew into the future.

    The message is still real, so it is kept, dated when it was received: a
    far-future time would otherwise land in a week nobody reports and move the
    catch-up watermark past every later message.
    """
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    if at - received > MAX_FUTURE_SKEW:
        THROTTLE.warning(
            "future-time",
            "an event dated %s arrived at %s; recording it at its receive time",
            at.isoformat(timespec="seconds"),
            received.isoformat(timespec="seconds"),
        )
        return received
    return at


class LogThrottle:
    """At most one log line per key and interval; suppressed repeats are counted.

    A full disk or a peer sending garbage repeats the same failure for every
    message; one line per kind and minute, with the count of the others, keeps
    the log readable without hiding that it goes on.
    """

    def __init__(
        self,
        log: logging.Logger,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = log
        self.interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        _THROTTLES.add(self)

    def log(
        self,
        level: int,
        key: str,
        msg: str,
        *args: object,
        exc_info: Any = None,
        stacklevel: int = 2,
    ) -> bool:
        """Log unless ``key`` was logged less than ``interval`` ago; True if it was logged."""
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return False
        self._last[key] = now
        repeats = self._suppressed.pop(key, 0)
        if repeats and last is not None:
            msg += " (%d more like this in the last %.0fs)"
            args = (*args, repeats, now - last)
        # stacklevel: the record names the caller's line, not this helper.
        self._log.log(level, msg, *args, exc_info=exc_info, stacklevel=stacklevel + 1)
        return True

    def warning(self, key: str, msg: str, *args: object) -> bool:
        return self.log(logging.WARNING, key, msg, *args, stacklevel=3)

    def error(self, key: str, msg: str, *args: object, exc_info: Any = None) -> bool:
        return self.log(logging.ERROR, key, msg, *args, exc_info=exc_info, stacklevel=3)

    def reset(self) -> None:
        """Forget what was logged (tests start each case with a quiet slate)."""
        self._last.clear()
        self._suppressed.clear()

    def suppressed(self, key: str) -> int:
        """Repeats of ``key`` not logged yet."""
        return self._suppressed.get(key, 0)


_THROTTLES: weakref.WeakSet[LogThrottle] = weakref.WeakSet()


def reset_throttles() -> None:
    """Reset every throttle in the process."""
    for throttle in list(_THROTTLES):
        throttle.reset()


THROTTLE = LogThrottle(logger)
