"""Every command as a new user meets it with wrong input: one Chinese line, a documented exit code.

Also: commands that only read never create, chmod or write anything.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.cli_base import EXIT_DATABASE, EXIT_RUNTIME, EXIT_USAGE, translate
from bot.events import AdapterError
from metrics.db import migrate, sync_url
from tests.conftest import REPO


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def one_line(result: Result) -> str:
    """The command's whole output, asserted to be a single line without a traceback."""
    text = result.output.strip()
    assert "Traceback" not in text, text
    assert 1 == len(text.splitlines()), text
    return text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _make(kind: str, path: Path) -> None:
    """A database file in one of the states a user may point a command at."""
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("姓名,单位\n张三,镇党政办\n", encoding="utf-8")
    elif kind == "system":
        shutil.copy("/etc/passwd" if Path("/etc/passwd").exists() else REPO / "README.md", path)
    elif kind == "foreign":
        sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    elif kind == "old":
        migrate(f"sqlite:///{path}", "0001")
    if path.exists():
        path.chmod(0o644)


READ_ONLY_COMMANDS = {
    "digest": lambda db, tmp: ["digest", *db],
    "export": lambda db, tmp: ["export", "--week", "2026-W47", "--out", str(tmp / "x.xlsx"), *db],
    "roster unmapped": lambda db, tmp: ["roster", "unmapped", *db],
    "delivery status": lambda db, tmp: ["delivery", "status", *db],
    "inspect": lambda db, tmp: [
        "inspect",
        db[1] if db else "data/jianfu.sqlite3",
        "--port",
        str(_free_port()),
    ],
}
STATES = {
    "default": ("数据库文件 data/jianfu.sqlite3 不存在", "jianfu migrate --db data/jianfu.sqlite3"),
    "missing": ("不存在", "jianfu migrate --db"),
    "empty": ("是空文件", "jianfu migrate --db"),
    "text": ("不是 SQLite 数据库文件", ""),
    "system": ("不是 SQLite 数据库文件", ""),
    "foreign": ("不是减负（jianfu）数据库", ""),
    "old": ("的数据库结构是第 0001 版", "jianfu migrate --db"),
}


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("command", list(READ_ONLY_COMMANDS))
def test_read_only_commands_touch_nothing_and_say_what_to_run(
    command: str, state: str, tmp_path: Path
) -> None:
    """A missing, empty or foreign database: one line naming it, exit 3, no file created or chmodded."""
    work = tmp_path / "work"
    work.mkdir()
    os.chdir(work)
    path = work / "db.sqlite3"
    _make(state, path)
    before = {p: (p.stat().st_mode, p.read_bytes()) for p in work.rglob("*")}
    db = [] if state == "default" else ["--db", str(path)]
    result = run(*READ_ONLY_COMMANDS[command](db, work))
    line = one_line(result)
    assert EXIT_DATABASE == result.exit_code, line
    problem, hint = STATES[state]
    assert problem in line
    assert hint in line
    if state != "default":
        assert str(path) in line
    after = {p: (p.stat().st_mode, p.read_bytes()) for p in work.rglob("*")}
    # SQLite's own index files of a WAL database may appear, with the database's mode.
    for side in (path.with_name(path.name + "-shm"), path.with_name(path.name + "-wal")):
        if side not in before and side in after:
            assert state == "old" and after[side][0] == before[path][0]
            del after[side]
    assert before == after  # nothing created (no data/ folder), nothing chmodded or written


def test_read_only_commands_do_not_write_a_real_database(db_url: str, tmp_path: Path) -> None:
    """Reading a jianfu database leaves its bytes and mode as they were."""
    path = Path(db_url.removeprefix("sqlite:///"))
    path.chmod(0o640)
    before = path.read_bytes()
    result = run("digest", "--db", str(path))
    assert EXIT_RUNTIME == result.exit_code
    assert "数据库里还没有记录任何消息" in one_line(result)
    assert before == path.read_bytes()
    assert 0o640 == path.stat().st_mode & 0o777


def test_migrate_never_touches_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    """`jianfu migrate --db` on a system file refuses before changing its mode or bytes."""
    path = tmp_path / "passwd"
    _make("system", path)
    before = path.read_bytes()
    result = run("migrate", "--db", str(path))
    assert EXIT_DATABASE == result.exit_code
    assert f"{path} 不是 SQLite 数据库文件" in one_line(result)
    assert (0o644, before) == (path.stat().st_mode & 0o777, path.read_bytes())


def test_migrate_refuses_a_foreign_sqlite_database(tmp_path: Path) -> None:
    """Another program's SQLite file is not turned into a jianfu database."""
    path = tmp_path / "other.sqlite3"
    _make("foreign", path)
    before = path.read_bytes()
    result = run("migrate", "--db", str(path))
    assert EXIT_DATABASE == result.exit_code
    assert "里已有别的表（t），不是减负（jianfu）数据库，不会改动它" in one_line(result)
    assert before == path.read_bytes()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["digest", "--db", "mysq://db/x"],
            EXIT_DATABASE,
            "数据库地址 mysq://db/x 不支持数据库类型 mysq",
        ),
        (
            ["digest", "--db", "sqlite+pysqlcipher:///x.db"],
            EXIT_DATABASE,
            "不支持驱动 sqlite+pysqlcipher",
        ),
        (
            ["migrate", "--db", "postgresql://jianfu:pw@127.0.0.1:1/jianfu"],
            EXIT_DATABASE,
            "无法使用数据库 postgresql://jianfu:***@127.0.0.1:1/jianfu：连接被拒绝",
        ),
        (
            ["digest", "--db", "postgresql+asyncpg://jianfu@127.0.0.1:1/jianfu"],
            EXIT_DATABASE,
            "连接被拒绝（数据库服务器没有运行，或主机、端口写错了）",
        ),
        (
            ["migrate", "--db", "README.md/jianfu.sqlite3"],
            EXIT_DATABASE,
            "无法创建数据库文件 README.md/jianfu.sqlite3：路径中有一段是文件而不是目录",
        ),
        (["run"], EXIT_USAGE, "请用 --config 指定配置文件（可复制 config.example.toml 开始）"),
        (["run", "--config", "nope.toml"], EXIT_USAGE, "配置文件 nope.toml 不存在"),
        (["roster", "check", "nope.csv"], EXIT_USAGE, "花名册 nope.csv：文件不存在"),
        (
            ["classify", "--jsonl", "nope.jsonl"],
            EXIT_USAGE,
            "无法读写文件 nope.jsonl：文件或目录不存在",
        ),
        (["export", "--db", "x.sqlite3", "--out", "x.xlsx"], EXIT_USAGE, "用法错误：请给出 --week"),
        (["digest", "--wek", "2026-W47"], EXIT_USAGE, "用法错误：No such option '--wek'"),
        (["nosuchcommand"], EXIT_USAGE, "用法错误："),
    ],
)
def test_expected_errors_are_one_chinese_line(
    args: list[str], code: int, message: str, tmp_path: Path
) -> None:
    """Config, database, URL, PostgreSQL, roster and usage errors: one line, documented code."""
    (tmp_path / "README.md").write_text("not a folder", encoding="utf-8")
    result = run(*args)
    line = one_line(result)
    assert code == result.exit_code, line
    assert message in line


def test_config_errors_from_a_file(tmp_path: Path) -> None:
    """A typo in the config file stops every command with exit 2 and the key named."""
    config = tmp_path / "jianfu.toml"
    config.write_text("[digests]\ntop_n = 3\n", encoding="utf-8")
    for args in (["run"], ["digest"], ["migrate"], ["classify", "--jsonl", "-"]):
        result = run(*args, "--config", str(config))
        assert EXIT_USAGE == result.exit_code
        assert f"{config}：未知配置项 [digests]，是否想写 [digest]？" == one_line(result)


def test_calendar_errors_are_usage_errors(db_url: str) -> None:
    """A malformed --week is a one-line calendar error with exit 2."""
    result = run("digest", "--week", "2026-48", "--db", db_url)
    assert EXIT_USAGE == result.exit_code
    assert '周 "2026-48" 不是 ISO 周，应写成 "2026-W47" 这样的格式' == one_line(result)


def test_verbose_adds_the_traceback(tmp_path: Path) -> None:
    """-v prints where the error came from, then the same one line."""
    quiet = run("digest", "--db", str(tmp_path / "nope.sqlite3"))
    loud = run("-v", "digest", "--db", str(tmp_path / "nope.sqlite3"))
    assert EXIT_DATABASE == quiet.exit_code == loud.exit_code
    assert "Traceback" not in quiet.output
    assert "Traceback (most recent call last)" in loud.output
    assert loud.output.strip().endswith(quiet.output.strip())


def test_help_documents_the_exit_codes() -> None:
    """`jianfu --help` lists every exit code the translator uses."""
    text = run("--help").output
    for code in ("0 ", "1 ", "2 ", "3 ", "130"):
        assert f"  {code}" in text
    assert "-v" in text


def test_readme_documents_the_exit_codes() -> None:
    """The README has the same table of exit codes."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for code in (EXIT_RUNTIME, EXIT_USAGE, EXIT_DATABASE, 130):
        assert f"| {code} |" in readme


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (AdapterError("QQ 端口 8780 已被占用"), EXIT_RUNTIME, "QQ 端口 8780 已被占用"),
        (
            PermissionError(13, "Permission denied", "/srv/x"),
            EXIT_RUNTIME,
            "无法读写文件 /srv/x：没有权限",
        ),
        (
            OSError(28, "No space left on device", "x.db"),
            EXIT_RUNTIME,
            "无法读写文件 x.db：磁盘已满",
        ),
        (
            ModuleNotFoundError("no", name="psycopg"),
            EXIT_DATABASE,
            "使用 PostgreSQL 需要可选依赖（缺少 psycopg）：请安装 jianfu[postgres]",
        ),
        (
            RuntimeError("boom"),
            EXIT_RUNTIME,
            "内部错误 RuntimeError：boom（加 -v 重新运行可看到出错位置）",
        ),
        (
            ExceptionGroup("start", [AdapterError("微信连不上"), AdapterError("QQ 端口被占用")]),
            EXIT_RUNTIME,
            "微信连不上；QQ 端口被占用",
        ),
    ],
)
def test_translator_maps_the_error_roots(error: Exception, code: int, message: str) -> None:
    """BotError (what `jianfu run` raises at start-up), OS and driver errors get their codes."""
    assert (code, message) == translate(error, None)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite+aiosqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_sync_url_uses_the_installed_drivers(url: str, expected: str) -> None:
    """A PostgreSQL URL without a driver (or with psycopg2) uses psycopg, which the extra installs."""
    assert expected == sync_url(url)


@pytest.mark.postgres
def test_plain_postgresql_url_works_from_the_command_line(pg_url: str) -> None:
    """`--db postgresql://...` (no driver named) reaches the database instead of a traceback."""
    plain = "postgresql://" + pg_url.split("://", 1)[1]
    result = run("digest", "--db", plain)
    assert EXIT_RUNTIME == result.exit_code
    assert "数据库里还没有记录任何消息" in one_line(result)


def test_an_existing_database_keeps_its_mode_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Writing commands leave an existing file's mode alone and tell the operator instead."""
    path = tmp_path / "copied.sqlite3"
    migrate(f"sqlite:///{path}")
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="metrics.db"):
        migrate(f"sqlite:///{path}")
    assert 0o644 == path.stat().st_mode & 0o777
    assert f"run chmod 600 {path}" in caplog.text


def test_run_start_up_failures_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`jianfu run` failing at start-up (database path unusable) prints one line, exit 3."""
    (tmp_path / "README.md").write_text("not a folder", encoding="utf-8")
    config = tmp_path / "jianfu.toml"
    config.write_text(
        '[database]\nurl = "sqlite:///README.md/jianfu.sqlite3"\n[qq]\nenabled = true\nport = 0\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("JIANFU_ONEBOT_TOKEN", "tok-123")
    result = run("run", "--config", str(config))
    assert EXIT_DATABASE == result.exit_code
    assert "无法创建数据库文件 README.md/jianfu.sqlite3" in one_line(result)
