"""Reading TOML tables key by key: types, ranges, and unknown keys named with a suggestion.

Every message is one Chinese line naming the key as the operator wrote it
(``[qq] forward_url``), what was expected and what was found.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.events import BotError
from metrics.calendar import DEFAULT_SCHEDULE


class ConfigError(BotError):
    """The configuration file is missing, malformed or inconsistent."""


Check = Callable[[Any], str | None]  # returns what is wrong (Chinese), or None

_KIND_NAMES: dict[type, str] = {
    bool: "布尔值 true 或 false",
    int: "整数",
    float: "数字",
    str: "字符串（加引号）",
    list: "列表（[...]）",
    dict: "表",
}


@dataclass(frozen=True, slots=True)
class Key:
    """One known key: its TOML type and an optional range or format check."""

    kind: type
    check: Check | None = None


def shown(value: Any) -> str:
    """A value as the operator would have written it in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "一个表"
    return repr(value)


def suggest(name: str, known: Iterable[str]) -> str | None:
    """The known name closest to a misspelt one, if any is close enough."""
    found = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_key(where: str, name: str, known: Iterable[str]) -> ConfigError:
    """``未知配置项 [digest] topn，是否想写 top_n？`` (or the list of known keys)."""
    label = f"{where} {name}" if where else name
    close = suggest(name, known)
    if close is not None:
        return ConfigError(f"未知配置项 {label}，是否想写 {close}？")
    listed = "、".join(sorted(known))
    return ConfigError(f"未知配置项 {label}；{where or '这里'}可用的配置项：{listed}")


def kind_check(value: Any, kind: type) -> Any:
    """``value`` converted to ``kind`` (an int is a float too), or None when it has another type."""
    if isinstance(value, bool) != (kind is bool):
        return None
    if kind is float and isinstance(value, int):
        return float(value)
    return value if isinstance(value, kind) else None


class Table:
    """A TOML table read against its known keys; unknown keys are refused on construction."""

    def __init__(self, data: Any, where: str, keys: Mapping[str, Key]) -> None:
        if not isinstance(data, dict):
            raise ConfigError(
                f"配置项 {where} 应为一个表（写成 {where} 一行，下面逐行写 键 = 值），"
                f"实际是 {shown(data)}"
            )
        for name in data:
            if name not in keys:
                raise unknown_key(where, name, keys)
        self.data: dict[str, Any] = data
        self.where = where
        self.keys = keys

    def get(self, name: str, default: Any = None) -> Any:
        """The key's value (or ``default`` when absent), type- and range-checked."""
        if name not in self.data:
            return default
        spec = self.keys[name]
        raw = self.data[name]
        value = kind_check(raw, spec.kind)
        label = f"{self.where} {name}".strip()
        if value is None:
            raise ConfigError(f"配置项 {label} 应为{_KIND_NAMES[spec.kind]}，实际是 {shown(raw)}")
        problem = spec.check(value) if spec.check else None
        if problem is not None:
            raise ConfigError(f"配置项 {label} {problem}，实际是 {shown(raw)}")
        return value


def positive(value: float) -> str | None:
    return None if value > 0 else "应大于 0"


def at_least(low: int) -> Check:
    def check(value: int) -> str | None:
        return None if value >= low else f"应不小于 {low}"

    return check


def between(low: float, high: float) -> Check:
    def check(value: float) -> str | None:
        return None if low <= value <= high else f"应在 {low} 到 {high} 之间"

    return check


def non_empty(value: str) -> str | None:
    return None if value.strip() else "不能为空"


def one_of(*choices: str) -> Check:
    def check(value: str) -> str | None:
        if value in choices:
            return None
        return "应为 " + " 或 ".join(f'"{c}"' for c in choices)

    return check


# The keys jianfu knows, section by section (documented in config.example.toml).
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def _env_name(value: str) -> str | None:
    return None if _ENV_NAME.match(value) else "应为环境变量名（字母、数字、下划线）"


def _endpoint(value: str) -> str | None:
    host, sep, port = value.rpartition(":")
    ok = bool(sep and host and port.isdigit() and int(port) <= 65535)
    return None if ok else '应为 "主机:端口"，例如 "127.0.0.1:8788"'


def _ws_url(value: str) -> str | None:
    ok = value.startswith(("ws://", "wss://")) and len(value.split("://", 1)[1]) > 0
    return None if ok else '应为 WebSocket 地址，例如 "ws://127.0.0.1:3001"'


def _ws_path(value: str) -> str | None:
    return None if value.startswith("/") else '应以 / 开头，例如 "/onebot/v11/ws"'


def _fraction(value: float) -> str | None:
    return None if 0 < value <= 1 else "应大于 0 且不大于 1"


def _cron(value: str) -> str | None:
    try:
        cron_trigger(value, DEFAULT_SCHEDULE.timezone)
    except ConfigError:
        return '不是 crontab 表达式（分 时 日 月 星期，例如 "30 8 * * mon"）'
    return None


def cron_trigger(cron: str, tz: str) -> Any:
    """The APScheduler trigger for a crontab line, or a ConfigError naming [digest] cron."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        return CronTrigger.from_crontab(cron, timezone=tz)
    except ValueError as e:
        raise ConfigError(f'配置项 [digest] cron "{cron}" 不是 crontab 表达式（{e}）') from None


def is_loopback(host: str) -> bool:
    """Whether a bind address only accepts connections from this machine."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


SECTIONS: dict[str, dict[str, Key]] = {
    "database": {"url": Key(str, non_empty)},
    "wechat": {
        "enabled": Key(bool),
        "endpoint": Key(str, _endpoint),
        "token_env": Key(str, _env_name),
    },
    "qq": {
        "enabled": Key(bool),
        "mode": Key(str, one_of("reverse", "forward")),
        "host": Key(str, non_empty),
        "port": Key(int, between(0, 65535)),
        "path": Key(str, _ws_path),
        "forward_url": Key(str, _ws_url),
        "access_token_env": Key(str, _env_name),
        "send_rate_per_second": Key(float, positive),
        "allow_remote": Key(bool),
    },
    "digest": {
        "cron": Key(str, _cron),
        "out_dir": Key(str, non_empty),
        "top_n": Key(int, between(1, 50)),
        "ack_window_hours": Key(float, positive),
        "repeat_window_days": Key(float, positive),
        "short_deadline_hours": Key(float, positive),
        "dormant_days": Key(float, positive),
        "overlap_threshold": Key(float, _fraction),
        "groups_per_person_cap": Key(int, at_least(0)),
        "groups_per_unit_cap": Key(int, at_least(0)),
    },
    "consent": {"admins": Key(list), "contact": Key(str, non_empty)},
    "privacy": {"store_text": Key(bool), "retention_days": Key(int, at_least(0))},
    "ingest": {
        "batch_size": Key(int, between(1, 10000)),
        "flush_seconds": Key(float, positive),
    },
    # Checked by their own readers: schedule_from_mapping, _units, _group_units.
    "schedule": {},
    "units": {},
    "group_units": {},
}
TOP_LEVEL: dict[str, Key] = {"roster": Key(str, non_empty)}
UNIT_KEYS: dict[str, Key] = {
    "name": Key(str, non_empty),
    "heads": Key(list),
    "members": Key(list),
    "schedule": Key(dict),
}


def check_top_level(data: dict[str, Any]) -> None:
    """Refuse unknown sections and top-level keys, suggesting the closest known name."""
    for name, value in data.items():
        if name in SECTIONS or name in TOP_LEVEL:
            continue
        if isinstance(value, dict):
            close = suggest(name, SECTIONS)
            if close is not None:
                raise ConfigError(f"未知配置项 [{name}]，是否想写 [{close}]？")
            listed = "、".join(f"[{s}]" for s in SECTIONS)
            raise ConfigError(f"未知配置项 [{name}]；可用的节：{listed}")
        # A key written above every [section] (or outside its table): it may belong to one.
        owners = {k: s for s, keys in SECTIONS.items() for k in keys}
        close = suggest(name, [*TOP_LEVEL, *owners])
        if close in owners:
            raise ConfigError(f"未知配置项 {name}，是否想在 [{owners[close]}] 下写 {close}？")
        if close is not None:
            raise ConfigError(f"未知配置项 {name}，是否想写 {close}？")
        raise ConfigError(f"未知配置项 {name}；顶层只能写 roster 和各个 [节]")
