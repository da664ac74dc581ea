"""WeChatAdapter: the ChatAdapter for WeChat, on python-wechaty talking to a wechaty puppet service.

How the connection is built is explained in ``session``. Here:

* Reconnecting is our own loop with a short, capped back-off; a rejected
  token ends ``run()`` with AdapterError instead of retrying forever.
* One worker per connection handles the puppet's events in arrival order.
  Every handler failure is logged with ``logging.exception`` and the worker
  carries on; a failing sink is logged the same way.
* ``PuppetService.message_payload`` maps the TypeScript message type through a
  16-entry list (GroupNote becomes "unspecified", Post = 16 raises
  IndexError), so message payloads are read through the client's own stub and
  mapped here. ``PuppetService.room_invitation_payload`` always fails
  (``to_dict()`` gives camelCase keys), which also breaks
  ``RoomInvitation.accept()``; we use the stub and ``room_invitation_accept``.
* ``Message.date()`` is naive local time; we convert the payload timestamp
  (milliseconds; seconds from some puppets) to an aware UTC datetime.
* Nothing in python-wechaty has a deadline, so a half-open connection would
  hang forever without a sound; a Ding probe with a timeout ends the session.
* Duplicate message events (seen from some puppets) are dropped by id here,
  per adapter and across reconnects, instead of process-wide.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.adapters.edge import clean_event, clean_group
from bot.adapters.wechat import compat
from bot.adapters.wechat.payloads import (
    detect_mentions,
    message_type_name,
    payload_time,
    visible_text,
)
from bot.adapters.wechat.session import Session
from bot.events import (
    AdapterError,
    Connected,
    Disconnected,
    Event,
    EventSink,
    GroupInfo,
    GroupInvitation,
    GroupMessage,
    Member,
    MemberJoined,
    MemberLeft,
    Platform,
    PrivateMessage,
    register_secret,
)

log = logging.getLogger(__name__)

_SEEN_IDS_KEPT = 10_000
# On close the worker finishes every queued event; it is given up on only when it
# makes no progress for this long (the puppet service stopped answering).
_DRAIN_STALL = 10.0


class WeChatAdapter:
    """ChatAdapter for WeChat through a wechaty puppet service (plain-text gRPC).

    One adapter runs once (``run`` until ``stop``) and one per process:
    python-wechaty's Contact/Room pools are process-wide and are reset on
    every (re)connect.
    """

    platform: Platform = "wechat"

    def __init__(
        self,
        endpoint: str,
        token: str,
        *,
        cache_dir: Path | None = None,
        reconnect_delay: float = 2.0,
        max_reconnect_delay: float = 60.0,
        probe_interval: float = 30.0,
        probe_timeout: float = 10.0,
    ) -> None:
        if not endpoint or ":" not in endpoint:
            raise AdapterError(f'WeChat puppet endpoint "{endpoint}" is not host:port')
        if not token:
            raise AdapterError("WeChat puppet service token is empty")
        if min(reconnect_delay, probe_interval, probe_timeout) <= 0:
            raise AdapterError("reconnect_delay, probe_interval and probe_timeout must be > 0")
        register_secret(token)
        self._endpoint = endpoint
        self._token = token
        self._cache_dir = cache_dir
        self._reconnect_delay = reconnect_delay
        self._max_reconnect_delay = max(max_reconnect_delay, reconnect_delay)
        self._probe_interval = probe_interval
        self._probe_timeout = probe_timeout
        self._sink: EventSink | None = None
        self._session: Session | None = None
        self._stopping = asyncio.Event()
        self._running = False
        self._connected = False
        self._self_id: str | None = None
        self._seen: OrderedDict[str, None] = OrderedDict()

    def __repr__(self) -> str:
        return f"WeChatAdapter(endpoint={self._endpoint!r})"

    @property
    def self_id(self) -> str | None:
        """The bot's WeChat id once logged in."""
        return self._self_id

    @property
    def queued(self) -> int:
        """Events received from the puppet service and not handled yet."""
        return self._session.queue.qsize() if self._session is not None else 0

    # ---- lifecycle -------------------------------------------------------

    async def run(self, sink: EventSink) -> None:
        """Connect, emit events to ``sink`` and reconnect after drops until ``stop``.

        Raises AdapterError when the service rejects the token: retrying
        cannot fix that. Unreachable services are retried with a back-off
        from ``reconnect_delay`` doubling up to ``max_reconnect_delay``.
        """
        if self._running:
            raise AdapterError("WeChatAdapter.run() is already running")
        self._running, self._sink = True, sink
        delay = self._reconnect_delay
        try:
            while not self._stopping.is_set():
                reason = await self._run_session()
                if self._stopping.is_set():
                    break
                if self._connected:
                    self._connected = False
                    delay = self._reconnect_delay
                    log.warning("WeChat connection lost (%s); reconnecting", reason)
                    await self._emit(Disconnected("wechat", reason))
                else:
                    log.warning(
                        "cannot reach WeChat puppet service at %s (%s); retry in %.1fs",
                        self._endpoint,
                        reason,
                        delay,
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                if not self._connected:
                    delay = min(delay * 2, self._max_reconnect_delay)
        finally:
            self._running = self._connected = False

    async def stop(self) -> None:
        """Close the connection; ``run`` returns soon after."""
        self._stopping.set()
        if self._session is not None and self._session.stream is not None:
            self._session.stream.cancel()

    async def _run_session(self) -> str:
        """Run one connection until its event stream ends; return why it ended."""
        if (unreachable := await self._unreachable()) is not None:
            return unreachable
        compat.reset_wechaty_caches()
        if self._cache_dir is not None:
            compat.use_cache_dir(self._cache_dir)
        session = await Session.open(self._endpoint, self._token)
        self._session = session
        worker = asyncio.create_task(self._drain(session), name="wechat-events")
        stream = session.stream = asyncio.create_task(session.puppet.start(), name="wechat-stream")
        watchdog = asyncio.create_task(self._watch(session), name="wechat-watchdog")
        if self._stopping.is_set():  # stop() came while the session was being built
            stream.cancel()
        try:
            await asyncio.wait({stream})
            if stream.cancelled():
                return session.lost_reason or "stopped"
            error = stream.exception()
            if error is None:
                return "the puppet service closed the event stream"
            if isinstance(error, compat.GRPCError):
                if error.status == compat.GrpcStatus.UNAUTHENTICATED:
                    raise AdapterError("微信 puppet 服务拒绝了令牌，请检查令牌设置") from None
                return f"gRPC {error.status.name}: {error.message}"
            if not isinstance(
                error, OSError | compat.StreamTerminatedError | compat.WechatyPuppetError
            ):
                log.error("unexpected error on the WeChat event stream", exc_info=error)
            return f"{type(error).__name__}: {error}"
        finally:
            watchdog.cancel()
            stream.cancel()
            await self._close_session(session, worker)

    async def _unreachable(self) -> str | None:
        """Why the endpoint cannot be reached now, or None if a TCP connect succeeds.

        The client's own check (``ping_endpoint``) is a blocking telnetlib
        connect with a 3 s timeout run inside the event loop; checking first
        without blocking keeps an unreachable service from freezing the bot.
        """
        host, port = compat.extract_host_and_port(self._endpoint)
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port), self._probe_timeout
            )
        except (OSError, TimeoutError) as exc:
            return f"cannot connect to {host}:{port} ({exc!r})"
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return None

    async def _watch(self, session: Session) -> None:
        """Cancel the stream when the service stops answering Ding.

        python-wechaty sets no deadline anywhere: on a half-open TCP
        connection (NAT timeout, a frozen service) its event stream and every
        call would wait forever and the bot would record nothing, silently.
        Heartbeat events cannot serve instead: not every puppet sends them,
        and Wechaty listens for "heart-beat" while the client emits
        "heartbeat" (python-wechaty #412).
        """
        while True:
            await asyncio.sleep(self._probe_interval)
            if session.puppet._puppet_stub is None:
                continue  # still resolving the endpoint
            try:
                await asyncio.wait_for(session.puppet.ding("jianfu-probe"), self._probe_timeout)
            except Exception as exc:
                session.lost_reason = f"the puppet service stopped answering ({exc!r})"
                assert session.stream is not None
                session.stream.cancel()
                return

    async def _close_session(self, session: Session, worker: asyncio.Task[None]) -> None:
        session.queue.put_nowait(None)
        await _finish(worker, session.queue)
        await session.close(self._probe_timeout, stop_service=self._stopping.is_set())
        if self._session is session:
            self._session = None

    # ---- events ----------------------------------------------------------

    async def _emit(self, event: Event) -> None:
        assert self._sink is not None
        cleaned = clean_event(event)
        if cleaned is None:
            return
        try:
            await self._sink(cleaned)
        except Exception:
            log.exception("event sink failed on %s", type(event).__name__)

    async def _drain(self, session: Session) -> None:
        while (item := await session.queue.get()) is not None:
            name, payload = item
            try:
                await self._handle(session, name, payload)
            except Exception:
                log.exception("could not handle WeChat %s event", name)

    async def _handle(self, session: Session, name: str, payload: Any) -> None:
        if name == "login":
            await self._on_login(session, payload.contact_id)
        elif name == "logout":
            if self._connected:
                self._connected = False
                await self._emit(Disconnected("wechat", "the WeChat account logged out"))
        elif name == "message":
            await self._on_message(session, payload.message_id)
        elif name == "room-join":
            await self._on_room_join(session, payload)
        elif name == "room-leave":
            await self._on_room_leave(session, payload)
        elif name == "room-invite":
            await self._on_room_invite(session, payload.room_invitation_id)
        elif name == "room-topic":
            session.forget_room(payload.room_id)
        elif name == "scan" and not session.scan_reported:
            # QR codes refresh every few seconds while waiting; say it once per connection.
            session.scan_reported = True
            log.warning("the WeChat account needs a QR-code login at the puppet service")
        elif name == "error":
            log.warning("WeChat puppet service reported an error: %s", payload)

    async def _on_login(self, session: Session, self_id: str) -> None:
        self._self_id = self_id
        self._connected = True
        await self._emit(Connected("wechat", self_id, await session.name(self_id)))

    async def _on_message(self, session: Session, message_id: str) -> None:
        if message_id in self._seen:
            return  # some puppets deliver the same message more than once
        self._seen[message_id] = None
        while len(self._seen) > _SEEN_IDS_KEPT:
            self._seen.popitem(last=False)
        p = await session.puppet.puppet_stub.message_payload(id=message_id)
        talker_id = p.from_id
        if not talker_id or talker_id == self._self_id:
            return  # the bot's own messages are not messages from others
        msg_type = message_type_name(p.type)
        text = visible_text(msg_type, p.text, p.filename)
        at = payload_time(p.timestamp)
        if p.room_id:
            talker_name = await session.member_name(p.room_id, talker_id)
            room = await session.room(p.room_id)
            mentions, mention_all = detect_mentions(list(p.mention_ids), text)
            await self._emit(
                GroupMessage(
                    platform="wechat",
                    group_id=p.room_id,
                    message_id=message_id,
                    sender_id=talker_id,
                    sender_name=talker_name,
                    at=at,
                    text=text,
                    msg_type=msg_type,
                    mentions=mentions,
                    mention_all=mention_all,
                    sender_role="owner" if talker_id == room.owner_id else "member",
                    group_name=room.topic or None,
                )
            )
        elif msg_type == "text" and p.to_id in ("", self._self_id):
            talker_name = await session.name(talker_id)
            await self._emit(PrivateMessage("wechat", message_id, talker_id, talker_name, at, text))

    async def _on_room_join(self, session: Session, payload: Any) -> None:
        session.forget_room(payload.room_id, newcomers=list(payload.invited_ids))
        at = payload_time(payload.timestamp or 0)
        for user_id in payload.invited_ids:
            name = await session.member_name(payload.room_id, user_id)
            operator = payload.inviter_id or None
            await self._emit(MemberJoined("wechat", payload.room_id, user_id, name, at, operator))

    async def _on_room_leave(self, session: Session, payload: Any) -> None:
        session.forget_room(payload.room_id)
        at = payload_time(payload.timestamp or 0)
        remover = payload.remover_id or None
        for user_id in payload.removed_ids:
            kicked = remover is not None and remover != user_id
            await self._emit(MemberLeft("wechat", payload.room_id, user_id, at, remover, kicked))

    async def _on_room_invite(self, session: Session, invitation_id: str) -> None:
        p = await session.puppet.puppet_stub.room_invitation_payload(id=invitation_id)
        await self._emit(
            GroupInvitation(
                platform="wechat",
                invitation_id=invitation_id,
                inviter_id=p.inviter_id,
                group_name=p.topic,
                at=payload_time(p.timestamp),
            )
        )

    # ---- queries and actions --------------------------------------------

    def _live(self) -> Session:
        if self._session is None or not self._connected:
            raise AdapterError("WeChat is not connected")
        return self._session

    async def list_groups(self) -> list[GroupInfo]:
        """Every room the bot is in, with members and owner."""
        session = self._live()
        try:
            room_ids = await session.puppet.room_list()
        except Exception as exc:
            raise AdapterError(f"listing WeChat rooms failed: {exc}") from exc
        return list(await asyncio.gather(*(self.group_info(rid) for rid in room_ids)))

    async def group_info(self, group_id: str) -> GroupInfo:
        """One room's topic, owner and current members (owner has role "owner")."""
        session = self._live()
        try:
            payload = await session.puppet.room_payload(group_id)
            member_ids = await session.puppet.room_members(group_id)
            names = await asyncio.gather(*(session.member_name(group_id, m) for m in member_ids))
        except Exception as exc:
            raise AdapterError(f"reading WeChat room {group_id} failed: {exc}") from exc
        owner = payload.owner_id or None
        members = tuple(
            Member(uid, name, "owner" if uid == owner else "member")
            for uid, name in zip(member_ids, names, strict=True)
        )
        return clean_group(GroupInfo("wechat", group_id, payload.topic, owner, members))

    async def send_group_text(self, group_id: str, text: str) -> None:
        """Post ``text`` in a room."""
        await self._say(lambda s: s.bot.Room.load(group_id), group_id, text)

    async def send_private_text(self, user_id: str, text: str) -> None:
        """Send ``text`` to one contact."""
        await self._say(lambda s: s.bot.Contact.load(user_id), user_id, text)

    async def send_private_image(self, user_id: str, png: bytes, name: str) -> None:
        """Send a picture to one contact (a base64 FileBox through MessageSendFile)."""
        session = self._live()
        box = compat.FileBox.from_base64(base64.b64encode(png), name=name)
        try:
            await session.bot.Contact.load(user_id).say(box)
        except Exception as exc:
            raise AdapterError(f"sending a picture to WeChat {user_id} failed: {exc}") from exc

    async def _say(self, target: Callable[[Session], Any], target_id: str, text: str) -> None:
        if not text.strip():
            raise AdapterError(f"refusing to send an empty WeChat message to {target_id}")
        session = self._live()
        try:
            await target(session).say(text)
        except Exception as exc:
            raise AdapterError(f"sending to WeChat {target_id} failed: {exc}") from exc

    async def leave_group(self, group_id: str) -> None:
        """Make the bot quit a room."""
        session = self._live()
        try:
            await session.bot.Room.load(group_id).quit()
        except Exception as exc:
            raise AdapterError(f"leaving WeChat room {group_id} failed: {exc}") from exc

    async def accept_invitation(self, invitation_id: str) -> None:
        """Accept a room invitation received as ``GroupInvitation``."""
        session = self._live()
        try:
            await session.puppet.room_invitation_accept(invitation_id)
        except Exception as exc:
            raise AdapterError(
                f"accepting WeChat invitation {invitation_id} failed: {exc}"
            ) from exc


async def _finish(worker: asyncio.Task[None], queue: asyncio.Queue[Any]) -> None:
    """Let ``worker`` handle everything queued; cancel it only once it stops making progress."""
    while True:
        left = queue.qsize()
        done, _ = await asyncio.wait({worker}, timeout=_DRAIN_STALL)
        if done:
            return
        if queue.qsize() >= left:
            worker.cancel()
            log.warning(
                "dropped %d WeChat events: the puppet service stopped answering for %.0fs",
                queue.qsize(),
                _DRAIN_STALL,
            )
            return
