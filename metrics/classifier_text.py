"""Text preparation for the classifier: normalisation, simplification, quotes, @everyone."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from opencc_purepy import OpenCC

# OpenCC in pure Python costs ~50 µs per short message; most messages are already simplified,
# so conversion runs only when a character that OpenCC would change is present.
_T2S: Final = OpenCC("t2s")
_TRADITIONAL: Final[frozenset[str]] = frozenset(
    key for key, value in _T2S.dictionary.ts_characters[0].items() if len(key) == 1 and key != value
)

# Quoted material (“...”, 「...」, ...) relays or cites words; it asks nothing of members itself.
_QUOTED_SPANS: Final = r"“[^“”]*”|‘[^‘’]*’|「[^「」]*」|『[^『』]*』|\"[^\"\n]*\""
QUOTED: Final = re.compile(_QUOTED_SPANS)
# A line starting with ">" is a quoted block (email and forwarded-chat style). Matching it costs
# a line-anchored try at every position, so it is used only when the text has a ">".
_QUOTED_OR_LINES: Final = re.compile(_QUOTED_SPANS + r"|(?m:^[ \t]*>[^\n]*)")
QUOTE_PLACEHOLDER: Final = "□"

# Where relayed content begins: 转发…通知: / 【转】 / forwarded-chat banners.
_FORWARD_START: Final = re.compile(
    r"^\s*(?:【转(?:发|自|载)?】|\[转(?:发|自)?\]|转(?:发|自|载)?\s*:|转发[^:\n]{0,24}?:)"
    r"|[-—=]{3,}\s*(?:转发|原始|原)[^\n]*|\[聊天记录\]|以下为转发内容|引用[^\n]{0,20}?的消息\s*:",
)
_MENTION_ALL: Final = re.compile(
    r"(?<![A-Za-z0-9_.])@\s?(?:所有人|全体成员|全体人员|全体群成员|全体同志|全体|all\b|everyone\b)",
    re.IGNORECASE,
)

SENTENCE_SPLIT: Final = re.compile(r"[。!?;\n…]+")
CLAUSE_SPLIT: Final = re.compile(r"[。!?;\n…,]+|(?<!\d):|:(?!\d)")


def normalise(text: str) -> str:
    """Return NFKC, simplified, lower-cased text (full-width digits and punctuation turn ASCII)."""
    folded = unicodedata.normalize("NFKC", text)
    if not _TRADITIONAL.isdisjoint(folded):
        folded = _T2S.convert(folded)
    return folded.lower()


def strip_quotes(text: str) -> str:
    """Replace quoted spans with a placeholder so their words neither demand nor mention."""
    return _quote_pattern(text).sub(QUOTE_PLACEHOLDER, text)


def quoted_parts(text: str) -> list[str]:
    """Return the quoted spans of ``text``, in the order strip_quotes puts placeholders."""
    return _quote_pattern(text).findall(text)


def _quote_pattern(text: str) -> re.Pattern[str]:
    return _QUOTED_OR_LINES if ">" in text else QUOTED


def own_part(text: str) -> str:
    """Return the part of a normalised message the sender wrote, before any relayed content."""
    unquoted = strip_quotes(text)
    match = _FORWARD_START.search(unquoted)
    return unquoted if match is None else unquoted[: match.start()]


def mentions_everyone(text: str) -> bool:
    """Tell whether the sender @-mentions everyone, ignoring quoted or forwarded content."""
    return _MENTION_ALL.search(own_part(normalise(text))) is not None


def clause_spans(text: str) -> list[tuple[int, int]]:
    """Return (start, end) offsets of the clauses of ``text`` (split at , ; : 。 ! ? newline)."""
    return _spans(text, CLAUSE_SPLIT)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Return (start, end) offsets of the sentences of ``text`` (split at 。 ! ? ; and newlines)."""
    return _spans(text, SENTENCE_SPLIT)


def _spans(text: str, splitter: re.Pattern[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in splitter.finditer(text):
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans
