"""An event sink for adapter tests: records every normalised event and waits for one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.events import Event, GroupMessage


class Recorder:
    """An event sink that lets a test wait for the event it expects."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    async def __call__(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 5.0) -> Event:
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                self._changed.clear()
                await self._changed.wait()

    def messages(self) -> list[GroupMessage]:
        return [e for e in self.events if isinstance(e, GroupMessage)]

    def count(self, kind: type) -> int:
        return sum(isinstance(e, kind) for e in self.events)
