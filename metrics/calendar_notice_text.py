"""Text preparation for the holiday notice reader: pasted lines into logical lines, and the patterns."""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Final

from metrics.classifier_text import normalise

# Pasted web text carries zero-width characters and BOMs besides ordinary whitespace; none of
# them means anything in Chinese prose, so all go (that also joins "1 月 28 日" and "2 8").
_INVISIBLE: Final = re.compile(r"[\s\u200b-\u200f\u2060\ufeff]+")

# One date, after NFKC (full-width digits and brackets are ASCII by then): 2018年12月30日(星期日).
# Year and month are optional: "至6日" and "、21日" take them from the date before.
_DATE: Final = r"(?:(?P<{p}y>\d{{4}})年)?(?:(?P<{p}m>\d{{1,2}})月)?(?P<{p}d>\d{{1,2}})日(?:\((?P<{p}n>[^()]*)\))?"
_DASH: Final = r"(?:至|到|~|〜|[-‐‑–—―−]+)"
# Tokens of a section's sentence, in order. A count after 放假 ("放假1天") also marks the dates
# before it as days off, so it is tried before the plain keyword; "共3天" only counts.
TOKEN: Final = re.compile(
    rf"(?P<range>{_DATE.format(p='a')}{_DASH}{_DATE.format(p='b')})"
    rf"|(?P<single>{_DATE.format(p='s')})"
    r"|(?:(?P<off_n>放假|调休|连休)|共计?)(?P<count>\d{1,3})天"
    r"|(?P<off>放假|补休|调休|公休|连休)"
    r"|(?P<work>上班)"
)
WEEKDAY_NOTE: Final = re.compile(r"(?:周|星期|礼拜)([一二三四五六日天])")
WEEKDAY_INDEX: Final = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
WEEKDAY_ZH: Final = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

# 一、元旦：… / 二．春节：… / (三)清明节：… ; an unnumbered head must name known festivals, so
# that a wrapped line starting "节：" or "国庆节：" mid-heading is not taken for one.
_NUMBERED: Final = re.compile(
    r"^(?:[一二三四五六七八九十]{1,3}[、.,]|\([一二三四五六七八九十]{1,3}\))"
)
_FESTIVAL: Final = r"(?:元旦|春节|清明节?|劳动节|五一|端午节?|中秋节?|国庆节?)"
_NAMED: Final = re.compile(rf"^{_FESTIVAL}(?:[、和]{_FESTIVAL})*:")
_NAME: Final = re.compile(r"^([^:\d]{1,20}):")
# Words that arrange a day; a sentence naming dates without any of them is prose (a signature
# "国务院办公厅2019年11月21日"), unless it starts with a date and so reads like a lost 上班.
ARRANGES: Final = re.compile(r"放假|补休|调休|公休|连休|上班")
SENTENCE_SPLIT: Final = re.compile(r"[。;]")
# Advice ("鼓励…在除夕（2月9日）休息") names a day but arranges nothing.
ADVICE: Final = re.compile(r"^(?:鼓励|倡导|提倡|建议)")

TITLE: Final = re.compile(r"(?:国务院办公厅)?关于(\d{4})年(?:部分)?节假日安排的通知")
BODY_YEAR: Final = re.compile(r"现将(\d{4})年")


def clean(line: str) -> str:
    """One pasted line in NFKC, simplified characters and without whitespace."""
    return _INVISIBLE.sub("", normalise(line))


_DISPLAY: Final = str.maketrans({"(": "（", ")": "）", ":": "：", ",": "，", ";": "；"})


def display(text: str) -> str:
    """Cleaned text with the notice's full-width punctuation back, for messages."""
    return text.translate(_DISPLAY)


def section_head(line: str) -> tuple[str, str] | None:
    """(festival name, rest of the line) when ``line`` starts a festival section, else None."""
    numbered = _NUMBERED.match(line)
    if numbered is None and _NAMED.match(line) is None:
        return None
    rest = line[numbered.end() :] if numbered else line
    name = _NAME.match(rest)
    if name is not None:
        return name.group(1).strip("、,"), rest[name.end() :]
    # "一、元旦1月1日放假" without a colon: the name is whatever precedes the first digit.
    head = re.match(r"^[^\d]*", rest)
    label = head.group(0) if head else ""
    return label, rest[len(label) :]


def _continues(previous: str, line: str) -> bool:
    """Whether ``line`` is the wrapped rest of ``previous`` rather than a paragraph of its own."""
    if previous.count("(") > previous.count(")"):
        return True  # inside a note: "(农历正月初" / "七、周二)" is no section 七
    if _NUMBERED.match(line):
        return False
    head = section_head(_last_piece(previous))
    tail = previous[previous.rfind("。") + 1 :]
    if _NUMBERED.match(tail) and ":" not in tail:
        return True  # the heading itself wrapped: "六、中秋节、" / "国庆节：…"
    if section_head(line) is not None:
        return False
    if TITLE.fullmatch(previous) or (previous.endswith(":") and head is None):
        return False  # the title and the addressee line end their paragraphs
    if not previous.endswith("。"):
        return True
    # A section wrapped at a sentence end: "…共3天。" / "1月4日（周日）上班。". The next
    # paragraph of a notice never starts with a digit; a stray date joined here is refused.
    return head is not None and line[:1].isdigit()


def _split_sections(number_at: list[tuple[int, int]], line: str) -> list[tuple[int, str]]:
    """Cut a logical line where a section follows a full stop: some sites print one paragraph."""
    cuts = [0]
    cuts += [i for i in range(1, len(line)) if line[i - 1] == "。" and _starts_section(line[i:])]
    cuts.append(len(line))
    pieces: list[tuple[int, str]] = []
    for start, end in pairwise(cuts):
        number = max(n for offset, n in number_at if offset <= start)
        pieces.append((number, line[start:end]))
    return pieces


def _last_piece(line: str) -> str:
    """The part of ``line`` that _split_sections would cut off last."""
    stop = line.rfind("。", 0, len(line) - 1)
    while stop >= 0 and not _starts_section(line[stop + 1 :]):
        stop = line.rfind("。", 0, stop)
    return line[stop + 1 :]


def _starts_section(text: str) -> bool:
    return _NUMBERED.match(text) is not None or _NAMED.match(text) is not None


def logical_lines(text: str) -> list[tuple[int, str]]:
    """The text as (physical line number, cleaned text) with wrapped lines joined.

    The number is the physical line where the logical line starts, for error messages.
    """
    joined: list[tuple[list[tuple[int, int]], str]] = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, raw in enumerate(lines, start=1):
        line = clean(raw)
        if not line:
            continue  # blank lines neither end nor start a sentence: sites double-space wraps too
        if joined and _continues(joined[-1][1], line):
            offsets, previous = joined[-1]
            offsets.append((len(previous), number))
            joined[-1] = (offsets, previous + line)
        else:
            joined.append(([(0, number)], line))
    return [piece for offsets, line in joined for piece in _split_sections(offsets, line)]
