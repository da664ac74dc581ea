"""`jianfu run --config` as an operator starts it: real process, real puppet service, real signals."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from sqlalchemy import text

import bot.adapters.wechat.compat  # noqa: F401  (python-wechaty import hygiene first)
from bot.simulator.puppet_service import PuppetService
from metrics.db import make_engine

TOKEN = "s3cret-puppet-token-9f8e7d"
QQ_TOKEN = "s3cret-onebot-token-1a2b3c"


async def test_run_announces_records_after_consent_and_never_logs_tokens(tmp_path: Path) -> None:
    """The production entry announces itself, records after 同意记录, stops on SIGTERM, logs no token."""
    puppet = PuppetService(token=TOKEN, self_id="wx_bot")
    puppet.add_contact("wx_owner", "群主")
    puppet.add_contact("wx_m", "成员")
    puppet.add_room("r1@chatroom", "测试工作群", "wx_owner", ["wx_owner", "wx_m", "wx_bot"])
    endpoint = await puppet.start()
    config = tmp_path / "jianfu.toml"
    config.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path / "prod.sqlite3"}"
[wechat]
enabled = true
endpoint = "{endpoint}"
[qq]
enabled = true
port = 0
[ingest]
flush_seconds = 0.2
""",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "JIANFU_PUPPET_TOKEN": TOKEN,
        "JIANFU_ONEBOT_TOKEN": QQ_TOKEN,
        "CACHE_DIR": str(tmp_path / ".wechaty"),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "-vv",
        "run",
        "--config",
        str(config),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = b""
    try:
        await puppet.wait_sent(
            lambda s: s.conversation_id == "r1@chatroom" and "同意记录" in s.text, 30
        )
        await puppet.post_room_message("r1@chatroom", "wx_owner", "同意记录")
        await puppet.wait_sent(lambda s: "已开始统计" in s.text, 10)
        await puppet.post_room_message("r1@chatroom", "wx_m", "收到")
        engine = make_engine(f"sqlite:///{tmp_path / 'prod.sqlite3'}")
        for _ in range(100):
            with engine.connect() as conn:
                if conn.execute(text("SELECT COUNT(*) FROM messages")).scalar_one():
                    break
            await asyncio.sleep(0.1)
        with engine.connect() as conn:
            assert 1 == conn.execute(text("SELECT COUNT(*) FROM messages")).scalar_one()
        engine.dispose()
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(proc.communicate(), 30)
        await puppet.stop()
    log = output.decode("utf-8", "replace")
    assert 0 == proc.returncode, log
    assert TOKEN not in log
    assert QQ_TOKEN not in log
    assert "jianfu running" in log
    assert 0o600 == (tmp_path / "prod.sqlite3").stat().st_mode & 0o777
