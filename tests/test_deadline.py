"""Deadline resolution: every convention row of the corpus README, plus what is not a deadline."""

from __future__ import annotations

from datetime import date, datetime

import pytest

# Deadlines are read by the rules alone; the model only decides whether a message is a demand.
from metrics.classifier import classify_rules as classify
from metrics.deadline import cn_int, find_deadlines
from metrics.deadline_workday import (
    first_workday_after_holiday,
    last_workday_before_holiday,
    next_workday,
)


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp + "+08:00")


# (message, sent at, expected deadline) — messages written for these tests, not from the corpus.
CONVENTIONS = [
    # 今天下班前 / 下班前 / 明天下班前
    ("请各村今天下班前报送防火台账。", "2025-03-04T09:00:00", "2025-03-04T17:30:00"),
    ("下班前把值班表发我。", "2025-03-04T14:10:00", "2025-03-04T17:30:00"),
    ("请各村明天下班前报送排查表。", "2025-03-04T09:00:00", "2025-03-05T17:30:00"),
    # 今晚 / 今天晚上 / 今晚X点 / 明晚X点 / 今晚12点
    ("请各村今晚前把照片发群里。", "2025-03-04T15:00:00", "2025-03-04T22:00:00"),
    ("今天晚上前请把名单报上来。", "2025-03-04T15:00:00", "2025-03-04T22:00:00"),
    ("请今晚9点前报送统计表。", "2025-03-04T15:00:00", "2025-03-04T21:00:00"),
    ("请明晚8点前报送统计表。", "2025-03-04T15:00:00", "2025-03-05T20:00:00"),
    ("请今晚12点前报送统计表。", "2025-03-04T15:00:00", "2025-03-05T00:00:00"),
    # 今天 / 今日内 / 当天, before and after 17:30
    ("请各村今日内报送低保名单。", "2025-03-04T10:00:00", "2025-03-04T17:30:00"),
    ("请各村今日内报送低保名单。", "2025-03-04T19:00:00", "2025-03-04T23:59:00"),
    ("请当天内完成入户核查并上报。", "2025-03-04T18:00:00", "2025-03-04T23:59:00"),
    # 明天 / 后天 (no time)
    ("请于明天前报送年度总结。", "2025-03-04T10:00:00", "2025-03-05T17:30:00"),
    ("请于后天前报送年度总结。", "2025-03-04T10:00:00", "2025-03-06T17:30:00"),
    # 明天上午 / 明早 / 明天中午前 / 明天早上8点前
    ("明天上午前把材料交到党政办。", "2025-03-04T10:00:00", "2025-03-05T12:00:00"),
    ("明早前请把名单报上来。", "2025-03-04T21:00:00", "2025-03-05T12:00:00"),
    ("请明天中午前提交申报书。", "2025-03-04T10:00:00", "2025-03-05T12:00:00"),
    ("请明天早上8点前报送值班表。", "2025-03-04T23:00:00", "2025-03-05T08:00:00"),
    # clock times: 下午3点, 上午十点, X时, HH:MM, bare X点 read from context
    ("请于下午3点前报送巡查情况。", "2025-03-04T09:00:00", "2025-03-04T15:00:00"),
    ("请于上午十点前报送巡查情况。", "2025-03-04T08:00:00", "2025-03-04T10:00:00"),
    ("请各村18时前上报当日数据。", "2025-03-04T08:00:00", "2025-03-04T18:00:00"),
    ("请16:30前把进度表发我。", "2025-03-04T08:00:00", "2025-03-04T16:30:00"),
    ("7点前把巡查结果报镇里。", "2025-03-04T05:50:00", "2025-03-04T07:00:00"),
    ("9点前把巡查结果报镇里。", "2025-03-04T19:45:00", "2025-03-04T21:00:00"),
    # durations keep seconds
    ("请在20分钟内回复本村在岗人数。", "2025-03-04T08:20:10", "2025-03-04T08:40:10"),
    ("排查结果半小时内报县信访局。", "2025-03-04T11:50:37", "2025-03-04T12:20:37"),
    ("请各村两小时内报送受灾情况。", "2025-03-04T11:50:37", "2025-03-04T13:50:37"),
    # 本周X / 周X前 / 周日晚上 / 下周X / 本周内 (2025-03-05 is a Wednesday)
    ("请各村本周五前报送核查表。", "2025-03-05T10:00:00", "2025-03-07T17:30:00"),
    ("请周四前把工作总结发我。", "2025-03-05T10:00:00", "2025-03-06T17:30:00"),
    ("请各村周日晚上前准备好资料。", "2025-03-05T10:00:00", "2025-03-09T22:00:00"),
    ("请于下周二前完成整改并上报。", "2025-03-05T10:00:00", "2025-03-11T17:30:00"),
    ("请于下周一上午10点前报送材料。", "2025-03-05T10:00:00", "2025-03-10T10:00:00"),
    ("本周内上报年度工作计划。", "2025-03-05T10:00:00", "2025-03-07T17:30:00"),
    # 本月底 / 月底前
    ("请各村本月底前报送宅基地台账。", "2025-02-10T10:00:00", "2025-02-28T17:30:00"),
    ("月底前请把统计表报上来。", "2025-04-03T10:00:00", "2025-04-30T17:30:00"),
    # X月X日前 / X日前 / 截至 / Chinese numerals / next such date / X日X时前
    ("请于3月20日前报送统计表。", "2025-03-05T10:00:00", "2025-03-20T17:30:00"),
    ("请于三月二十日前报送统计表。", "2025-03-05T10:00:00", "2025-03-20T17:30:00"),
    ("请于15日前报送统计表。", "2025-03-05T10:00:00", "2025-03-15T17:30:00"),
    ("请于2日前报送统计表。", "2025-03-05T10:00:00", "2025-04-02T17:30:00"),
    ("请于1月10日前报送统计表。", "2025-12-20T10:00:00", "2026-01-10T17:30:00"),
    ("报送截至3月20日，请各村抓紧。", "2025-03-05T10:00:00", "2025-03-20T17:30:00"),
    ("请于20日16时前报送统计表。", "2025-03-05T10:00:00", "2025-03-20T16:00:00"),
    ("请各村12月底前完成并上报。", "2025-06-11T09:00:00", "2025-12-31T17:30:00"),
    ("年底前报送台账。", "2025-06-11T09:00:00", "2025-12-31T17:30:00"),
    (
        "截止时间：11月18日下午5点，请各村报送考核材料。",
        "2025-11-12T09:00:00",
        "2025-11-18T17:00:00",
    ),
    ("最迟下周一上午把材料交到党政办。", "2025-11-12T09:00:00", "2025-11-17T12:00:00"),
    ("请于11月20日下午下班前报送。", "2025-11-12T09:00:00", "2025-11-20T17:30:00"),
    ("请下周一（11月17日）下班前报送。", "2025-11-12T09:00:00", "2025-11-17T17:30:00"),
    ("请2025年12月31日前报送。", "2025-11-12T09:00:00", "2025-12-31T17:30:00"),
    # working days on the PRC calendar (National Day 2025: Oct 1-8 off)
    ("请于下个工作日报送整改台账。", "2025-09-30T16:45:00", "2025-10-09T17:30:00"),
    ("请于下个工作日上午报送整改台账。", "2025-03-07T16:00:00", "2025-03-10T12:00:00"),
    ("请于节后第一个工作日报送值班情况。", "2025-09-30T10:00:00", "2025-10-09T17:30:00"),
    ("请于节后第一个工作日报送值班情况。", "2026-02-12T10:00:00", "2026-02-24T17:30:00"),
    ("请节前最后一个工作日下班前把台账发我。", "2025-09-22T10:00:00", "2025-09-30T17:30:00"),
    # 会前 = the start of the meeting named in the message
    (
        "会议定于明天下午3点召开，请于会前将汇报材料发我。",
        "2025-03-04T10:00:00",
        "2025-03-05T15:00:00",
    ),
    # recurring: first occurrence after ts
    ("请各网格员每天早上9点前在群里发定位。", "2025-03-04T10:00:00", "2025-03-05T09:00:00"),
    ("请各村每天18点前报送当日巡查数据。", "2025-03-04T10:00:00", "2025-03-04T18:00:00"),
    # weekly recurring: the first occurrence after ts (2025-03-04 is a Tuesday)
    ("巡查记录于每周一上午10点前报镇里。", "2025-03-04T10:00:00", "2025-03-10T10:00:00"),
    ("巡查记录于每周五下午4点前报镇里。", "2025-03-04T10:00:00", "2025-03-07T16:00:00"),
    # a day (or weekday) and part of day followed by a bare verb of handing over
    ("统计表还没收到，今天务必发过来。", "2025-03-04T18:40:00", "2025-03-04T23:59:00"),
    ("活动照片明天上午发党建办。", "2025-03-04T10:00:00", "2025-03-05T12:00:00"),
    ("下周一上午各村把进度表报兽医站。", "2025-03-05T10:00:00", "2025-03-10T12:00:00"),
    # a bare weekday already past this week means the coming one (sent on a Friday)
    ("周一上午把台账发我。", "2025-03-07T17:00:00", "2025-03-10T12:00:00"),
    # families seen in everyday traffic (written anew; 2025-03-04 is a Tuesday)
    ("转岗培训接龙今天截止，还有哪个院没接？", "2025-03-04T10:00:00", "2025-03-04T17:30:00"),
    ("自查表明天是最后一天，抓紧。", "2025-03-04T10:00:00", "2025-03-05T17:30:00"),
    ("还差三个村，5点要汇总", "2025-03-04T10:00:00", "2025-03-04T17:00:00"),
    ("请各村今天上午补报。", "2025-03-04T09:00:00", "2025-03-04T12:00:00"),
    ("@王强 名单上午发我一下", "2025-03-04T09:00:00", "2025-03-04T12:00:00"),
    ("明天调休上班，上午9点前把材料交党政办。", "2025-03-04T16:00:00", "2025-03-05T09:00:00"),
    ("今天把表统计一下，今晚8点前发我。", "2025-03-04T08:30:00", "2025-03-04T20:00:00"),
    ("不急，3月8日前报我就行", "2025-03-04T10:00:00", "2025-03-08T17:30:00"),
    ("11点二楼会议室开调度会，会前交一份进度表。", "2025-03-04T09:00:00", "2025-03-04T11:00:00"),
    # several deadlines: the earliest
    (
        "请各村1小时内上报巡查情况，月度汇总表3月15日前报送。",
        "2025-03-04T10:00:00",
        "2025-03-04T11:00:00",
    ),
]


@pytest.mark.parametrize(("text", "sent", "expected"), CONVENTIONS)
def test_deadline_conventions(text: str, sent: str, expected: str) -> None:
    """Each README deadline convention resolves to the documented time in the sender's zone."""
    result = classify(text, _at(sent))
    assert _at(expected) == result.deadline
    assert "deadline" in result.labels


NOT_DEADLINES = [
    "明天上午8:30前到县委党校报到，参加专题培训。",
    "请各位提前10分钟入会，会议明天上午9点开始。",
    "请各网格员每天上午9点发巡查照片到群里。",
    "请护林员每隔一小时在群里发一次巡山视频。",
    "@所有人 请大家保持手机畅通，看到消息5分钟内回复。",
    "请各村培训结束后报送学习心得。",
    "系统延期到下周，周五前不用报了。",
    "各村立即组织人员巡查，马上报告险情。",
    "县政务服务中心10月11日（星期六）正常上班。",
    "请各村动员适龄青年报名，报名人数每周一上午报武装部。",
    "县里今天发布了防汛通知，请大家注意。",
    "明天发工资了😄",
    "活动结束当天把照片发我。",
    "今天节后第一天上班，上午10点开收心会。",
    "志愿者8点半前到桂园广场，到了先签到。",
]


@pytest.mark.parametrize("text", NOT_DEADLINES)
def test_not_deadlines(text: str) -> None:
    """Start times, fixed check-in times, intervals, standing rules and 立即 give no deadline."""
    result = classify(text, _at("2025-03-04T10:00:00"))
    assert result.deadline is None
    assert "deadline" not in result.labels


@pytest.mark.parametrize(
    ("token", "value"),
    [("7", 7), ("十", 10), ("十二", 12), ("二十", 20), ("二十三", 23), ("两", 2)],
)
def test_cn_int(token: str, value: int) -> None:
    """Chinese and Arabic numerals up to 99 read as integers."""
    assert value == cn_int(token)


def test_unknown_year_falls_back_to_weekdays() -> None:
    """A year chinesecalendar does not know uses Mon-Fri instead of raising."""
    friday = date(2031, 3, 7)
    assert date(2031, 3, 10) == next_workday(friday)
    assert date(2031, 3, 10) == first_workday_after_holiday(friday)
    assert date(2031, 3, 7) == last_workday_before_holiday(date(2031, 3, 3))
    result = classify(
        "请于下个工作日报送台账。", datetime.fromisoformat("2031-03-07T10:00:00+08:00")
    )
    assert datetime.fromisoformat("2031-03-10T17:30:00+08:00") == result.deadline


def test_deadline_keeps_sender_timezone() -> None:
    """The resolved deadline carries the tzinfo of ts, whatever zone that is."""
    sent = datetime.fromisoformat("2025-03-04T10:00:00+09:00")
    result = classify("请今天下班前报送台账。", sent)
    assert datetime.fromisoformat("2025-03-04T17:30:00+09:00") == result.deadline
    assert sent.tzinfo == result.deadline.tzinfo if result.deadline else False


def test_find_deadlines_reports_positions() -> None:
    """Each mention records where it sits, so callers can tell negated clauses apart."""
    text = "请于3月20日前报送"
    (mention,) = find_deadlines(text, _at("2025-03-05T10:00:00"))
    assert "3月20日前" == text[mention.start : mention.end]
