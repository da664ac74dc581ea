"""The config file as operators write it: every key checked at load, one Chinese line per mistake."""

from __future__ import annotations

import asyncio
import logging
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.config import ConfigError, config_from_mapping, load_config
from bot.events import Connected
from bot.service import build_adapters
from bot.simulator.onebot_peer import SimulatedOneBot
from tests.conftest import REPO
from tests.recording import Recorder

EXAMPLE = REPO / "config.example.toml"


def test_the_example_config_loads_and_enables_nothing() -> None:
    """config.example.toml, as shipped, is a valid config with the documented defaults."""
    config = load_config(EXAMPLE)
    assert (False, False) == (config.wechat.enabled, config.qq.enabled)
    assert "127.0.0.1" == config.qq.host
    assert False is config.qq.allow_remote
    assert 0.8 == config.digest.settings.hygiene.overlap


def test_every_known_key_is_documented_in_the_example() -> None:
    """Each key the loader accepts appears in config.example.toml (set or commented out)."""
    from bot.config_schema import SECTIONS, TOP_LEVEL, UNIT_KEYS

    text = EXAMPLE.read_text(encoding="utf-8")
    for section, keys in SECTIONS.items():
        assert f"[{section}]" in text or f"[[{section}]]" in text, section
        for key in keys:
            assert re.search(rf"^#? ?{key} = ", text, re.M), f"[{section}] {key} undocumented"
    for key in [*TOP_LEVEL, *UNIT_KEYS]:
        assert re.search(rf"^#? ?(\[units\.)?{key}( = |\])", text, re.M), key


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        # Unknown sections and keys, with the closest known name.
        ("[digests]\ntop_n = 3", "未知配置项 [digests]，是否想写 [digest]？"),
        ("[wechatt]\nenabled = true", "未知配置项 [wechatt]，是否想写 [wechat]？"),
        ("[digest]\ntopn = 3", "未知配置项 [digest] topn，是否想写 top_n？"),
        ("topn = 3", "未知配置项 topn，是否想在 [digest] 下写 top_n？"),
        ("rooster = 'r.csv'", "未知配置项 rooster，是否想写 roster？"),
        ("[qq]\nallow_remotee = true", "未知配置项 [qq] allow_remotee，是否想写 allow_remote？"),
        ("[schedule]\nmoring = '08:30-12:00'", "未知配置项 [schedule] moring，是否想写 morning？"),
        (
            "[[units]]\nname = '镇党政办'\nhaeds = []",
            "未知配置项 [[units]] 第 1 项 haeds，是否想写 heads？",
        ),
        (
            "[[units]]\nname = 'x'\n[units.schedule]\nnigth = '22:00-07:00'",
            "未知配置项 [units.schedule] nigth，是否想写 night？",
        ),
        # Types.
        ("[qq]\nforward_url = 5", "配置项 [qq] forward_url 应为字符串（加引号），实际是 5"),
        ("[qq]\nport = '8780'", '配置项 [qq] port 应为整数，实际是 "8780"'),
        ("[qq]\nenabled = 'yes'", '配置项 [qq] enabled 应为布尔值 true 或 false，实际是 "yes"'),
        ("[privacy]\nretention_days = 1.5", "配置项 [privacy] retention_days 应为整数，实际是 1.5"),
        ("[digest]\ntop_n = true", "配置项 [digest] top_n 应为整数，实际是 true"),
        ("qq = 5", "配置项 [qq] 应为一个表（写成 [qq] 一行，下面逐行写 键 = 值），实际是 5"),
        ("[consent]\nadmins = 'qq:1'", '配置项 [consent] admins 应为列表（[...]），实际是 "qq:1"'),
        # Ranges, checked at load rather than on Monday morning.
        (
            "[digest]\noverlap_threshold = 5.0",
            "配置项 [digest] overlap_threshold 应大于 0 且不大于 1，实际是 5.0",
        ),
        ("[digest]\ndormant_days = 0", "配置项 [digest] dormant_days 应大于 0，实际是 0"),
        ("[privacy]\nretention_days = -1", "配置项 [privacy] retention_days 应不小于 0，实际是 -1"),
        (
            "[qq]\nsend_rate_per_second = 0",
            "配置项 [qq] send_rate_per_second 应大于 0，实际是 0",
        ),
        ("[qq]\nport = 70000", "配置项 [qq] port 应在 0 到 65535 之间，实际是 70000"),
        ("[digest]\ntop_n = 0", "配置项 [digest] top_n 应在 1 到 50 之间，实际是 0"),
        ("[ingest]\nbatch_size = 0", "配置项 [ingest] batch_size 应在 1 到 10000 之间，实际是 0"),
        ("[ingest]\nflush_seconds = -2", "配置项 [ingest] flush_seconds 应大于 0，实际是 -2"),
        (
            "[digest]\ngroups_per_unit_cap = -1",
            "配置项 [digest] groups_per_unit_cap 应不小于 0，实际是 -1",
        ),
        # Formats.
        ("[qq]\nmode = 'both'", '配置项 [qq] mode 应为 "reverse" 或 "forward"，实际是 "both"'),
        (
            "[qq]\nforward_url = 'http://x'",
            '配置项 [qq] forward_url 应为 WebSocket 地址，例如 "ws://127.0.0.1:3001"，实际是 "http://x"',
        ),
        (
            "[qq]\nmode = 'forward'",
            '配置项 [qq] mode = "forward" 需要 forward_url，例如 "ws://127.0.0.1:3001"',
        ),
        (
            "[qq]\npath = 'onebot'",
            '配置项 [qq] path 应以 / 开头，例如 "/onebot/v11/ws"，实际是 "onebot"',
        ),
        (
            "[wechat]\nendpoint = 'localhost'",
            '配置项 [wechat] endpoint 应为 "主机:端口"，例如 "127.0.0.1:8788"，实际是 "localhost"',
        ),
        (
            "[wechat]\ntoken_env = 'MY TOKEN'",
            '配置项 [wechat] token_env 应为环境变量名（字母、数字、下划线），实际是 "MY TOKEN"',
        ),
        (
            "[digest]\ncron = 'every monday'",
            '配置项 [digest] cron 不是 crontab 表达式（分 时 日 月 星期，例如 "30 8 * * mon"），'
            '实际是 "every monday"',
        ),
        ("[consent]\ncontact = ' '", '配置项 [consent] contact 不能为空，实际是 " "'),
        (
            "[consent]\nadmins = ['10001']",
            '配置项 [consent] admins 里的 "10001" 不是 平台:账号（例如 "wechat:wxid_abc"、"qq:123"）',
        ),
        (
            "[group_units]\n'qq:1' = 5",
            '配置项 [group_units] "qq:1" 应为单位名称（字符串），实际是 5',
        ),
        ("[[units]]\nheads = []", "[[units]] 第 1 项 缺少 name（单位名称）"),
        (
            "[database]\nurl = 'mysq://db/jianfu'",
            "配置项 [database] url：数据库地址 mysq://db/jianfu 不支持数据库类型 mysq：只支持 SQLite"
            ' 和 PostgreSQL，例如 "sqlite:///data/jianfu.sqlite3" 或 "postgresql://用户@主机:5432/库名"',
        ),
        (
            "[database]\nurl = 'data/jianfu.sqlite3'",
            '配置项 [database] url：数据库地址 "data/jianfu.sqlite3" 无法识别：应写成'
            ' "sqlite:///data/jianfu.sqlite3" 或 "postgresql://用户@主机:5432/库名"'
            '；SQLite 文件请写成 "sqlite:///data/jianfu.sqlite3"',
        ),
        # A bind other machines can reach must be asked for.
        (
            "[qq]\nhost = '0.0.0.0'",
            '配置项 [qq] host = "0.0.0.0" 不是本机回环地址，其他机器也能连上；'
            "确需如此请同时写 allow_remote = true",
        ),
        ("[qq]\nhost = '192.168.1.5'", '配置项 [qq] host = "192.168.1.5" 不是本机回环地址'),
    ],
)
def test_bad_config_is_refused_with_one_line(toml: str, message: str) -> None:
    """Each mistake is a ConfigError whose one line starts with the exact expected text."""
    with pytest.raises(ConfigError) as caught:
        config_from_mapping(tomllib.loads(toml))
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith(message), str(caught.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_binds_need_no_permission(host: str) -> None:
    """Loopback addresses are accepted as they are."""
    assert host == config_from_mapping({"qq": {"host": host}}).qq.host


def test_remote_bind_with_allow_remote_is_accepted() -> None:
    """allow_remote = true accepts a bind on every interface."""
    qq = config_from_mapping({"qq": {"host": "0.0.0.0", "allow_remote": True}}).qq
    assert ("0.0.0.0", True) == (qq.host, qq.allow_remote)


def test_load_config_names_the_file(tmp_path: Path) -> None:
    """A mistake in a file is reported with the file's name in front."""
    path = tmp_path / "jianfu.toml"
    path.write_text("[digests]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"{path}：未知配置项 [digests]，是否想写 [digest]？" == str(caught.value)


def _qq_config(**qq: Any) -> Any:
    return config_from_mapping({"qq": {"enabled": True, "port": 0, **qq}})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "已启用QQ（[qq] enabled = true），但环境变量 JIANFU_ONEBOT_TOKEN 没有设置"),
        ("", "已启用QQ（[qq] enabled = true），但环境变量 JIANFU_ONEBOT_TOKEN 是空的（只有空白）"),
        (
            " \t\n",
            "已启用QQ（[qq] enabled = true），但环境变量 JIANFU_ONEBOT_TOKEN 是空的（只有空白）",
        ),
        ("abc def", "环境变量 JIANFU_ONEBOT_TOKEN 里的令牌中间有空白或控制字符"),
    ],
)
def test_unusable_tokens_are_refused_where_adapters_are_built(
    value: str | None, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing, blank or broken token is one ConfigError line, not a traceback."""
    if value is None:
        monkeypatch.delenv("JIANFU_ONEBOT_TOKEN", raising=False)
    else:
        monkeypatch.setenv("JIANFU_ONEBOT_TOKEN", value)
    with pytest.raises(ConfigError) as caught:
        build_adapters(_qq_config(), tmp_path)
    assert str(caught.value).startswith(message), str(caught.value)


def test_wechat_token_is_checked_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The WeChat puppet token goes through the same check."""
    monkeypatch.setenv("JIANFU_PUPPET_TOKEN", "   ")
    with pytest.raises(ConfigError, match="环境变量 JIANFU_PUPPET_TOKEN 是空的"):
        build_adapters(config_from_mapping({"wechat": {"enabled": True}}), tmp_path)


async def test_token_with_trailing_newline_still_accepts_the_peer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token pasted with a trailing newline is stripped: the peer with the clean token connects."""
    monkeypatch.setenv("JIANFU_ONEBOT_TOKEN", "tok-123  \n")
    adapter = build_adapters(_qq_config(), tmp_path)["qq"]
    recorder = Recorder()
    task = asyncio.create_task(adapter.run(recorder))
    peer = SimulatedOneBot(4242, "减负助手")
    try:
        await adapter.wait_ready()  # type: ignore[attr-defined]
        port = adapter.bound_port  # type: ignore[attr-defined]
        await peer.connect(f"ws://127.0.0.1:{port}/onebot/v11/ws", "tok-123")
        assert Connected("qq", "4242", "减负助手") == await recorder.wait_for(
            lambda e: isinstance(e, Connected)
        )
    finally:
        await peer.disconnect()
        await adapter.stop()
        await asyncio.wait_for(task, 5)


def test_remote_bind_logs_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Using allow_remote = true is logged as a WARNING naming the address."""
    monkeypatch.setenv("JIANFU_ONEBOT_TOKEN", "tok-123")
    with caplog.at_level(logging.WARNING, logger="bot.service"):
        build_adapters(_qq_config(host="0.0.0.0", allow_remote=True), tmp_path)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert 1 == len(warnings)
    assert "allow_remote" in warnings[0].getMessage()
    assert "0.0.0.0:0" in warnings[0].getMessage()
