"""Reading OneBot v11 frames: required ids, times and strings, and private messages."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.adapters.onebot.segments import message_id, parse_message, qq_number
from bot.events import AdapterError, PrivateMessage


class MalformedFrame(ValueError):
    """A frame lacks a field the adapter needs, or has it with the wrong type."""


def private_message(frame: Mapping[str, Any]) -> PrivateMessage:
    """A private message event frame as a PrivateMessage; MalformedFrame if it is not one."""
    sender = frame.get("sender")
    sender = sender if isinstance(sender, Mapping) else {}
    uid = required_id(frame, "user_id")
    try:
        body = parse_message(frame.get("message"), frame.get("raw_message"))
    except ValueError as e:
        raise MalformedFrame(str(e)) from None
    name = text_field(sender.get("nickname")) or uid
    return PrivateMessage("qq", required_message_id(frame), uid, name, frame_time(frame), body.text)


def required_id(frame: Mapping[str, Any], key: str) -> str:
    """``frame[key]`` as a QQ number string; MalformedFrame if it is not one."""
    value = qq_number(frame.get(key))
    if value is None:
        raise MalformedFrame(f"{key} missing or not a QQ number: {frame.get(key)!r:.40}")
    return value


def required_message_id(frame: Mapping[str, Any]) -> str:
    """The frame's message id; MalformedFrame if it is missing or not a number."""
    value = message_id(frame.get("message_id"))
    if value is None:
        raise MalformedFrame(f"message_id missing or not a number: {frame.get('message_id')!r:.40}")
    return value


def frame_time(frame: Mapping[str, Any]) -> datetime:
    """The frame's ``time`` as an aware UTC datetime (seconds, or milliseconds from forks)."""
    value = frame.get("time")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedFrame(f"time missing or not a number: {value!r:.40}")
    # OneBot sends seconds; a few forks send milliseconds, which would land in year 50000+.
    seconds = value / 1000 if value > 100_000_000_000 else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as e:
        raise MalformedFrame(f"time out of range: {value!r}") from e


def text_field(value: object) -> str:
    """A string field stripped, or "" for anything else."""
    return value.strip() if isinstance(value, str) else ""


def qq_int(value: str) -> int:
    """A QQ number as the integer OneBot API calls take; AdapterError otherwise."""
    try:
        return int(value)
    except ValueError:
        raise AdapterError(f"not a QQ number: {value!r}") from None


def text_segments(text: str) -> list[dict[str, Any]]:
    """Plain text as a message array: user text is never parsed as CQ codes."""
    return [{"type": "text", "data": {"text": text}}]
