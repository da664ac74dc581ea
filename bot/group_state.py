"""What the bot keeps in memory about a group to decide whether a message is recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class GroupState:
    """What the bot keeps in memory about a group to decide whether to record."""

    gid: int
    state: str
    unit: str | None
    consented_at: datetime | None = None
    stopped_at: datetime | None = None

    def covers(self, at: datetime) -> bool:
        """Whether a message sent at ``at`` falls inside the consented period.

        The state alone is not enough: history catch-up and late frames deliver,
        after the consent, messages that were sent before it.
        """
        if self.state != "active":
            return False
        if self.consented_at is not None and at < self.consented_at:
            return False
        return self.stopped_at is None or at < self.stopped_at
