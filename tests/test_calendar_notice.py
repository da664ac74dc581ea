"""Tests for reading the State Council's holiday notice (metrics.calendar_notice)."""

from __future__ import annotations

import contextlib
import json
import re
import tomllib
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opencc_purepy import OpenCC

from metrics.calendar_notice import HolidayNotice, NoticeError, parse_notice, to_json, to_toml
from metrics.errors import MetricsError

NOTICES = Path(__file__).parent / "data" / "notices"
YEARS = range(2012, 2027)


@cache
def notice_text(year: int) -> str:
    return (NOTICES / f"{year}.txt").read_text(encoding="utf-8")


@cache
def notice(year: int) -> HolidayNotice:
    return parse_notice(notice_text(year))


def days_between(first: str, last: str) -> set[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return {start + timedelta(days=n) for n in range((end - start).days + 1)}


# Later notices that changed a year after its annual notice; chinesecalendar includes them (see
# its scripts/data.py), the annual notice cannot. Each entry quotes its notice (SOURCES.md).
# (days off added, make-up workdays added, make-up workdays cancelled)
AMENDMENTS: dict[int, tuple[set[date], set[date], set[date]]] = {
    # 国务院关于中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日调休放假的通知 (国发明电〔2015〕1号):
    # "9月3日至5日调休放假，共3天。其中9月3日（星期四）放假，9月4日（星期五）调休，9月6日（星期日）上班。"
    2015: (days_between("2015-09-03", "2015-09-05"), {date(2015, 9, 6)}, set()),
    # 国务院办公厅关于调整2019年劳动节假期安排的通知 (国办发明电〔2019〕3号):
    # "2019年5月1日至4日放假调休，共4天。4月28日（星期日）、5月5日（星期日）上班。"
    2019: (days_between("2019-05-01", "2019-05-04"), {date(2019, 4, 28), date(2019, 5, 5)}, set()),
    # 国务院办公厅关于延长2020年春节假期的通知 (国办发明电〔2020〕1号):
    # "延长2020年春节假期至2月2日（农历正月初九，星期日），2月3日（星期一）起正常上班。"
    2020: (days_between("2020-01-31", "2020-02-02"), set(), {date(2020, 2, 1)}),
}

# Weekend days on which chinesecalendar's list of named holidays differs from the days the
# notices list. The package is not consistent here, so no reading rule can match it: it
# expands "与周末连休" in 2019 and for 2024's 元旦 but not in 2014, 2016, 2017, 2018 or 2024's
# 端午, and leaves out a Saturday inside two written ranges. None is a working day either way.
# (days only the notices list, days only the package lists)
PACKAGE_WEEKEND_DIFFERENCES: dict[int, tuple[set[date], set[date]]] = {
    # "6月22日至24日放假公休": the package has .rest(6, 22).rest(6, 24), without Saturday 6-23.
    2012: ({date(2012, 6, 23)}, set()),
    # "4月5日放假，4月7日（星期一）补休": the package adds Sunday 4-6 (.rest(4, 5).to(4, 7)).
    2014: (set(), {date(2014, 4, 6)}),
    # The amendment's "9月3日至5日调休放假": the package has .rest(9, 3).to(9, 4), not Saturday 9-5.
    2015: ({date(2015, 9, 5)}, set()),
    # "4月5日/6月7日/9月13日放假，与周末连休": the package adds each following weekend.
    2019: (
        set(),
        {date(2019, 4, d) for d in (6, 7)}
        | {date(2019, 6, d) for d in (8, 9)}
        | {date(2019, 9, d) for d in (14, 15)},
    ),
    # 2024's "1月1日放假，与周末连休": the package adds 2023-12-30 and 12-31 to 2023.
    2023: (set(), {date(2023, 12, 30), date(2023, 12, 31)}),
}


def calendar_days(year: int) -> tuple[set[date], set[date]]:
    """Days off and make-up workdays of ``year`` by the notices: its own, the neighbours' spill-over
    (2019's notice starts 元旦 on 2018-12-30) and any amendment."""
    holidays: set[date] = set()
    workdays: set[date] = set()
    for source in (year - 1, year, year + 1):
        if source in YEARS:
            holidays |= {d for d in notice(source).holidays if d.year == year}
            workdays |= {d for d in notice(source).workdays if d.year == year}
    added_off, added_work, cancelled = AMENDMENTS.get(year, (set(), set(), set()))
    return holidays | added_off, (workdays | added_work) - cancelled - added_off


def package_days(year: int) -> tuple[set[date], set[date]]:
    holidays = {d for d in chinese_calendar.holidays if d.year == year}
    workdays = {d for d in chinese_calendar.workdays if d.year == year}
    return holidays, workdays


@pytest.mark.parametrize("year", YEARS)
def test_each_notice_reads_with_its_year_and_title(year: int) -> None:
    """Every real notice 2012-2026 reads, taking its year from the title."""
    parsed = notice(year)
    assert year == parsed.year
    assert f"国务院办公厅关于{year}年部分节假日安排的通知" == parsed.title
    assert len(parsed.festivals) in (6, 7)


@pytest.mark.parametrize("year", YEARS)
def test_working_days_agree_with_the_package_on_every_day(year: int) -> None:
    """A day is a working day by the notices exactly when chinesecalendar says so."""
    holidays, workdays = calendar_days(year)
    day, disagreements = date(year, 1, 1), []
    while day.year == year:
        by_notice = (day.weekday() < 5 and day not in holidays) or day in workdays
        if by_notice != chinese_calendar.is_workday(day):
            disagreements.append(day)
        day += timedelta(days=1)
    assert [] == disagreements


@pytest.mark.parametrize("year", YEARS)
def test_make_up_workdays_equal_the_package(year: int) -> None:
    """The 调休 make-up workdays of each year are exactly the package's."""
    assert package_days(year)[1] == calendar_days(year)[1]


@pytest.mark.parametrize("year", YEARS)
def test_holidays_equal_the_package_but_for_its_weekend_quirks(year: int) -> None:
    """Days off equal the package's named holidays, except the weekend days listed above."""
    ours, theirs = calendar_days(year)[0], package_days(year)[0]
    assert PACKAGE_WEEKEND_DIFFERENCES.get(year, (set(), set())) == (ours - theirs, theirs - ours)
    assert all(d.weekday() >= 5 for d in ours ^ theirs)
    # Every Monday-Friday off is the same: that is what decides working time.
    assert {d for d in theirs if d.weekday() < 5} == {d for d in ours if d.weekday() < 5}


@pytest.mark.parametrize("year", YEARS)
def test_days_a_notice_arranges_in_another_year_agree_with_the_package(year: int) -> None:
    """2012's 2011-12-31 workday, 2019's and 2023's December days are the package's too."""
    parsed = notice(year)
    for day in parsed.holidays:
        assert day.year == year or day in chinese_calendar.holidays
    for day in parsed.workdays:
        assert day.year == year or day in chinese_calendar.workdays


def test_cross_month_and_cross_year_ranges_give_whole_ranges() -> None:
    """1月28日至2月4日 is eight days; 2018年12月30日至2019年1月1日 spans the new year."""
    festivals_2025 = dict(notice(2025).festivals)
    assert tuple(sorted(days_between("2025-01-28", "2025-02-04"))) == festivals_2025["春节"]
    assert (
        tuple(sorted(days_between("2025-10-01", "2025-10-08"))) == festivals_2025["国庆节、中秋节"]
    )
    festivals_2019 = dict(notice(2019).festivals)
    assert tuple(sorted(days_between("2018-12-30", "2019-01-01"))) == festivals_2019["元旦"]
    assert date(2018, 12, 29) in notice(2019).workdays
    assert date(2011, 12, 31) in notice(2012).workdays


def test_single_days_and_bu_xiu_days_are_the_days_named() -> None:
    """ "4月5日放假，4月7日（星期一）补休" names two days; "与周末连休" adds none."""
    festivals = dict(notice(2014).festivals)
    assert (date(2014, 4, 5), date(2014, 4, 7)) == festivals["清明节"]
    assert (date(2014, 6, 2),) == festivals["端午节"]
    assert (date(2014, 1, 1),) == festivals["元旦"]


# --- formatting variants, each derived from a real notice --------------------------------

S2T = OpenCC("s2t")
SECTION_LINE = re.compile(r"^[一二三四五六七]、.*$", re.MULTILINE)


def in_sections(pattern: str, replacement: str) -> Callable[[str], str]:
    """A variant that rewrites only the numbered lines (the preamble keeps its words)."""

    def change(text: str) -> str:
        return SECTION_LINE.sub(lambda m: re.sub(pattern, replacement, m.group(0)), text)

    return change


def wrapped(width: int) -> Callable[[str], str]:
    def change(text: str) -> str:
        flat = text.replace("\n", "")
        return "\n".join(flat[i : i + width] for i in range(0, len(flat), width))

    return change


COMMENTARY_BEFORE = "新华社北京11月4日电　经党中央、国务院批准，国务院办公厅日前印发通知，全文如下：\n来源：中国政府网\n"
COMMENTARY_AFTER = (
    "\n（完）\n责任编辑：王某\n【纠错】\n相关新闻：2026年春运自2月2日开始，共40天。\n"
    "记者注意到，今年春节假期比去年多一天。\n"
)


def with_commentary(text: str) -> str:
    lines = text.split("\n")
    middle = lines.index(next(line for line in lines if line.startswith("四、")))
    lines.insert(middle, "\n（记者 李某）网友纷纷表示：期待这个假期！\n")
    return COMMENTARY_BEFORE + "\n".join(lines) + COMMENTARY_AFTER


def spaced(text: str) -> str:
    # Indented paragraphs, blank lines between them, spaces inside dates and around 至.
    text = re.sub(r"(\d+)月(\d+)日", r"\1 月  \2 日", text)
    text = text.replace("至", " \t至  ")
    return "\n\n".join("\u3000\u3000" + line + "  " for line in text.split("\n"))


VARIANTS: list[tuple[str, int, Callable[[str], str]]] = [
    ("traditional characters", 2025, S2T.convert),
    ("traditional characters", 2019, S2T.convert),
    ("full-width digits", 2026, lambda t: t.translate(str.maketrans("0123456789", "０１２３４５６７８９"))),
    ("half-width punctuation", 2026, lambda t: t.translate(str.maketrans("（）：，", "():,"))),
    ("NFKC text as some sites store it", 2024, lambda t: unicodedata.normalize("NFKC", t)),
    ("星期四 for 周四", 2025, lambda t: re.sub("周([一二三四五六日])", r"星期\1", t)),
    ("周日 for 星期日", 2024, lambda t: re.sub("星期([一二三四五六日])", r"周\1", t)),
    ("星期天 for 星期日", 2013, lambda t: t.replace("星期日", "星期天")),
    ("no weekday notes", 2026, in_sections(r"（[^（）]*）", "")),
    ("no numbering", 2026, in_sections(r"^[一二三四五六七]、", "")),
    ("numbering with ．", 2023, in_sections(r"^([一二三四五六七])、", r"\1．")),
    ("numbering with .", 2022, in_sections(r"^([一二三四五六七])、", r"\1.")),
    ("numbering in brackets", 2021, in_sections(r"^([一二三四五六七])、", r"（\1）")),
    ("lines wrapped at 9", 2024, wrapped(9)),
    ("lines wrapped at 23", 2025, wrapped(23)),
    ("one paragraph", 2020, lambda t: t.replace("\n", "")),
    ("spaces and blank lines", 2022, spaced),
    ("～ for 至", 2026, in_sections("至", "～")),
    ("~ for 至", 2025, in_sections("至", "~")),
    ("— for 至", 2026, in_sections("至", "—")),
    ("- for 至", 2017, in_sections("至", "-")),
    ("到 for 至", 2016, in_sections("至", "到")),
    ("month repeated after 至", 2022, in_sections(r"(\d+)月(\d+)日至(\d+)日", r"\1月\2日至\1月\3日")),
    ("year-less December range with weekday notes", 2023,
     in_sections("2022年12月31日至2023年1月2日", "12月31日（周六）至1月2日（周一）")),
    ("year-less December workday with a weekday note", 2019,
     in_sections("2018年12月29日", "12月29日")),
    ("commentary paragraphs", 2026, with_commentary),
    ("no title, year in the body", 2021, lambda t: t.split("\n", 1)[1]),
    ("CRLF line ends", 2018, lambda t: t.replace("\n", "\r\n")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("variant", "year", "change"), VARIANTS, ids=[f"{v[0]} ({v[1]})" for v in VARIANTS]
)
def test_a_formatting_variant_gives_the_days_of_the_clean_notice(
    variant: str, year: int, change: Callable[[str], str]
) -> None:
    """Pasted copies that differ in form only give the same days and festivals."""
    text = change(notice_text(year))
    assert notice_text(year) != text, "the variant must change the text"
    clean, odd = notice(year), parse_notice(text)
    assert (clean.year, clean.holidays, clean.workdays) == (odd.year, odd.holidays, odd.workdays)
    assert clean.festivals == odd.festivals


def test_a_given_year_supplies_a_notice_without_one() -> None:
    """Without title or 现将YYYY年, the year can be given."""
    body = "\n".join(line for line in notice_text(2021).split("\n")[1:] if "现将" not in line)
    with pytest.raises(NoticeError):
        parse_notice(body)
    assert notice(2021).holidays == parse_notice(body, year=2021).holidays


@settings(max_examples=150, deadline=None)
@given(
    year=st.sampled_from(YEARS),
    breaks=st.lists(
        st.tuples(st.integers(0, 4000), st.sampled_from(["\n", "\n\n", " ", "\u3000", "\t"])),
        max_size=40,
    ),
)
def test_line_breaks_and_spaces_anywhere_change_nothing(
    year: int, breaks: list[tuple[int, str]]
) -> None:
    """Text wrapped or spaced at any point, as pasted from any site, reads the same."""
    text = notice_text(year)
    for position, insert in sorted(breaks, reverse=True):
        at = position % (len(text) + 1)
        text = text[:at] + insert + text[at:]
    parsed = parse_notice(text)
    assert (notice(year).holidays, notice(year).workdays) == (parsed.holidays, parsed.workdays)


# --- refusals --------------------------------------------------------------------------


def with_line(year: int, number: int, line: str) -> str:
    lines = notice_text(year).split("\n")
    lines[number - 1] = line
    return "\n".join(lines)


REFUSALS: list[tuple[str, str, str]] = [
    ("unreadable festival line",
     with_line(2026, 5, "二、春节：正月初一至初七放假调休，共7天。"),
     "第5行：读不出春节的放假日期：“二、春节：正月初一至初七放假调休，共7天。”"),
    ("range going backwards",
     with_line(2026, 6, "三、清明节：4月6日（周一）至4日（周六）放假，共3天。"),
     "第6行：日期范围“4月6日（周一）至4日（周六）”的结束日早于开始日"),
    ("date that does not exist",
     with_line(2026, 6, "三、清明节：4月31日放假，共1天。"),
     "第6行：2026年4月31日不存在：“4月31日”"),
    ("weekday contradicting the date",
     with_line(2026, 4, "一、元旦：1月1日（周五）至3日（周六）放假调休，共3天。1月4日（周日）上班。"),
     "第4行：“1月1日（周五）至3日（周六）”中写的是周五，但2026年1月1日是周四，请核对日期和年份"),
    ("weekday contradicting a make-up day",
     with_line(2026, 7, "四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周日）上班。"),
     "第7行：“5月9日（周日）”中写的是周日，但2026年5月9日是周六，请核对日期和年份"),
    ("count that does not match the days",
     with_line(2026, 4, "一、元旦：1月1日（周四）至3日（周六）放假调休，共4天。1月4日（周日）上班。"),
     "第4行：写的是4天，但列出的放假日期有3天：“1月1日（周四）至3日（周六）放假调休，共4天”"),
    ("dates neither off nor working",
     with_line(2026, 4, "一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）。"),
     "第4行：读不出这些日期是放假还是上班：“1月4日（周日）”"),
    # "共3天" counts days but does not say they are off.
    ("count without 放假",
     with_line(2026, 4, "一、元旦：1月1日至3日，共3天。"),
     "第4行：读不出这些日期是放假还是上班：“1月1日至3日，共3天”"),
    ("make-up workday that is a weekday",
     with_line(2026, 4, "一、元旦：1月1日至3日放假调休，共3天。1月5日上班。"),
     "第4行：2026-01-05是周一，本来就要上班，不是调休上班日：“1月5日上班”"),
    ("day both off and working",
     with_line(2026, 10, "七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月4日（周日）上班。"),
     "第10行：2026-10-04既写成放假又写成上班"),
    ("December day without a year or a weekday",
     with_line(2023, 4, "一、元旦：12月31日至1月2日放假调休，共3天。"),
     "第4行：“12月31日至1月2日”是12月的日期，但没有写年份；请写成“2022年12月…”"),
    # The gov.cn news paraphrase of 2019's notice, quoted in chinesecalendar's data.py.
    ("December range of the 2019 news paraphrase",
     with_line(2019, 4, "一、元旦：12月30日至1月1日放假，共3天。 12月29日（星期六）上班。"),
     "第4行：“12月30日至1月1日”是12月的日期，但没有写年份；请写成“2018年12月…”"),
    ("day of another year",
     with_line(2026, 4, "一、元旦：2016年1月1日放假，共1天。"),
     "第4行：2016-01-01不在2026年的放假安排之内：“2016年1月1日”"),
    ("range too long for a holiday",
     with_line(2026, 8, "五、端午节：6月19日至8月20日放假。"),
     "第8行：日期范围“6月19日至8月20日”长达63天，不像一段假期"),
    ("day without a month",
     with_line(2026, 4, "一、元旦：1日至3日放假调休，共3天。"),
     "第4行：“1日至3日”没有写月份"),
    ("body year differing from the title",
     notice_text(2026).replace("现将2026年", "现将2025年"),
     "第3行：正文写的是2025年，标题写的是2026年"),
    ("no year anywhere",
     "\n".join(notice_text(2026).split("\n")[1:]).replace("现将2026年", "现将"),
     "找不到通知的年份：标题应为“国务院办公厅关于YYYY年部分节假日安排的通知”，"
     "或正文写明“现将YYYY年……”；也可以直接指定年份"),
    ("no festival sections",
     "国务院办公厅关于2026年部分节假日安排的通知\n具体安排另行通知。",
     "没有找到放假安排：通知中应有“一、元旦：1月1日放假……”这样的条目"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "text", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_notice_it_cannot_read_is_refused_naming_the_line(
    case: str, text: str, message: str
) -> None:
    """Each doubtful input is refused with one Chinese line naming where and what."""
    with pytest.raises(NoticeError) as caught:
        parse_notice(text)
    assert message == str(caught.value)
    line = re.match(r"第(\d+)行", message)
    assert (int(line.group(1)) if line else None) == caught.value.line


def test_the_wrong_year_is_caught_by_the_weekday_notes() -> None:
    """Reading 2026's notice as 2025's fails at the first weekday note."""
    with pytest.raises(NoticeError) as caught:
        parse_notice(notice_text(2026), year=2025)
    assert (
        "第4行：“1月1日（周四）至3日（周六）”中写的是周四，但2025年1月1日是周三，请核对日期和年份"
        == str(caught.value)
    )


def test_an_implausible_year_is_refused() -> None:
    with pytest.raises(NoticeError) as caught:
        parse_notice(notice_text(2026), year=1800)
    assert "1800年不像放假通知的年份" == str(caught.value)
    assert isinstance(caught.value, MetricsError)


NOTICE_ALPHABET = list(
    "0123456789年月日至～—-、，。：（）周星期一二三四五六日天元旦春节放假上班补休调休共\n 关于部分的通知现将12"
)


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(st.text(max_size=300), st.text(alphabet=NOTICE_ALPHABET, max_size=300)),
    year=st.one_of(st.none(), st.just(2026), st.integers(-(10**6), 10**6)),
)
def test_arbitrary_text_raises_nothing_but_notice_error(text: str, year: int | None) -> None:
    """Whatever is pasted, the reader answers with days or a NoticeError, never a crash."""
    try:
        parsed = parse_notice(text, year=year)
    except NoticeError:
        return
    assert parsed.holidays


@settings(max_examples=200, deadline=None)
@given(
    head=st.sampled_from(["一、元旦：", "二、春节：", "元旦："]),
    body=st.text(alphabet=NOTICE_ALPHABET, max_size=80),
)
def test_arbitrary_section_text_raises_nothing_but_notice_error(head: str, body: str) -> None:
    """Fuzzed festival sections reach the date reader and still only refuse cleanly."""
    with contextlib.suppress(NoticeError):
        parse_notice(head + body, year=2026)


# --- a made-up 2027 notice ---------------------------------------------------------------

# MADE-UP TEST DATA, NOT A REAL NOTICE: the State Council has not published the 2027 notice.
# Written in the official style with self-consistent days (元旦 2027-01-01 is a Friday) so
# that a year unknown to chinesecalendar can be tested end to end.
SYNTHETIC_2027 = """国务院办公厅关于2027年部分节假日安排的通知
各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
经国务院批准，现将2027年元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月5日（农历除夕、周五）至13日（农历正月初八、周六）放假调休，共9天。1月31日（周日）、2月20日（周六）上班。
三、清明节：4月3日（周六）至5日（周一）放假，共3天。
四、劳动节：5月1日（周六）至5日（周三）放假调休，共5天。5月8日（周六）上班。
五、端午节：6月9日（周三）放假1天，不调休。
六、中秋节：9月15日（周三）放假1天，不调休。
七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。
节假日期间，各地区、各部门要妥善安排好值班和安全、保卫等工作，遇有重大突发事件，要按规定及时报告并妥善处置，确保人民群众祥和平安度过节日假期。
国务院办公厅
2026年11月20日
"""

SYNTHETIC_2027_FESTIVALS = (
    ("元旦", days_between("2027-01-01", "2027-01-03")),
    ("春节", days_between("2027-02-05", "2027-02-13")),
    ("清明节", days_between("2027-04-03", "2027-04-05")),
    ("劳动节", days_between("2027-05-01", "2027-05-05")),
    ("端午节", {date(2027, 6, 9)}),
    ("中秋节", {date(2027, 9, 15)}),
    ("国庆节", days_between("2027-10-01", "2027-10-07")),
)
SYNTHETIC_2027_WORKDAYS = ["2027-01-31", "2027-02-20", "2027-05-08", "2027-09-26", "2027-10-09"]


def test_the_made_up_2027_notice_gives_the_days_written() -> None:
    """A notice for a year the package does not know reads into the days it states."""
    parsed = parse_notice(SYNTHETIC_2027)
    assert 2027 == parsed.year
    assert [(n, tuple(sorted(d))) for n, d in SYNTHETIC_2027_FESTIVALS] == list(parsed.festivals)
    assert 29 == len(parsed.holidays)
    assert SYNTHETIC_2027_WORKDAYS == [d.isoformat() for d in parsed.workdays]
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 1))


def test_toml_is_the_config_table_with_one_date_per_element() -> None:
    """to_toml prints [calendar.2027] that TOML reads back into the notice's days."""
    parsed = parse_notice(SYNTHETIC_2027)
    text = to_toml(parsed)
    assert text.startswith("# 来源：国务院办公厅关于2027年部分节假日安排的通知\n[calendar.2027]\n")
    assert '    "2027-02-05",  # 春节，周五\n' in text
    assert '    "2027-01-31",  # 周日调休上班\n' in text
    table = tomllib.loads(text)["calendar"]["2027"]
    assert {
        "holidays": [d.isoformat() for d in parsed.holidays],
        "workdays": SYNTHETIC_2027_WORKDAYS,
    } == table


def test_toml_names_days_outside_the_year() -> None:
    """2019's table says that three of its days fall in 2018."""
    text = to_toml(notice(2019))
    assert "# 其中 2018-12-29、2018-12-30、2018-12-31 不在2019年内，但由这份通知安排\n" in text
    table = tomllib.loads(text)["calendar"]["2019"]
    assert "2018-12-30" == table["holidays"][0]
    assert "2018-12-29" == table["workdays"][0]


def test_toml_without_title_or_workdays_is_still_a_table() -> None:
    """A pasted text without title, and a year without make-up days, still give valid TOML."""
    parsed = parse_notice("一、元旦：1月1日（周五）放假1天。", year=2027)
    text = to_toml(parsed)
    assert text.startswith("# 来源：2027年部分节假日安排（粘贴的文本中没有通知标题）\n")
    assert {"holidays": ["2027-01-01"], "workdays": []} == tomllib.loads(text)["calendar"]["2027"]


def test_json_is_year_holidays_and_workdays() -> None:
    """to_json gives the object the CLI's --json prints."""
    parsed = parse_notice(SYNTHETIC_2027)
    assert {
        "year": 2027,
        "holidays": [d.isoformat() for d in parsed.holidays],
        "workdays": SYNTHETIC_2027_WORKDAYS,
    } == json.loads(to_json(parsed))
