"""Recognise a member's acknowledgement (收到, 好的, 1, [强], a 接龙 list with a line added)."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from metrics.phrases import ACK_BLOCKERS, ACK_EMOJI, ACK_STICKERS, ACK_TOKENS

_STICKER: Final = re.compile(r"\[([^\[\]]{1,8})\]")
_MENTION: Final = re.compile(r"@[^\s@,:]{1,20}\s?")
_LIST_LINE: Final = re.compile(r"^\s*\d{1,3}\s*[.、)]\s*\S", re.MULTILINE)
_EDGE_PUNCT: Final = " \t\n,.;:!?~。、…·—-()\"“”'‘’[]【】《》"
# Words that, after an ack, issue a new demand to others instead of confirming.
_NEW_DEMAND: Final = re.compile(
    r"请(?!查收|查阅|审核|领导|指示|批评|指正)|务必|必须|各位(?!领导)|大家|各村|各单位|@所有人|要求你们"
)
_ZERO_REPORT: Final = re.compile(r"^[\u4e00-\u9fff\s]{0,10}?(?:无|没有|暂无|零报告)$")
_SHORT_TAIL: Final = 24
# A quote-reply shows the quoted message (now a placeholder) above a dashed rule.
_QUOTE_REPLY: Final = re.compile(r"□|^[\s\-—–]{3,}$", re.MULTILINE)
# A member reporting their own part done (我村材料已报送，请审核) is acknowledging.
_DONE_REPORT: Final = re.compile(
    r"已(?:经)?(?:报送|上报|提交|报|发(?!布|出|文|放|生|现)|交|完成|上传|拍照|接龙|转发|到位|到岗"
    r"|在岗|处理|落实|整改|核实)"
)
# A notice opens with its source or kind (县统计局：, 突发：); a unit's reply opens with the unit.
_NOTICE_HEADER: Final = re.compile(r"^[\u4e00-\u9fff]{1,8}(?<![村组])(?<!社区)(?<!网格)\s*:")
_DONE_REPORT_MAX: Final = 30
# A unit answering a data request with its line (红星村：在岗5人) replies, it does not demand.
_UNIT_LINE: Final = re.compile(r"^[\u4e00-\u9fff]{1,8}(?:村|社区|网格|小组)\s*[:：\s]\s*\S")
_UNIT_LINE_MAX: Final = 40
# The same line with the unit signed after it (平安 东山村, 5人在岗 石桥村, 已到岗 双河村李强).
_UNIT_SIGNED: Final = re.compile(
    r"^[^\s]{1,10}\s+[\u4e00-\u9fff]{1,8}(?:村|社区|网格|小组)[\u4e00-\u9fff]{0,4}$"
)


def _symbol_class() -> re.Pattern[str]:
    """Emoji, modifiers, joiners and combining marks (categories So Sk Cf Mn Me) as one class.

    Built once from the code points where they occur (the BMP and the emoji planes), so that
    stripping them is one regex pass instead of a category lookup per character.
    """
    ranges: list[tuple[int, int]] = []
    for cp in (*range(0x10000), *range(0x1F000, 0x1FB00), *range(0xE0000, 0xE0080)):
        if unicodedata.category(chr(cp)) in {"So", "Sk", "Cf", "Mn", "Me"}:
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    parts = (re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges)
    return re.compile("[" + "".join(parts) + "]+")


_SYMBOLS: Final = _symbol_class()
_TOKENS_LONGEST_FIRST: Final = tuple(sorted(ACK_TOKENS, key=len, reverse=True))
_TAIL_TOKENS: Final = (
    "收到", "已阅", "明白", "好的", "知悉", "收悉", "已报", "已完成", "已到位", "已发", "已上传",
    "已提交", "已交", "已报送", "已上报", "已落实", "已处理", "已接龙", "已拍照", "已转发",
)  # fmt: skip


def is_ack_reply(text: str) -> bool:
    """Tell whether normalised ``text`` is a member acknowledging rather than demanding."""
    if _is_roll_call_list(text):
        return True
    stickers = _STICKER.findall(text)
    core = _MENTION.sub("", _STICKER.sub("", _QUOTE_REPLY.sub("", text)))
    stripped = _SYMBOLS.sub("", core).strip(_EDGE_PUNCT)
    if not stripped:
        emoji = set(core) & ACK_EMOJI
        return bool(emoji) or any(s in ACK_STICKERS for s in stickers)
    core = stripped
    if _NEW_DEMAND.search(core):
        return False
    if _ZERO_REPORT.match(core):
        return True
    notice = _NOTICE_HEADER.match(core) is not None
    if len(core) <= _DONE_REPORT_MAX and _DONE_REPORT.search(core) and not notice:
        return True
    if _UNIT_SIGNED.match(core):
        return True
    if len(core) <= _UNIT_LINE_MAX and _UNIT_LINE.match(core) and "?" not in core:
        return True
    if _starts_with_ack(core):
        return True
    return len(core) <= _SHORT_TAIL and core.endswith(_TAIL_TOKENS) and not notice


def is_chain_list(text: str) -> bool:
    """Whether normalised ``text`` is a 接龙 list with lines added (a member joining it)."""
    return _is_roll_call_list(text)


def _is_roll_call_list(text: str) -> bool:
    """A 接龙 post whose body is a numbered list is a member adding their line."""
    first_line = text.strip().split("\n", 1)[0]
    return "接龙" in first_line and len(_LIST_LINE.findall(text)) >= 2


def _starts_with_ack(core: str) -> bool:
    for token in _TOKENS_LONGEST_FIRST:
        if not core.startswith(token):
            continue
        rest = core[len(token) :]
        if not rest:
            return True
        if len(token) == 1 or token == "+1":
            # 好消息, 1号楼, 1.: a one-character token must stand alone.
            return rest[0] in _EDGE_PUNCT or rest[0] in "(,，"
        # 收到请回复 is a request; 收到，请查收 is an ack (a new 请 was checked by the caller).
        return not rest.lstrip(" ").startswith(ACK_BLOCKERS)
    return False
