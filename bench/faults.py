"""Fault bench: a real `jianfu run` fed over OneBot at 300 msg/s through SIGTERM, kill -9, a full disk.

Loopback only, every wait bounded, sized for a 2-core machine (a few seconds of
traffic per scenario). For each scenario it reports messages sent / recorded /
lost / spilled, duplicate rows and SQLite's PRAGMA integrity_check:

* SIGTERM mid-stream, after six 帮助 replies queued behind QQ's 1/s pacer: 0 lost.
* kill -9 mid-stream, restart, catch-up with get_group_msg_history: at most the
  unflushed window lost, nothing counted twice, the database consistent.
* another process holding SQLite's write lock for 3 s, SIGTERM while it is held:
  0 lost (the final flush waits for the lock).
* a full disk (a small tmpfs, root only) while messages arrive, SIGTERM, then
  space freed and a restart: the buffer is spilled and replayed, 0 lost.

Run: .venv/bin/python bench/faults.py [--rate 300] [--seconds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # runnable as a plain script from any directory

from fault_rig import (  # noqa: E402
    BOT_QQ,
    BotProcess,
    Peer,
    database_counts,
    fill,
    free_port,
    mount_tmpfs,
    spilled_ids,
)

from bot.spill import SpillFile  # noqa: E402

Row = dict[str, Any]
MEMBER = 10002  # a member who sends the bot private commands


async def wait_recorded(db: Path, ids: list[str], timeout: float = 30) -> Row:
    """Wait until ``ids`` are all stored, or their count stood still for three seconds."""
    until, still, counts = time.monotonic() + timeout, 0, database_counts(db, ids)
    while counts["recorded"] < len(ids) and still < 3 and time.monotonic() < until:
        await asyncio.sleep(1.0)
        last, counts = counts["recorded"], database_counts(db, ids)
        still = still + 1 if counts["recorded"] == last else 0
    return counts


async def wait_call(peer: Peer, action: str, after: int, timeout: float = 30) -> None:
    """Wait until the bot made the OneBot call ``action`` (after the first ``after`` calls)."""
    until = time.monotonic() + timeout
    while not any(a == action for a, _ in peer.sim.calls[after:]):
        if time.monotonic() > until:
            raise TimeoutError(f"the bot never called {action}")
        await asyncio.sleep(0.1)


async def sigterm(root: Path, rate: float, seconds: float) -> Row:
    bot, peer = BotProcess(root / "sigterm", root / "sigterm" / "j.sqlite3", free_port()), Peer()
    await bot.start()
    await peer.connect(bot.port)
    await peer.consent()
    for _ in range(6):  # six replies wait behind the 1 msg/s pacer while the flood arrives
        await peer.sim.post_private_message(MEMBER, "成员", "减负帮助")
    flood = asyncio.create_task(peer.blast(rate, seconds))
    await asyncio.sleep(seconds * 0.75)
    code = await bot.stop(signal.SIGTERM)
    await flood  # the peer goes on until the bot hangs up
    await peer.disconnect()
    row = {"exit": code, **database_counts(bot.db, peer.sent)}
    row["spilled"] = len(spilled_ids(SpillFile.next_to(bot.db).paths()) & set(peer.sent))
    row["note"] = _exit_line(bot.log())
    return _finish(row, len(peer.sent))


async def kill9(root: Path, rate: float, seconds: float) -> Row:
    bot, peer = BotProcess(root / "kill9", root / "kill9" / "j.sqlite3", free_port()), Peer()
    await bot.start()
    await peer.connect(bot.port)
    await peer.consent()
    flood = asyncio.create_task(peer.blast(rate, seconds))
    await asyncio.sleep(seconds * 0.6)
    await bot.stop(signal.SIGKILL)
    await flood
    live = list(peer.sent)
    at_kill = database_counts(bot.db, live)
    for _ in range(20):  # the group goes on while the bot is down
        await peer.post(0, live=False)
    await peer.disconnect()
    calls = len(peer.sim.calls)
    await bot.start()  # restart; the catch-up asks get_group_msg_history for what it missed
    await peer.connect(bot.port)
    await wait_call(peer, "get_group_msg_history", calls)
    everything = live + peer.history_only
    after = await wait_recorded(bot.db, everything)
    code = await bot.stop(signal.SIGTERM)
    await peer.disconnect()
    row = {"exit": code, **database_counts(bot.db, everything), "spilled": 0}
    unflushed = len(live) - at_kill["recorded"]
    row["note"] = (
        f"integrity right after kill -9: {at_kill['integrity']}; unflushed at kill: {unflushed};"
        f" {len(peer.history_only)} posted or refused while down, recovered by catch-up"
        f" {after['recorded'] - at_kill['recorded']}"
    )
    row["unflushed"] = unflushed
    return _finish(row, len(everything))


async def locked(root: Path, rate: float, seconds: float) -> Row:
    bot, peer = BotProcess(root / "locked", root / "locked" / "j.sqlite3", free_port()), Peer()
    await bot.start()
    await peer.connect(bot.port)
    await peer.consent()
    flood = asyncio.create_task(peer.blast(rate, seconds))
    await asyncio.sleep(0.5)
    holder = sqlite3.connect(bot.db, timeout=10, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program writes for three seconds
    await asyncio.sleep(2.0)
    stopping = asyncio.create_task(bot.stop(signal.SIGTERM))  # while the lock is still held
    await asyncio.sleep(1.0)
    holder.execute("ROLLBACK")
    holder.close()
    code = await stopping
    await flood
    await peer.disconnect()
    row = {"exit": code, **database_counts(bot.db, peer.sent)}
    row["spilled"] = len(spilled_ids(SpillFile.next_to(bot.db).paths()) & set(peer.sent))
    row["note"] = _exit_line(bot.log())
    return _finish(row, len(peer.sent))


async def disk_full(root: Path, rate: float, seconds: float) -> Row:
    folder = root / "diskfull"
    disk = folder / "disk"
    if not mount_tmpfs(disk, "16m"):
        return {"skipped": "no tmpfs: mounting one needs root"}
    try:
        return await _disk_full(folder, disk, rate, seconds)
    finally:
        subprocess.run(["umount", str(disk)], check=False)


async def _disk_full(folder: Path, disk: Path, rate: float, seconds: float) -> Row:
    bot, peer = BotProcess(folder, disk / "j.sqlite3", free_port()), Peer()
    spill = SpillFile.next_to(bot.db)
    spill.clear()
    await bot.start()
    await peer.connect(bot.port)
    await peer.consent()
    await peer.blast(rate, 1.0)
    filler = fill(disk)
    lines_before = len(bot.log().splitlines())
    await peer.blast(rate, seconds)
    await peer.sim.post_private_message(MEMBER, "成员", "我的负担")
    try:
        reply = (await peer.sim.wait_sent(lambda s: s.target_id == MEMBER, 15)).text[:18] + "…"
    except TimeoutError:
        reply = "(none within 15 s)"
    lines_full = len(bot.log().splitlines()) - lines_before
    code = await bot.stop(signal.SIGTERM)
    await peer.disconnect()
    spilled = len(spilled_ids(spill.paths()) & set(peer.sent))
    where = ", ".join(str(p) for p in spill.paths())
    filler.unlink()
    await bot.start()  # space is back: the spill file is replayed first
    await peer.connect(bot.port)
    await wait_recorded(bot.db, peer.sent)
    await bot.stop(signal.SIGTERM)
    await peer.disconnect()
    row = {"exit": code, **database_counts(bot.db, peer.sent), "spilled": spilled}
    row["note"] = (
        f"{lines_full} log lines during {seconds:g}s full; reply to 我的负担: {reply};"
        f" spilled to {where or 'nothing'}; {_exit_line(bot.log(), 'replayed')}"
    )
    return _finish(row, len(peer.sent))



def _exit_line(log: str, needle: str = "recording stopped") -> str:
    found = [line.split(": ", 2)[-1] for line in log.splitlines() if needle in line]
    return found[-1] if found else f"(no '{needle}' line)"


def _finish(row: Row, sent: int) -> Row:
    row["sent"] = sent
    row["lost"] = sent - row["recorded"] - row.get("quarantined", 0)
    return row


def report(rows: dict[str, Row]) -> None:
    cols = ["sent", "recorded", "lost", "spilled", "duplicates", "phantoms", "integrity", "exit"]
    print(f"{'scenario':<10}" + "".join(f"{c:>11}" for c in cols))
    for name, row in rows.items():
        if "skipped" in row:
            print(f"{name:<10} skipped: {row['skipped']}")
            continue
        print(f"{name:<10}" + "".join(f"{row[c]!s:>11}" for c in cols))
    for name, row in rows.items():
        if "note" in row:
            print(f"  {name}: {row['note']}")


async def main(rate: float, seconds: float) -> int:
    root = Path(tempfile.mkdtemp(prefix="jianfu-faults-"))
    started = time.monotonic()
    try:
        rows = {
            "SIGTERM": await sigterm(root, rate, seconds),
            "kill -9": await kill9(root, rate, seconds),
            "locked 3s": await locked(root, rate, seconds),
            "disk full": await disk_full(root, rate, seconds),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"jianfu fault bench: {rate:g} msg/s, {seconds:g} s of traffic per scenario, bot QQ {BOT_QQ}")
    report(rows)
    print(f"total {time.monotonic() - started:.0f} s")
    ok = rows["SIGTERM"]["lost"] == 0 and rows["kill -9"]["lost"] <= rows["kill -9"]["unflushed"]
    ok = ok and all(r.get("integrity", "ok") == "ok" and not r.get("duplicates") for r in rows.values())
    ok = ok and rows["disk full"].get("lost", 0) == 0 and rows["locked 3s"]["lost"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=300.0, help="messages per second")
    parser.add_argument("--seconds", type=float, default=4.0, help="traffic per scenario")
    args = parser.parse_args()
    sys.exit(asyncio.run(asyncio.wait_for(main(args.rate, args.seconds), 600)))
