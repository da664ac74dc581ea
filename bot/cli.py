"""The ``jianfu`` command: a thin shell over the bot and metrics libraries."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from bot.cli_base import EXIT_CODES_HELP, EXIT_RUNTIME, CommandError, JianfuGroup, load

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML config file (see config.example.toml). Default: built-in defaults.",
)
DB_OPTION = click.option(
    "--db",
    "db_url",
    default=None,
    help="Database URL or SQLite file path; overrides the config. Example: data/jianfu.sqlite3",
)


@click.group(
    cls=JianfuGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=EXIT_CODES_HELP,
)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="More log output: -v debug for jianfu, -vv debug for everything (secrets always hidden).",
)
def main(verbose: int) -> None:
    """减负 jianfu: measure the load that work groups put on grassroots cadres.

    \b
    Examples:
      jianfu demo                         # simulated township, one week, prints the digest
      jianfu run --config jianfu.toml     # the production bot
      jianfu digest --week 2026-W47 --unit 镇党政办 --db data/jianfu.sqlite3
      jianfu classify --jsonl messages.jsonl
    """
    from bot.logging_setup import configure_logging

    # The demo narrates what happens itself; INFO lines would only interleave with it.
    configure_logging(verbose, narrated=click.get_current_context().invoked_subcommand == "demo")


@main.command()
@click.option("--seed", default=7, show_default=True, help="Seed of the simulated township.")
@click.option("--week", default=None, help="ISO week to replay, e.g. 2026-W47. Default: last week.")
@click.option(
    "--weeks",
    default=2,
    show_default=True,
    type=click.IntRange(1, 8),
    help="How many weeks to replay, ending with --week (two show a week-over-week trend).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data") / "demo",
    show_default=True,
    help="Folder for the demo database and digests. Only the demo's own files in it are"
    " replaced; a non-empty folder the demo did not create is refused.",
)
def demo(seed: int, week: str | None, weeks: int, out: Path) -> None:
    """Run the real bot against the built-in simulator and print the digest.

    \b
    Starts a loopback WeChat puppet service (spoken to by the real
    python-wechaty client) and a simulated QQ OneBot implementation, replays one
    week of a simulated township's work groups, lets the scheduler deliver the
    weekly digest to the unit head, and prints it. No network, no account.

    \b
    Example:
      jianfu demo --seed 3 --week 2026-W46
    """
    from bot.simulator.demo import run_demo

    asyncio.run(run_demo(seed=seed, week=week, out=out, echo=click.echo, weeks=weeks))


@main.command()
@CONFIG_OPTION
def run(config_path: Path | None) -> None:
    """Run the bot in production with the platforms enabled in the config.

    \b
    Example:
      JIANFU_PUPPET_TOKEN=... jianfu run --config jianfu.toml
    """
    from bot.service import run_service

    if config_path is None:
        raise CommandError("请用 --config 指定配置文件（可复制 config.example.toml 开始）")
    config = load(config_path)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_service(config))


@main.command()
@CONFIG_OPTION
@DB_OPTION
def migrate(config_path: Path | None, db_url: str | None) -> None:
    """Create or upgrade the database schema (Alembic).

    \b
    Example:
      jianfu migrate --db data/jianfu.sqlite3
    """
    from metrics.db import migrate as do_migrate
    from metrics.db import safe_url

    config = load(config_path, db_url)
    do_migrate(config.database_url)
    click.echo(f"数据库已是最新结构：{safe_url(config.database_url)}")


@main.command()
@click.option(
    "--week", default=None, help="ISO week, e.g. 2026-W47. Default: the latest week with data."
)
@click.option(
    "--unit", default=None, help="Unit name as in the roster. Default: all units together."
)
@click.option(
    "--full", is_flag=True, help="Every finding with its detail tables, not the phone-sized text."
)
@CONFIG_OPTION
@DB_OPTION
def digest(
    week: str | None, unit: str | None, full: bool, config_path: Path | None, db_url: str | None
) -> None:
    """Print a unit's weekly digest from the database.

    \b
    Examples:
      jianfu digest --week 2026-W47 --unit 镇党政办 --db data/demo/jianfu-demo.sqlite3
      jianfu digest --config jianfu.toml            # latest week, all units
      jianfu digest --week 2026-W47 --unit 新河村 --full --db data/jianfu.sqlite3
    """
    from metrics.db import open_readonly
    from metrics.digest import build_digest, render_digest, render_digest_full
    from metrics.queries import latest_week_with_data, units

    config = load(config_path, db_url)
    engine = open_readonly(config.database_url)
    try:
        with engine.connect() as conn:
            week = week or latest_week_with_data(conn)
            if week is None:
                raise CommandError(
                    "数据库里还没有记录任何消息：群主同意记录后，jianfu run 才开始记录",
                    EXIT_RUNTIME,
                )
            known = units(conn)
            if unit is not None and unit not in known:
                listed = "、".join(known) or "（还没有：请先在配置里写 roster 花名册）"
                raise CommandError(f"没有单位“{unit}”；已知单位：{listed}")
            data = build_digest(
                conn, week, config.schedule_for(unit), unit, settings=config.digest.settings
            )
        click.echo(
            render_digest_full(data) if full else render_digest(data, top_n=config.digest.top_n)
        )
    finally:
        engine.dispose()


@main.group()
def roster() -> None:
    """Check the roster and find members it does not map yet.

    \b
    Examples:
      jianfu roster check roster.csv
      jianfu roster unmapped --config jianfu.toml
    """


@roster.command("check")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def roster_check(path: Path) -> None:
    """Validate a roster file (CSV or TOML) without touching the database.

    Lists every problem with its line number. Chinese headers (姓名,单位,科室,职务,
    微信号,QQ号,负责人) and files saved by Chinese Excel (GBK, UTF-8, Unicode text)
    are accepted.

    \b
    Example:
      jianfu roster check roster.csv
    """
    from bot.roster import read_roster

    roster = read_roster(path)
    entries = roster.entries
    units = sorted({e.unit for e in entries})
    heads = sum(e.is_head for e in entries)
    both = sum(bool(e.wechat_id and e.qq_id) for e in entries)
    click.echo(
        f"{path}: {len(entries)} 人，{len(units)} 个单位，{heads} 名负责人，{both} 人同时有微信和QQ"
    )
    if roster.encoding != "utf-8":
        click.echo(f"提示：文件编码是 {roster.encoding.upper()}，已自动识别")
    if roster.ignored_columns:
        click.echo(f"提示：忽略了不认识的列 {'、'.join(roster.ignored_columns)}")
    for unit in units:
        if not any(e.is_head for e in entries if e.unit == unit):
            click.echo(f"提示：单位“{unit}”没有负责人（is_head），不会收到周报")


@roster.command("unmapped")
@click.option("--limit", default=30, show_default=True, help="How many accounts to list.")
@CONFIG_OPTION
@DB_OPTION
def roster_unmapped(limit: int, config_path: Path | None, db_url: str | None) -> None:
    """List the most active group members the roster does not map yet.

    Add them to the roster (with their unit) so their load is counted under the
    right person and unit, and across WeChat and QQ.

    \b
    Example:
      jianfu roster unmapped --db data/demo/jianfu-demo.sqlite3
    """
    from metrics.db import open_readonly
    from metrics.queries import unmapped_members

    config = load(config_path, db_url)
    engine = open_readonly(config.database_url)
    try:
        with engine.connect() as conn:
            rows = unmapped_members(conn, limit)
    finally:
        engine.dispose()
    if not rows:
        click.echo("花名册已覆盖所有出现过的成员。")
        return
    click.echo("platform,id,显示名,消息数,所在群数")
    for platform, ext, name, n_msgs, n_groups in rows:
        click.echo(f"{platform},{ext},{name},{n_msgs},{n_groups}")


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    stream = sys.stdin if str(path) == "-" else path.open(encoding="utf-8")
    with stream:
        for n, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise CommandError(f"{path} 第 {n} 行不是 JSON（{e.msg}）") from None
            if not isinstance(obj, dict):
                raise CommandError(f"{path} 第 {n} 行应为一个 JSON 对象 {{...}}")
            yield n, obj


@main.command()
@click.option(
    "--jsonl",
    "jsonl_path",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Input: one JSON object per line with id, ts (ISO 8601 with offset), text, optional mention_all. '-' reads stdin.",
)
@CONFIG_OPTION
def classify(jsonl_path: Path, config_path: Path | None) -> None:
    """Label messages with the demands they make, their deadline and time band.

    Writes one JSON object per line: id, labels (sorted), deadline (ISO 8601
    +08:00 or null) and band (work/lunch/evening/night/weekend/holiday).

    \b
    Example:
      echo '{"id":"1","ts":"2026-11-20T21:05:00+08:00","text":"@所有人 请今晚10点前报送台账，收到请回复"}' \\
        | jianfu classify --jsonl -
    """
    from datetime import datetime

    from metrics.annotate import Annotator

    config = load(config_path)
    annotator = Annotator(config.schedule)
    for n, obj in _jsonl(jsonl_path):
        try:
            ts = datetime.fromisoformat(str(obj["ts"]))
            text = str(obj["text"])
        except (KeyError, ValueError) as e:
            raise CommandError(
                f"{jsonl_path} 第 {n} 行需要 ts（ISO 8601 时间）和 text 两个字段（{e}）"
            ) from None
        if ts.tzinfo is None:
            raise CommandError(f"{jsonl_path} 第 {n} 行的 ts {obj['ts']} 没有时区（例如 +08:00）")
        ann = annotator.annotate(text, ts, bool(obj.get("mention_all", False)))
        deadline = ann.deadline.astimezone(ts.tzinfo).isoformat() if ann.deadline else None
        record = {
            "id": obj.get("id"),
            "labels": list(ann.labels),
            "deadline": deadline,
            "band": ann.band,
        }
        click.echo(json.dumps(record, ensure_ascii=False))


def _register_inspector_commands() -> None:
    # inspect (Datasette) and export live in their own module to keep this one small.
    from bot import cli_delivery, cli_inspect

    cli_inspect.register(main)
    cli_delivery.register(main)


_register_inspector_commands()

if __name__ == "__main__":
    main()
