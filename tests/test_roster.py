"""Roster files as operators save them from Excel: encodings, Chinese headers, every problem listed."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.roster import RosterEntry, parse_roster
from bot.roster_file import RosterError

CHINESE = "姓名,单位,科室,职务,微信号,QQ号,负责人\n王建国,镇党政办,党政办,主任,wxid_wjg01,10001,是\n刘芳,新河村,村两委,网格员,,10004,否\n"
EXPECTED = [
    RosterEntry("王建国", "镇党政办", "党政办", "主任", "wxid_wjg01", "10001", True),
    RosterEntry("刘芳", "新河村", "村两委", "网格员", "", "10004", False),
]


@pytest.mark.parametrize(
    ("encoding", "prefix", "delimiter"),
    [
        ("utf-8", b"", ","),
        ("utf-8", codecs.BOM_UTF8, ","),  # Excel "CSV UTF-8"
        ("gbk", b"", ","),  # Chinese Excel "CSV (逗号分隔)"
        ("gb18030", b"", ","),
        ("utf-16-le", codecs.BOM_UTF16_LE, "\t"),  # Excel "Unicode 文本"
    ],
)
def test_excel_encodings_and_chinese_headers_are_read(
    encoding: str, prefix: bytes, delimiter: str, tmp_path: Path
) -> None:
    """The same sheet saved in each of Excel's encodings gives the same people."""
    path = tmp_path / "roster.csv"
    path.write_bytes(prefix + CHINESE.replace(",", delimiter).encode(encoding))
    assert EXPECTED == parse_roster(path)


def test_english_headers_in_any_order_and_extra_columns(tmp_path: Path) -> None:
    """English headers still work; a column jianfu does not use is ignored and named by check."""
    path = tmp_path / "roster.csv"
    path.write_text(
        "序号,unit,name,QQ 号,is_head,手机号\n1,新河村,刘芳,10004,no,13800000000\n",
        encoding="utf-8",
    )
    assert [RosterEntry("刘芳", "新河村", qq_id="10004")] == parse_roster(path)
    result = CliRunner().invoke(main, ["roster", "check", str(path)])
    assert 0 == result.exit_code, result.output
    assert "提示：忽略了不认识的列 序号、手机号" in result.output


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    """All bad rows are listed at once, each with its line number, under one summary."""
    path = tmp_path / "roster.csv"
    path.write_text(
        "姓名,单位,微信号,QQ号,负责人\n"
        "张三,镇党政办,,,否\n"  # line 2: no account
        ",新河村,wx_a,,否\n"  # line 3: no name
        "李四,,wx_b,,也许\n"  # line 4: no unit, bad head flag
        "\n"
        "王五,新河村,wx_a,１２３,是\n"  # line 6: duplicate wechat id, full-width QQ
        "赵六,新河村,wx_c,,否,多余\n",  # line 7: one cell too many
        encoding="utf-8",
    )
    with pytest.raises(RosterError) as caught:
        parse_roster(path)
    assert [
        "第 2 行：张三没有微信号也没有 QQ 号，至少要填一个",
        "第 3 行：缺少姓名（name / 姓名）",
        "第 4 行：负责人（is_head）一栏“也许”应为 是/否（yes/no）",
        "第 4 行：李四缺少单位（unit / 单位）",
        "第 6 行：QQ 号“１２３”应为数字",
        "第 7 行：比表头多出 1 列（是否有多余的逗号？）",
    ] == caught.value.problems


def test_duplicate_accounts_name_both_lines(tmp_path: Path) -> None:
    """An account listed twice names the line and person where it first appeared."""
    path = tmp_path / "roster.csv"
    path.write_text("name,unit,qq_id\n甲,村,10001\n乙,村,10001\n", encoding="utf-8")
    with pytest.raises(RosterError) as caught:
        parse_roster(path)
    assert [
        "第 3 行：qq:10001 已在第 2 行（甲）出现，同一个账号只能写一次"
    ] == caught.value.problems
    assert f"花名册 {path}：第 3 行：qq:10001 已在第 2 行（甲）出现，同一个账号只能写一次" == str(
        caught.value
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("单位,微信号\n镇党政办,wx_a\n", "表头：缺少 name（姓名） 列"),
        ("姓名,名字,单位\n张三,张三,村\n", "表头：“姓名”和“名字”是同一列（name），只能留一个"),
        ("", "第 1 行：文件是空的，需要表头"),
    ],
)
def test_header_problems(content: str, problem: str, tmp_path: Path) -> None:
    """A header without the required columns, or with one column twice, is named as such."""
    path = tmp_path / "roster.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RosterError) as caught:
        parse_roster(path)
    assert caught.value.problems[0].startswith(problem), caught.value.problems


def test_toml_roster_accepts_chinese_keys_and_reports_every_problem(tmp_path: Path) -> None:
    """TOML rosters use the same columns (English or Chinese keys) and the same checks."""
    path = tmp_path / "roster.toml"
    path.write_text(
        '[[people]]\n"姓名" = "王建国"\n"单位" = "镇党政办"\n"微信号" = "wx_w"\n"负责人" = "是"\n'
        '[[people]]\nname = "李四"\nunti = "村"\nqq_id = 10002\n',
        encoding="utf-8",
    )
    with pytest.raises(RosterError) as caught:
        parse_roster(path)
    assert [
        "[[people]] 第 2 项：未知的键 unti（可用：name, unit, department, title, wechat_id, qq_id, is_head）",
        "[[people]] 第 2 项：李四缺少单位（unit / 单位）",
    ] == caught.value.problems


def test_check_prints_every_problem_and_a_summary(tmp_path: Path) -> None:
    """`jianfu roster check` prints the summary line then one line per problem, exit 2."""
    path = tmp_path / "roster.csv"
    path.write_bytes("姓名,单位,QQ号\n张三,,10001\n,村,10002\n".encode("gbk"))
    result = CliRunner().invoke(main, ["roster", "check", str(path)])
    assert 2 == result.exit_code
    assert [
        f"花名册 {path} 有 2 处问题：",
        "  第 2 行：张三缺少单位（unit / 单位）",
        "  第 3 行：缺少姓名（name / 姓名）",
    ] == result.output.splitlines()


def test_check_names_a_detected_encoding(tmp_path: Path) -> None:
    """A GBK file is read and the operator is told which encoding was found."""
    path = tmp_path / "roster.csv"
    path.write_bytes(CHINESE.encode("gbk"))
    result = CliRunner().invoke(main, ["roster", "check", str(path)])
    assert 0 == result.exit_code, result.output
    assert (
        f"{path}: 2 人，2 个单位，1 名负责人，1 人同时有微信和QQ" == result.output.splitlines()[0]
    )
    assert "提示：文件编码是 GB18030，已自动识别" in result.output


def test_roster_doc_lists_the_chinese_headers() -> None:
    """docs/roster.md documents every accepted Chinese header and the encodings."""
    from bot.roster_file import HEADER_ALIASES
    from tests.conftest import REPO

    doc = (REPO / "docs" / "roster.md").read_text(encoding="utf-8")
    for column, aliases in HEADER_ALIASES.items():
        assert column in doc
        assert aliases[0] in doc, aliases[0]
    for encoding in ("GBK", "UTF-8", "UTF-16"):
        assert encoding in doc
