"""Reading the operator's roster file: who is who across WeChat and QQ, their unit and department.

CSV with a header row (TOML is also accepted with a ``[[people]]`` array):

    name,unit,department,title,wechat_id,qq_id,is_head
    王建国,镇党政办,党政办,党政办主任,wxid_wjg01,10001,yes

or the same with Chinese headers (姓名,单位,科室,职务,微信号,QQ号,负责人), as Chinese
Excel saves it: UTF-8 (with or without BOM), GBK/GB18030, or UTF-16 "Unicode text"
(tab-separated). ``wechat_id`` / ``qq_id`` may be empty; ``is_head`` is yes/no (also
是/否, true/false, 1/0). Unit heads receive that unit's weekly digest. Every problem
in the file is reported at once, each with its line number.
"""

from __future__ import annotations

import codecs
import csv
import io
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import ConfigError

_TRUE = {"yes", "y", "true", "1", "是", "√"}
_FALSE = {"", "no", "n", "false", "0", "否", "×"}
COLUMNS = ("name", "unit", "department", "title", "wechat_id", "qq_id", "is_head")
# Header spellings seen in operators' sheets; compared without spaces, case-insensitively.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字"),
    "unit": ("单位", "所在单位"),
    "department": ("科室", "部门", "科室/部门", "科室部门"),
    "title": ("职务", "职位"),
    "wechat_id": ("微信号", "微信", "微信ID", "wxid"),
    "qq_id": ("QQ号", "QQ", "QQ号码"),
    "is_head": ("负责人", "是否负责人", "单位负责人"),
}


def _header_key(cell: str) -> str:
    """Headers compare without spaces and case-insensitively (QQ 号 = qq号)."""
    return "".join(cell.split()).lower()


_HEADERS = {
    _header_key(alias): column
    for column, aliases in HEADER_ALIASES.items()
    for alias in (column, *aliases)
}


class RosterError(ConfigError):
    """Everything wrong with a roster file: one line per problem, with its line number."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        if len(problems) == 1:
            text = f"花名册 {path}：{problems[0]}"
        else:
            lines = "\n".join(f"  {p}" for p in problems)
            text = f"花名册 {path} 有 {len(problems)} 处问题：\n{lines}"
        super().__init__(text)


@dataclass(frozen=True, slots=True)
class RosterEntry:
    name: str
    unit: str
    department: str = ""
    title: str = ""
    wechat_id: str = ""
    qq_id: str = ""
    is_head: bool = False

    def identities(self) -> list[tuple[str, str]]:
        out = []
        if self.wechat_id:
            out.append(("wechat", self.wechat_id))
        if self.qq_id:
            out.append(("qq", self.qq_id))
        return out


@dataclass(frozen=True, slots=True)
class RosterFile:
    """A parsed roster: its people, and the columns it has that jianfu does not use."""

    entries: list[RosterEntry]
    ignored_columns: tuple[str, ...] = ()
    encoding: str = "utf-8"


@dataclass(slots=True)
class _Problems:
    items: list[str] = field(default_factory=list)

    def add(self, where: str, what: str) -> None:
        self.items.append(f"{where}：{what}")


def _entry(raw: Mapping[str, object], where: str, problems: _Problems) -> RosterEntry | None:
    def value(key: str) -> str:
        v = raw.get(key)
        return "" if v is None else str(v).strip()

    head = value("is_head")
    before = len(problems.items)
    if head.lower() not in _TRUE | _FALSE:
        problems.add(where, f"负责人（is_head）一栏“{head}”应为 是/否（yes/no）")
    entry = RosterEntry(
        name=value("name"),
        unit=value("unit"),
        department=value("department"),
        title=value("title"),
        wechat_id=value("wechat_id"),
        qq_id=value("qq_id"),
        is_head=head.lower() in _TRUE,
    )
    if not entry.name:
        problems.add(where, "缺少姓名（name / 姓名）")
    if not entry.unit:
        problems.add(where, f"{entry.name or '这一行'}缺少单位（unit / 单位）")
    if not entry.identities():
        problems.add(where, f"{entry.name or '这一行'}没有微信号也没有 QQ 号，至少要填一个")
    if entry.qq_id and not (entry.qq_id.isascii() and entry.qq_id.isdigit()):
        problems.add(where, f"QQ 号“{entry.qq_id}”应为数字")
    return entry if len(problems.items) == before else None


def decode_roster(raw: bytes) -> tuple[str, str]:
    """The text of a roster file and the encoding it was saved in.

    Chinese Excel saves "CSV" in the system code page (GBK, read here as its superset
    GB18030), "CSV UTF-8" with a BOM, and "Unicode text" as UTF-16 with a BOM.
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "utf-16"
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise ConfigError(
            "无法识别文件编码（试过 UTF-8、GB18030、UTF-16）：请在 Excel 里另存为“CSV UTF-8”"
        ) from None


def _columns(header: list[str], problems: _Problems) -> tuple[list[str | None], tuple[str, ...]]:
    """Each header cell's canonical column (None: not used), and the cells not used."""
    mapped: list[str | None] = []
    ignored: list[str] = []
    seen: dict[str, str] = {}
    for cell in header:
        key = _HEADERS.get(_header_key(cell))
        if key is None:
            if cell.strip():
                ignored.append(cell.strip())
        elif key in seen:
            problems.add("表头", f"“{seen[key]}”和“{cell.strip()}”是同一列（{key}），只能留一个")
            key = None
        else:
            seen[key] = cell.strip()
        mapped.append(key)
    missing = [c for c in ("name", "unit") if c not in seen]
    if missing:
        wanted = "、".join(f"{c}（{HEADER_ALIASES[c][0]}）" for c in missing)
        problems.add(
            "表头",
            f"缺少 {wanted} 列；表头可写 {', '.join(COLUMNS)} 或 姓名,单位,科室,职务,微信号,QQ号,负责人",
        )
    return mapped, tuple(ignored)


@dataclass(frozen=True, slots=True)
class _Row:
    """One person's cells by column, where they are in the file, and what is wrong already."""

    where: str
    cells: dict[str, object]
    problems: tuple[str, ...] = ()
    usable: bool = True  # False: the row's cells cannot be trusted (shifted columns)


def _csv_rows(text: str, problems: _Problems) -> tuple[list[_Row], tuple[str, ...]]:
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        problems.add("第 1 行", "文件是空的，需要表头")
        return [], ()
    columns, ignored = _columns(header, problems)
    if problems.items:
        return [], ignored
    rows = []
    for cells in reader:
        where = f"第 {reader.line_num} 行"
        if not any(c.strip() for c in cells):
            continue  # Excel keeps blank rows below the table
        values: dict[str, object] = {k: v for k, v in zip(columns, cells, strict=False) if k}
        extra = len(cells) - len(columns)
        if extra > 0 and any(c.strip() for c in cells[len(columns) :]):
            problem = f"比表头多出 {extra} 列（是否有多余的逗号？）"
            rows.append(_Row(where, values, (problem,), usable=False))
        else:
            rows.append(_Row(where, values))
    return rows, ignored


def _toml_rows(text: str, problems: _Problems) -> list[_Row]:
    try:
        people = tomllib.loads(text).get("people", [])
    except tomllib.TOMLDecodeError as e:
        problems.add("TOML", f"格式有误：{e}")
        return []
    if not isinstance(people, list):
        problems.add("people", "应写成 [[people]] 表的数组")
        return []
    rows = []
    for i, person in enumerate(people, 1):
        where = f"[[people]] 第 {i} 项"
        if not isinstance(person, dict):
            rows.append(_Row(where, {}, ("应为一个表",), usable=False))
            continue
        values: dict[str, object] = {}
        unknown = []
        for key, value in person.items():
            column = _HEADERS.get(_header_key(str(key)))
            if column is None:
                unknown.append(f"未知的键 {key}（可用：{', '.join(COLUMNS)}）")
            else:
                values[column] = value
        rows.append(_Row(where, values, tuple(unknown)))
    return rows


def _no_duplicates(
    entry: RosterEntry,
    where: str,
    seen: dict[tuple[str, str], tuple[str, str]],
    problems: _Problems,
) -> bool:
    ok = True
    for ident in entry.identities():
        if ident in seen:
            first_where, first_name = seen[ident]
            problems.add(
                where,
                f"{ident[0]}:{ident[1]} 已在{first_where}（{first_name}）出现，同一个账号只能写一次",
            )
            ok = False
        else:
            seen[ident] = (where, entry.name)
    return ok


def read_roster(path: Path) -> RosterFile:
    """Read and check a roster file; RosterError lists every problem with its line."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RosterError(path, ["文件不存在"]) from None
    except OSError as e:
        raise RosterError(path, [f"无法读取（{e.strerror}）"]) from None
    try:
        text, encoding = decode_roster(raw)
    except ConfigError as e:
        raise RosterError(path, [str(e)]) from None
    problems = _Problems()
    ignored: tuple[str, ...] = ()
    if path.suffix.lower() == ".toml":
        rows = _toml_rows(text, problems)
    else:
        rows, ignored = _csv_rows(text, problems)
    entries: list[RosterEntry] = []
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for row in rows:
        for problem in row.problems:
            problems.add(row.where, problem)
        entry = _entry(row.cells, row.where, problems) if row.usable else None
        if (
            entry is not None
            and not row.problems
            and _no_duplicates(entry, row.where, seen, problems)
        ):
            entries.append(entry)
    if problems.items:
        raise RosterError(path, problems.items)
    return RosterFile(entries, ignored, encoding)


def parse_roster(path: Path) -> list[RosterEntry]:
    """The people of a roster file; RosterError lists every problem with its line."""
    return read_roster(path).entries


def write_roster(path: Path, entries: Iterable[RosterEntry]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for e in entries:
            w.writerow(
                [
                    e.name,
                    e.unit,
                    e.department,
                    e.title,
                    e.wechat_id,
                    e.qq_id,
                    "yes" if e.is_head else "no",
                ]
            )
