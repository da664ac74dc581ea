"""Where each QQ group's record ends, so a reconnect or restart catches up from there."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


class CatchUpState:
    """Per group: the newest message time seen and a bounded set of seen message ids.

    Kept in memory; ``to_dict``/``from_dict`` are the seam for persisting it later.
    """

    def __init__(self, max_ids_per_group: int = 2000) -> None:
        self.max_ids_per_group = max_ids_per_group
        self._last_seen: dict[str, datetime] = {}
        self._seen: dict[str, OrderedDict[str, None]] = {}

    def groups(self) -> list[str]:
        """Groups with a watermark."""
        return list(self._last_seen)

    def last_seen(self, group_id: str) -> datetime | None:
        """The newest message time recorded for ``group_id``."""
        return self._last_seen.get(group_id)

    def start_watching(self, group_id: str, since: datetime) -> None:
        """Set a first watermark so history from before the bot watched is never replayed.

        A watermark in the future (a database written before times were bounded)
        is brought back to now: it would hide every later message from catch-up.
        """
        self._last_seen.setdefault(group_id, min(since, datetime.now(UTC)))

    def is_seen(self, group_id: str, message_id: str) -> bool:
        """Whether ``message_id`` was already emitted for ``group_id``."""
        return message_id in self._seen.get(group_id, ())

    def mark(
        self, group_id: str, message_id: str, at: datetime, received: datetime | None = None
    ) -> None:
        """Record an emitted message that arrived at ``received`` (now by default).

        The watermark never moves past the receive time, whatever the message
        claims: one message dated years ahead would make every later catch-up
        skip everything older than that date, that is, everything.
        """
        seen = self._seen.setdefault(group_id, OrderedDict())
        seen[message_id] = None
        while len(seen) > self.max_ids_per_group:
            seen.popitem(last=False)
        # Whole seconds, like OneBot times: a later message in the same second is not older.
        at = min(at, (received or datetime.now(UTC)).replace(microsecond=0))
        if group_id not in self._last_seen or at > self._last_seen[group_id]:
            self._last_seen[group_id] = at

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot."""
        return {
            gid: {"last_seen": ts.isoformat(), "ids": list(self._seen.get(gid, ()))}
            for gid, ts in self._last_seen.items()
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], max_ids_per_group: int = 2000) -> CatchUpState:
        """Rebuild a state saved by ``to_dict``."""
        state = cls(max_ids_per_group)
        for gid, entry in data.items():
            state._last_seen[gid] = datetime.fromisoformat(entry["last_seen"])
            state._seen[gid] = OrderedDict((str(i), None) for i in entry.get("ids", ()))
        return state
