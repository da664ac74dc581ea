"""The weekly digest for a unit head: figures gathered from the database, rendered in Chinese."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from metrics.acks import DEFAULT_WINDOW, latency_stats
from metrics.burden import (
    DEFAULT_LOOKBACK,
    AckLoad,
    SendersReport,
    ack_load,
    after_hours_senders,
    duration_zh,
)
from metrics.calendar import (
    WorkingCalendar,
    WorkSchedule,
    iso_week,
    unknown_year_hint,
    week_bounds,
)
from metrics.fingerprint import DEFAULT_MAX_DISTANCE
from metrics.hygiene_queries import HygieneReport, HygieneSettings, group_hygiene
from metrics.queries import PersonWeek, WeekTotals, monitored_groups, person_week, week_totals
from metrics.repeat_queries import (
    RepeatFinding,
    ShortDeadline,
    repeated_demands,
    short_deadlines,
)
from metrics.rules import RULES

__all__ = [
    "DigestData",
    "DigestSettings",
    "Finding",
    "WeekChange",
    "build_digest",
    "findings",
    "render_digest",
    "render_digest_full",
]


@dataclass(frozen=True, slots=True)
class DigestSettings:
    """Windows and thresholds of the digest's checks; every one has a documented default."""

    ack_lookback: timedelta = DEFAULT_LOOKBACK  # demands before the week an ack may answer
    ack_window: timedelta = DEFAULT_WINDOW  # an ack answers a demand at most this old
    repeat_window_days: float = 7  # R6: repeats within this many days ending at week end
    repeat_max_distance: int = DEFAULT_MAX_DISTANCE
    short_deadline_hours: float | None = None  # R6: None = one ordinary working day
    hygiene: HygieneSettings = field(default_factory=HygieneSettings)


@dataclass(frozen=True, slots=True)
class WeekChange:
    """Last ISO week's after-hours figures, to show the change."""

    week: str
    messages: int
    off_hours: int
    demands_off_hours: int
    pings_off_hours: int


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation a head can act on, with the rule it falls under."""

    rule: str
    text: str

    @property
    def citation(self) -> str:
        return RULES[self.rule].citation


@dataclass(frozen=True, slots=True)
class DigestData:
    unit: str | None
    week: str
    first_day: date
    last_day: date
    groups_monitored: int
    people: list[PersonWeek]
    totals: WeekTotals
    unknown_years: frozenset[int]
    timezone: str
    previous: WeekChange
    acks: list[AckLoad]
    senders: SendersReport
    repeats: list[RepeatFinding]
    short_deadlines: list[ShortDeadline]
    hygiene: HygieneReport

    @property
    def heaviest(self) -> list[PersonWeek]:
        """People by after-hours pings plus after-hours demands in their groups, heaviest first."""
        return sorted(
            self.people,
            key=lambda p: (
                -(p.pings_off_hours + p.demands_off_hours),
                -p.received_off_hours,
                p.name,
            ),
        )

    @property
    def pings_off_hours(self) -> int:
        return sum(p.pings_off_hours for p in self.people)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.timezone))


def _previous_week(week: str, tz: str) -> str:
    start, _ = week_bounds(week, tz)
    return iso_week(start - timedelta(hours=12), tz)


def build_digest(
    conn: Connection,
    week: str,
    schedule: WorkSchedule,
    unit: str | None = None,
    *,
    settings: DigestSettings | None = None,
) -> DigestData:
    """Every figure of the week's digest for ``unit`` (all units when None)."""
    s = settings or DigestSettings()
    tz = schedule.timezone
    start, end = week_bounds(week, tz)
    first = start.date()
    cal = WorkingCalendar(schedule)
    for offset in range(7):
        cal.day_kind(first + timedelta(days=offset))
    prev = _previous_week(week, tz)
    prev_totals = week_totals(conn, prev, unit)
    return DigestData(
        unit=unit,
        week=week,
        first_day=first,
        last_day=(end - timedelta(days=1)).date(),
        groups_monitored=monitored_groups(conn, week, tz, unit),
        people=person_week(conn, week, tz, unit),
        totals=week_totals(conn, week, unit),
        unknown_years=cal.unknown_years(),
        timezone=tz,
        previous=WeekChange(
            week=prev,
            messages=prev_totals.messages,
            off_hours=prev_totals.off_hours,
            demands_off_hours=prev_totals.demands_off_hours,
            pings_off_hours=sum(p.pings_off_hours for p in person_week(conn, prev, tz, unit)),
        ),
        acks=ack_load(conn, week, tz, unit, lookback=s.ack_lookback, window=s.ack_window),
        senders=after_hours_senders(conn, week, unit),
        repeats=repeated_demands(
            conn,
            week,
            tz,
            unit,
            window_days=s.repeat_window_days,
            max_distance=s.repeat_max_distance,
        ),
        short_deadlines=short_deadlines(
            conn, week, schedule, unit, min_hours=s.short_deadline_hours
        ),
        hygiene=group_hygiene(conn, week, tz, unit, s.hygiene),
    )


def _names(items: list[str] | tuple[str, ...], limit: int = 3, counter: str = "个") -> str:
    shown = "、".join(items[:limit])
    return shown + (f"等{len(items)}{counter}" if len(items) > limit else "")


def findings(d: DigestData) -> list[Finding]:
    """Group hygiene recommendations (merge, dissolve, too many groups), each with its rule."""
    h = d.hygiene
    out = [
        Finding("R2", f"建议合并：{o.a.name} 与 {o.b.name}（成员重合 {round(o.overlap * 100)}%）")
        for o in h.overlapping
    ]
    out += [
        Finding(
            "R3",
            f"建议解散或确认：{g.group.name}（"
            + (
                f"{g.idle_days} 天无消息）"
                if g.last_message_at
                else f"同意记录后 {g.idle_days} 天无消息）"
            ),
        )
        for g in h.dormant
    ]
    out += [
        Finding(
            "R3",
            f"建议解散：{g.group.name}（已过结束日期 {month_day(d.local(g.end_date).date())}）",
        )
        for g in h.ended
    ]
    out += [
        Finding("R2", f"单位群过多：{u.unit} 有 {u.groups} 个群（上限 {h.settings.unit_cap}）")
        for u in h.units_over_cap
    ]
    out += [
        Finding("R2", f"个人群过多：{p.name} 在 {p.monitored} 个群（上限 {h.settings.person_cap}）")
        for p in h.people_over_cap
    ]
    return out


def month_day(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _pct(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "0%"


def _delta(before: int, now: int) -> str:
    diff = now - before
    sign = "+" if diff > 0 else ("−" if diff < 0 else "±")
    return f"{before}→{now}（{sign}{abs(diff)}）"


def title_line(d: DigestData) -> str:
    year, wk = d.week.split("-W")
    return (
        f"【减负周报】{d.unit or '全部单位'} · {year}年第{int(wk)}周"
        f"（{month_day(d.first_day)}—{month_day(d.last_day)}）"
    )


def overview_lines(d: DigestData) -> list[str]:
    counts = [p.groups for p in d.people]
    biggest = max(d.people, key=lambda p: (p.groups, p.name))
    t = d.totals
    return [
        f"监测工作群 {d.groups_monitored} 个，覆盖 {len(d.people)} 人；"
        f"人均所在群 {sum(counts) / len(counts):.1f} 个，"
        f"最多 {biggest.groups} 个（{biggest.name}）。",
        f"共 {t.messages} 条消息，非工作时间 {t.off_hours} 条（{_pct(t.off_hours, t.messages)}），"
        f"其中 @所有人 {t.mention_all_off_hours} 条；提出要求 {t.demands} 条，"
        f"非工作时间 {t.demands_off_hours} 条。",
    ]


def change_line(d: DigestData) -> str:
    p = d.previous
    wk = int(p.week.split("-W")[1])
    if not p.messages:
        return f"较上周（第{wk}周）：上周没有记录，暂无法比较。"
    return (
        f"较上周（第{wk}周）：非工作时间消息 {_delta(p.off_hours, d.totals.off_hours)}，"
        f"要求 {_delta(p.demands_off_hours, d.totals.demands_off_hours)}，"
        f"@个人 {_delta(p.pings_off_hours, d.pings_off_hours)}。"
    )


def _heavy_line(i: int, p: PersonWeek) -> str:
    return (
        f"{i}. {p.name}：{p.groups} 个群，非工作时间收到 {p.received_off_hours} 条，"
        f"被@ {p.pings_off_hours} 次，@所有人 {p.pings_all_off_hours} 次，"
        f"要求 {p.demands_off_hours} 条"
    )


def _ack_summary(d: DigestData) -> str | None:
    if not d.acks:
        return None
    acks = sum(a.acks for a in d.acks)
    off = sum(a.acks_off_hours for a in d.acks)
    rolls = sum(a.roll_calls for a in d.acks)
    stats = latency_stats([s for a in d.acks for s in a.delays_seconds])
    line = f"回复“收到”类 {acks} 次，非工作时间 {off} 次，接龙 {rolls} 次"
    if stats:
        line += f"；回复用时中位 {duration_zh(stats[0])}，九成在 {duration_zh(stats[1])}内"
    top = d.acks[0]
    return line + f"；最多：{top.name} {top.acks} 次。"


def _sender_line(d: DigestData, limit: int) -> list[str]:
    people = [s for s in d.senders.people if s.demands_off_hours][:limit]
    lines = [
        f"{s.name}（{s.department or s.unit or '未登记'}）{s.demands_off_hours} 条" for s in people
    ]
    depts = [x for x in d.senders.departments if x.demands_off_hours][:2]
    if depts:
        lines.append(
            "按部门："
            + "；".join(f"{_where(x.unit, x.department)} {x.demands_off_hours} 条" for x in depts)
        )
    if d.senders.anonymous_off_hours:
        lines.append(f"已退出统计者 {d.senders.anonymous_off_hours} 条（匿名）")
    return lines


def _where(unit: str | None, department: str | None) -> str:
    """Unit and department as one label, without saying a name twice."""
    if not department or department == unit:
        return unit or "未登记"
    return f"{unit}·{department}" if unit else department


def _repeat_line(r: RepeatFinding, d: DigestData) -> str:
    first, last = (month_day(d.local(t).date()) for t in (r.first_at, r.last_at))
    span = first if first == last else f"{first}—{last}"
    who = _names(r.senders, 2, "人")
    depts = f"（{_names(r.departments, 2)}）" if r.departments else ""
    return f"同一要求 {r.count} 次：{_names(r.groups, 2, '个群')}；{who}{depts}；{span}"


# A WeChat message a head reads on a phone: about a screen and a half.
PHONE_MAX_LINES = 25
PHONE_MAX_CHARS = 900


@dataclass
class _Section:
    header: str
    items: list[str]
    keep: int  # items never trimmed
    soft: int = 0  # items trimmed only after the footer was shortened
    always: bool = False  # shown even without items (the header says something)

    def lines(self) -> list[str]:
        return [self.header, *self.items] if self.items or self.always else []


def _fit(head: list[str], sections: list[_Section], tails: list[list[str]]) -> str:
    """Join the parts within the phone budget, cutting in stages until it fits.

    ``tails`` are alternative endings, longest first. Stage by stage: trim items
    down to each section's ``soft`` count with the longest tail, then try shorter
    tails, then trim down to the hard ``keep`` count. Items go one at a time from
    the section with most to spare (the later one on a tie), so every section keeps
    its first, most important lines.
    """

    def text(tail: list[str]) -> str:
        body = [line for s in sections for line in s.lines()]
        return "\n".join(head + body + tail)

    def fits(out: str) -> bool:
        return out.count("\n") + 1 <= PHONE_MAX_LINES and len(out) <= PHONE_MAX_CHARS

    def trim(tail: list[str], floor: Callable[[_Section], int]) -> str:
        out = text(tail)
        while not fits(out):
            spare = [(len(s.items) - floor(s), i) for i, s in enumerate(sections)]
            most, index = max(spare)
            if most <= 0:
                break
            sections[index].items.pop()
            out = text(tail)
        return out

    out = trim(tails[0], lambda s: max(s.soft, s.keep))
    for tail in tails[1:]:
        if fits(out):
            return out
        out = text(tail)
    return out if fits(out) else trim(tails[-1], lambda s: s.keep)


def render_digest(d: DigestData, top_n: int = 5) -> str:
    """The digest as one phone-sized WeChat message (see PHONE_MAX_LINES / PHONE_MAX_CHARS)."""
    head = [title_line(d)]
    if not d.people:
        head.append(
            "本周没有统计到数据：还没有工作群同意记录，或本单位成员尚未出现在已同意的群中。"
        )
        if d.unknown_years:
            head.append(unknown_year_hint(d.unknown_years))
        return "\n".join(head)
    head += [*overview_lines(d), change_line(d)]
    heavy = [p for p in d.heaviest if p.received_off_hours or p.pings_off_hours][:top_n]
    sections = [
        _Section(
            "▶ 非工作时间负担最重（R1）：",
            [_heavy_line(i, p) for i, p in enumerate(heavy, 1)],
            1,
            soft=3,
        ),
        _Section("▶ 非工作时间发要求最多（R1）：", _sender_line(d, 3), 1),
    ]
    ack = _ack_summary(d)
    if ack:
        sections.append(_Section("▶ 即时回复负担（R4）：", [ack], 1))
    counts = []
    if d.repeats:
        counts.append(f"重复下发 {len(d.repeats)} 起")
    if d.short_deadlines:
        counts.append(f"时限不足一个工作日 {len(d.short_deadlines)} 条")
    sections.append(
        _Section(
            "▶ 重复要求、时限过短（R6）：" + "，".join(counts),
            [_repeat_line(r, d) for r in _widest(d.repeats)[:3]],
            1,
            always=bool(counts),
        )
    )
    found = findings(d)
    rules = "、".join(sorted({f.rule for f in found}))
    total = f"共 {len(found)} 条" if len(found) > 1 else ""
    sections.append(
        _Section(
            f"▶ 工作群整治建议（{rules}）：{total}",
            [f.text for f in _interleave(found)[:4]],
            1,
            soft=2,
        )
    )
    cited = [r for r in sorted(RULES) if _cites(r, sections)]
    hint = [unknown_year_hint(d.unknown_years)] if d.unknown_years else []
    more = f"详情：jianfu digest --full --week {d.week}" + (f" --unit {d.unit}" if d.unit else "")
    basis = "依据：" + "；".join(f"{r} {RULES[r].short}" for r in cited)
    short_basis = "依据：" + "、".join(cited) + "（条文见详情）"
    return _fit(head, sections, [[basis, *hint, more], [short_basis, *hint, more]])


def _widest(repeats: list[RepeatFinding]) -> list[RepeatFinding]:
    """Repeats reaching the most groups first: the ones a head would act on."""
    return sorted(repeats, key=lambda r: (-len(r.groups), -r.count, r.first_at))


def _interleave(found: list[Finding]) -> list[Finding]:
    """Findings taking turns by kind (merge, dissolve, too many ...), so a short list shows each."""
    kinds: dict[str, list[Finding]] = {}
    for f in found:
        kinds.setdefault(f.text.split("：", 1)[0], []).append(f)
    out: list[Finding] = []
    queues = list(kinds.values())
    while queues:
        out += [q.pop(0) for q in queues]
        queues = [q for q in queues if q]
    return out


def _cites(rule: str, sections: list[_Section]) -> bool:
    return any(rule in s.header and s.lines() for s in sections)


def render_digest_full(d: DigestData) -> str:
    """Every figure and finding of the digest as plain-text tables, for the CLI (--full)."""
    # Imported here: metrics.digest_full builds on this module's data types and helpers.
    from metrics.digest_full import render_full

    return render_full(d)
