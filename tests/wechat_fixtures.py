"""Helpers for the WeChat adapter tests: a recording event sink and adapter start/stop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from bot.adapters.wechat.adapter import WeChatAdapter
from bot.events import Connected, Event

E = TypeVar("E", bound=Event)


class Recorder:
    """Event sink that remembers every event and lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Condition()

    async def __call__(self, event: Event) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def of(self, kind: type[E]) -> list[E]:
        """Every event of one type so far, in order."""
        return [e for e in self.events if isinstance(e, kind)]

    async def wait_for(
        self,
        kind: type[E],
        predicate: Callable[[E], bool] = lambda _: True,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> E:
        """Wait for the ``count``-th event of ``kind`` matching ``predicate`` and return it."""

        def matches() -> list[E]:
            return [e for e in self.of(kind) if predicate(e)]

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(matches()) >= count), timeout)
        return matches()[count - 1]


async def start_adapter(adapter: WeChatAdapter, recorder: Recorder) -> asyncio.Task[None]:
    """Run the adapter in a task and wait until it has logged in."""
    task = asyncio.create_task(adapter.run(recorder))
    await recorder.wait_for(Connected)
    return task


async def finish_adapter(adapter: WeChatAdapter, task: asyncio.Task[None]) -> None:
    """Stop the adapter and check run() returns promptly."""
    await adapter.stop()
    await asyncio.wait_for(task, 5.0)
