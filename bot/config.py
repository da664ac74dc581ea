"""Loads and validates the operator's TOML configuration (see config.example.toml)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from bot.events import BotError
from metrics.calendar import DEFAULT_SCHEDULE, WorkSchedule, schedule_from_mapping
from metrics.db import default_url
from metrics.digest import DigestSettings
from metrics.errors import MetricsError
from metrics.hygiene_queries import HygieneSettings


class ConfigError(BotError):
    """The configuration file is missing, malformed or inconsistent."""


@dataclass(frozen=True, slots=True)
class Ref:
    """A person's account written as ``platform:id`` in the config."""

    platform: Literal["wechat", "qq"]
    user_id: str

    @classmethod
    def parse(cls, text: str, where: str) -> Ref:
        platform, sep, user_id = str(text).partition(":")
        if not sep or platform not in ("wechat", "qq") or not user_id:
            raise ConfigError(
                f'{where}: "{text}" is not platform:id (e.g. "wechat:wxid_abc", "qq:123")'
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
    token_env: str = "JIANFU_PUPPET_TOKEN"

    @property
    def token(self) -> str:
        return os.environ.get(self.token_env, "")


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

    @property
    def access_token(self) -> str:
        return os.environ.get(self.access_token_env, "")


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


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{key}] must be a table")
    return value


def _typed(table: dict[str, Any], key: str, kind: type, default: Any, where: str) -> Any:
    value = table.get(key, default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}.{key}: expected {kind.__name__}, got {value!r}")
    return value


def _refs(values: Any, where: str) -> tuple[Ref, ...]:
    if not isinstance(values, list):
        raise ConfigError(f"{where}: expected a list of platform:id strings")
    return tuple(Ref.parse(v, where) for v in values)


def _digest_settings(dg: dict[str, Any]) -> DigestSettings:
    """The checks' thresholds from [digest]; each key falls back to the documented default."""
    base, hyg = DigestSettings(), HygieneSettings()
    short = dg.get("short_deadline_hours")
    if short is not None and (isinstance(short, bool) or not isinstance(short, int | float)):
        raise ConfigError(f"digest.short_deadline_hours: expected a number, got {short!r}")
    return DigestSettings(
        ack_window=timedelta(hours=_typed(dg, "ack_window_hours", float, 24.0, "digest")),
        repeat_window_days=_typed(
            dg, "repeat_window_days", float, float(base.repeat_window_days), "digest"
        ),
        short_deadline_hours=None if short is None else float(short),
        hygiene=HygieneSettings(
            idle_days=_typed(dg, "dormant_days", float, float(hyg.idle_days), "digest"),
            overlap=_typed(dg, "overlap_threshold", float, float(hyg.overlap), "digest"),
            person_cap=_typed(dg, "groups_per_person_cap", int, hyg.person_cap, "digest"),
            unit_cap=_typed(dg, "groups_per_unit_cap", int, hyg.unit_cap, "digest"),
        ),
    )


def config_from_mapping(data: dict[str, Any], base_dir: Path = Path(".")) -> Config:
    """Build a Config from parsed TOML; relative paths are taken from ``base_dir``."""
    try:
        schedule = schedule_from_mapping(_table(data, "schedule"))
        units = []
        for i, raw in enumerate(data.get("units", [])):
            where = f"units[{i}]"
            if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
                raise ConfigError(f"{where}: each [[units]] needs a name")
            units.append(
                UnitConfig(
                    name=raw["name"],
                    heads=_refs(raw.get("heads", []), f"{where}.heads"),
                    members=_refs(raw.get("members", []), f"{where}.members"),
                    schedule=schedule_from_mapping(raw.get("schedule", {}), base=schedule),
                )
            )
    except MetricsError as e:
        raise ConfigError(str(e)) from e
    db = _table(data, "database")
    wc, qq, dg = _table(data, "wechat"), _table(data, "qq"), _table(data, "digest")
    cs, pv, ing = _table(data, "consent"), _table(data, "privacy"), _table(data, "ingest")
    mode = qq.get("mode", "reverse")
    if mode not in ("reverse", "forward"):
        raise ConfigError(f'qq.mode: "{mode}" is not "reverse" or "forward"')
    roster = data.get("roster")
    out_dir = Path(_typed(dg, "out_dir", str, "data/digests", "digest"))
    group_units = _table(data, "group_units")
    return Config(
        database_url=_typed(db, "url", str, default_url(), "database"),
        schedule=schedule,
        units=tuple(units),
        roster=(base_dir / roster) if isinstance(roster, str) else None,
        group_units={str(k): str(v) for k, v in group_units.items()},
        wechat=WeChatConfig(
            enabled=_typed(wc, "enabled", bool, False, "wechat"),
            endpoint=_typed(wc, "endpoint", str, "127.0.0.1:8788", "wechat"),
            token_env=_typed(wc, "token_env", str, "JIANFU_PUPPET_TOKEN", "wechat"),
        ),
        qq=QQConfig(
            enabled=_typed(qq, "enabled", bool, False, "qq"),
            mode=mode,
            host=_typed(qq, "host", str, "127.0.0.1", "qq"),
            port=_typed(qq, "port", int, 8780, "qq"),
            path=_typed(qq, "path", str, "/onebot/v11/ws", "qq"),
            forward_url=qq.get("forward_url"),
            access_token_env=_typed(qq, "access_token_env", str, "JIANFU_ONEBOT_TOKEN", "qq"),
            send_rate_per_second=_typed(qq, "send_rate_per_second", float, 1.0, "qq"),
        ),
        digest=DigestConfig(
            cron=_typed(dg, "cron", str, "30 8 * * mon", "digest"),
            out_dir=out_dir if out_dir.is_absolute() else base_dir / out_dir,
            top_n=_typed(dg, "top_n", int, 5, "digest"),
            settings=_digest_settings(dg),
        ),
        consent=ConsentConfig(
            admins=_refs(cs.get("admins", []), "consent.admins"),
            contact=_typed(cs, "contact", str, "单位办公室", "consent"),
        ),
        privacy=PrivacyConfig(
            store_text=_typed(pv, "store_text", bool, False, "privacy"),
            retention_days=_typed(pv, "retention_days", int, 400, "privacy"),
        ),
        batch_size=_typed(ing, "batch_size", int, 200, "ingest"),
        flush_seconds=_typed(ing, "flush_seconds", float, 2.0, "ingest"),
    )


def load_config(path: Path | None) -> Config:
    """Read the config file; ``None`` gives the built-in defaults."""
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist (copy config.example.toml)") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    return config_from_mapping(data, base_dir=path.parent)
