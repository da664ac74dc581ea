"""A wechaty puppet service on loopback, in pure Python, speaking the real wechaty gRPC protocol.

``wechaty-grpc`` ships only client stubs, so this is a grpclib server built
from the stub's route names and betterproto message classes. Its in-memory
world (contacts, rooms, messages, invitations) is driven through a Python API;
python-wechaty's client talks to it as to a Node ``PuppetServer``.

Protocol facts mirrored here (from the installed client sources):

* The client sends the token as the HTTP/2 ``:authority``; a wrong token gets
  gRPC status UNAUTHENTICATED on every call (see ``puppet_grpc``).
* Start-up is ``Stop``, ``Start``, then the ``Event`` server stream. Like the
  Node server, a logged-in puppet sends a ``login`` event as soon as a stream
  opens. Events posted while no stream is open are kept and replayed after
  the next login, so nothing posted during a reconnect is lost.
* Event payloads are JSON with the TypeScript field names (``messageId``,
  ``inviteeIdList``, ``removeeIdList``, ``roomInvitationId``...).
* Message ``type`` is the TypeScript enum value (text = 7), which the client
  maps to the gRPC enum; ``timestamp`` is epoch milliseconds.
* After ``MessageSendText`` the client may fetch the new message's payload at
  once, so the payload is stored before replying; like real puppets, the
  bot's own message is also echoed as a ``message`` event.
* @所有人: real WeChat puts ``notify@all`` in the message's at-user list and
  "@所有人" plus U+2005 in the text; puppets copy the at-user list into
  ``mentionIdList``. We do the same.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from grpclib.const import Handler as RouteHandler
from grpclib.const import Status
from grpclib.exceptions import GRPCError
from grpclib.server import Stream
from wechaty_grpc.wechaty import puppet as pb

from bot.simulator.puppet_grpc import TokenCheckingServer, puppet_routes
from bot.simulator.puppet_world import Invitation, SimulatorError, World, epoch_ms

MENTION_ALL_ID = "notify@all"
MENTION_ALL_TEXT = "@所有人"
AT_SEPARATOR = "\u2005"  # WeChat ends each @name with a four-per-em space
TS_MESSAGE_TYPE_TEXT = 7
TS_MESSAGE_TYPE_IMAGE = 6


@dataclass(frozen=True, slots=True)
class SentText:
    """One ``MessageSendText`` call the bot made."""

    message_id: str
    conversation_id: str
    text: str
    is_room: bool
    mention_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SentFile:
    """One ``MessageSendFile`` call the bot made, with the decoded file."""

    message_id: str
    conversation_id: str
    name: str
    data: bytes


class PuppetService:
    """In-memory WeChat world served over the wechaty puppet gRPC protocol on 127.0.0.1."""

    def __init__(self, *, token: str, self_id: str = "bot", self_name: str = "减负助手") -> None:
        if not token:
            raise SimulatorError("the puppet service needs a non-empty token")
        self.token = token
        self.self_id = self_id
        self.sent: list[SentText] = []
        self.sent_files: list[SentFile] = []
        self.left_rooms: set[str] = set()
        self.accepted_invitations: set[str] = set()
        self.stop_calls = 0  # Stop RPCs received (a real service stops the puppet on each)
        self._world = World(self_id, self_name)
        self._logged_in = False
        self._streams: set[asyncio.Queue[pb.EventResponse | None]] = set()
        self._backlog: list[pb.EventResponse] = []
        self._sent_changed = asyncio.Condition()
        self._answering = asyncio.Event()
        self._answering.set()
        self._server: TokenCheckingServer | None = None
        self.endpoint: str | None = None

    # ---- lifecycle -------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (port 0 = ephemeral) and return the endpoint string."""
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise SimulatorError(f"the simulator only binds to loopback, not {host!r}")
        self._server = TokenCheckingServer([self], self.token)
        await self._server.start(host, port)
        sockets: list[Any] = list(getattr(self._server._server, "sockets", []))
        bound_port = sockets[0].getsockname()[1]
        self.endpoint = f"{host}:{bound_port}"
        return self.endpoint

    async def stop(self) -> None:
        """Stop listening and cut every client connection, like a service that exits."""
        if self._server is not None:
            server, self._server = self._server, None
            server.close()
            server.cut_connections()
            await server.wait_closed()

    async def drop_stream(self, *, hard: bool = False) -> None:
        """Simulate a lost connection.

        By default every open event stream ends with gRPC status UNAVAILABLE
        (the service is up, the stream broke); with ``hard=True`` the TCP
        connections are closed under the client instead.
        """
        if hard and self._server is not None:
            self._server.cut_connections()
        for queue in list(self._streams):
            queue.put_nowait(None)
        await asyncio.sleep(0)

    def stall(self) -> None:
        """Stop answering calls and delivering events, like a frozen service or a half-open link."""
        self._answering.clear()

    def resume(self) -> None:
        """Answer again after ``stall``."""
        self._answering.set()

    # ---- world -----------------------------------------------------------

    def add_contact(self, contact_id: str, name: str) -> None:
        """Create or rename a contact."""
        self._world.contacts[contact_id] = name

    def add_room(self, room_id: str, topic: str, owner_id: str, member_ids: Iterable[str]) -> None:
        """Create a room; every member (and the owner) must be a known contact."""
        self._world.add_room(room_id, topic, owner_id, member_ids)

    def set_room_alias(self, room_id: str, contact_id: str, alias: str) -> None:
        """Give a member a group nickname (群昵称), shown instead of their name in that room."""
        self._world.member(room_id, contact_id).aliases[contact_id] = alias

    def room_members(self, room_id: str) -> list[str]:
        """Current member ids of a room."""
        return list(self._world.room(room_id).member_ids)

    async def post_room_message(
        self,
        room_id: str,
        talker_id: str,
        text: str,
        *,
        mention_ids: Iterable[str] = (),
        mention_all: bool = False,
        at: datetime | None = None,
        message_id: str | None = None,
        message_type: int = TS_MESSAGE_TYPE_TEXT,
        filename: str = "",
    ) -> str:
        """Post a message in a room as ``talker_id`` and return its id.

        ``message_type`` is the TypeScript value (1 = attachment, 6 = image...).
        """
        room = self._world.member(room_id, talker_id)
        mentions = list(dict.fromkeys(mention_ids))
        prefix = []
        for contact_id in mentions:
            name = "@" + (room.aliases.get(contact_id) or self._world.contact_name(contact_id))
            if name not in text:
                prefix.append(name + AT_SEPARATOR)
        if mention_all:
            mentions.append(MENTION_ALL_ID)
            if MENTION_ALL_TEXT not in text:
                prefix.insert(0, MENTION_ALL_TEXT + AT_SEPARATOR)
        payload = pb.MessagePayloadResponse(
            id=message_id or self._world.new_id("msg"),
            filename=filename,
            text="".join(prefix) + text,
            timestamp=epoch_ms(at),
            type=message_type,
            from_id=talker_id,
            room_id=room_id,
            mention_ids=mentions,
        )
        return self._publish_message(payload)

    async def post_private_message(
        self, talker_id: str, text: str, *, at: datetime | None = None
    ) -> str:
        """Send a 1:1 text message from ``talker_id`` to the bot and return its id."""
        self._world.contact_name(talker_id)
        payload = pb.MessagePayloadResponse(
            id=self._world.new_id("msg"),
            text=text,
            timestamp=epoch_ms(at),
            type=TS_MESSAGE_TYPE_TEXT,
            from_id=talker_id,
            to_id=self.self_id,
        )
        return self._publish_message(payload)

    async def member_join(
        self,
        room_id: str,
        member_ids: Iterable[str],
        inviter_id: str,
        *,
        at: datetime | None = None,
    ) -> None:
        """Add members to a room and emit one ``room-join`` event for them."""
        room = self._world.room(room_id)
        joined = list(dict.fromkeys(member_ids))
        for contact_id in joined:
            self._world.contact_name(contact_id)
        room.member_ids.extend(m for m in joined if m not in room.member_ids)
        self._emit_room_join(room_id, joined, inviter_id, epoch_ms(at))

    async def member_leave(
        self,
        room_id: str,
        member_ids: Iterable[str],
        remover_id: str,
        *,
        at: datetime | None = None,
    ) -> None:
        """Remove members from a room and emit one ``room-leave`` event for them."""
        room = self._world.room(room_id)
        left = list(dict.fromkeys(member_ids))
        room.member_ids[:] = [m for m in room.member_ids if m not in left]
        self._emit(
            pb.EventType.EVENT_TYPE_ROOM_LEAVE,
            {
                "removeeIdList": left,
                "removerId": remover_id,
                "roomId": room_id,
                "timestamp": epoch_ms(at),
            },
        )

    async def change_topic(
        self, room_id: str, topic: str, changer_id: str, *, at: datetime | None = None
    ) -> None:
        """Rename a room and emit ``room-topic``."""
        room = self._world.room(room_id)
        old, room.topic = room.topic, topic
        self._emit(
            pb.EventType.EVENT_TYPE_ROOM_TOPIC,
            {
                "changerId": changer_id,
                "newTopic": topic,
                "oldTopic": old,
                "roomId": room_id,
                "timestamp": epoch_ms(at),
            },
        )

    async def logout(self) -> None:
        """The WeChat account is logged out (e.g. from the phone); the stream stays open."""
        self._logged_in = False
        payload = {"contactId": self.self_id, "data": "logged out"}
        self._emit(pb.EventType.EVENT_TYPE_LOGOUT, payload)

    async def request_scan(self, qrcode: str) -> None:
        """Show a login QR code (status Waiting), as a logged-out puppet does repeatedly."""
        self._emit(pb.EventType.EVENT_TYPE_SCAN, {"status": 2, "qrcode": qrcode})

    async def login(self) -> None:
        """The account logs in again (after a QR scan) on the open stream."""
        self._logged_in = True
        self._emit(pb.EventType.EVENT_TYPE_LOGIN, {"contactId": self.self_id})

    async def announce_message(self, message_id: str) -> None:
        """Emit a ``message`` event for any id, stored or not (duplicates, lost payloads)."""
        self._emit(pb.EventType.EVENT_TYPE_MESSAGE, {"messageId": message_id})

    async def invite_bot(self, room_id: str, inviter_id: str, *, at: datetime | None = None) -> str:
        """Invite the bot into an existing room; returns the invitation id."""
        self._world.room(room_id)
        self._world.contact_name(inviter_id)
        invitation_id = self._world.new_id("inv")
        self._world.invitations[invitation_id] = Invitation(room_id, inviter_id, epoch_ms(at))
        self._emit(pb.EventType.EVENT_TYPE_ROOM_INVITE, {"roomInvitationId": invitation_id})
        return invitation_id

    async def wait_sent(
        self, predicate: Callable[[SentText], bool], timeout: float = 5.0
    ) -> SentText:
        """Wait until the bot has sent a text matching ``predicate`` and return it."""

        def find() -> SentText | None:
            return next((s for s in self.sent if predicate(s)), None)

        async with self._sent_changed:
            await asyncio.wait_for(self._sent_changed.wait_for(lambda: find() is not None), timeout)
        found = find()
        assert found is not None
        return found

    # ---- internals -------------------------------------------------------

    def _publish_message(self, payload: pb.MessagePayloadResponse) -> str:
        if payload.id in self._world.messages:
            raise SimulatorError(f"message id {payload.id!r} already used")
        self._world.messages[payload.id] = payload
        self._emit(pb.EventType.EVENT_TYPE_MESSAGE, {"messageId": payload.id})
        return str(payload.id)

    def _emit_room_join(self, room_id: str, ids: list[str], inviter_id: str, ts: int) -> None:
        self._emit(
            pb.EventType.EVENT_TYPE_ROOM_JOIN,
            {"inviteeIdList": ids, "inviterId": inviter_id, "roomId": room_id, "timestamp": ts},
        )

    def _emit(self, kind: pb.EventType, payload: Mapping[str, Any]) -> None:
        event = pb.EventResponse(type=kind, payload=json.dumps(payload, ensure_ascii=False))
        if not self._streams:
            self._backlog.append(event)
        for queue in self._streams:
            queue.put_nowait(event)

    # ---- gRPC ------------------------------------------------------------

    def __mapping__(self) -> dict[str, RouteHandler]:
        """grpclib route table; ``_rpc_room_payload`` serves ``RoomPayload`` and so on."""
        return puppet_routes(self, self._answering, not_found=SimulatorError)

    async def _rpc_event(self, stream: Stream[Any, Any]) -> None:
        await stream.recv_message()
        queue: asyncio.Queue[pb.EventResponse | None] = asyncio.Queue()
        if self._logged_in:
            login = json.dumps({"contactId": self.self_id})
            queue.put_nowait(pb.EventResponse(type=pb.EventType.EVENT_TYPE_LOGIN, payload=login))
        for event in self._backlog:
            queue.put_nowait(event)
        self._backlog.clear()
        self._streams.add(queue)
        try:
            while (event := await queue.get()) is not None:
                await self._answering.wait()
                await stream.send_message(event)
        finally:
            self._streams.discard(queue)
        raise GRPCError(Status.UNAVAILABLE, "puppet event stream dropped")

    async def _rpc_start(self, _: pb.StartRequest) -> pb.StartResponse:
        self._logged_in = True
        return pb.StartResponse()

    async def _rpc_stop(self, _: pb.StopRequest) -> pb.StopResponse:
        self.stop_calls += 1
        return pb.StopResponse()

    async def _rpc_ding(self, request: pb.DingRequest) -> pb.DingResponse:
        return pb.DingResponse()

    async def _rpc_version(self, _: pb.VersionRequest) -> pb.VersionResponse:
        return pb.VersionResponse(version="jianfu-simulator")

    async def _rpc_contact_list(self, _: pb.ContactListRequest) -> pb.ContactListResponse:
        return pb.ContactListResponse(ids=list(self._world.contacts))

    async def _rpc_contact_payload(
        self, request: pb.ContactPayloadRequest
    ) -> pb.ContactPayloadResponse:
        name = self._world.contact_name(request.id)
        return pb.ContactPayloadResponse(
            id=request.id, name=name, type=pb.ContactType.CONTACT_TYPE_PERSONAL, friend=True
        )

    async def _rpc_room_list(self, _: pb.RoomListRequest) -> pb.RoomListResponse:
        ids = [rid for rid, room in self._world.rooms.items() if self.self_id in room.member_ids]
        return pb.RoomListResponse(ids=ids)

    async def _rpc_room_payload(self, request: pb.RoomPayloadRequest) -> pb.RoomPayloadResponse:
        room = self._world.room(request.id)
        return pb.RoomPayloadResponse(
            id=request.id,
            topic=room.topic,
            owner_id=room.owner_id,
            member_ids=list(room.member_ids),
        )

    async def _rpc_room_member_list(
        self, request: pb.RoomMemberListRequest
    ) -> pb.RoomMemberListResponse:
        return pb.RoomMemberListResponse(member_ids=list(self._world.room(request.id).member_ids))

    async def _rpc_room_member_payload(
        self, request: pb.RoomMemberPayloadRequest
    ) -> pb.RoomMemberPayloadResponse:
        alias = self._world.room(request.id).aliases.get(request.member_id, "")
        name = self._world.contact_name(request.member_id)
        return pb.RoomMemberPayloadResponse(id=request.member_id, name=name, room_alias=alias)

    async def _rpc_room_quit(self, request: pb.RoomQuitRequest) -> pb.RoomQuitResponse:
        await self.member_leave(request.id, [self.self_id], self.self_id)
        self.left_rooms.add(request.id)
        return pb.RoomQuitResponse()

    async def _rpc_room_invitation_payload(
        self, request: pb.RoomInvitationPayloadRequest
    ) -> pb.RoomInvitationPayloadResponse:
        invitation = self._world.invitation(request.id)
        room = self._world.room(invitation.room_id)
        return pb.RoomInvitationPayloadResponse(
            id=request.id,
            inviter_id=invitation.inviter_id,
            topic=room.topic,
            member_count=len(room.member_ids),
            member_ids=list(room.member_ids),
            timestamp=invitation.timestamp_ms,
            receiver_id=self.self_id,
        )

    async def _rpc_room_invitation_accept(
        self, request: pb.RoomInvitationAcceptRequest
    ) -> pb.RoomInvitationAcceptResponse:
        invitation = self._world.invitation(request.id)
        self.accepted_invitations.add(request.id)
        self.left_rooms.discard(invitation.room_id)
        await self.member_join(invitation.room_id, [self.self_id], invitation.inviter_id)
        return pb.RoomInvitationAcceptResponse()

    async def _rpc_message_payload(
        self, request: pb.MessagePayloadRequest
    ) -> pb.MessagePayloadResponse:
        try:
            return self._world.messages[request.id]
        except KeyError:
            raise SimulatorError(f"unknown message {request.id!r}") from None

    async def _rpc_message_send_text(
        self, request: pb.MessageSendTextRequest
    ) -> pb.MessageSendTextResponse:
        conversation = request.conversation_id
        is_room = conversation in self._world.rooms
        if is_room and self.self_id not in self._world.rooms[conversation].member_ids:
            raise SimulatorError(f"the bot is not in room {conversation!r}")
        if not is_room:
            self._world.contact_name(conversation)
        payload = pb.MessagePayloadResponse(
            id=self._world.new_id("msg"),
            text=request.text,
            timestamp=epoch_ms(None),
            type=TS_MESSAGE_TYPE_TEXT,
            from_id=self.self_id,
            room_id=conversation if is_room else "",
            to_id="" if is_room else conversation,
            mention_ids=list(request.mentonal_ids),
        )
        self._publish_message(payload)
        async with self._sent_changed:
            self.sent.append(
                SentText(
                    payload.id, conversation, request.text, is_room, tuple(payload.mention_ids)
                )
            )
            self._sent_changed.notify_all()
        return pb.MessageSendTextResponse(id=payload.id)

    async def _rpc_message_send_file(
        self, request: pb.MessageSendFileRequest
    ) -> pb.MessageSendFileResponse:
        conversation = request.conversation_id
        if conversation not in self._world.rooms:
            self._world.contact_name(conversation)
        box = json.loads(request.filebox)
        if "base64" not in box:
            raise SimulatorError(f"only base64 file boxes are simulated, got {sorted(box)}")
        payload = pb.MessagePayloadResponse(
            id=self._world.new_id("msg"),
            filename=str(box.get("name", "")),
            timestamp=epoch_ms(None),
            type=TS_MESSAGE_TYPE_IMAGE,
            from_id=self.self_id,
            room_id=conversation if conversation in self._world.rooms else "",
            to_id="" if conversation in self._world.rooms else conversation,
        )
        self._publish_message(payload)
        data = base64.b64decode(box["base64"])
        async with self._sent_changed:
            self.sent_files.append(SentFile(payload.id, conversation, payload.filename, data))
            self._sent_changed.notify_all()
        return pb.MessageSendFileResponse(id=payload.id)


__all__ = ["MENTION_ALL_ID", "PuppetService", "SentFile", "SentText", "SimulatorError"]
