"""OneBot v11 message parsing: segment arrays and CQ-code strings to text, mentions and type."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.adapters.edge import LogThrottle

logger = logging.getLogger(__name__)
_throttle = LogThrottle(logger)

# Visible stand-ins for non-text content, so stored text reads like the chat window.
_PLACEHOLDERS = {
    "face": "[表情]",
    "image": "[图片]",
    "record": "[语音]",
    "video": "[视频]",
    "file": "[文件]",
    "location": "[位置]",
    "share": "[链接]",
    "json": "[卡片]",
    "xml": "[卡片]",
    "forward": "[聊天记录]",
    "contact": "[名片]",
    "music": "[音乐]",
    "poke": "[戳一戳]",
    "rps": "[猜拳]",
    "dice": "[骰子]",
}

# Segment types that make a message something other than plain text. The first one
# present decides ``msg_type``: a photo with a caption is still a photo (R5 check-ins).
_MEDIA_TYPES = {
    "image": "image",
    "record": "voice",
    "video": "video",
    "file": "file",
    "location": "location",
    "share": "link",
    "json": "card",
    "xml": "card",
    "forward": "forward",
    "contact": "card",
    "music": "link",
}

_CQ_CODE = re.compile(r"\[CQ:([^,\]]+)((?:,[^\]]*)?)\]")


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """What the bot needs from one OneBot message body."""

    text: str
    mentions: tuple[str, ...] = ()
    mention_all: bool = False
    reply_to: str | None = None
    msg_type: str = "text"


def unescape_text(text: str) -> str:
    """Undo CQ escaping of plain text (``&amp;`` last so ``&amp;#91;`` stays literal)."""
    return text.replace("&#91;", "[").replace("&#93;", "]").replace("&amp;", "&")


def unescape_param(value: str) -> str:
    """Undo CQ escaping of a CQ-code parameter value."""
    return unescape_text(value.replace("&#44;", ","))


def escape_text(text: str) -> str:
    """Escape plain text for a CQ-code string."""
    return text.replace("&", "&amp;").replace("[", "&#91;").replace("]", "&#93;")


def escape_param(value: str) -> str:
    """Escape a CQ-code parameter value."""
    return escape_text(value).replace(",", "&#44;")


def parse_cq_string(raw: str) -> list[dict[str, Any]]:
    """Split a CQ-code string into segment dicts shaped like the array format."""
    segments: list[dict[str, Any]] = []
    pos = 0
    for match in _CQ_CODE.finditer(raw):
        if match.start() > pos:
            segments.append(_text_segment(unescape_text(raw[pos : match.start()])))
        data: dict[str, Any] = {}
        for part in match.group(2).split(",")[1:]:
            key, sep, value = part.partition("=")
            if sep:
                data[key] = unescape_param(value)
        segments.append({"type": match.group(1), "data": data})
        pos = match.end()
    if pos < len(raw):
        segments.append(_text_segment(unescape_text(raw[pos:])))
    return segments


def to_cq_string(segments: Sequence[Mapping[str, Any]]) -> str:
    """Render segment dicts as a CQ-code string (what ``raw_message`` carries)."""
    out: list[str] = []
    for seg in segments:
        data = seg.get("data") or {}
        if seg.get("type") == "text":
            out.append(escape_text(str(data.get("text", ""))))
            continue
        params = "".join(f",{k}={escape_param(str(v))}" for k, v in data.items())
        out.append(f"[CQ:{seg.get('type')}{params}]")
    return "".join(out)


def parse_message(message: object, raw_message: object = None) -> ParsedMessage:
    """Parse a OneBot ``message`` (array or CQ string), falling back to ``raw_message``.

    Raises ``ValueError`` when neither holds a usable message body.
    """
    if isinstance(message, str):
        segments: Sequence[object] = parse_cq_string(message)
    elif isinstance(message, list):
        segments = message
    elif isinstance(raw_message, str):
        segments = parse_cq_string(raw_message)
    else:
        raise ValueError(f"message is {type(message).__name__}, expected a list or a string")
    return parse_segments(segments)


def parse_segments(segments: Sequence[object]) -> ParsedMessage:
    """Fold segment dicts into text, mentions, @all, reply id and message type."""
    text: list[str] = []
    mentions: list[str] = []
    mention_all = False
    reply_to: str | None = None
    msg_type = "text"
    for seg in segments:
        if not isinstance(seg, Mapping) or not isinstance(seg.get("type"), str):
            _throttle.warning(
                "bad-segment", "skipping a message segment that is not {type, data}: %.80r", seg
            )
            continue
        kind: str = seg["type"]
        data = seg.get("data")
        data = data if isinstance(data, Mapping) else {}
        if kind == "text":
            text.append(str(data.get("text", "")))
        elif kind == "at":
            qq = mention_target(data.get("qq"))
            if qq is None:
                _throttle.warning(
                    "bad-at", "skipping an at segment whose qq is not a QQ number: %.80r", seg
                )
            elif qq == "all":
                mention_all = True
                text.append("@全体成员")
            else:
                if qq not in mentions:
                    mentions.append(qq)
                name = data.get("name")
                text.append(f"@{name if isinstance(name, str) and name else qq}")
        elif kind == "reply":
            reply_to = message_id(data.get("id"))
        else:
            if msg_type == "text" and kind in _MEDIA_TYPES:
                msg_type = _MEDIA_TYPES[kind]
            text.append(_PLACEHOLDERS.get(kind, f"[{kind}]"))
    return ParsedMessage("".join(text), tuple(mentions), mention_all, reply_to, msg_type)


_INTEGER = re.compile(r"-?[0-9]{1,19}")
_INT64_MAX = 2**63 - 1


def _integer(value: object) -> int | None:
    # bool is an int in Python; "１２３".isdigit() is True: only ASCII digits count here.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if -_INT64_MAX <= number <= _INT64_MAX else None


def qq_number(value: object) -> str | None:
    """A QQ account or group number (a positive 64-bit integer) as a string; None otherwise."""
    number = _integer(value)
    return str(number) if number is not None and number > 0 else None


def message_id(value: object) -> str | None:
    """A OneBot message id (a non-zero 64-bit integer; NapCat's may be negative); None otherwise."""
    number = _integer(value)
    return str(number) if number else None


def mention_target(value: object) -> str | None:
    """The ``qq`` of an at segment: a QQ number or ``all``; None otherwise."""
    if isinstance(value, str) and value.strip() == "all":
        return "all"
    return qq_number(value)


def _text_segment(text: str) -> dict[str, Any]:
    return {"type": "text", "data": {"text": text}}
