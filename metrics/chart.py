"""The weekly digest's picture: after-hours pings by weekday and hour, and the heaviest loads."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, text

from metrics.calendar import WorkSchedule, week_bounds
from metrics.models import UTCDateTime
from metrics.queries import PersonWeek, person_week

__all__ = [
    "CHART_PEOPLE_KEY",
    "CHART_TEXTS",
    "CHART_UNIT_KEY",
    "WEEKDAYS_ZH",
    "cjk_font_path",
    "ping_grid",
    "render_week_chart",
]

# PNG text fields of a saved chart: its unit, and the people.id of each person drawn.
CHART_UNIT_KEY = "jianfu-unit"
CHART_PEOPLE_KEY = "jianfu-people"
WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
TITLE_HEATMAP = "非工作时间@提醒（按星期和小时）"
TITLE_BARS = "负担最重的人（非工作时间被@＋非工作时间要求）"
X_HOUR = "时（当地时间）"
LEGEND_PINGS = "非工作时间被@"
LEGEND_DEMANDS = "非工作时间要求"
NO_DATA = "本周没有数据"
# Every fixed string drawn on the chart; tests check the font covers each character.
CHART_TEXTS = (
    *WEEKDAYS_ZH,
    TITLE_HEATMAP,
    TITLE_BARS,
    X_HOUR,
    LEGEND_PINGS,
    LEGEND_DEMANDS,
    NO_DATA,
)

# Messages outside working time that @ someone or @所有人, in the schedule's week.
_PINGS = """SELECT m.sent_at FROM messages m
WHERE m.sent_at >= :start AND m.sent_at < :end AND m.band <> 'work'
  AND (m.mention_count > 0 OR m.mention_all)"""
# PostgreSQL cannot type a bare ":unit IS NULL", so the unit filter is added only when asked.
_UNIT_FILTER = """
  AND m.group_id IN (
      SELECT ms.group_id FROM memberships ms JOIN identities i ON i.id = ms.identity_id
      JOIN people p ON p.id = i.person_id WHERE p.unit = :unit)"""


@cache
def cjk_font_path() -> Path:
    """Noto Sans SC (SIL OFL 1.1), shipped by the pylopdf-fonts-zh-cn wheel; registered once.

    Installed from PyPI with the project, so the chart needs no system font package.
    """
    import pylopdf_fonts_zh_cn
    from matplotlib import font_manager

    path = Path(pylopdf_fonts_zh_cn.sans_path())
    font_manager.fontManager.addfont(str(path))
    return path


def ping_grid(conn: Connection, week: str, tz: str, unit: str | None = None) -> list[list[int]]:
    """7 × 24 counts of after-hours @ messages by local weekday (Monday first) and hour."""
    start, end = week_bounds(week, tz)
    stmt = (
        text(_PINGS + (_UNIT_FILTER if unit is not None else ""))
        .bindparams(
            bindparam("start", type_=UTCDateTime()),
            bindparam("end", type_=UTCDateTime()),
        )
        .columns(sent_at=UTCDateTime())
    )
    zone = ZoneInfo(tz)
    grid = [[0] * 24 for _ in range(7)]
    for (sent_at,) in conn.execute(stmt, {"start": start, "end": end, "unit": unit}):
        assert isinstance(sent_at, datetime)
        local = sent_at.astimezone(zone)
        grid[local.weekday()][local.hour] += 1
    return grid


def _heaviest(people: list[PersonWeek], n: int) -> list[PersonWeek]:
    # Same order as the digest's "heaviest" list, so the picture and the text agree.
    ranked = sorted(
        people,
        key=lambda p: (-(p.pings_off_hours + p.demands_off_hours), -p.received_off_hours, p.name),
    )
    return [p for p in ranked if p.pings_off_hours + p.demands_off_hours > 0][:n]


def render_week_chart(
    conn: Connection,
    week: str,
    schedule: WorkSchedule,
    unit: str | None,
    path: Path,
    *,
    top_n: int = 8,
) -> Path:
    """Draw the week's heat map and heaviest-load bars into a PNG at ``path``; returns it."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a server; must precede pyplot
    from matplotlib import pyplot as plt
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import MaxNLocator

    font = FontProperties(fname=str(cjk_font_path()))
    grid = ping_grid(conn, week, schedule.timezone, unit)
    top = _heaviest(person_week(conn, week, schedule.timezone, unit), top_n)

    fig, (ax_map, ax_bar) = plt.subplots(
        2, 1, figsize=(8, 8), dpi=100, gridspec_kw={"height_ratios": [1, 1.2]}
    )
    try:
        image = ax_map.imshow(grid, aspect="auto", cmap="Reds", vmin=0)
        ax_map.set_yticks(range(7), WEEKDAYS_ZH, fontproperties=font)
        ax_map.set_xticks(range(0, 24, 2), [str(h) for h in range(0, 24, 2)])
        ax_map.set_xlabel(X_HOUR, fontproperties=font)
        ax_map.set_title(f"{week} {TITLE_HEATMAP}", fontproperties=font)
        bar = fig.colorbar(image, ax=ax_map, fraction=0.03)
        bar.locator = MaxNLocator(integer=True)  # counts of messages, not fractions
        bar.update_ticks()

        ax_bar.set_title(TITLE_BARS, fontproperties=font)
        if top:
            names = [p.name for p in reversed(top)]
            pings = [p.pings_off_hours for p in reversed(top)]
            demands = [p.demands_off_hours for p in reversed(top)]
            ax_bar.barh(names, pings, color="#c0392b", label=LEGEND_PINGS)
            ax_bar.barh(names, demands, left=pings, color="#e59866", label=LEGEND_DEMANDS)
            ax_bar.set_yticks(range(len(names)), names, fontproperties=font)
            ax_bar.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax_bar.legend(prop=font, loc="lower right")
        else:
            ax_bar.text(0.5, 0.5, NO_DATA, ha="center", va="center", fontproperties=font)
            ax_bar.set_axis_off()
        fig.tight_layout()
        # Who is drawn, by internal id, so a chart can be redrawn when one of them opts out.
        info = {CHART_UNIT_KEY: unit or "", CHART_PEOPLE_KEY: ",".join(str(p.person_id) for p in top)}
        fig.savefig(path, format="png", metadata=info)
    finally:
        plt.close(fig)
    return path
