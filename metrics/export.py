"""Per-person and per-group weekly figures written to an Excel workbook or two CSV files."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, text

from metrics.calendar import week_bounds
from metrics.errors import MetricsError
from metrics.queries import person_week

__all__ = [
    "GROUP_HEADERS",
    "PERSON_HEADERS",
    "ExportError",
    "export",
    "group_rows",
    "person_rows",
    "weeks_between",
    "weeks_of_dates",
]

Format = Literal["xlsx", "csv"]
PERSON_SHEET = "人员"
GROUP_SHEET = "工作群"
PERSON_HEADERS = (
    "周", "姓名", "单位", "科室", "所在工作群数", "平台", "收到消息", "非工作时间收到",
    "非工作时间被@", "非工作时间@所有人", "要求", "非工作时间要求", "自报工作群数",
)  # fmt: skip
GROUP_HEADERS = (
    "周", "群名称", "平台", "所属单位", "监测状态", "消息数", "非工作时间消息", "晚间和深夜",
    "周末和节假日", "非工作时间@所有人", "要求", "非工作时间要求", "回复收到等", "实名发言人数",
)  # fmt: skip
_MAX_WEEKS = 260  # five years: a typo in a week range should not hang the command


class ExportError(MetricsError):
    """A bad week range, date range or output path."""


def weeks_between(first: str, last: str, tz: str) -> list[str]:
    """ISO weeks from ``first`` to ``last`` inclusive ("2026-W47", "2026-W48", ...)."""
    start, _ = week_bounds(first, tz)
    end, _ = week_bounds(last, tz)
    if end < start:
        raise ExportError(f"结束周 {last} 早于开始周 {first}")
    weeks: list[str] = []
    day = start.date()
    while day <= end.date():
        year, week, _ = day.isocalendar()
        weeks.append(f"{year}-W{week:02d}")
        if len(weeks) > _MAX_WEEKS:
            raise ExportError(f"{first} 至 {last} 超过 {_MAX_WEEKS} 周，请缩小范围")
        day += timedelta(days=7)
    return weeks


def weeks_of_dates(since: date, until: date) -> list[str]:
    """ISO weeks that overlap the days ``since`` to ``until`` inclusive (whole weeks)."""
    if until < since:
        raise ExportError(f"结束日期 {until} 早于开始日期 {since}")
    y1, w1, _ = since.isocalendar()
    y2, w2, _ = until.isocalendar()
    return weeks_between(f"{y1}-W{w1:02d}", f"{y2}-W{w2:02d}", "UTC")


def person_rows(
    conn: Connection, weeks: Sequence[str], tz: str, unit: str | None = None
) -> list[tuple[Any, ...]]:
    """One row per person and week, same figures as the digest; opted-out people left out."""
    rows: list[tuple[Any, ...]] = []
    for week in weeks:
        for p in person_week(conn, week, tz, unit):
            rows.append((
                week, p.name, p.unit or "", p.department or "", p.groups, p.platforms,
                p.received, p.received_off_hours, p.pings_off_hours, p.pings_all_off_hours,
                p.demands, p.demands_off_hours,
                "" if p.self_reported_groups is None else p.self_reported_groups,
            ))  # fmt: skip
    return rows


def group_rows(
    conn: Connection, weeks: Sequence[str], unit: str | None = None
) -> list[tuple[Any, ...]]:
    """One row per group and week with messages, from the v_group_week view."""
    rows: list[tuple[Any, ...]] = []
    for week in weeks:
        result = conn.execute(
            text(
                """SELECT week, group_name, platform, unit, state, messages, off_hours,
                          evening_night, weekend_holiday, mention_all_off_hours, demands,
                          demands_off_hours, acks, named_senders
                   FROM v_group_week WHERE week = :week"""
                + (
                    "" if unit is None else " AND unit = :unit"
                )  # PostgreSQL can't type :unit IS NULL
                + " ORDER BY off_hours DESC, messages DESC, group_name"
            ),
            {"week": week, "unit": unit},
        )
        rows.extend(tuple("" if v is None else v for v in r) for r in result)
    return rows


def _write_xlsx(path: Path, people: list[tuple[Any, ...]], groups: list[tuple[Any, ...]]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for title, headers, rows in (
        (PERSON_SHEET, PERSON_HEADERS, people),
        (GROUP_SHEET, GROUP_HEADERS, groups),
    ):
        ws = wb.create_sheet(title)
        ws.append(list(headers))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for row in rows:
            ws.append(list(row))
        for col, header in zip(ws.columns, headers, strict=True):
            letter = col[0].column_letter
            ws.column_dimensions[letter].width = max(10, 2 * len(header) + 2)
    wb.save(path)


def _write_csv(path: Path, headers: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    # utf-8-sig: Excel on Chinese Windows opens it without garbling the headers.
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        writer.writerows(rows)


def export(
    conn: Connection,
    weeks: Sequence[str],
    fmt: Format,
    out: Path,
    tz: str,
    unit: str | None = None,
) -> list[Path]:
    """Write the figures of ``weeks``; returns the files written.

    xlsx: one workbook ``out`` with sheets 人员 and 工作群. csv: ``out`` names the
    stem; writes ``<stem>-人员.csv`` and ``<stem>-工作群.csv`` beside it.
    """
    if not weeks:
        raise ExportError("没有要导出的周")
    if not out.parent.is_dir():
        raise ExportError(f"输出目录 {out.parent} 不存在")
    people = person_rows(conn, weeks, tz, unit)
    groups = group_rows(conn, weeks, unit)
    if fmt == "xlsx":
        path = out if out.suffix == ".xlsx" else out.with_suffix(".xlsx")
        _write_xlsx(path, people, groups)
        return [path]
    if fmt == "csv":
        stem = out.with_suffix("") if out.suffix == ".csv" else out
        person_path = stem.parent / f"{stem.name}-{PERSON_SHEET}.csv"
        group_path = stem.parent / f"{stem.name}-{GROUP_SHEET}.csv"
        _write_csv(person_path, PERSON_HEADERS, people)
        _write_csv(group_path, GROUP_HEADERS, groups)
        return [person_path, group_path]
    raise ExportError(f'格式 "{fmt}" 不支持，请用 xlsx 或 csv')
