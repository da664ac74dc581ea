"""Each platform adapter runs on its own: a failure restarts it after a delay, never the others.

``jianfu run`` used to gather every adapter and cancel all of them on the first
error, then exit 0 without a word: a QQ port already in use also stopped WeChat.
Here a failed ``run()`` is logged once, clearly, and started again after a growing
delay; only when every platform fails on its very first attempt (nothing could
ever have been recorded) does the bot give up, with one line naming each cause.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from bot.adapters.edge import LogThrottle
from bot.events import BotError, ChatAdapter, EventSink

log = logging.getLogger(__name__)
_throttle = LogThrottle(log, interval=600.0)

RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
# A run that lasted this long was healthy: the next failure starts the delays afresh.
HEALTHY_SECONDS = 120.0
_NAMES = {"qq": "QQ", "wechat": "微信"}


class PlatformsFailed(BotError):
    """Every enabled platform failed as it started."""

    def __init__(self, failures: dict[str, BaseException]) -> None:
        causes = "；".join(f"{_NAMES.get(n, n)}：{e}" for n, e in failures.items())
        super().__init__(f"所有平台都无法启动，未记录任何消息。{causes}")
        self.failures = failures


class AdapterSupervisor:
    """Runs ``adapter.run(sink)`` until ``stopping`` is set, restarting it after failures."""

    def __init__(
        self,
        name: str,
        adapter: ChatAdapter,
        sink: EventSink,
        stopping: asyncio.Event,
        changed: asyncio.Event,
        delays: Sequence[float] = RESTART_DELAYS,
    ) -> None:
        self.name = name
        self._adapter = adapter
        self._sink = sink
        self._stopping = stopping
        self._changed = changed
        self._delays = delays
        self.attempts = 0
        self.first_failure: BaseException | None = None  # set if the first attempt failed
        self.failures = 0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            self.attempts += 1
            started = loop.time()
            try:
                await self._adapter.run(self._sink)
                if self._stopping.is_set():
                    return
                error: BaseException = RuntimeError("run() returned without being stopped")
            except asyncio.CancelledError:
                raise
            except Exception as e:
                error = e
            if self._stopping.is_set():
                return
            if loop.time() - started > HEALTHY_SECONDS:
                self.failures = 0
            self.failures += 1
            if self.attempts == 1:
                self.first_failure = error
                self._changed.set()
            delay = self._delays[min(self.failures - 1, len(self._delays) - 1)]
            _throttle.error(
                f"{self.name}-{type(error).__name__}-{error}",
                "the %s adapter failed: %s; restarting it in %.0fs (other platforms keep running)",
                self.name,
                error,
                delay,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
