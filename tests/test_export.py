"""`jianfu export`: per-person and per-group figures in Excel and CSV, opted-out people left out."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from bot.cli import main
from metrics.db import make_engine, sqlite_path
from metrics.export import (
    GROUP_HEADERS,
    PERSON_HEADERS,
    ExportError,
    weeks_between,
    weeks_of_dates,
)
from tests.inspector_sample import OPTED_OUT_NAME, WEEK, populate


@pytest.fixture
def db_file(db_url: str) -> Path:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        populate(conn)
    engine.dispose()
    path = sqlite_path(db_url)
    assert path is not None
    return path


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_xlsx_has_person_and_group_sheets(db_file: Path, tmp_path: Path) -> None:
    """The workbook has sheets 人员 and 工作群 with Chinese headers and the week's figures."""
    out = tmp_path / "减负-W47.xlsx"
    code, output = _cli(
        "export", "--week", WEEK, "--format", "xlsx", "--out", str(out), "--db", str(db_file)
    )
    assert 0 == code, output
    assert f"已写入 {out}" in output
    wb = load_workbook(out, read_only=True)
    assert ["人员", "工作群"] == wb.sheetnames
    people = [tuple(r) for r in wb["人员"].iter_rows(values_only=True)]
    groups = [tuple(r) for r in wb["工作群"].iter_rows(values_only=True)]
    wb.close()  # read-only workbooks keep the file open until closed
    assert PERSON_HEADERS == people[0]
    assert GROUP_HEADERS == groups[0]
    by_name = {r[1]: r for r in people[1:]}
    assert {"王建国", "李秀英", "张伟", "刘芳", "陈静"} == set(by_name)
    assert 2 == by_name["王建国"][PERSON_HEADERS.index("非工作时间被@")]
    assert {"镇党政办工作群", "农业农村办通知群", "森林防火专项工作群"} == {
        r[1] for r in groups[1:]
    }
    cells = [str(c) for row in people + groups for c in row]
    assert not any(OPTED_OUT_NAME in c for c in cells)


def test_csv_writes_two_files_with_headers(db_file: Path, tmp_path: Path) -> None:
    """CSV export writes STEM-人员.csv and STEM-工作群.csv, each starting with its headers."""
    code, output = _cli(
        "export", "--week", WEEK, "--to", "2026-W48", "--format", "csv",
        "--out", str(tmp_path / "十一月"), "--db", str(db_file),
    )  # fmt: skip
    assert 0 == code, output
    # People are listed for every week they sit in a monitored group, quiet or not;
    # groups only for weeks with messages (W48 has none).
    for name, headers, weeks in (
        ("人员", PERSON_HEADERS, {WEEK, "2026-W48"}),
        ("工作群", GROUP_HEADERS, {WEEK}),
    ):
        with (tmp_path / f"十一月-{name}.csv").open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        assert list(headers) == rows[0]
        assert weeks == {r[0] for r in rows[1:]}


def test_date_range_exports_whole_weeks(db_file: Path, tmp_path: Path) -> None:
    """--from/--until export every ISO week touching those days."""
    out = tmp_path / "out.xlsx"
    code, output = _cli(
        "export", "--from", "2026-11-18", "--until", "2026-11-19", "--out", str(out),
        "--db", str(db_file),
    )  # fmt: skip
    assert 0 == code, output
    wb = load_workbook(out, read_only=True)
    rows = list(wb["人员"].iter_rows(values_only=True))
    wb.close()  # read-only workbooks keep the file open until closed
    assert {WEEK} == {r[0] for r in rows[1:]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", WEEK, "--db", "nope.sqlite3"], "数据库文件 nope.sqlite3 不存在"),
        (["--from", "2026-11-01", "--db", "DB"], "--from 和 --until 要一起给出"),
        (["--db", "DB"], "请给出 --week"),
        (["--week", "2026-47", "--db", "DB"], '"2026-47" 不是 ISO 周'),
        (["--week", "2026-W48", "--to", "2026-W47", "--db", "DB"], "早于开始周"),
    ],
)
def test_bad_input_gives_clear_error(
    db_file: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    """Bad weeks, dates or files end with a message naming the problem, not a traceback."""
    args = [str(db_file) if a == "DB" else a for a in args]
    code, output = _cli("export", *args, "--out", str(tmp_path / "x.xlsx"))
    assert 0 != code
    assert message in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("2026-W47", "2026-W47", ["2026-W47"]),
        ("2026-W52", "2027-W02", ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]),
    ],
)
def test_weeks_between(first: str, last: str, expected: list[str]) -> None:
    """Week ranges step through ISO weeks, across a year with 53 weeks."""
    assert expected == weeks_between(first, last, "Asia/Shanghai")


def test_weeks_of_dates_covers_partial_weeks() -> None:
    """October 2026 touches ISO weeks 40 to 44."""
    expected = ["2026-W40", "2026-W41", "2026-W42", "2026-W43", "2026-W44"]
    assert expected == weeks_of_dates(date(2026, 10, 1), date(2026, 10, 31))
    with pytest.raises(ExportError):
        weeks_of_dates(date(2026, 10, 31), date(2026, 10, 1))
