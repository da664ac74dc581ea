"""Recognises the bot's Chinese commands in group and private messages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

CommandName = Literal["consent", "stop", "opt_out", "opt_in", "my_load", "report_groups", "help"]

# Several phrasings per command: cadres type what feels natural.
_WORDS: dict[str, CommandName] = {
    "同意记录": "consent",
    "确认记录": "consent",
    "同意监测": "consent",
    "停止记录": "stop",
    "停止监测": "stop",
    "退出统计": "opt_out",
    "不参与统计": "opt_out",
    "加入统计": "opt_in",
    "恢复统计": "opt_in",
    "我的负担": "my_load",
    "减负帮助": "help",
    "帮助": "help",
}
_REPORT = re.compile(r"^我的群数\s*[:：]?\s*(\d{1,4})\s*个?$")
_MENTION = re.compile(r"@\S+[\s\u2005]*")


@dataclass(frozen=True, slots=True)
class Command:
    name: CommandName
    argument: int | None = None


def parse_command(text: str, bot_names: tuple[str, ...] = ()) -> Command | None:
    """The command in ``text``, or None for ordinary messages.

    A command is the whole message, optionally after @-mentioning the bot, and
    optionally with a leading ``#`` or ``/``: ``@减负助手 同意记录``, ``#退出统计``.
    """
    body = text.strip()
    for name in bot_names:
        body = body.replace(f"@{name}", " ")
    body = _MENTION.sub(" ", body) if body.startswith("@") else body
    body = body.strip().lstrip("#/＃").strip()
    if body in _WORDS:
        return Command(_WORDS[body])
    m = _REPORT.match(body)
    if m:
        return Command("report_groups", int(m.group(1)))
    return None


# Commands a member types alone in a group, as the announcement tells them to; every
# other command in a group must @-mention the bot.
OPEN_IN_GROUPS: frozenset[CommandName] = frozenset({"consent", "stop", "opt_out", "opt_in"})


def addresses_bot(
    text: str, mentions: tuple[str, ...], self_id: str | None, names: tuple[str, ...]
) -> bool:
    """Whether a group message @-mentions the bot: by mention list, or "@name" in the text."""
    return (self_id is not None and self_id in mentions) or any(f"@{n}" in text for n in names)
