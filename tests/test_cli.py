"""The jianfu command as users run it: demo, digest, roster, classify, migrate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import ConfigError
from tests.conftest import REPO

CORPUS = Path(
    os.environ.get("JIANFU_CORPUS", REPO.parent / "shared" / "corpus" / "demand-dev.jsonl")
)


@pytest.fixture(scope="module")
def demo_process(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """One full `jianfu demo` as a user runs it (real wechaty client, OneBot WebSocket,
    scheduler), shared by this module."""
    base = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "CACHE_DIR": str(base / ".wechaty")}
    env.pop("WECHATY_LOG", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "demo",
            "--seed",
            "7",
            "--week",
            "2026-W47",
            "--out",
            str(base / "out"),
        ],
        cwd=base,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_run(demo_process: subprocess.CompletedProcess[str]) -> tuple[Path, str]:
    """The demo's output folder and what it printed."""
    assert 0 == demo_process.returncode, demo_process.stderr
    out = Path(demo_process.args[demo_process.args.index("--out") + 1])
    return out, demo_process.stdout


def test_demo_prints_only_its_own_account(demo_process: subprocess.CompletedProcess[str]) -> None:
    """Nothing but the demo's narration reaches the terminal: no INFO lines and none of
    python-wechaty's known harmless warnings (FileBox mimeType, "set payload more than once")."""
    assert "" == demo_process.stderr
    assert "周报" in demo_process.stdout


def test_demo_prints_the_delivered_digest(demo_run: tuple[Path, str]) -> None:
    """The demo says what it replayed, prints the head's digest and where the database is."""
    out, printed = demo_run
    assert "29 个群的群主已同意记录" in printed
    assert "调度器已把周报私信发给" in printed
    assert "【减负周报】镇党政办 · 2026年第47周（11月16日—11月22日）" in printed
    assert f"数据库：{out / 'jianfu-demo.sqlite3'}" in printed
    assert (out / "digests" / "2026-W47" / "镇党政办.txt").exists()
    assert (out / ".jianfu-demo").is_file()  # marks the folder as the demo's for the next run


def test_digest_command_prints_a_unit(demo_run: tuple[Path, str]) -> None:
    """`jianfu digest --week --unit --db` prints that unit's digest from the file."""
    out, _ = demo_run
    db = str(out / "jianfu-demo.sqlite3")
    result = CliRunner().invoke(
        main, ["digest", "--week", "2026-W47", "--unit", "新河村", "--db", db]
    )
    assert 0 == result.exit_code, result.output
    assert result.output.startswith("【减负周报】新河村 · 2026年第47周")


def test_digest_command_rejects_unknown_unit(demo_run: tuple[Path, str]) -> None:
    """An unknown unit is a clear error listing the known units."""
    out, _ = demo_run
    db = str(out / "jianfu-demo.sqlite3")
    result = CliRunner().invoke(main, ["digest", "--unit", "火星村", "--db", db])
    assert 2 == result.exit_code
    assert "没有单位“火星村”；已知单位：" in result.output
    assert "新河村" in result.output


def test_digest_command_rejects_missing_file(tmp_path: Path) -> None:
    """A database path that does not exist is reported, not created."""
    result = CliRunner().invoke(main, ["digest", "--db", str(tmp_path / "nope.sqlite3")])
    assert 3 == result.exit_code
    assert f"数据库文件 {tmp_path / 'nope.sqlite3'} 不存在" in result.output
    assert not (tmp_path / "nope.sqlite3").exists()


def test_roster_commands(demo_run: tuple[Path, str]) -> None:
    """`roster check` summarises the demo roster; `roster unmapped` finds nobody unmapped."""
    out, _ = demo_run
    runner = CliRunner()
    check = runner.invoke(main, ["roster", "check", str(out / "roster.csv")])
    assert 0 == check.exit_code, check.output
    assert "95 人" in check.output
    unmapped = runner.invoke(main, ["roster", "unmapped", "--db", str(out / "jianfu-demo.sqlite3")])
    assert "花名册已覆盖所有出现过的成员。\n" == unmapped.output


def test_roster_check_reports_bad_rows(tmp_path: Path) -> None:
    """A row without any account is named with its line number."""
    path = tmp_path / "roster.csv"
    path.write_text("name,unit,wechat_id,qq_id,is_head\n张三,镇党政办,,,no\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["roster", "check", str(path)])
    assert 2 == result.exit_code
    assert "第 2 行：张三没有微信号也没有 QQ 号，至少要填一个" in result.output


def test_classify_command_writes_the_specified_fields(tmp_path: Path) -> None:
    """Each input line gives id, sorted labels, a +08:00 deadline or null, and a band."""
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps(
            {
                "id": "a",
                "ts": "2026-11-20T21:05:00+08:00",
                "text": "@所有人 请今晚10点前报送台账，收到请回复",
                "mention_all": True,
            },
            ensure_ascii=False,
        )
        + "\n"
        + json.dumps(
            {"id": "b", "ts": "2026-11-21T10:00:00+08:00", "text": "收到"}, ensure_ascii=False
        )
        + "\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["classify", "--jsonl", str(src)])
    assert 0 == result.exit_code, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert {"id", "labels", "deadline", "band"} == set(rows[0])
    assert "a" == rows[0]["id"]
    assert "2026-11-20T22:00:00+08:00" == rows[0]["deadline"]
    assert {"ack_request", "deadline", "material_request"} <= set(rows[0]["labels"])
    assert rows[0]["labels"] == sorted(rows[0]["labels"])
    assert "evening" == rows[0]["band"]
    assert {"id": "b", "labels": ["ack_reply"], "deadline": None, "band": "weekend"} == rows[1]


def test_classify_command_rejects_bad_lines(tmp_path: Path) -> None:
    """A line that is not JSON, or a time without offset, names the line."""
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "ts": "2026-11-20T21:05:00", "text": "x"}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["classify", "--jsonl", str(src)])
    assert 2 == result.exit_code
    assert "第 1 行的 ts 2026-11-20T21:05:00 没有时区（例如 +08:00）" in result.output


@pytest.mark.skipif(not CORPUS.exists(), reason="shared corpus not present")
def test_classify_command_runs_on_the_dev_corpus() -> None:
    """The whole dev corpus classifies with one output line per input line."""
    result = CliRunner().invoke(main, ["classify", "--jsonl", str(CORPUS)])
    assert 0 == result.exit_code, result.output
    n_in = sum(1 for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip())
    assert n_in == len(result.output.splitlines())


def test_migrate_command_creates_a_private_file(tmp_path: Path) -> None:
    """`jianfu migrate --db FILE` creates the schema in a 0600 file."""
    db = tmp_path / "new.sqlite3"
    result = CliRunner().invoke(main, ["migrate", "--db", str(db)])
    assert 0 == result.exit_code, result.output
    assert 0o600 == db.stat().st_mode & 0o777


def test_run_without_config_explains_itself() -> None:
    """`jianfu run` needs a config and says how to get one."""
    result = CliRunner().invoke(main, ["run"])
    assert 2 == result.exit_code
    assert "config.example.toml" in result.output


def test_every_command_is_in_the_readme() -> None:
    """Each jianfu command is documented in the README, and each has an example in its help."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in main.commands:
        assert f"jianfu {name}" in readme, f"README lacks jianfu {name}"
        help_text = CliRunner().invoke(main, [name, "--help"]).output
        assert "Example" in help_text or "jianfu " in help_text, f"{name} --help has no example"


def test_demo_refuses_a_folder_it_did_not_create(tmp_path: Path) -> None:
    """`jianfu demo --out data` next to a production database deletes nothing and says why."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "jianfu.sqlite3").write_bytes(b"production")
    result = CliRunner().invoke(main, ["demo", "--out", str(data)])
    assert 2 == result.exit_code
    assert f"--out {data} 里已有别的文件，且不是演示建立的目录" in result.output
    assert ["jianfu.sqlite3"] == [p.name for p in data.iterdir()]
    assert b"production" == (data / "jianfu.sqlite3").read_bytes()


def test_demo_rerun_replaces_only_its_own_files(tmp_path: Path) -> None:
    """In a folder the demo made, its files are replaced and anything else stays."""
    from bot.simulator.demo import DEMO_MARKER, prepare_out

    out = tmp_path / "demo"
    prepare_out(out)
    assert (out / DEMO_MARKER).is_file()
    (out / "jianfu-demo.sqlite3").write_bytes(b"old demo")
    (out / "digests" / "2026-W47").mkdir(parents=True)
    (out / "my-notes.txt").write_text("mine", encoding="utf-8")
    prepare_out(out)
    assert {DEMO_MARKER, "my-notes.txt"} == {p.name for p in out.iterdir()}
    assert "mine" == (out / "my-notes.txt").read_text(encoding="utf-8")

    earlier = tmp_path / "from-an-older-demo"
    (earlier / "digests").mkdir(parents=True)
    (earlier / "jianfu-demo.sqlite3").write_bytes(b"old demo")
    prepare_out(earlier)  # only demo files, no marker yet: still the demo's folder
    assert {DEMO_MARKER} == {p.name for p in earlier.iterdir()}
    (earlier / DEMO_MARKER).unlink()
    (earlier / "roster.csv").write_text("name,unit\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        prepare_out(earlier)  # roster.csv alone is no sign of a demo


def test_dev_runs_jianfu_in_the_callers_folder(tmp_path: Path) -> None:
    """`./dev jianfu roster check roster.csv` from another folder checks that folder's file."""
    import subprocess

    (tmp_path / "roster.csv").write_text(
        "姓名,单位,QQ号,负责人\n甲,村一,10001,是\n乙,村二,10002,否\n", encoding="utf-8"
    )
    done = subprocess.run(
        ["sh", str(REPO / "dev"), "jianfu", "roster", "check", "roster.csv"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert 0 == done.returncode, done.stdout + done.stderr
    assert "roster.csv: 2 人，2 个单位，1 名负责人，0 人同时有微信和QQ" in done.stdout
