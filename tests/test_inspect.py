"""`jianfu inspect`: Datasette over a jianfu file, read-only, in Chinese, optionally behind a login."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote
from urllib.request import urlopen

import pytest
from click.testing import CliRunner

from bot.cli_inspect import PASSWORD_ENV
from metrics.db import make_engine, migrate, sqlite_path
from metrics.inspect import (
    CANNED_QUERIES,
    TABLES,
    InspectError,
    build_datasette,
    build_metadata,
    check_database,
    hash_password,
)
from metrics.views import VIEWS
from tests.conftest import REPO, in_ci
from tests.inspector_sample import OPTED_OUT_NAME, WEEK, populate

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def db_file(db_url: str) -> Path:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        populate(conn)
    engine.dispose()
    path = sqlite_path(db_url)
    assert path is not None
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        ("missing", "不存在"),
        ("text", "不是 SQLite 数据库文件"),
        ("other", "不是减负（jianfu）数据库"),
        ("old", "jianfu migrate"),
    ],
)
def test_check_database_names_the_problem(tmp_path: Path, make: str, message: str) -> None:
    """A missing file, a non-SQLite file, a foreign database and an old schema each get a clear error."""
    path = tmp_path / "x.sqlite3"
    if make == "text":
        path.write_text("名字,单位\n", encoding="utf-8")
    elif make == "other":
        sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    elif make == "old":
        migrate(f"sqlite:///{path}", "0001")
    with pytest.raises(InspectError, match=re.escape(message)):
        check_database(path)


def test_metadata_describes_every_view_table_and_column() -> None:
    """The Datasette metadata has a Chinese description for every view, table and column."""
    meta = build_metadata("jianfu")
    tables = meta["databases"]["jianfu"]["tables"]
    assert set(VIEWS) | set(TABLES) == set(tables)
    for name, view in VIEWS.items():
        assert view.description == tables[name]["description"]
        assert view.columns == tables[name]["columns"]
    assert "减负" in meta["title"]
    assert "allow" not in meta
    queries = meta["databases"]["jianfu"]["queries"]
    assert {"本周负担最重", "非工作时间发送要求最多的人", "重复要求", "沉寂群", "重叠群"} == {
        q["title"] for q in queries.values()
    }


@pytest.mark.parametrize("key", list(CANNED_QUERIES))
async def test_canned_queries_answer_in_chinese(db_file: Path, key: str) -> None:
    """Each canned query runs on a database with data and never names the opted-out cadre."""
    ds = build_datasette(db_file)
    response = await ds.client.get(f"/{db_file.stem}/{key}.json?week={WEEK}&_shape=array")
    assert 200 == response.status_code, response.text
    rows: list[dict[str, Any]] = response.json()
    assert rows
    assert all(re.search(r"[\u4e00-\u9fff]", col) for col in rows[0])  # Chinese headers
    assert OPTED_OUT_NAME not in response.text


async def test_heaviest_load_defaults_to_latest_week(db_file: Path) -> None:
    """Without a week the heaviest-load query shows the latest week with messages."""
    ds = build_datasette(db_file)
    response = await ds.client.get(f"/{db_file.stem}/heaviest_load.json?_shape=array")
    assert {WEEK} == {row["周"] for row in response.json()}


async def test_password_protects_everything(db_file: Path) -> None:
    """With a password, anonymous visitors get 403 and the inspector's login opens the data."""
    ds = build_datasette(db_file, password_hash=hash_password("督查口令2026"))
    assert 403 == (await ds.client.get(f"/{db_file.stem}/v_person_week")).status_code
    login = await ds.client.get("/-/login")
    token = re.search(r'name="csrftoken" value="([^"]+)"', login.text)
    assert token is not None
    cookies = {"ds_csrftoken": login.cookies["ds_csrftoken"]}
    bad = await ds.client.post(
        "/-/login",
        data={"username": "inspector", "password": "错", "csrftoken": token[1]},
        cookies=cookies,
    )
    assert "ds_actor" not in bad.cookies
    good = await ds.client.post(
        "/-/login",
        data={"username": "inspector", "password": "督查口令2026", "csrftoken": token[1]},
        cookies=cookies,
    )
    actor = {"ds_actor": good.cookies["ds_actor"]}
    page = await ds.client.get(f"/{db_file.stem}/v_person_week", cookies=actor)
    assert 200 == page.status_code
    assert "王建国" in page.text


def _cli(*args: str) -> tuple[int, str]:
    from bot.cli import main

    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_cli_missing_file_and_busy_port(db_file: Path, tmp_path: Path) -> None:
    """The command refuses a missing file and a taken port with Chinese messages."""
    code, output = _cli("inspect", str(tmp_path / "无.sqlite3"), "--port", str(_free_port()))
    assert 3 == code
    assert "不存在" in output
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        code, output = _cli("inspect", str(db_file), "--port", str(busy.getsockname()[1]))
    assert 1 == code
    assert "已被占用" in output


def _inspect_command() -> list[str]:
    """`jianfu inspect` once bot/cli.py registers it; the same command via its module before."""
    from bot.cli import main

    script = Path(sys.executable).parent / "jianfu"
    if "inspect" in main.commands and script.exists():
        return [str(script), "inspect"]
    return [sys.executable, "-m", "bot.cli_inspect", "inspect"]


@pytest.fixture
def served(db_file: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`jianfu inspect DB --port P` as a real process; yields its base URL and the file."""
    port = _free_port()
    env = {**os.environ, PASSWORD_ENV: ""}
    log = (tmp_path / "inspect.log").open("w")
    proc = subprocess.Popen(
        [*_inspect_command(), str(db_file), "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urlopen(f"{base}/-/versions.json", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.close()
                    raise AssertionError((tmp_path / "inspect.log").read_text()) from None
                time.sleep(0.2)
        yield base, db_file
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_served_file_is_opened_read_only(served: tuple[str, Path]) -> None:
    """Browsing every view and canned query leaves the database file byte for byte unchanged."""
    base, db = served
    before = _digest(db)
    for name in [*VIEWS, *CANNED_QUERIES]:
        with urlopen(f"{base}/{db.stem}/{name}.json?week={WEEK}", timeout=20) as r:
            assert 200 == r.status
    with urlopen(f"{base}/-/databases.json", timeout=20) as r:
        assert b'"is_mutable": true' in r.read()  # mutable = opened with ?mode=ro, see live data
    assert before == _digest(db)


@pytest.mark.browser
def test_canned_query_in_headless_chromium(served: tuple[str, Path], tmp_path: Path) -> None:
    """A real headless Chromium loads 本周负担最重 and the page shows the Chinese data."""
    if not CHROMIUM.exists():
        if in_ci():
            pytest.fail("CI must install Debian's chromium package (apt-get install chromium)")
        pytest.skip("needs /usr/bin/chromium (apt-get install chromium)")
    base, db = served
    url = f"{base}/{db.stem}/heaviest_load?week={quote(WEEK)}"
    profile = tmp_path / "chromium-profile"
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", "--dump-dom", url,
    ]  # fmt: skip
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    dom = result.stdout
    assert 0 == result.returncode, result.stderr[-2000:]
    assert "本周负担最重" in dom
    for name in ("王建国", "李秀英", "镇党政办"):
        assert name in dom
    assert OPTED_OUT_NAME not in dom
    shutil.rmtree(profile, ignore_errors=True)
