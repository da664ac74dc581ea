"""Replies, announcements and leaving a group go out through one queue per platform.

Handling an event never waits for a send: QQ sends are paced to one a second, and
an adapter handles its events one after another, so a handler that awaited its
reply held up every message behind it (six 帮助 replies stalled recording for six
seconds, and a shutdown in that window dropped what was waiting). Items of one
platform leave in the order they were queued, so a goodbye is said before leaving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from bot.adapters.edge import LogThrottle
from bot.config import Ref
from bot.events import AdapterError, ChatAdapter

log = logging.getLogger(__name__)
_throttle = LogThrottle(log)

Send = Callable[[ChatAdapter], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One platform action waiting to be done; ``what`` names it in logs."""

    what: str
    send: Send


class Outbox:
    """Per-platform FIFO queues drained by one worker each.

    A queue holds at most ``limit`` items; beyond that the oldest is dropped with
    a warning (a flood of commands must not grow memory without bound).
    """

    def __init__(self, adapters: Mapping[str, ChatAdapter], *, limit: int = 500) -> None:
        self._adapters = adapters
        self._limit = limit
        self._queues: dict[str, deque[Outgoing]] = {name: deque() for name in adapters}
        self._wakeups: dict[str, asyncio.Event] = {name: asyncio.Event() for name in adapters}
        self._busy: set[str] = set()
        self._workers: list[asyncio.Task[None]] = []
        self._closed = False
        self.sent = 0
        self.failed = 0
        self.dropped = 0

    def put(self, platform: str, what: str, send: Send) -> None:
        """Queue ``send`` for ``platform``; returns at once."""
        if self._closed:  # shutting down: events still drained may want replies
            self.dropped += 1
            _throttle.warning("outbox-closed", "shutting down: %s not sent", what)
            return
        queue = self._queues[platform]
        if len(queue) >= self._limit:
            dropped = queue.popleft()
            _throttle.warning(
                f"outbox-full-{platform}", "%s outbox full; dropped %s", platform, dropped.what
            )
        queue.append(Outgoing(what, send))
        self._wakeups[platform].set()

    def group_text(self, platform: str, group_id: str, text: str) -> None:
        """Queue a message to a group."""
        self.put(platform, f"sending to {platform} group {group_id}", _group_text(group_id, text))

    def private_text(self, platform: str, user_id: str, text: str) -> None:
        """Queue a message to one person."""
        self.put(platform, f"sending to {platform} user {user_id}", _private_text(user_id, text))

    def leave_group(self, platform: str, group_id: str) -> None:
        """Queue leaving a group (after whatever was queued for it before)."""
        self.put(platform, f"leaving {platform} group {group_id}", _leave(group_id))

    @property
    def pending(self) -> int:
        """Items queued or being sent."""
        return sum(map(len, self._queues.values())) + len(self._busy)

    async def run(self) -> None:
        """Run one worker per platform until ``close``."""
        self._workers = [
            asyncio.create_task(self._work(name), name=f"outbox-{name}") for name in self._queues
        ]
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def close(self, grace: float) -> int:
        """Give queued items up to ``grace`` seconds, then stop; return how many were dropped."""
        if self._closed:
            return 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self.pending and loop.time() < deadline:
            await asyncio.sleep(0.05)
        self._closed = True
        dropped = [item.what for queue in self._queues.values() for item in queue]
        dropped += [f"a {name} send in progress" for name in self._busy]
        self.dropped += len(dropped)
        for worker in self._workers:
            worker.cancel()
        for worker in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        for queue in self._queues.values():
            queue.clear()
        if dropped:
            log.warning(
                "shutting down: %d replies not sent (%s)", len(dropped), "; ".join(dropped[:5])
            )
        return len(dropped)

    async def _work(self, platform: str) -> None:
        queue, wakeup, adapter = (
            self._queues[platform],
            self._wakeups[platform],
            self._adapters[platform],
        )
        while True:
            if not queue:
                wakeup.clear()
                await wakeup.wait()
                continue
            item = queue.popleft()
            self._busy.add(platform)
            try:
                await item.send(adapter)
                self.sent += 1
            except AdapterError as e:
                self.failed += 1
                _throttle.warning(f"send-{platform}", "%s failed: %s", item.what, e)
            except Exception:
                self.failed += 1
                _throttle.error(f"send-bug-{platform}", "%s failed", item.what, exc_info=True)
            finally:
                self._busy.discard(platform)


def _group_text(group_id: str, text: str) -> Send:
    return lambda adapter: adapter.send_group_text(group_id, text)


def _private_text(user_id: str, text: str) -> Send:
    return lambda adapter: adapter.send_private_text(user_id, text)


def _leave(group_id: str) -> Send:
    return lambda adapter: adapter.leave_group(group_id)


async def send_now(
    adapters: Mapping[str, ChatAdapter], ref: Ref, text: str, picture: bytes | None = None
) -> None:
    """Send a private message, then an optional PNG (digests to unit heads), without queueing.

    Raises AdapterError; a failed picture after a delivered text is only
    logged, since the text is what the head must not miss or get twice.
    """
    adapter = adapters.get(ref.platform)
    if adapter is None:
        raise AdapterError(f"no {ref.platform} adapter is running for {ref}")
    await adapter.send_private_text(ref.user_id, text)
    if picture is not None:
        try:
            await adapter.send_private_image(ref.user_id, picture, "jianfu-digest.png")
        except AdapterError:
            log.exception("the digest picture to %s could not be sent", ref)
