"""One connection to a wechaty puppet service through python-wechaty, with per-connection lookups.

Why a connection is built by hand instead of with ``Wechaty.start()``:

* ``Wechaty.start()`` blocks while the event stream is open, sleeps 60 s and
  recurses on connection errors, calls ``loop.stop()`` on any
  ``WechatyPuppetError`` (a wrong endpoint would stop *our* event loop) and
  prints other exceptions. Here each connection builds a fresh ``Wechaty``
  with a fresh ``PuppetOptions`` (the dataclass default is one shared,
  mutated instance), calls ``init_puppet()`` for the bound Contact/Room
  classes, and the adapter runs ``puppet.start()`` in a task of its own.
* The Wechaty event bridge is not installed: its login handler starts the
  plugin manager (an APScheduler and a check of local port 5000), its message
  handler de-duplicates ids process-wide and fetches payloads all-or-nothing,
  and pyee runs each async handler as a separate task, so order is lost. We
  listen on the puppet's own emitter with plain functions that only enqueue.
* Our own ``AsyncIOScheduler`` is passed so no ``job.db`` SQLite job store is
  created, and port 0 so the plugin web-server port check never collides.
* The token goes into ``puppet.options.token`` *after* the puppet is built:
  given both endpoint and token, ``PuppetService.__init__`` logs the token.
* ``Room.ready()`` returns early once a payload is cached, even with
  ``force_sync``, so topics and owners come from ``puppet.room_payload``
  through a cache the adapter drops on room-join/leave/topic events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.adapters.wechat import compat

log = logging.getLogger(__name__)

# Puppet events the adapter handles; anything else the puppet emits is ignored.
EVENT_NAMES = [
    "login",
    "logout",
    "message",
    "room-join",
    "room-leave",
    "room-invite",
    "room-topic",
    "scan",
    "error",
]
_LOOKUP_CONCURRENCY = 16  # contact look-ups for a 500-member room go out in batches


class Session:
    """A fresh Wechaty and puppet for one connection, its ordered event queue and caches."""

    def __init__(self, endpoint: str, token: str) -> None:
        options = compat.PuppetOptions()
        options.end_point = endpoint
        self.puppet: Any = compat.WechatyPuppetService(options)
        self.puppet.options.token = token
        self.scheduler = AsyncIOScheduler()
        self.bot: Any = compat.Wechaty(
            compat.WechatyOptions(
                puppet=self.puppet,
                puppet_options=options,
                scheduler=self.scheduler,
                host="127.0.0.1",
                port=0,
            )
        )
        self.queue: asyncio.Queue[tuple[str, Any] | None] = asyncio.Queue()
        self.stream: asyncio.Task[None] | None = None
        self.lost_reason: str | None = None
        self.scan_reported = False
        self._rooms: dict[str, Any] = {}
        self._names: dict[str, str] = {}
        self._member_names: dict[tuple[str, str], str] = {}
        self._lookups = asyncio.Semaphore(_LOOKUP_CONCURRENCY)
        for name in EVENT_NAMES:
            self.puppet.on(name, self._enqueuer(name))

    @classmethod
    async def open(cls, endpoint: str, token: str) -> Session:
        """Build a session; nothing is sent until ``puppet.start()`` runs."""
        session = cls(endpoint, token)
        # Binds per-bot Contact/Room/Message subclasses to this puppet (no I/O).
        await session.bot.init_puppet()
        return session

    def _enqueuer(self, name: str) -> Callable[..., None]:
        def enqueue(payload: Any = None, *_: Any) -> None:
            self.queue.put_nowait((name, payload))

        return enqueue

    async def close(self, stop_timeout: float, *, stop_service: bool) -> None:
        """Release the channel and scheduler; with ``stop_service``, send Stop first.

        A Node PuppetServer's Stop stops the WeChat puppet itself (a logout
        for some puppets), so it is sent only when the bot shuts down, not
        after a dropped stream. (The client's ``start()`` sends Stop before
        Start on every connect anyway; that we cannot avoid.)
        """
        try:
            if stop_service:
                await asyncio.wait_for(self.puppet.stop(), stop_timeout)
        except Exception as exc:  # the connection may be gone already
            log.debug("puppet stop() failed: %r", exc)
        finally:
            self.puppet._event_stream.remove_all_listeners()
            if self.puppet.channel is not None:
                self.puppet.channel.close()
                self.puppet.channel = None
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)

    async def name(self, contact_id: str) -> str:
        """Display name of a contact, or its id when the puppet cannot say."""
        if contact_id not in self._names:
            contact = self.bot.Contact.load(contact_id)
            try:
                async with self._lookups:
                    await contact.ready()
                self._names[contact_id] = str(contact.name or contact_id)
            except Exception as exc:
                log.warning("no contact payload for %s: %r", contact_id, exc)
                self._names[contact_id] = contact_id
        return self._names[contact_id]

    async def member_name(self, room_id: str, contact_id: str) -> str:
        """A member's group nickname (群昵称) in a room, else their contact name."""
        key = (room_id, contact_id)
        if key not in self._member_names:
            alias = ""
            try:
                async with self._lookups:
                    member = await self.puppet.room_member_payload(room_id, contact_id)
                alias = member.room_alias
            except Exception as exc:  # not every puppet knows room aliases
                log.debug("no room member payload for %s in %s: %r", contact_id, room_id, exc)
            self._member_names[key] = alias or await self.name(contact_id)
        return self._member_names[key]

    async def room(self, room_id: str) -> Any:
        """The room's payload (topic, owner), cached until ``forget_room``."""
        if room_id not in self._rooms:
            self._rooms[room_id] = await self.puppet.room_payload(room_id)
        return self._rooms[room_id]

    def forget_room(self, room_id: str, newcomers: list[str] | None = None) -> None:
        """Drop cached room data after a change; newcomers are looked up afresh."""
        self._rooms.pop(room_id, None)
        for user_id in newcomers or ():
            self._names.pop(user_id, None)
            self._member_names.pop((room_id, user_id), None)
