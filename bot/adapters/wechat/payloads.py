"""Pure helpers that read wechaty puppet payloads: message types, timestamps, mentions, text."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# Ids puppets put in mentionIdList for @所有人 (WeChat's at-user list values).
MENTION_ALL_IDS = frozenset({"notify@all", "announcement@all"})
_MENTION_ALL_TEXT = re.compile(r"@(?:所有人|全体成员)(?=[\s\u2005]|$)")

# wechaty-puppet's TypeScript MessageType values, named like the OneBot adapter's msg_type.
# Index = TypeScript value: Unknown, Attachment, Audio, Contact, ChatHistory, Emoticon,
# Image, Text, Location, MiniProgram, GroupNote, Transfer, RedEnvelope, Recalled, Url,
# Video, Post.
_TS_MESSAGE_TYPES = [
    "unknown",
    "file",
    "voice",
    "card",
    "forward",
    "sticker",
    "image",
    "text",
    "location",
    "card",
    "group_note",
    "transfer",
    "red_envelope",
    "recalled",
    "link",
    "video",
    "post",
]
_TEXT_BEARING_TYPES = frozenset({"text", "group_note", "link"})


def payload_time(timestamp: int | float) -> datetime:
    """Turn a puppet timestamp (epoch ms, or seconds from some puppets) into aware UTC."""
    if timestamp <= 0:
        return datetime.now(UTC)
    seconds = timestamp / 1000 if timestamp >= 100_000_000_000 else timestamp
    return datetime.fromtimestamp(seconds, UTC)


def message_type_name(ts_value: int) -> str:
    """Name a wechaty-puppet TypeScript message type value (unknown values give "unknown")."""
    value = int(ts_value)
    return _TS_MESSAGE_TYPES[value] if 0 <= value < len(_TS_MESSAGE_TYPES) else "unknown"


def detect_mentions(mention_ids: list[str], text: str) -> tuple[tuple[str, ...], bool]:
    """Split a mention list into specific contact ids and whether everyone was mentioned."""
    specific = tuple(dict.fromkeys(m for m in mention_ids if m and m not in MENTION_ALL_IDS))
    mention_all = any(m in MENTION_ALL_IDS for m in mention_ids)
    return specific, mention_all or bool(_MENTION_ALL_TEXT.search(text))


def visible_text(msg_type: str, text: str, filename: str) -> str:
    """The text worth keeping for a message type.

    Files keep their name (a ".xls" attachment is itself a demand signal);
    text, group notes (接龙) and links keep their text; media payload text is
    usually XML and is dropped.
    """
    if msg_type == "file":
        return filename or text
    return text if msg_type in _TEXT_BEARING_TYPES else ""
