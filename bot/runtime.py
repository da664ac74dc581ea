"""Starting and stopping the bot's moving parts together: supervised adapters, outbox, recorder.

The order at shutdown is what makes it lose nothing: queued replies get a short
grace, then every adapter stops accepting and hands over the events it already
received, and only then does the recorder write (or spill) its last batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from bot.events import ChatAdapter, EventSink
from bot.ingest import Recorder
from bot.outbox import Outbox
from bot.supervisor import AdapterSupervisor, PlatformsFailed

log = logging.getLogger(__name__)

# How long queued replies may still go out at shutdown, and how long the adapters
# may take to hand over what they received before the last flush.
SEND_GRACE_SECONDS = 2.0
DRAIN_TIMEOUT_SECONDS = 30.0


class Runtime:
    """Runs the adapters (each supervised), the outbox and the recorder; stops them in order."""

    def __init__(
        self, adapters: Mapping[str, ChatAdapter], recorder: Recorder, outbox: Outbox
    ) -> None:
        self.adapters = adapters
        self.recorder = recorder
        self.outbox = outbox
        self._stopping = asyncio.Event()
        self._changed = asyncio.Event()
        self._supervisors: list[AdapterSupervisor] = []
        self._adapter_tasks: list[asyncio.Task[None]] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def run(self, sink: EventSink) -> None:
        """Run every adapter, the outbox and the recorder until ``stop``.

        Each adapter is supervised on its own (see ``bot.supervisor``). Raises
        PlatformsFailed when every adapter failed on its first attempt.
        """
        self._supervisors = [
            AdapterSupervisor(name, adapter, sink, self._stopping, self._changed)
            for name, adapter in self.adapters.items()
        ]
        self._adapter_tasks = [
            asyncio.create_task(s.run(), name=f"{s.name} adapter") for s in self._supervisors
        ]
        self._tasks = [
            asyncio.create_task(self.recorder.run(), name="recorder"),
            asyncio.create_task(self.outbox.run(), name="outbox"),
            *self._adapter_tasks,
        ]
        while not self._stopping.is_set():
            self._changed.clear()
            failed = {s.name: s.first_failure for s in self._supervisors}
            if all(failed.values()):
                raise PlatformsFailed({n: e for n, e in failed.items() if e is not None})
            stopping = asyncio.create_task(self._stopping.wait())
            changed = asyncio.create_task(self._changed.wait())
            await asyncio.wait({stopping, changed}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            changed.cancel()

    async def stop(self) -> None:
        """Stop without losing anything received: replies get a short grace, adapters
        hand over every event they hold, then the recorder writes (or spills) the rest."""
        self._stopping.set()
        await self.outbox.close(SEND_GRACE_SECONDS)
        for adapter in self.adapters.values():
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping the %s adapter failed", adapter.platform)
        if self._adapter_tasks:
            _done, late = await asyncio.wait(self._adapter_tasks, timeout=DRAIN_TIMEOUT_SECONDS)
            for task in late:
                log.warning(
                    "%s did not finish within %.0fs", task.get_name(), DRAIN_TIMEOUT_SECONDS
                )
                task.cancel()
        await self.recorder.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        r = self.recorder
        unwritten = r.quarantined + r.spilled + r.lost
        log.log(
            logging.WARNING if unwritten else logging.INFO,
            "recording stopped: %d messages written, %d not written"
            " (%d set aside as bad, %d spilled for the next start, %d lost)",
            r.written,
            unwritten,
            r.quarantined,
            r.spilled,
            r.lost,
        )
