"""The full-detail weekly digest for the CLI (jianfu digest --full): every figure as a table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from metrics.burden import duration_zh
from metrics.calendar import unknown_year_hint
from metrics.digest import (
    DigestData,
    change_line,
    findings,
    month_day,
    overview_lines,
    title_line,
)
from metrics.rules import RULES

__all__ = ["render_full", "table"]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """A plain-text table in Markdown form (readable raw, and renders in most viewers)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return lines


def _section(title: str, rule: str | None, body: list[str], empty: str) -> list[str]:
    head = f"## {title}" + (f"（{rule}）" if rule else "")
    return ["", head, *(body or [empty])]


def _hm(d: DigestData, moment: datetime) -> str:
    local = d.local(moment)
    return f"{month_day(local.date())} {local:%H:%M}"


def render_full(d: DigestData) -> str:
    """All sections with detail tables; people who opted out are never named (匿名)."""
    lines = [title_line(d)]
    if d.people:
        lines += [*overview_lines(d), change_line(d)]
    p = d.previous
    lines += _section(
        "与上周比较",
        None,
        table(
            ["指标", f"上周（{p.week}）", f"本周（{d.week}）"],
            [
                ["消息", p.messages, d.totals.messages],
                ["非工作时间消息", p.off_hours, d.totals.off_hours],
                ["非工作时间要求", p.demands_off_hours, d.totals.demands_off_hours],
                ["非工作时间@个人", p.pings_off_hours, d.pings_off_hours],
            ],
        ),
        "",
    )
    lines += _section(
        "每人负担",
        "R1",
        table(
            [
                "姓名",
                "部门",
                "所在群",
                "自报群数",
                "收到",
                "非工作时间收到",
                "非工作时间被@",
                "非工作时间@所有人",
                "群内要求",
                "非工作时间要求",
            ],
            [
                [
                    x.name,
                    x.department or x.unit,
                    x.groups,
                    x.self_reported_groups,
                    x.received,
                    x.received_off_hours,
                    x.pings_off_hours,
                    x.pings_all_off_hours,
                    x.demands,
                    x.demands_off_hours,
                ]
                for x in d.heaviest
            ],
        ),
        "本周没有统计到成员。",
    )
    lines += _section(
        "回复“收到”、接龙",
        "R4",
        table(
            ["姓名", "部门", "回复次数", "接龙", "非工作时间回复", "回复用时中位", "回复用时P90"],
            [
                [
                    a.name,
                    a.department or a.unit,
                    a.acks,
                    a.roll_calls,
                    a.acks_off_hours,
                    duration_zh(a.median_seconds) if a.median_seconds is not None else "—",
                    duration_zh(a.p90_seconds) if a.p90_seconds is not None else "—",
                ]
                for a in d.acks
            ],
        ),
        "本周没有回复“收到”类消息。",
    )
    s = d.senders
    sender_body = (
        table(
            ["发送人", "单位", "部门", "要求", "非工作时间要求", "非工作时间@所有人"],
            [
                [
                    x.name,
                    x.unit,
                    x.department,
                    x.demands,
                    x.demands_off_hours,
                    x.mention_all_off_hours,
                ]
                for x in s.people
            ],
        )
        if s.people
        else []
    )
    if s.departments:
        sender_body += [
            "",
            *table(
                ["单位", "部门", "发送人数", "要求", "非工作时间要求"],
                [
                    [x.unit, x.department, x.senders, x.demands, x.demands_off_hours]
                    for x in s.departments
                ],
            ),
        ]
    if s.anonymous_off_hours:
        sender_body.append(f"已退出统计者（匿名）非工作时间要求 {s.anonymous_off_hours} 条。")
    lines += _section("非工作时间发出要求", "R1", sender_body, "本周没有非工作时间发出的要求。")
    lines += _section(
        "重复要求",
        "R6",
        table(
            ["次数", "群", "发送人", "部门", "首次", "末次"],
            [
                [
                    r.count,
                    "、".join(r.groups),
                    "、".join(r.senders),
                    "、".join(r.departments),
                    _hm(d, r.first_at),
                    _hm(d, r.last_at),
                ]
                for r in d.repeats
            ],
        )
        if d.repeats
        else [],
        "本周没有发现跨群或多人重复下发的要求。",
    )
    lines += _section(
        "时限不足一个工作日",
        "R6",
        table(
            ["群", "发送人", "发出", "截止", "其间工作时长（小时）"],
            [
                [x.group, x.sender, _hm(d, x.sent_at), _hm(d, x.deadline_at), x.working_hours]
                for x in d.short_deadlines
            ],
        )
        if d.short_deadlines
        else [],
        "本周没有时限过短的要求。",
    )
    lines += _hygiene(d)
    found = findings(d)
    lines += _section("整治建议", None, [f"- {f.text}（{f.rule}）" for f in found], "暂无。")
    cited = sorted({"R1", "R4", "R6", *(f.rule for f in found)})
    lines += _section("依据", None, [RULES[r].citation for r in cited], "")
    if d.unknown_years:
        lines += ["", unknown_year_hint(d.unknown_years)]
    return "\n".join(lines)


def _hygiene(d: DigestData) -> list[str]:
    h = d.hygiene
    st = h.settings
    out = _section(
        f"闲置工作群（{st.idle_days:g} 天无消息）",
        "R3",
        table(
            ["群", "单位", "最后消息", "闲置天数"],
            [
                [
                    g.group.name,
                    g.group.unit,
                    _hm(d, g.last_message_at) if g.last_message_at else "无",
                    g.idle_days,
                ]
                for g in h.dormant
            ],
        )
        if h.dormant
        else [],
        "无。",
    )
    out += _section(
        "已过结束日期的工作群",
        "R3",
        table(
            ["群", "单位", "结束日期"],
            [[g.group.name, g.group.unit, month_day(d.local(g.end_date).date())] for g in h.ended],
        )
        if h.ended
        else [],
        "无。",
    )
    out += _section(
        f"成员高度重合的工作群（≥{round(st.overlap * 100)}%）",
        "R2",
        table(
            ["群", "群", "重合", "共同成员"],
            [[o.a.name, o.b.name, f"{round(o.overlap * 100)}%", o.shared] for o in h.overlapping],
        )
        if h.overlapping
        else [],
        "无。",
    )
    out += _section(
        f"所在群超过 {st.person_cap} 个的人员",
        "R2",
        table(
            ["姓名", "单位", "所在群"], [[x.name, x.unit, x.monitored] for x in h.people_over_cap]
        )
        if h.people_over_cap
        else [],
        "无。",
    )
    out += _section(
        f"工作群超过 {st.unit_cap} 个的单位",
        "R2",
        table(["单位", "工作群"], [[u.unit, u.groups] for u in h.units_over_cap])
        if h.units_over_cap
        else [],
        "无。",
    )
    out += _section(
        "自报群数与助手统计",
        None,
        table(
            ["姓名", "单位", "自报", "助手统计到"],
            [[x.name, x.unit, x.self_reported, x.monitored] for x in h.self_reported],
        )
        if h.self_reported
        else [],
        "还没有人自报所在工作群数。",
    )
    return out
