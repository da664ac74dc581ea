"""Log output as operators see it: levels by verbosity, no secret at any verbosity, no wechaty noise."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus

from bot.adapters.wechat import compat
from bot.logging_setup import OWN_LOGGERS, configure_logging, redact, register_secret
from bot.simulator.demo import wait_until
from bot.simulator.onebot_peer import SimulatedOneBot
from bot.simulator.puppet_service import PuppetService
from tests.conftest import REPO

WX_TOKEN = "wx-puppet-token-5e6f7a8b"
QQ_TOKEN = "qq-onebot-token-0c1d2e3f"
NEAR_MISS = QQ_TOKEN[:-1] + "X"  # what a misconfigured or probing peer offers


@pytest.fixture(autouse=True)
def _restore_levels() -> Iterator[None]:
    # configure_logging sets process-wide levels; other tests expect the defaults.
    names = ["", *OWN_LOGGERS]
    saved = {n: logging.getLogger(n).level for n in names}
    wechaty_log = os.environ.get("WECHATY_LOG")
    yield
    for n, level in saved.items():
        logging.getLogger(n).setLevel(level)
    if wechaty_log is None:
        os.environ.pop("WECHATY_LOG", None)
    else:
        os.environ["WECHATY_LOG"] = wechaty_log


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("< Authorization: Bearer abc.DEF-123", "< Authorization: Bearer ***"),
        ("> authorization: Token abc123", "> authorization: Token ***"),
        (
            "< GET /onebot/v11/ws?access_token=abc123 HTTP/1.1",
            "< GET /onebot/v11/ws?access_token=*** HTTP/1.1",
        ),
        (
            "ws://127.0.0.1:3001/?x=1&access_token=abc&y=2",
            "ws://127.0.0.1:3001/?x=1&access_token=***&y=2",
        ),
        ("{'Authorization': 'Bearer abc'}", "{'Authorization': 'Bearer ***'}"),
        ('{"access_token": "abc", "n": 1}', '{"access_token": "***", "n": 1}'),
        ("(b'authorization', b'Bearer abc')", "(b'authorization', b'Bearer ***')"),
        ("X-Signature: sha1=0a1b2c", "X-Signature: ***"),
        ("Cookie: session=abc; Path=/", "Cookie: ***; Path=/"),
        (
            "OneBot connection with a wrong access token refused",
            "OneBot connection with a wrong access token refused",
        ),
        ("已开始统计本群：token 数 3", "已开始统计本群：token 数 3"),
    ],
)
def test_offered_credentials_are_redacted_whatever_their_value(line: str, expected: str) -> None:
    """Header, query and field credentials are masked without knowing them; ordinary text is kept."""
    assert expected == redact(line)


def test_registered_secret_is_redacted_anywhere_even_url_encoded() -> None:
    """A registered token is masked in any position, raw or URL-encoded (hpack's :authority)."""
    register_secret("tok/with+chars")
    assert "(b':authority', b'***')" == redact("(b':authority', b'tok/with+chars')")
    assert "path?x=***" == redact("path?x=tok%2Fwith%2Bchars")


def test_redaction_covers_handlers_added_later_and_exception_text(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A handler installed after configuration (as python-wechaty does) never sees a secret,
    not in the message and not in a traceback."""
    configure_logging(2)
    register_secret(WX_TOKEN)
    stream = io.StringIO()
    late = logging.StreamHandler(stream)
    logger = logging.getLogger("some.library")
    logger.addHandler(late)
    try:
        logger.warning("connect %s failed", f"grpc://{WX_TOKEN}@127.0.0.1")
        try:
            raise RuntimeError(f"rejected Authorization: Bearer {NEAR_MISS}")
        except RuntimeError:
            logger.exception("handshake")
        # python-wechaty's own logger with its own stderr handler, at the level it logs the token
        wechaty_logger = logging.getLogger("PuppetService")
        level = wechaty_logger.level
        wechaty_logger.setLevel(logging.DEBUG)
        try:
            wechaty_logger.debug("token: %s", WX_TOKEN)
        finally:
            wechaty_logger.setLevel(level)
    finally:
        logger.removeHandler(late)
    out, err = capfd.readouterr()
    written = stream.getvalue() + out + err
    assert "handshake" in written
    assert "Traceback" in written
    assert WX_TOKEN not in written
    assert NEAR_MISS not in written


def test_redaction_survives_basicconfig_force(tmp_path: Path) -> None:
    """Code that replaces every root handler with logging.basicConfig(force=True) after the set-up
    still writes no secret."""
    script = (
        "import logging, sys\n"
        "from bot.logging_setup import configure_logging, register_secret\n"
        "configure_logging(2)\n"
        f"register_secret({WX_TOKEN!r})\n"
        "logging.basicConfig(force=True, stream=sys.stdout, level=logging.DEBUG)\n"
        f"logging.getLogger('x').debug('token %s; Authorization: Bearer %s', {WX_TOKEN!r}, {NEAR_MISS!r})\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert "token ***; Authorization: Bearer ***" in result.stdout
    assert WX_TOKEN not in result.stdout + result.stderr
    assert NEAR_MISS not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("verbosity", "narrated", "own", "libraries"),
    [
        (0, False, logging.INFO, logging.WARNING),
        (1, False, logging.DEBUG, logging.WARNING),
        (2, False, logging.DEBUG, logging.DEBUG),
        (0, True, logging.WARNING, logging.WARNING),
        (1, True, logging.DEBUG, logging.WARNING),
    ],
)
def test_verbosity_sets_jianfu_and_library_levels(
    verbosity: int, narrated: bool, own: int, libraries: int
) -> None:
    """INFO for jianfu by default, -v debug for jianfu only, -vv debug for everything; the demo
    shows warnings only unless asked."""
    configure_logging(verbosity, narrated=narrated)
    for name in ("bot.service", "bot.adapters.onebot.transport", "metrics.digest"):
        assert own == logging.getLogger(name).getEffectiveLevel(), name
    for name in ("websockets.server", "hpack.hpack", "apscheduler.scheduler", "grpclib.protocol"):
        assert libraries == logging.getLogger(name).getEffectiveLevel(), name


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_exactly_the_known_wechaty_warnings_are_dropped() -> None:
    """FileBox's mimeType deprecation and Accessory's "set payload more than once", raised by
    python-wechaty itself, are dropped; other warnings on the same loggers still show."""

    class BoundContact(compat.Contact):  # type: ignore[misc]
        abstract = False

    collect = _Collect()
    names = ("FileBox", "Accessory")
    for name in names:
        logging.getLogger(name).addHandler(collect)
    try:
        box = compat.FileBox.from_base64(b"iVBORw0KGgo=", name="digest.png")
        assert box.mimeType == box.mediaType  # the property that warns
        contact = BoundContact("wx_a")
        contact.payload = object()
        contact.payload = object()  # the second set is the one that warns
        logging.getLogger("FileBox").warning("a FileBox problem worth seeing")
        logging.getLogger("Accessory").warning("an Accessory problem worth seeing")
    finally:
        for name in names:
            logging.getLogger(name).removeHandler(collect)
    assert [
        "a FileBox problem worth seeing",
        "an Accessory problem worth seeing",
    ] == collect.messages


class _Output:
    """A subprocess's combined output, read as it comes so the test can wait for a line."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.text = ""
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := await self.proc.stdout.read(65536):
            self.text += chunk.decode("utf-8", "replace")

    async def wait_for(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        found: list[re.Match[str]] = []

        def seen() -> bool:
            match = re.search(pattern, self.text)
            if match:
                found.append(match)
            return match is not None

        await wait_until(seen, f"{pattern!r} in the output", timeout, poll=0.05)
        return found[0]

    async def finish(self) -> str:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.proc.wait(), 30)
        await asyncio.wait_for(self._task, 30)
        return self.text


async def _start_run(tmp_path: Path, config: str, *flags: str) -> _Output:
    path = tmp_path / "jianfu.toml"
    path.write_text(config, encoding="utf-8")
    env = {
        **os.environ,
        "JIANFU_PUPPET_TOKEN": WX_TOKEN,
        "JIANFU_ONEBOT_TOKEN": QQ_TOKEN,
        "CACHE_DIR": str(tmp_path / ".wechaty"),
    }
    env.pop("WECHATY_LOG", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *flags,
        "run",
        "--config",
        str(path),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    return _Output(proc)


async def test_run_vv_never_shows_a_token_even_in_handshake_debug(tmp_path: Path) -> None:
    """`jianfu -vv run` with WeChat and QQ: OneBot peers offering the right token (header and
    query) and a near-miss wrong one, and the WeChat puppet's token, appear nowhere in the output."""
    puppet = PuppetService(token=WX_TOKEN, self_id="wx_bot")
    puppet.add_contact("wx_owner", "群主")
    puppet.add_room("r1@chatroom", "测试工作群", "wx_owner", ["wx_owner", "wx_bot"])
    endpoint = await puppet.start()
    output = await _start_run(
        tmp_path,
        f"""
[database]
url = "sqlite:///{tmp_path / "prod.sqlite3"}"
[wechat]
enabled = true
endpoint = "{endpoint}"
[qq]
enabled = true
port = 0
""",
        "-vv",
    )
    try:
        match = await output.wait_for(r"listening on 127\.0\.0\.1:(\d+)(/\S+)")
        url = f"ws://127.0.0.1:{match[1]}{match[2]}"
        await puppet.wait_sent(lambda s: s.conversation_id == "r1@chatroom", 30)
        for use_query in (False, True):
            peer = SimulatedOneBot(self_id=90001)
            await peer.connect(url, QQ_TOKEN, use_query=use_query)
            await wait_until(lambda p=peer: ("get_group_list", {}) in p.calls, "the bot's calls")  # type: ignore[misc]
            await peer.disconnect()
            with pytest.raises(InvalidStatus):
                await SimulatedOneBot(self_id=90002).connect(url, NEAR_MISS, use_query=use_query)
        await wait_until(
            lambda: output.text.count("wrong access token refused") == 2, "both refusals logged"
        )
    finally:
        text = await output.finish()
        await puppet.stop()
    assert 0 == output.proc.returncode, text
    for secret in (WX_TOKEN, QQ_TOKEN, NEAR_MISS, QQ_TOKEN[:-1]):
        assert secret not in text
    # The handshakes were logged (so the check above means something), with the values masked.
    assert "Authorization: Bearer ***" in text
    assert "access_token=***" in text
    assert "b':authority'=b'***'" in text  # hpack, under python-wechaty's gRPC client


async def test_run_logs_info_by_default(tmp_path: Path) -> None:
    """Without -v, `jianfu run` says at INFO that it started and where it listens; no debug."""
    output = await _start_run(
        tmp_path,
        f"""
[database]
url = "sqlite:///{tmp_path / "prod.sqlite3"}"
[qq]
enabled = true
port = 0
""",
    )
    try:
        await output.wait_for(r"INFO bot\.service: jianfu running")
        await output.wait_for(r"INFO bot\.adapters\.onebot\.transport: OneBot reverse WebSocket")
    finally:
        text = await output.finish()
    assert 0 == output.proc.returncode, text
    assert " DEBUG " not in text
