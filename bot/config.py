"""Loads and validates the operator's TOML configuration (see config.example.toml)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from bot.config_schema import (
    SECTIONS,
    TOP_LEVEL,
    UNIT_KEYS,
    ConfigError,
    Table,
    check_top_level,
    cron_trigger,
    is_loopback,
    shown,
)
from metrics.calendar import DEFAULT_SCHEDULE, WorkSchedule, schedule_from_mapping
from metrics.db import check_url, default_url, os_reason
from metrics.digest import DigestSettings
from metrics.errors import MetricsError
from metrics.hygiene_queries import HygieneSettings

__all__ = [
    "Config",
    "ConfigError",
    "ConsentConfig",
    "DigestConfig",
    "PrivacyConfig",
    "QQConfig",
    "Ref",
    "UnitConfig",
    "WeChatConfig",
    "config_from_mapping",
    "cron_trigger",
    "load_config",
    "read_token",
]


@dataclass(frozen=True, slots=True)
class Ref:
    """A person's account written as ``platform:id`` in the config."""

    platform: Literal["wechat", "qq"]
    user_id: str

    @classmethod
    def parse(cls, text: object, where: str) -> Ref:
        platform, sep, user_id = str(text).partition(":")
        if not isinstance(text, str) or not sep or platform not in ("wechat", "qq") or not user_id:
            raise ConfigError(
                f'{where} 里的 {shown(text)} 不是 平台:账号（例如 "wechat:wxid_abc"、"qq:123"）'
            )
        return cls(platform, user_id)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True, slots=True)
class UnitConfig:
    name: str
    heads: tuple[Ref, ...] = ()
    members: tuple[Ref, ...] = ()
    schedule: WorkSchedule = DEFAULT_SCHEDULE


@dataclass(frozen=True, slots=True)
class WeChatConfig:
    enabled: bool = False
    endpoint: str = "127.0.0.1:8788"
    token_env: str = "JIANFU_PUPPET_TOKEN"  # the token itself: read_token(token_env)


@dataclass(frozen=True, slots=True)
class QQConfig:
    enabled: bool = False
    mode: Literal["reverse", "forward"] = "reverse"
    host: str = "127.0.0.1"
    port: int = 8780
    path: str = "/onebot/v11/ws"
    forward_url: str | None = None
    access_token_env: str = "JIANFU_ONEBOT_TOKEN"
    send_rate_per_second: float = 1.0
    allow_remote: bool = False  # a non-loopback bind must be asked for explicitly


@dataclass(frozen=True, slots=True)
class DigestConfig:
    cron: str = "30 8 * * mon"
    out_dir: Path = Path("data") / "digests"
    top_n: int = 5
    settings: DigestSettings = field(default_factory=DigestSettings)


@dataclass(frozen=True, slots=True)
class ConsentConfig:
    admins: tuple[Ref, ...] = ()
    contact: str = "单位办公室"


@dataclass(frozen=True, slots=True)
class PrivacyConfig:
    store_text: bool = False
    retention_days: int = 400


@dataclass(frozen=True, slots=True)
class Config:
    database_url: str = field(default_factory=default_url)
    schedule: WorkSchedule = DEFAULT_SCHEDULE
    units: tuple[UnitConfig, ...] = ()
    roster: Path | None = None
    group_units: dict[str, str] = field(default_factory=dict)
    wechat: WeChatConfig = WeChatConfig()
    qq: QQConfig = QQConfig()
    digest: DigestConfig = DigestConfig()
    consent: ConsentConfig = ConsentConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    batch_size: int = 200
    flush_seconds: float = 2.0

    @property
    def timezone(self) -> str:
        return self.schedule.timezone

    def unit(self, name: str) -> UnitConfig | None:
        return next((u for u in self.units if u.name == name), None)

    def schedule_for(self, unit: str | None) -> WorkSchedule:
        found = self.unit(unit) if unit else None
        return found.schedule if found else self.schedule


def _refs(values: list[Any], where: str) -> tuple[Ref, ...]:
    return tuple(Ref.parse(v, f"配置项 {where}") for v in values)


def _digest_settings(dg: Table) -> DigestSettings:
    """The checks' thresholds from [digest]; each key falls back to the documented default."""
    base, hyg = DigestSettings(), HygieneSettings()
    return DigestSettings(
        ack_window=timedelta(hours=dg.get("ack_window_hours", 24.0)),
        repeat_window_days=dg.get("repeat_window_days", float(base.repeat_window_days)),
        short_deadline_hours=dg.get("short_deadline_hours"),
        hygiene=HygieneSettings(
            idle_days=dg.get("dormant_days", float(hyg.idle_days)),
            overlap=dg.get("overlap_threshold", float(hyg.overlap)),
            person_cap=dg.get("groups_per_person_cap", hyg.person_cap),
            unit_cap=dg.get("groups_per_unit_cap", hyg.unit_cap),
        ),
    )


def _schedule(data: Any, base: WorkSchedule, where: str) -> WorkSchedule:
    if not isinstance(data, dict):
        raise ConfigError(f"配置项 {where} 应为一个表，实际是 {shown(data)}")
    try:
        return schedule_from_mapping(data, base=base, section=where)
    except MetricsError as e:
        raise ConfigError(str(e)) from e


def _units(raw_units: Any, schedule: WorkSchedule) -> tuple[UnitConfig, ...]:
    if not isinstance(raw_units, list):
        raise ConfigError(f"配置项 units 应写成 [[units]] 表的数组，实际是 {shown(raw_units)}")
    units = []
    for i, raw in enumerate(raw_units, 1):
        where = f"[[units]] 第 {i} 项"
        table = Table(raw, where, UNIT_KEYS)
        name = table.get("name")
        if name is None:
            raise ConfigError(f"{where} 缺少 name（单位名称）")
        units.append(
            UnitConfig(
                name=name,
                heads=_refs(table.get("heads", []), f"{where} heads"),
                members=_refs(table.get("members", []), f"{where} members"),
                schedule=_schedule(table.get("schedule", {}), schedule, "[units.schedule]"),
            )
        )
    return tuple(units)


def _group_units(raw: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, unit in raw.items():
        ref = Ref.parse(key, "配置项 [group_units]")
        if not isinstance(unit, str) or not unit.strip():
            raise ConfigError(
                f'配置项 [group_units] "{key}" 应为单位名称（字符串），实际是 {shown(unit)}'
            )
        out[str(ref)] = unit
    return out


def _qq(qq: Table) -> QQConfig:
    mode = qq.get("mode", "reverse")
    forward_url = qq.get("forward_url")
    if mode == "forward" and forward_url is None:
        raise ConfigError(
            '配置项 [qq] mode = "forward" 需要 forward_url，例如 "ws://127.0.0.1:3001"'
        )
    host = qq.get("host", "127.0.0.1")
    allow_remote = qq.get("allow_remote", False)
    if mode == "reverse" and not allow_remote and not is_loopback(host):
        raise ConfigError(
            f'配置项 [qq] host = "{host}" 不是本机回环地址，其他机器也能连上；'
            "确需如此请同时写 allow_remote = true"
        )
    return QQConfig(
        enabled=qq.get("enabled", False),
        mode=mode,
        host=host,
        port=qq.get("port", 8780),
        path=qq.get("path", "/onebot/v11/ws"),
        forward_url=forward_url,
        access_token_env=qq.get("access_token_env", "JIANFU_ONEBOT_TOKEN"),
        send_rate_per_second=qq.get("send_rate_per_second", 1.0),
        allow_remote=allow_remote,
    )


def config_from_mapping(data: dict[str, Any], base_dir: Path = Path(".")) -> Config:
    """Build a Config from parsed TOML; relative paths are taken from ``base_dir``.

    Every key is checked here, at load: an unknown key or section, a wrong type or a
    value out of range is a ConfigError naming it, never a surprise on Monday.
    """
    check_top_level(data)
    t = {
        name: Table(data.get(name, {}), f"[{name}]", keys)
        for name, keys in SECTIONS.items()
        if keys
    }
    schedule = _schedule(data.get("schedule", {}), DEFAULT_SCHEDULE, "[schedule]")
    group_units = data.get("group_units", {})
    if not isinstance(group_units, dict):
        raise ConfigError(f"配置项 [group_units] 应为一个表，实际是 {shown(group_units)}")
    roster = Table({k: data[k] for k in TOP_LEVEL if k in data}, "", TOP_LEVEL).get("roster")
    wc, dg, cs, pv, ing = t["wechat"], t["digest"], t["consent"], t["privacy"], t["ingest"]
    out_dir = Path(dg.get("out_dir", "data/digests"))
    database_url = t["database"].get("url", default_url())
    try:
        check_url(database_url)
    except MetricsError as e:
        raise ConfigError(f"配置项 [database] url：{e}") from None
    return Config(
        database_url=database_url,
        schedule=schedule,
        units=_units(data.get("units", []), schedule),
        roster=(base_dir / roster) if roster is not None else None,
        group_units=_group_units(group_units),
        wechat=WeChatConfig(
            enabled=wc.get("enabled", False),
            endpoint=wc.get("endpoint", "127.0.0.1:8788"),
            token_env=wc.get("token_env", "JIANFU_PUPPET_TOKEN"),
        ),
        qq=_qq(t["qq"]),
        digest=DigestConfig(
            cron=dg.get("cron", "30 8 * * mon"),
            out_dir=out_dir if out_dir.is_absolute() else base_dir / out_dir,
            top_n=dg.get("top_n", 5),
            settings=_digest_settings(dg),
        ),
        consent=ConsentConfig(
            admins=_refs(cs.get("admins", []), "[consent] admins"),
            contact=cs.get("contact", "单位办公室"),
        ),
        privacy=PrivacyConfig(
            store_text=pv.get("store_text", False),
            retention_days=pv.get("retention_days", 400),
        ),
        batch_size=ing.get("batch_size", 200),
        flush_seconds=ing.get("flush_seconds", 2.0),
    )


def read_token(env_name: str, what: str) -> str:
    """A platform token from the environment, stripped; ConfigError when unusable.

    Copy-pasted tokens often carry a trailing newline or space; the peer never sends
    those, so a token kept with them would refuse every connection.
    """
    raw = os.environ.get(env_name)
    if raw is None or not raw.strip():
        state = "没有设置" if raw is None else "是空的（只有空白）"
        raise ConfigError(f"已启用{what}，但环境变量 {env_name} {state}：请把令牌放进这个环境变量")
    token = raw.strip()
    if any(c.isspace() or not c.isprintable() for c in token):
        raise ConfigError(
            f"环境变量 {env_name} 里的令牌中间有空白或控制字符：令牌只能是一段连续的字符"
        )
    return token


def load_config(path: Path | None) -> Config:
    """Read the config file; ``None`` gives the built-in defaults."""
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"配置文件 {path} 不存在（可复制 config.example.toml 开始）") from None
    except UnicodeDecodeError:
        raise ConfigError(f"配置文件 {path} 不是 UTF-8 编码：请用 UTF-8 保存") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"配置文件 {path} 不是有效的 TOML：{e}") from None
    except OSError as e:
        raise ConfigError(f"无法读取配置文件 {path}：{os_reason(e)}") from None
    try:
        return config_from_mapping(data, base_dir=path.parent)
    except ConfigError as e:
        raise ConfigError(f"{path}：{e}") from None
