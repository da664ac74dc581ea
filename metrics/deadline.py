"""Find deadline expressions in normalised message text and resolve them against the send time."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

from metrics.deadline_workday import (
    first_workday_after_holiday,
    last_workday_before_holiday,
    next_workday,
)

_NUM: Final = r"(?:\d{1,2}|[零〇一二两三四五六七八九十]{1,3})"
_DAY: Final = (
    r"(?:(?:(?P<year>\d{4})年)?(?P<month>" + _NUM + r")月(?P<mday>" + _NUM + r")(?:日|号)?"
    r"|(?P<endmonth>" + _NUM + r")月(?:底|末)|(?P<endyear>年底|年末)"
    r"|(?P<smonth>\d{1,2})[-/](?P<sday>\d{1,2})(?![\d%])"
    r"|(?P<bday>" + _NUM + r")(?:日|号)"
    r"|(?P<special>本周内|这周内|下周内|今日内|今天内|当天内|本月底|这个月底|月底|月末|本月内"
    r"|下一?个工作日|下一工作日|节后第一个工作日|节后首个工作日|节后上班第一天|节后第一天上班"
    r"|节前最后一个工作日|节前最后一天|会前)"
    r"|(?P<rel>今天|今日|今晚|今早|当天|当日|当晚|明天|明日|明晚|明早|后天|后日)"
    r"|(?P<week>本周|这周|这个?星期|本星期|下周|下个?星期|下个?礼拜|周|星期|礼拜)"
    r"(?P<wday>[一二三四五六日天1-7]))"
)
# 下午下班前 names one time twice; the trailing 上班/下班 wins.
_POD: Final = (
    r"(?P<pod>上班|上午|中午|午饭|下午|下班|晚上|傍晚|夜里|凌晨|早上|早晨|一早)(?P<pod2>上班|下班)?"
)
_CLOCK: Final = (
    r"(?P<hour>\d{1,2}|[零一二两三四五六七八九十]{1,3})"
    r"(?:(?P<sep>[点时])(?:(?P<half>半)|(?P<minute>\d{1,2}(?!楼|层|号|栋|个|人|户|家)"
    r"|[零一二三四五]?十[一二三四五六七八九]?|[零一二三四五六七八九]{1,2}(?=分))分?)?"
    r"|:(?P<cminute>\d{2}))"
)
# The lookahead lets the scan skip, cheaply, positions where no time expression can start.
_EXPR: Final = re.compile(
    r"(?=[\d今明后当本这下周星礼上中午晚傍夜凌早月年节会零〇一二两三四五六七八九十])"
    r"(?:" + _DAY + r")?(?:\([^)]{0,12}\))?(?:" + _POD + r")?(?:" + _CLOCK + r")?"
)
_SUFFIX: Final = re.compile(
    r"\s*(?:\([^)]{0,12}\))?\s*(?:前|之前|以前|为止|截止|内|以内|之内|(?:就)?是?最后一天)"
)
_CUTOFF_PREFIX: Final = re.compile(
    r"(?:截至|截止(?:时间|日期)?(?:为|是|:|到|至)?|最迟|最晚|不晚于|不迟于)\s*(?:于|在)?\s*$"
)
_YU_VERB: Final = re.compile(r"\s*(?:报送|提交|上报|填报|报|交|完成|发)")
_IMPERATIVE_AFTER_DAY: Final = re.compile(
    r"(?:各[^\s,。]{0,4}?)?(?:务必|必须|请|要|一定)?(?:把|将|完成|报送|提交|上报|填报|报上来"
    r"|补报|补交|补上|补齐|(?:带|拿|送)过来|(?:发|交|报)(?:镇里|县里|区里|局里|上去)"
    r"|(?:交|报)(?=\s|[,;。!]|$)"
    # a verb of handing over with where it goes (今天务必发过来, 明天上午发党建办), not 明天发工资
    r"|(?:发|交|报|上传)(?:一下|过来|上来|给|到|至|我|群|[\u4e00-\u9fff]{0,6}?"
    r"(?:办|站|局|所|中心|科|部|室|组|邮箱))|填写)"
)
# Arrival for an event: the time is its start, not a deadline (8:30前报到, 提前10分钟入会).
_ARRIVAL: Final = re.compile(
    r"[^,;。!?]{0,14}?(?:报到|集合|入会|入场|进场|到达会场|就座|到场"
    r"|到(?:达)?[\u4e00-\u9fff]{1,8}?(?:广场|门口|会场|现场|会议室|大厅|村部|楼下))"
)
# 5点要汇总, 12点要用: the time the material is needed by.
_NEEDED_BY: Final = re.compile(r"\s*(?:就)?要(?:汇总|报|交|用|上报|统计)")
# 活动结束当天 is a day relative to an event, not to the message.
_EVENT_DAY: Final = re.compile(r"(?:结束|完|后|那)$")
# 今天节后第一天上班 names today, it sets no deadline.
_NAMES_TODAY: Final = re.compile(r"(?:今天|今日|是|为)$")
_SENTENCE_END: Final = re.compile(r"[。!?;\n]")
_DURATION: Final = re.compile(
    r"(?P<n>\d+|[一二两三四五六七八九十]{1,3}|半)\s*(?P<half>个半)?个?\s*"
    r"(?P<unit>分钟|小时|钟头|天|日)\s*(?:内|以内|之内)"
)
# A duration after "on seeing a message" is a standing rule, not a deadline.
_STANDING: Final = re.compile(r"(?:看到|收到|接到|每次|今后|以后|平时|随时)[^,;。!?]*$")
_MINUTES_PER_UNIT: Final = {"分钟": 1, "小时": 60, "钟头": 60, "天": 1440, "日": 1440}
_LONGEST_DURATION_MINUTES: Final = 366 * 1440
_RECURRING: Final = re.compile(r"每(?:天|日|晚|早)")
_POD_DEFAULT: Final[dict[str, time]] = {
    "上班": time(8, 30),
    "上午": time(12, 0),
    "中午": time(12, 0),
    "午饭": time(12, 0),
    "早上": time(12, 0),
    "早晨": time(12, 0),
    "一早": time(12, 0),
    "凌晨": time(6, 0),
    "下午": time(17, 30),
    "下班": time(17, 30),
    "傍晚": time(17, 30),
    "晚上": time(22, 0),
    "夜里": time(22, 0),
}
_AFTERNOON_PODS: Final = frozenset({"下午", "下班", "傍晚", "晚上", "夜里"})
_CLOSE: Final = time(17, 30)
_CN_DIGITS: Final = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
                     "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_CN_NUMERAL: Final = re.compile(
    r"(?P<tens>[一二两三四五六七八九])?十(?P<ones>[一二三四五六七八九])?|(?P<digit>[零〇一二两三四五六七八九])"
)
_WEEKDAYS: Final = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
                    "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DeadlineMention:
    """One resolved deadline expression and where it sits in the text."""

    start: int
    end: int
    when: datetime


def cn_int(token: str) -> int | None:
    """Read an Arabic or Chinese numeral up to 99 (十二 -> 12, 二十 -> 20, 两 -> 2).

    None for a run that is no single numeral, such as the approximate range 十一二 (11 or 12)
    or 一一: such a time is vague, so it resolves to no deadline.
    """
    if token.isdigit():
        return int(token)
    match = _CN_NUMERAL.fullmatch(token)
    if match is None:
        return None
    if match.group("digit"):
        return _CN_DIGITS[match.group("digit")]
    tens, ones = match.group("tens"), match.group("ones")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def find_deadlines(text: str, ts: datetime) -> list[DeadlineMention]:
    """Return every deadline expression in normalised, quote-free ``text``, resolved against ts."""
    mentions = [*_durations(text, ts)]
    day_only: list[DeadlineMention] = []  # 今天 + a verb, no time of day: 17:30 by convention
    meeting_start: datetime | None = None
    pending_meeting: list[tuple[int, int]] = []
    # A bare clock (10点前) takes the day named earlier in its sentence (明天…10点前发).
    day_hint: date | None = None
    hint_end = 0
    for match in _EXPR.finditer(text):
        if match.end() == match.start() or not _has_time(match):
            continue
        start, end = match.span()
        if day_hint is not None and _SENTENCE_END.search(text, hint_end, start):
            day_hint = None
        if _names_day(match):
            day_hint, hint_end = _resolve_day(match, ts.date())[0], end
        suffix = _SUFFIX.match(text, end)
        special = match.group("special")
        if special == "会前":
            pending_meeting.append((start, end))
            continue
        if suffix is None and not _counts_without_suffix(text, match, special):
            if meeting_start is None and match.group("hour"):
                meeting_start = _resolve_in_range(match, ts, text, day_hint)
            continue
        stop = suffix.end() if suffix else end
        if _ARRIVAL.match(text, stop) or text[max(0, start - 2) : start] == "提前":
            continue
        if match.group("rel") == "当天" and _EVENT_DAY.search(text, max(0, start - 2), start):
            continue
        when = _resolve_in_range(match, ts, text, day_hint)
        if when is not None:
            mention = DeadlineMention(start, stop, when)
            plain_day = not (match.group("hour") or match.group("pod") or special or suffix)
            (day_only if plain_day else mentions).append(mention)
    # 今天把表统计一下，今晚8点前发我: the day's clock time is the deadline, not the 17:30 default.
    timed_days = {m.when.date() for m in mentions}
    mentions.extend(m for m in day_only if m.when.date() not in timed_days)
    if meeting_start is not None:
        mentions.extend(DeadlineMention(s, e, meeting_start) for s, e in pending_meeting)
    return mentions


def _names_day(match: re.Match[str]) -> bool:
    return any(match.group(g) for g in ("month", "smonth", "bday", "rel", "wday"))


def _has_time(match: re.Match[str]) -> bool:
    return any(match.group(name) for name in ("month", "smonth", "bday", "special", "rel", "wday",
                                             "endmonth", "endyear",
                                             "pod", "hour"))  # fmt: skip


def _counts_without_suffix(text: str, match: re.Match[str], special: str | None) -> bool:
    if special is not None:
        # 今天节后第一天上班 names today; 节后第一个工作日报送 sets a deadline
        named = special.startswith(("节后", "节前")) and _NAMES_TODAY.search(
            text, max(0, match.start() - 2), match.start()
        )
        return not named
    before = text[max(0, match.start() - 8) : match.start()]
    if _CUTOFF_PREFIX.search(before):
        return True
    if before.endswith("于") and _YU_VERB.match(text, match.end()):
        return True
    if match.group("hour") and _NEEDED_BY.match(text, match.end()):
        return True
    # 今天/明天上午/下周一上午/上午 + an imperative; 每周一上午报 is a routine, not a deadline
    bare_day = (match.group("rel") or match.group("wday") or match.group("pod")) and not (
        match.group("hour")
    )
    if bare_day and text[max(0, match.start() - 1) : match.start()] == "每":
        return False
    return bool(bare_day and _IMPERATIVE_AFTER_DAY.match(text, match.end()))


def _durations(text: str, ts: datetime) -> list[DeadlineMention]:
    found: list[DeadlineMention] = []
    for match in _DURATION.finditer(text):
        if _STANDING.search(text[: match.start()]):
            continue
        raw = match.group("n")
        count = 0.5 if raw == "半" else cn_int(raw)
        if count is None:
            continue
        amount = count + (0.5 if match.group("half") else 0.0)
        minutes = amount * _MINUTES_PER_UNIT[match.group("unit")]
        if minutes > _LONGEST_DURATION_MINUTES:
            continue  # 100000小时内 is no deadline (and would overflow the calendar)
        try:
            when = ts + timedelta(minutes=minutes)
        except OverflowError:
            continue  # sent at the very end of the calendar
        found.append(DeadlineMention(match.start(), match.end(), when))
    return found


def _resolve_in_range(
    match: re.Match[str], ts: datetime, text: str, day_hint: date | None = None
) -> datetime | None:
    """resolve, or None when the day it names lies past the calendar's end (year 9999)."""
    try:
        return resolve(match, ts, text, day_hint)
    except (ValueError, OverflowError):
        return None


def resolve(
    match: re.Match[str], ts: datetime, text: str, day_hint: date | None = None
) -> datetime | None:
    """Turn one expression match into an aware datetime in ts's zone, or None if impossible.

    ``day_hint`` is the day an expression naming no day of its own falls on (the day named
    earlier in its sentence); without one it is the day of ``ts``.
    """
    today = ts.date()
    day, implied_pod = _resolve_day(match, today)
    if day_hint is not None and not _names_day(match) and not match.group("special"):
        day = day_hint
    if day is None:
        return None
    pod = match.group("pod2") or match.group("pod") or implied_pod
    hour_token = match.group("hour")
    if hour_token is None:
        if pod is not None:
            clock = _POD_DEFAULT[pod]
        elif _is_today_token(match) and ts.time() >= _CLOSE:
            clock = time(23, 59)
        else:
            clock = _CLOSE
        return datetime.combine(day, clock, tzinfo=ts.tzinfo)
    hour = cn_int(hour_token)
    minute: int | None = 30 if match.group("half") else 0
    minute_token = match.group("minute") or match.group("cminute")
    if minute_token:
        minute = cn_int(minute_token)
    if hour is None or minute is None or hour > 24 or minute > 59:
        return None
    explicit_day = day != today or _is_today_token(match)
    if (pod in _AFTERNOON_PODS and hour < 12) or (pod == "中午" and hour <= 2):
        hour += 12
    elif pod in {"晚上", "夜里"} and hour == 12:
        hour = 24
    elif pod is None and hour < 12:
        if explicit_day and day != today:
            hour = hour if hour >= 7 else hour + 12
        else:
            return _next_clock(ts, hour, minute, text)
    if hour >= 24:
        return datetime.combine(day + timedelta(days=1), time(hour - 24, minute), tzinfo=ts.tzinfo)
    when = datetime.combine(day, time(hour, minute), tzinfo=ts.tzinfo)
    if when < ts and not explicit_day and _RECURRING.search(text):
        when += timedelta(days=1)
    elif when < ts and match.group("wday") and _is_weekly(match, text):
        when += timedelta(days=7)  # 每周一上午10点前, sent on a Tuesday: next Monday
    return when


def _is_weekly(match: re.Match[str], text: str) -> bool:
    return text[max(0, match.start() - 1) : match.start()] == "每"


def _next_clock(ts: datetime, hour: int, minute: int, text: str) -> datetime:
    """Read a bare hour from context: the first of h:mm or (h+12):mm that is still ahead of ts."""
    for candidate_hour in (hour, hour + 12):
        when = datetime.combine(ts.date(), time(candidate_hour, minute), tzinfo=ts.tzinfo)
        if when >= ts:
            return when
    return datetime.combine(ts.date() + timedelta(days=1), time(hour, minute), tzinfo=ts.tzinfo)


def _is_today_token(match: re.Match[str]) -> bool:
    return match.group("rel") in {"今天", "今日", "当天", "当日", "今晚", "今早", "当晚"} or (
        match.group("special") in {"今日内", "今天内", "当天内"}
    )


def _resolve_day(match: re.Match[str], today: date) -> tuple[date | None, str | None]:
    """Return the calendar day an expression names and any part of day its word implies."""
    if match.group("month") or match.group("smonth"):
        month = cn_int(match.group("month") or match.group("smonth"))
        mday = cn_int(match.group("mday") or match.group("sday"))
        if month is None or mday is None:
            return None, None
        year = int(match.group("year")) if match.group("year") else today.year
        when = _safe_date(year, month, mday)
        if when is not None and when < today and not match.group("year"):
            when = _safe_date(year + 1, month, mday)
        return when, None
    if match.group("endmonth") or match.group("endyear"):
        month = cn_int(match.group("endmonth")) if match.group("endmonth") else 12
        if month is None or not 1 <= month <= 12:
            return None, None
        year = today.year + (1 if month < today.month else 0)
        return date(year, month, calendar.monthrange(year, month)[1]), None
    if match.group("bday"):
        mday = cn_int(match.group("bday"))
        if mday is None:
            return None, None
        when = _safe_date(today.year, today.month, mday)
        if when is None or when < today:
            year, month = (
                (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
            )
            when = _safe_date(year, month, mday)
        return when, None
    if match.group("special"):
        return _resolve_special(match.group("special"), today)
    if match.group("rel"):
        return _resolve_relative(match.group("rel"), today)
    if match.group("wday"):
        monday = today - timedelta(days=today.weekday())
        week = match.group("week")
        if week.startswith("下"):
            monday += timedelta(days=7)
        day = monday + timedelta(days=_WEEKDAYS[match.group("wday")])
        if day < today and week in {"周", "星期", "礼拜"}:
            day += timedelta(days=7)  # a bare 周一 sent on Friday means the coming Monday
        return day, None
    return today, None


def _resolve_relative(word: str, today: date) -> tuple[date, str | None]:
    offset = 2 if word.startswith("后") else 1 if word.startswith("明") else 0
    implied = "晚上" if word.endswith("晚") else "上午" if word.endswith("早") else None
    return today + timedelta(days=offset), implied


def _resolve_special(word: str, today: date) -> tuple[date | None, str | None]:
    monday = today - timedelta(days=today.weekday())
    if word in {"本周内", "这周内"}:
        return monday + timedelta(days=4), None
    if word == "下周内":
        return monday + timedelta(days=11), None
    if word in {"今日内", "今天内", "当天内"}:
        return today, None
    if "月" in word:
        last = calendar.monthrange(today.year, today.month)[1]
        return today.replace(day=last), None
    if word.startswith("下"):
        return next_workday(today), None
    if word.startswith("节后"):
        return first_workday_after_holiday(today), None
    if word.startswith("节前"):
        return last_workday_before_holiday(today), None
    return None, None


def _safe_date(year: int, month: int, mday: int) -> date | None:
    try:
        return date(year, month, mday)
    except ValueError:
        return None
