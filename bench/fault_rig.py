"""The rig under bench/faults.py: a real `jianfu run` process, a OneBot peer on loopback, counts.

The peer is the project's simulated NapCat (bot/simulator/onebot_peer.py) connecting
over reverse WebSocket like the real one; messages are "sent" only when the
WebSocket accepted the frame, so a frame refused after the bot closed is not
counted against it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from websockets.exceptions import ConnectionClosed  # noqa: E402

from bot.simulator.onebot_peer import SimulatedOneBot  # noqa: E402

TOKEN = "bench-onebot-token-3f9a"
BOT_QQ = 2854196310
GROUP = 700001
OWNER = 10001
MEMBERS = [(10001, "王主任", "", "owner")] + [(10002 + i, f"成员{i}", "", "member") for i in range(9)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class BotProcess:
    """One `jianfu run` with its own config, database and log file."""

    folder: Path
    db: Path
    port: int
    runs: int = 0
    proc: asyncio.subprocess.Process | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config = self.folder / "jianfu.toml"
        self.config.write_text(
            f'[database]\nurl = "sqlite:///{self.db}"\n'
            f"[qq]\nenabled = true\nport = {self.port}\n",
            encoding="utf-8",
        )

    async def start(self) -> None:
        self.runs += 1
        self.log_path = self.folder / f"run{self.runs}.log"
        env = {**os.environ, "JIANFU_ONEBOT_TOKEN": TOKEN, "CACHE_DIR": str(self.folder)}
        with self.log_path.open("wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "-v", "run", "--config", str(self.config),
                cwd=self.folder, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip

    async def stop(self, sig: signal.Signals, timeout: float = 60) -> int:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(sig)
        return await asyncio.wait_for(self.proc.wait(), timeout)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


class Peer:
    """The simulated QQ side: one consented group, live sends counted, reconnects on demand."""

    def __init__(self) -> None:
        self.sim = SimulatedOneBot(self_id=BOT_QQ)
        self.sim.add_group(GROUP, "减负压测群", MEMBERS)
        self.sent: list[str] = []  # message ids whose frame the WebSocket accepted
        self.history_only: list[str] = []  # posted while the bot was down

    async def connect(self, port: int, deadline: float = 30) -> None:
        url = f"ws://127.0.0.1:{port}/onebot/v11/ws"
        until = time.monotonic() + deadline
        while True:
            try:
                await self.sim.connect(url, TOKEN)
                return
            except OSError:
                if time.monotonic() > until:
                    raise
                await asyncio.sleep(0.2)

    async def consent(self) -> None:
        await self.sim.post_group_message(GROUP, OWNER, "同意记录")
        await self.sim.wait_sent(lambda s: "已开始统计" in s.text, 30)

    async def post(self, n: int, *, live: bool = True) -> bool:
        """Post message ``n``; True if the bot's WebSocket took the frame."""
        mid = await self.sim.post_group_message(
            GROUP, MEMBERS[1 + n % 9][0], f"收到，第{n}条", deliver=False
        )
        if not live:
            self.history_only.append(str(mid))
            return False
        try:
            await self.sim.send_raw(self.sim.groups[GROUP].history[-1])
        except (ConnectionClosed, RuntimeError):
            self.history_only.append(str(mid))
            return False
        self.sent.append(str(mid))
        return True

    async def blast(self, rate: float, seconds: float, at: float | None = None) -> int:
        """Send at ``rate`` per second for ``seconds``; stop early once the bot hangs up."""
        start, total = asyncio.get_running_loop().time(), int(rate * seconds)
        for n in range(total):
            delay = start + n / rate - asyncio.get_running_loop().time()
            if delay > 0:
                await asyncio.sleep(delay)
            if not await self.post(len(self.sent) + len(self.history_only)):
                return n
        return total

    async def disconnect(self) -> None:
        await self.sim.disconnect()


def database_counts(db: Path, ids: list[str]) -> dict[str, Any]:
    """Recorded (of ``ids``), duplicate rows, phantom rows and PRAGMA integrity_check."""
    conn = sqlite3.connect(db)
    try:
        rows = [r[0] for r in conn.execute("SELECT platform_msg_id FROM messages")]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        try:
            quarantined = conn.execute("SELECT COUNT(*) FROM quarantined_messages").fetchone()[0]
        except sqlite3.OperationalError:  # a bot from before the quarantine table
            quarantined = 0
    finally:
        conn.close()
    wanted = set(ids)
    return {
        "recorded": len(wanted & set(rows)),
        "duplicates": len(rows) - len(set(rows)),
        "phantoms": len(set(rows) - wanted),
        "quarantined": quarantined,
        "integrity": integrity,
    }


def spilled_ids(paths: list[Path]) -> set[str]:
    ids: set[str] = set()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError, KeyError):
                ids.add(json.loads(line)["platform_msg_id"])
    return ids


def mount_tmpfs(path: Path, size: str) -> bool:
    """Mount a small tmpfs at ``path`` (root only); False if that is not possible here."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    return os.system(f"mount -t tmpfs -o size={size} tmpfs {path} 2>/dev/null") == 0


def fill(path: Path) -> Path:
    """Fill the filesystem holding ``path`` with a filler file; return it."""
    filler = path / "filler"
    with filler.open("wb", buffering=0) as out:
        for block in (b"\0" * 65536, b"\0" * 4096):  # tmpfs hands out 4 KiB pages
            with contextlib.suppress(OSError):
                while True:
                    out.write(block)
    return filler
