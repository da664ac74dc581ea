"""A simulated OneBot v11 implementation (plays NapCat) that connects to the bot over reverse WS."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bot.adapters.onebot.segments import to_cq_string

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class SimMember:
    """A group member in the simulated world."""

    user_id: int
    nickname: str
    card: str = ""
    role: str = "member"


@dataclass(slots=True)
class SimGroup:
    """A group with its members and message history (oldest first)."""

    group_id: int
    name: str
    members: dict[int, SimMember] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message the bot sent through send_group_msg / send_private_msg."""

    action: str
    target_id: int
    text: str
    message_id: int
    echo: Any
    images: tuple[str, ...] = ()  # the ``file`` field of each image segment


class SimulatedOneBot:
    """An in-memory QQ world behind a real OneBot v11 WebSocket client."""

    def __init__(
        self,
        self_id: int = 10001000,
        nickname: str = "减负助手",
        *,
        supports_history: bool = True,
        client_role: str = "Universal",
    ) -> None:
        self.self_id = self_id
        self.nickname = nickname
        self.supports_history = supports_history
        self.client_role = client_role
        self.groups: dict[int, SimGroup] = {}
        self.sent: list[SentMessage] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.left_groups: list[int] = []
        self.accepted_invitations: list[str] = []
        self._invites: dict[str, tuple[int, str]] = {}
        self._ids = itertools.count(1_000_001)
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    @property
    def connected(self) -> bool:
        """Whether the WebSocket to the bot is open."""
        return self._ws is not None

    def add_group(
        self, group_id: int, name: str, members: Iterable[tuple[int, str, str, str]] = ()
    ) -> SimGroup:
        """Create a group with ``(user_id, nickname, card, role)`` members; the bot joins too."""
        group = SimGroup(group_id, name)
        group.members[self.self_id] = SimMember(self.self_id, self.nickname)
        for uid, nickname, card, role in members:
            group.members[uid] = SimMember(uid, nickname, card, role)
        self.groups[group_id] = group
        return group

    async def connect(self, url: str, token: str | None, *, use_query: bool = False) -> None:
        """Connect like NapCat's reverse-WS client, then announce the lifecycle connect."""
        headers = {"X-Self-ID": str(self.self_id), "X-Client-Role": self.client_role}
        if token is not None and use_query:
            url = f"{url}?access_token={token}"
        elif token is not None:
            headers["Authorization"] = f"Bearer {token}"
        self._ws = await connect(url, additional_headers=headers, proxy=None)
        self._reader = asyncio.create_task(self._serve(self._ws))
        await self.send_raw(
            self._base("meta_event", meta_event_type="lifecycle", sub_type="connect")
        )

    async def disconnect(self) -> None:
        """Close the connection (the bot should report Disconnected)."""
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None

    async def send_raw(self, frame: str | bytes | dict[str, Any]) -> None:
        """Send a frame as is (dicts as JSON), for hand-written or malformed frames."""
        if self._ws is None:
            raise RuntimeError("simulated OneBot is not connected")
        await self._ws.send(
            json.dumps(frame, ensure_ascii=False) if isinstance(frame, dict) else frame
        )

    async def heartbeat(self) -> None:
        """Send a heartbeat meta event."""
        await self.send_raw(
            self._base(
                "meta_event",
                meta_event_type="heartbeat",
                status={"online": True, "good": True},
                interval=15000,
            )
        )

    async def post_group_message(
        self,
        group_id: int,
        user_id: int,
        text: str,
        *,
        at_ids: Sequence[int] = (),
        at_all: bool = False,
        reply_to: int | None = None,
        at: datetime | None = None,
        deliver: bool = True,
        claimed_role: str | None = None,
    ) -> int:
        """A member posts; it goes to history, and live to the bot if connected and ``deliver``.

        ``claimed_role`` puts another ``sender.role`` in the frame than the member list
        says, as a hostile or buggy implementation might.
        """
        group = self.groups[group_id]
        member = group.members[user_id]
        segments: list[dict[str, Any]] = []
        if reply_to is not None:
            segments.append({"type": "reply", "data": {"id": str(reply_to)}})
        if at_all:
            segments.append({"type": "at", "data": {"qq": "all"}})
        segments += [{"type": "at", "data": {"qq": str(uid)}} for uid in at_ids]
        segments.append({"type": "text", "data": {"text": text}})
        message_id = next(self._ids)
        event = self._base(
            "message",
            time=int((at or datetime.now(UTC)).timestamp()),
            message_type="group",
            sub_type="normal",
            message_id=message_id,
            group_id=group_id,
            user_id=user_id,
            anonymous=None,
            message=segments,
            raw_message=to_cq_string(segments),
            font=0,
            sender={
                "user_id": user_id,
                "nickname": member.nickname,
                "card": member.card,
                "role": claimed_role or member.role,
            },
        )
        group.history.append(event)
        if deliver and self.connected:
            await self.send_raw(event)
        return message_id

    async def post_private_message(self, user_id: int, nickname: str, text: str) -> int:
        """Someone sends the bot a direct message."""
        message_id = next(self._ids)
        await self.send_raw(
            self._base(
                "message",
                message_type="private",
                sub_type="friend",
                message_id=message_id,
                user_id=user_id,
                message=[{"type": "text", "data": {"text": text}}],
                raw_message=text,
                font=0,
                sender={"user_id": user_id, "nickname": nickname},
            )
        )
        return message_id

    async def member_join(
        self, group_id: int, user_id: int, nickname: str, operator_id: int = 0
    ) -> None:
        """A member joins a group."""
        self.groups[group_id].members[user_id] = SimMember(user_id, nickname)
        await self.send_raw(
            self._base(
                "notice",
                notice_type="group_increase",
                sub_type="approve",
                group_id=group_id,
                operator_id=operator_id,
                user_id=user_id,
            )
        )

    async def member_leave(
        self, group_id: int, user_id: int, *, kicked_by: int | None = None
    ) -> None:
        """A member leaves, or is kicked when ``kicked_by`` is given."""
        self.groups[group_id].members.pop(user_id, None)
        await self.send_raw(
            self._base(
                "notice",
                notice_type="group_decrease",
                sub_type="leave" if kicked_by is None else "kick",
                group_id=group_id,
                operator_id=user_id if kicked_by is None else kicked_by,
                user_id=user_id,
            )
        )

    async def kick_bot(self, group_id: int, operator_id: int) -> None:
        """The bot's account is removed from a group (sub_type kick_me)."""
        self.groups.pop(group_id, None)
        await self.send_raw(
            self._base(
                "notice",
                notice_type="group_decrease",
                sub_type="kick_me",
                group_id=group_id,
                operator_id=operator_id,
                user_id=self.self_id,
            )
        )

    async def invite_bot(self, group_id: int, group_name: str, inviter_id: int) -> str:
        """Someone invites the bot into a group; returns the request flag."""
        flag = f"invite-{group_id}-{next(self._ids)}"
        self._invites[flag] = (group_id, group_name)
        await self.send_raw(
            self._base(
                "request",
                request_type="group",
                sub_type="invite",
                group_id=group_id,
                user_id=inviter_id,
                comment="",
                flag=flag,
            )
        )
        return flag

    async def wait_sent(
        self, predicate: Callable[[SentMessage], bool], timeout: float = 5.0
    ) -> SentMessage:
        """Wait for a sent message matching ``predicate``."""
        async with asyncio.timeout(timeout):
            while True:
                for msg in self.sent:
                    if predicate(msg):
                        return msg
                self._changed.clear()
                await self._changed.wait()

    def _base(self, post_type: str, **fields: Any) -> dict[str, Any]:
        return {
            "time": int(datetime.now(UTC).timestamp()),
            "self_id": self.self_id,
            "post_type": post_type,
            **fields,
        }

    async def _serve(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                request = json.loads(raw)
                data, retcode = self._answer(
                    request.get("action", ""), request.get("params") or {}, request.get("echo")
                )
                await ws.send(
                    json.dumps(
                        {
                            "status": "ok" if retcode == 0 else "failed",
                            "retcode": retcode,
                            "data": data,
                            "echo": request.get("echo"),
                        },
                        ensure_ascii=False,
                    )
                )
        except ConnectionClosed:
            pass
        finally:
            if self._ws is ws:
                self._ws = None

    def _answer(self, action: str, params: dict[str, Any], echo: Any) -> tuple[Any, int]:
        self.calls.append((action, params))
        self._changed.set()
        group = self.groups.get(params.get("group_id", -1))
        if action == "get_login_info":
            return {"user_id": self.self_id, "nickname": self.nickname}, 0
        if action == "get_group_list":
            return [
                {
                    "group_id": g.group_id,
                    "group_name": g.name,
                    "member_count": len(g.members),
                    "max_member_count": 500,
                }
                for g in self.groups.values()
            ], 0
        if action == "get_group_info" and group is not None:
            return {
                "group_id": group.group_id,
                "group_name": group.name,
                "member_count": len(group.members),
                "max_member_count": 500,
            }, 0
        invited = [name for gid, name in self._invites.values() if gid == params.get("group_id")]
        if action == "get_group_info" and invited:
            return {"group_id": params["group_id"], "group_name": invited[0]}, 0
        member = group.members.get(params.get("user_id", -1)) if group is not None else None
        if action == "get_group_member_info" and group is not None and member is not None:
            return {
                "group_id": group.group_id,
                "user_id": member.user_id,
                "nickname": member.nickname,
                "card": member.card,
                "role": member.role,
            }, 0
        if action == "get_group_member_list" and group is not None:
            return [
                {
                    "group_id": group.group_id,
                    "user_id": m.user_id,
                    "nickname": m.nickname,
                    "card": m.card,
                    "role": m.role,
                }
                for m in group.members.values()
            ], 0
        if action == "get_group_msg_history" and group is not None and self.supports_history:
            return {"messages": group.history[-int(params.get("count", 20)) :]}, 0
        if action in ("send_group_msg", "send_private_msg"):
            return self._record_send(action, params, echo), 0
        if action == "set_group_leave" and group is not None:
            self.groups.pop(group.group_id)
            self.left_groups.append(group.group_id)
            return None, 0
        if action == "set_group_add_request" and params.get("flag") in self._invites:
            if params.get("approve", True):
                gid, name = self._invites.pop(params["flag"])
                self.add_group(gid, name)
                self.accepted_invitations.append(params["flag"])
            return None, 0
        return None, 1404

    def _record_send(self, action: str, params: dict[str, Any], echo: Any) -> dict[str, int]:
        message = params.get("message")
        if isinstance(message, list):
            text = "".join(
                str(s.get("data", {}).get("text", "")) for s in message if s.get("type") == "text"
            )
        else:
            text = str(message)
        images = tuple(
            str(s.get("data", {}).get("file", ""))
            for s in (message if isinstance(message, list) else [])
            if s.get("type") == "image"
        )
        target = params.get("group_id") if action == "send_group_msg" else params.get("user_id")
        message_id = next(self._ids)
        self.sent.append(SentMessage(action, int(target or 0), text, message_id, echo, images))
        return {"message_id": message_id}
