"""The record of one group message as the recorder buffers, writes, spills and quarantines it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.events import GroupMessage
from metrics.annotate import Annotation


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One group message, already classified, waiting to be written."""

    platform: str
    platform_msg_id: str
    group_id: int
    sender_id: str
    sender_name: str
    sender_role: str
    sent_at: datetime
    week: str
    band: str
    msg_type: str
    length: int
    mention_all: bool
    mention_ids: tuple[str, ...]
    labels: tuple[str, ...]
    is_demand: bool
    is_ack: bool
    deadline_at: datetime | None
    fingerprint: int | None
    reply_to: str | None
    text: str | None


def message_record(
    event: GroupMessage, gid: int, ann: Annotation, *, self_id: str | None, store_text: bool
) -> MessageRecord:
    """The record of ``event`` in group ``gid``; the bot's own id is never a mention."""
    return MessageRecord(
        platform=event.platform,
        platform_msg_id=event.message_id,
        group_id=gid,
        sender_id=event.sender_id,
        sender_name=event.sender_name,
        sender_role=event.sender_role or "member",
        sent_at=event.at,
        week=ann.week,
        band=ann.band,
        msg_type=event.msg_type,
        length=len(event.text),
        mention_all=ann.mention_all,
        mention_ids=tuple(m for m in event.mentions if m != self_id),
        labels=ann.labels,
        is_demand=ann.is_demand,
        is_ack=ann.is_ack,
        deadline_at=ann.deadline,
        fingerprint=ann.fingerprint,
        reply_to=event.reply_to,
        text=event.text if store_text else None,
    )
