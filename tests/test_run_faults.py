"""`jianfu run` as a real process when things go wrong: a taken port, a wrong token, a bad disk."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

import bot.adapters.wechat.compat  # noqa: F401  (python-wechaty import hygiene first)
from bot.simulator.puppet_service import PuppetService
from bot.spill import SpillFile
from metrics.db import make_engine, migrate
from tests.test_recorder_faults import record

TOKEN = "s3cret-puppet-token-4d5e6f"
QQ_TOKEN = "s3cret-onebot-token-7a8b9c"


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port something else already listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def write_config(tmp_path: Path, endpoint: str, qq_port: int, db: Path) -> Path:
    config = tmp_path / "jianfu.toml"
    config.write_text(
        f"""
[database]
url = "sqlite:///{db}"
[wechat]
enabled = true
endpoint = "{endpoint}"
[qq]
enabled = true
port = {qq_port}
[ingest]
flush_seconds = 0.2
""",
        encoding="utf-8",
    )
    return config


LOG_RECORD = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


async def start(
    tmp_path: Path, config: Path, *flags: str
) -> asyncio.subprocess.Process:
    """`jianfu [flags] run --config CONFIG` as a real process; no -v: one error line, no traceback."""
    env = {
        **os.environ,
        "JIANFU_PUPPET_TOKEN": TOKEN,
        "JIANFU_ONEBOT_TOKEN": QQ_TOKEN,
        "CACHE_DIR": str(tmp_path / ".wechaty"),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *flags,
        "run",
        "--config",
        str(config),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


def error_lines(log: str) -> list[str]:
    """The lines that are not log records: what the command line printed for the user."""
    return [line for line in log.splitlines() if line.strip() and not LOG_RECORD.match(line)]


async def finish(proc: asyncio.subprocess.Process) -> str:
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(proc.communicate(), 60)
    return output.decode("utf-8", "replace")


def count(db: Path, sql: str = "SELECT COUNT(*) FROM messages") -> int:
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        value = int(conn.execute(text(sql)).scalar_one())
    engine.dispose()
    return value


async def wait_count(db: Path, expected: int) -> None:
    async with asyncio.timeout(30):
        while not db.exists() or count(db) < expected:
            await asyncio.sleep(0.1)


def puppet_world(token: str = TOKEN) -> PuppetService:
    puppet = PuppetService(token=token, self_id="wx_bot")
    puppet.add_contact("wx_owner", "群主")
    puppet.add_contact("wx_m", "成员")
    puppet.add_room("r1@chatroom", "测试工作群", "wx_owner", ["wx_owner", "wx_m", "wx_bot"])
    return puppet


async def test_a_taken_qq_port_leaves_wechat_recording(tmp_path: Path, taken_port: int) -> None:
    """QQ cannot listen: that is logged clearly, retried, and WeChat records as usual."""
    puppet = puppet_world()
    endpoint = await puppet.start()
    db = tmp_path / "prod.sqlite3"
    proc = await start(tmp_path, write_config(tmp_path, endpoint, taken_port, db), "-v")
    try:
        await puppet.wait_sent(lambda s: "同意记录" in s.text, 30)
        await puppet.post_room_message("r1@chatroom", "wx_owner", "同意记录")
        await puppet.wait_sent(lambda s: "已开始统计" in s.text, 10)
        await puppet.post_room_message("r1@chatroom", "wx_m", "收到")
        await wait_count(db, 1)
    finally:
        log = await finish(proc)
        await puppet.stop()
    assert 0 == proc.returncode, log
    assert 1 == count(db)
    failures = [line for line in log.splitlines() if "the qq adapter failed" in line]
    assert 1 == len(failures), log
    assert f"127.0.0.1:{taken_port}" in failures[0]
    assert "Traceback" not in log
    assert "recording stopped: 1 messages written, 0 not written" in log


async def test_every_platform_failing_at_start_is_one_line_and_a_non_zero_exit(
    tmp_path: Path, taken_port: int
) -> None:
    """A taken QQ port and a rejected WeChat token: exit 1 with one Chinese line naming both."""
    puppet = puppet_world(token="another-token-entirely")
    endpoint = await puppet.start()
    try:
        proc = await start(tmp_path, write_config(tmp_path, endpoint, taken_port, tmp_path / "p.db"))
        output, _ = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        await puppet.stop()
    log = output.decode("utf-8", "replace")
    assert 1 == proc.returncode, log
    errors = error_lines(log)
    assert 1 == len(errors), log
    assert "所有平台都无法启动" in errors[0]
    assert "QQ：" in errors[0] and "微信：" in errors[0] and "拒绝了令牌" in errors[0]
    assert "Traceback" not in log


async def test_spilled_messages_are_written_at_the_next_start(tmp_path: Path) -> None:
    """A spill file left by a run that could not write is replayed once, and says so."""
    db = tmp_path / "prod.sqlite3"
    url = f"sqlite:///{db}"
    migrate(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO groups (platform, external_id, name, state, first_seen)"
                " VALUES ('qq', '5005', '群', 'active', '2026-11-01 00:00:00')"
            )
        )
        gid = int(conn.execute(text("SELECT id FROM groups")).scalar_one())
    engine.dispose()
    spill = SpillFile.next_to(db)
    spill.write([record(gid, n) for n in range(5)])
    puppet = puppet_world()
    endpoint = await puppet.start()
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    proc = await start(tmp_path, write_config(tmp_path, endpoint, port, db), "-v")
    try:
        await wait_count(db, 5)
    finally:
        log = await finish(proc)
        await puppet.stop()
    assert 0 == proc.returncode, log
    assert "replayed 5 spilled messages" in log
    assert [] == spill.paths()
    assert 5 == count(db)


def _mount_tmpfs(path: Path, options: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True
    )
    return done.returncode == 0


@contextlib.contextmanager
def unwritable_folder(tmp_path: Path, kind: str) -> Iterator[Path]:
    """A real read-only or full folder: a tmpfs mount as root, else a chmod-ed folder."""
    folder = tmp_path / kind
    if kind == "readonly":
        mounted = _mount_tmpfs(folder, "ro,size=1m")
        if not mounted:
            if os.geteuid() == 0:
                pytest.skip("root cannot mount a tmpfs here, and root ignores permissions")
            folder.chmod(0o555)
    else:
        mounted = _mount_tmpfs(folder, "size=256k")
        if not mounted:
            pytest.skip("a full disk needs a small tmpfs, which only root can mount")
        with contextlib.suppress(OSError), (folder / "filler").open("wb") as filler:
            while True:
                filler.write(b"\0" * 4096)
                filler.flush()
    try:
        yield folder
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)
        else:
            folder.chmod(0o755)


@pytest.mark.parametrize(("kind", "reason"), [("readonly", "只读"), ("full", "磁盘已满")])
async def test_an_unwritable_database_folder_is_one_clear_line_at_start(
    tmp_path: Path, kind: str, reason: str
) -> None:
    """A read-only folder or a full disk stops `jianfu run` with one Chinese line, no traceback."""
    with unwritable_folder(tmp_path, kind) as folder:
        config = write_config(tmp_path, "127.0.0.1:9", 0, folder / "prod.sqlite3")
        proc = await start(tmp_path, config)
        output, _ = await asyncio.wait_for(proc.communicate(), 60)
    log = output.decode("utf-8", "replace")
    assert 3 == proc.returncode, log  # the documented exit code of a database problem
    errors = error_lines(log)
    assert 1 == len(errors), log
    assert str(folder / "prod.sqlite3") in errors[0] and reason in errors[0], errors[0]
    assert "Traceback" not in log
