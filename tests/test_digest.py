"""Digest v2: week-over-week change, loads, senders, repeats, hygiene, each with its rule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import Engine

from metrics.calendar import DEFAULT_SCHEDULE
from metrics.db import make_engine
from metrics.digest import (
    PHONE_MAX_CHARS,
    PHONE_MAX_LINES,
    DigestSettings,
    build_digest,
    findings,
    render_digest,
    render_digest_full,
)
from metrics.hygiene_queries import HygieneSettings
from tests.test_burden import NOTICE, NOTICE_AGAIN, OTHER, SH, World, sh

UNIT = "镇党政办"


@pytest.fixture
def engine(any_db_url: str) -> Iterator[Engine]:
    """An engine on a migrated SQLite file, and on PostgreSQL when it runs."""
    eng = make_engine(any_db_url)
    yield eng
    eng.dispose()


def township(w: World) -> None:
    """Weeks 2025-W46 and W47 of a small township, computed by hand in the tests below."""
    o = w.person("欧阳主任", department="党政办")
    x = w.person("徐干事", department="党政办")
    y = w.person("杨站长", department="应急办")
    z = w.person("严会计", department="财政所")
    dk = w.person("邓科长", unit="县农业局", department="粮油科")
    gone = w.person("隐身者", opted_out=True)
    g1 = w.group("镇党政办工作群", [o, x, y, z, dk, gone], unit=UNIT)
    g2 = w.group("县农业局联络群", [dk, o, x, y, z], unit="县农业局")
    g3 = w.group("迎检专班群", [o, x], unit=UNIT)
    w.msg(g3, o, sh(10, 20, 10))
    # 2025-W46: one after-hours demand, one message in working time.
    w.msg(g1, o, sh(11, 11, 21), demand=True)
    w.msg(g1, o, sh(11, 12, 10))
    # 2025-W47
    w.msg(g1, o, sh(11, 17, 21), demand=True, mentions=(x,), text=NOTICE)
    w.msg(g1, x, sh(11, 17, 21, 10), ack=True, labels=("ack_reply",))
    w.msg(g2, dk, sh(11, 18, 22, 30), demand=True, mention_all=True, text=NOTICE_AGAIN)
    w.msg(g2, x, sh(11, 18, 22, 50), ack=True, labels=("ack_reply",))
    w.msg(g1, gone, sh(11, 19, 23), demand=True, text=OTHER)
    w.msg(g1, o, sh(11, 20, 10), demand=True, deadline=sh(11, 20, 15))
    w.msg(g1, y, sh(11, 21, 10))


def digest_of(engine: Engine, week: str = "2025-W47", **kw: object) -> tuple[str, str]:
    with engine.connect() as conn:
        data = build_digest(conn, week, DEFAULT_SCHEDULE, UNIT, **kw)  # type: ignore[arg-type]
    return render_digest(data), render_digest_full(data)


@pytest.fixture
def bodies(engine: Engine) -> tuple[str, str]:
    with engine.begin() as conn:
        township(World(conn))
    return digest_of(engine)


def test_digest_v2_sections_carry_their_rules(bodies: tuple[str, str]) -> None:
    """Each section of the phone digest shows hand-computed figures under its rule id."""
    short, _ = bodies
    lines = short.splitlines()
    assert "【减负周报】镇党政办 · 2025年第47周（11月17日—11月23日）" == lines[0]
    assert "监测工作群 3 个，覆盖 4 人" in lines[1]
    assert "较上周（第46周）：非工作时间消息 1→5（+4），要求 1→3（+2），@个人 0→1（+1）。" in lines
    expected_in_order = [
        "▶ 非工作时间负担最重（R1）：",
        "1. 徐干事：3 个群，非工作时间收到 3 条，被@ 1 次，@所有人 1 次，要求 3 条",
        "2. 严会计：2 个群，非工作时间收到 5 条，被@ 0 次，@所有人 1 次，要求 3 条",
        "▶ 非工作时间发要求最多（R1）：",
        "邓科长（粮油科）1 条",
        "欧阳主任（党政办）1 条",
        "按部门：镇党政办·党政办 1 条；县农业局·粮油科 1 条",
        "已退出统计者 1 条（匿名）",
        "▶ 即时回复负担（R4）：",
        "回复“收到”类 2 次，非工作时间 2 次，接龙 0 次；回复用时中位 15 分钟，"
        "九成在 19 分钟内；最多：徐干事 2 次。",
        "▶ 重复要求、时限过短（R6）：重复下发 1 起，时限不足一个工作日 1 条",
        "同一要求 2 次：县农业局联络群、镇党政办工作群；欧阳主任、邓科长（党政办、粮油科）；"
        "11月17日—11月18日",
        "▶ 工作群整治建议（R2、R3）：共 2 条",
        "建议合并：镇党政办工作群 与 县农业局联络群（成员重合 100%）",
        "建议解散或确认：迎检专班群（34 天无消息）",
    ]
    positions = [lines.index(line) for line in expected_in_order]
    assert sorted(positions) == positions
    assert lines[-2].startswith("依据：R1 原则上非工作时间不发布工作信息；R2 ")
    for rule in ("R1", "R2", "R3", "R4", "R6"):
        assert rule in lines[-2]
    assert "详情：jianfu digest --full --week 2025-W47 --unit 镇党政办" == lines[-1]


def test_digest_fits_a_phone_screen(bodies: tuple[str, str]) -> None:
    """The phone digest stays within the line and character budget."""
    short, _ = bodies
    assert short.count("\n") + 1 <= PHONE_MAX_LINES
    assert len(short) <= PHONE_MAX_CHARS


def test_opted_out_people_are_never_named(bodies: tuple[str, str]) -> None:
    """Someone who opted out appears in neither rendering, only as an anonymous count."""
    short, full = bodies
    assert "隐身者" not in short
    assert "隐身者" not in full
    assert "匿名" in full


def test_full_rendering_has_detail_tables(bodies: tuple[str, str]) -> None:
    """The --full rendering holds a table per check, with hand-computed rows and citations."""
    _, full = bodies
    for row in [
        "| 非工作时间消息 | 1 | 5 |",
        "| 徐干事 | 党政办 | 3 |  | 5 | 3 | 1 | 1 | 4 | 3 |",
        "| 徐干事 | 党政办 | 2 | 0 | 2 | 15 分钟 | 19 分钟 |",
        "| 邓科长 | 县农业局 | 粮油科 | 1 | 1 | 1 |",
        "| 2 | 县农业局联络群、镇党政办工作群 | 欧阳主任、邓科长 | 党政办、粮油科 "
        "| 11月17日 21:00 | 11月18日 22:30 |",
        "| 镇党政办工作群 | 欧阳主任 | 11月20日 10:00 | 11月20日 15:00 | 3.0 |",
        "| 迎检专班群 | 镇党政办 | 10月20日 10:00 | 34 |",
        "| 镇党政办工作群 | 县农业局联络群 | 100% | 5 |",
        "已退出统计者（匿名）非工作时间要求 1 条。",
    ]:
        assert row in full.splitlines(), row
    assert (
        "R6「相同材料不得要求基层反复提供」（香洲2019；2024《整治形式主义为基层减负若干规定》）"
        in full
    )


def test_week_without_a_previous_week_says_so(engine: Engine) -> None:
    """With nothing recorded the week before, the change line says it cannot compare."""
    with engine.begin() as conn:
        township(World(conn))
    short, _ = digest_of(engine, "2025-W46")
    assert "较上周（第45周）：上周没有记录，暂无法比较。" in short


def test_settings_change_the_findings(engine: Engine) -> None:
    """Digest settings reach the checks: a lower group cap adds an R2 finding per person."""
    with engine.begin() as conn:
        township(World(conn))
    settings = DigestSettings(hygiene=HygieneSettings(person_cap=2, idle_days=60))
    with engine.connect() as conn:
        data = build_digest(conn, "2025-W47", DEFAULT_SCHEDULE, UNIT, settings=settings)
    texts = [(f.rule, f.text) for f in findings(data)]
    assert ("R2", "个人群过多：欧阳主任 在 3 个群（上限 2）") in texts
    assert ("R2", "个人群过多：徐干事 在 3 个群（上限 2）") in texts
    assert not any("迎检专班群" in t for _, t in texts)
    assert all(f.citation.startswith(f.rule + "「") for f in findings(data))


TOPICS = [
    "请今晚前报送秋粮收购进度台账",
    "明早8点前上报各水库水位",
    "各村把防汛物资储备清单发群里",
    "低保对象复核名单周三前交到民政办",
    "森林防火巡查记录拍照上传",
    "人口普查入户统计表今天下班前汇总",
]


def test_a_crowded_week_in_an_unknown_year_still_fits_and_keeps_every_section(
    engine: Engine,
) -> None:
    """Many people, repeats and hygiene findings are trimmed to the budget, hint included."""
    monday = date.fromisocalendar(2027, 10, 1)

    def at(day: int, hour: int) -> datetime:
        return datetime.combine(monday + timedelta(days=day), time(hour), tzinfo=SH)

    with engine.begin() as conn:
        w = World(conn)
        people = [w.person(f"干部{i:02d}", department=f"第{i % 4}组") for i in range(30)]
        groups = [w.group(f"镇第{i}工作群", people, unit=UNIT) for i in range(10)]
        for i in range(6):
            w.group(f"闲置专班群{i}", people[:6], unit=UNIT)
        for i, topic in enumerate(TOPICS):
            w.msg(groups[0], people[i], at(i % 5, 21), demand=True, text=topic)
            w.msg(groups[1], people[i + 1], at(i % 5, 22), demand=True, text="转：" + topic)
        for i, sender in enumerate(people):
            w.msg(groups[i % 10], sender, at(i % 7, 20), demand=True, mention_all=True)
            w.msg(groups[i % 10], people[(i + 1) % 30], at(i % 7, 21), ack=True)
    with engine.connect() as conn:
        data = build_digest(conn, "2027-W10", DEFAULT_SCHEDULE, UNIT)
    assert 6 == len(data.repeats)
    assert 20 < len(findings(data))
    short = render_digest(data)
    assert short.count("\n") + 1 <= PHONE_MAX_LINES
    assert len(short) <= PHONE_MAX_CHARS
    for header in [
        "（R1）：",
        "（R4）：",
        "（R6）：重复下发 6 起",
        "工作群整治建议（R2、R3）：共 ",
    ]:
        assert header in short
    # One finding of each kind survives the trimming: a merge and a dissolve.
    assert "建议合并：" in short and "建议解散或确认：闲置专班群" in short
    assert "日历数据中没有2027年的法定节假日" in short
    assert short.endswith("详情：jianfu digest --full --week 2027-W10 --unit 镇党政办")
    full = render_digest_full(data)
    assert 30 < full.count("| 干部")
    assert "日历数据中没有2027年的法定节假日" in full
