"""QQ through OneBot v11: turns NapCat/LuckyLilliaBot frames into bot.events and back."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from bot.adapters.edge import LogThrottle, clean_event, clean_group
from bot.adapters.onebot.catchup import CatchUpState
from bot.adapters.onebot.frames import (
    MalformedFrame,
    frame_time,
    private_message,
    qq_int,
    required_id,
    required_message_id,
    text_field,
    text_segments,
)
from bot.adapters.onebot.segments import parse_message, qq_number
from bot.adapters.onebot.transport import (
    FrameReceived,
    Inbound,
    LinkClosed,
    LinkOpened,
    OneBotTransport,
    SendPacer,
)
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
    Role,
)

logger = logging.getLogger(__name__)
_throttle = LogThrottle(logger)

_ROLES: dict[str, Role] = {"owner": "owner", "admin": "admin", "member": "member"}


class OneBotAdapter:
    """A ``bot.events.ChatAdapter`` for QQ over OneBot v11 WebSocket."""

    platform: Literal["qq"] = "qq"

    def __init__(
        self,
        *,
        mode: Literal["reverse", "forward"] = "reverse",
        host: str = "127.0.0.1",
        port: int = 8080,
        path: str = "/onebot/v11/ws",
        access_token: str,
        forward_url: str | None = None,
        send_rate_per_second: float = 1.0,
        history_count: int = 50,
        state: CatchUpState | None = None,
        api_timeout: float = 10.0,
    ) -> None:
        if not access_token or not access_token.strip():
            raise ValueError(
                "OneBot access_token is required: token-less OneBot servers were hijacked "
                "in 2025 to post illegal content. Set the same token in NapCat/LuckyLilliaBot."
            )
        if mode not in ("reverse", "forward"):
            raise ValueError(f'OneBot mode must be "reverse" or "forward", got {mode!r}')
        self.transport = OneBotTransport(
            mode=mode,
            host=host,
            port=port,
            path=path,
            access_token=access_token,
            forward_url=forward_url,
            api_timeout=api_timeout,
        )
        self.pacer = SendPacer(send_rate_per_second)
        self.history_count = history_count
        self.state = state if state is not None else CatchUpState()
        self.self_id: str | None = None
        self._group_names: dict[str, str] = {}
        self._ready = asyncio.Event()
        self._stopping = asyncio.Event()

    @property
    def bound_port(self) -> int:
        """The port the reverse-WebSocket server listens on (after ``run`` started)."""
        return self.transport.bound_port

    async def wait_ready(self, timeout: float = 5.0) -> None:
        """Wait until ``run`` is listening (reverse) or connecting (forward)."""
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def run(self, sink: EventSink) -> None:
        """Serve the connection and emit events until ``stop``.

        On ``stop`` the connections close first, so nothing new arrives; then every
        frame already received is still handed to ``sink`` before ``run`` returns:
        a shutdown loses nothing the implementation delivered.
        """
        self._stopping.clear()
        await self.transport.start()
        self._ready.set()
        stop_wait = asyncio.ensure_future(self._stopping.wait())
        try:
            while not self._stopping.is_set():
                next_item = asyncio.ensure_future(self.transport.inbound.get())
                await asyncio.wait({next_item, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
                if not next_item.done():
                    next_item.cancel()
                    break
                await self._handle(next_item.result(), sink)
        finally:
            stop_wait.cancel()
            self._ready.clear()
            await self.transport.stop()
        drained = 0
        while not self.transport.inbound.empty():
            item = self.transport.inbound.get_nowait()
            if isinstance(item, FrameReceived):  # link notices mean nothing while stopping
                await self._handle_frame(item.frame, sink)
                drained += 1
        if drained:
            logger.info("handled %d OneBot frames received before the shutdown", drained)

    async def _handle(self, item: Inbound, sink: EventSink) -> None:
        if isinstance(item, FrameReceived):
            await self._handle_frame(item.frame, sink)
        elif isinstance(item, LinkOpened):
            self.self_id = qq_number(item.self_id) or self.self_id
        elif isinstance(item, LinkClosed):
            await _emit(sink, Disconnected("qq", item.reason))

    async def stop(self) -> None:
        """Make ``run`` return and close the connection."""
        self._stopping.set()

    async def list_groups(self) -> list[GroupInfo]:
        """All groups the account is in, with members (get_group_list + member lists)."""
        data = await self.transport.call("get_group_list")
        if not isinstance(data, list):
            raise AdapterError("get_group_list: answer is not a list")
        groups = []
        for entry in data:
            gid = qq_number(entry.get("group_id")) if isinstance(entry, Mapping) else None
            if gid is None:
                _throttle.warning(
                    "group-list-id", "get_group_list: skipping an entry without a QQ group number"
                )
                continue
            name = text_field(entry.get("group_name")) or gid
            self._group_names[gid] = name
            try:
                members = await self._members(gid)
            except AdapterError as e:
                # One group's hiccup must not hide the others.
                logger.warning("member list of QQ group %s unavailable: %s", gid, e)
                members = ()
            groups.append(_group(gid, name, members))
        return groups

    async def group_info(self, group_id: str) -> GroupInfo:
        """One group with its members."""
        data = await self.transport.call("get_group_info", {"group_id": qq_int(group_id)})
        name = text_field(data.get("group_name")) if isinstance(data, Mapping) else ""
        name = name or self._group_names.get(group_id, group_id)
        self._group_names[group_id] = name
        return _group(group_id, name, await self._members(group_id))

    async def send_group_text(self, group_id: str, text: str) -> None:
        """Send plain text to a group, paced by ``send_rate_per_second``."""
        await self.pacer.wait_turn()
        # Array form with a text segment: user text is never parsed as CQ codes.
        await self.transport.call(
            "send_group_msg", {"group_id": qq_int(group_id), "message": text_segments(text)}
        )

    async def send_private_text(self, user_id: str, text: str) -> None:
        """Send plain text to one user, paced like group sends."""
        await self.pacer.wait_turn()
        await self.transport.call(
            "send_private_msg", {"user_id": qq_int(user_id), "message": text_segments(text)}
        )

    async def send_private_image(self, user_id: str, png: bytes, name: str) -> None:
        """Send a picture to one user (OneBot image segment with inline base64 data)."""
        await self.pacer.wait_turn()
        segment = {
            "type": "image",
            "data": {"file": "base64://" + base64.b64encode(png).decode("ascii"), "name": name},
        }
        await self.transport.call(
            "send_private_msg", {"user_id": qq_int(user_id), "message": [segment]}
        )

    async def leave_group(self, group_id: str) -> None:
        """Leave a group (never dismisses it, even when the bot owns it)."""
        await self.transport.call(
            "set_group_leave", {"group_id": qq_int(group_id), "is_dismiss": False}
        )

    async def accept_invitation(self, invitation_id: str) -> None:
        """Accept a group invitation by its request flag."""
        await self.transport.call(
            "set_group_add_request",
            {"flag": invitation_id, "sub_type": "invite", "approve": True},
        )

    async def _members(self, group_id: str) -> tuple[Member, ...]:
        data = await self.transport.call("get_group_member_list", {"group_id": qq_int(group_id)})
        if not isinstance(data, list):
            raise AdapterError("get_group_member_list: answer is not a list")
        members = []
        for entry in data:
            uid = qq_number(entry.get("user_id")) if isinstance(entry, Mapping) else None
            if uid is None:
                _throttle.warning(
                    "member-list-id", "get_group_member_list: skipping a member without a QQ number"
                )
                continue
            name = text_field(entry.get("card")) or text_field(entry.get("nickname")) or uid
            members.append(Member(uid, name, _ROLES.get(text_field(entry.get("role")), "member")))
        return tuple(members)

    async def _handle_frame(self, frame: dict[str, Any], sink: EventSink) -> None:
        try:
            await self._dispatch(frame, sink)
        except MalformedFrame as e:
            kind = text_field(frame.get("post_type"))[:20] or "unknown"
            _throttle.warning(
                f"malformed-{kind}-{str(e).partition(':')[0]}",
                "ignoring a malformed OneBot %s frame: %s",
                kind,
                e,
            )
        except Exception as e:
            # Whatever a buggy implementation sends, the connection keeps recording.
            _throttle.error(
                f"frame-failed-{type(e).__name__}",
                "failed to handle a OneBot %.20r frame",
                frame.get("post_type"),
                exc_info=True,
            )

    async def _dispatch(self, frame: dict[str, Any], sink: EventSink) -> None:
        post_type = frame.get("post_type")
        if post_type == "meta_event":
            if frame.get("meta_event_type") == "lifecycle" and frame.get("sub_type") == "connect":
                await self._on_connect(frame, sink)
        elif post_type == "message":
            kind = frame.get("message_type")
            if kind == "group":
                await self._emit_group_message(self._group_message(frame), sink)
            elif kind == "private":
                await _emit(sink, private_message(frame))
            else:
                logger.debug("ignoring message_type %.20r", kind)
        elif post_type == "notice":
            event = await self._notice(frame)
            if event is not None:
                await _emit(sink, event)
        elif post_type == "request":
            if frame.get("request_type") == "group" and frame.get("sub_type") == "invite":
                await _emit(sink, await self._invitation(frame))
        elif post_type == "message_sent":
            pass  # the bot's own messages echoed back; not a member's load
        else:
            raise MalformedFrame(f"unknown post_type {post_type!r}")

    async def _on_connect(self, frame: dict[str, Any], sink: EventSink) -> None:
        self.self_id = required_id(frame, "self_id")
        name = ""
        try:
            info = await self.transport.call("get_login_info")
            name = text_field(info.get("nickname")) if isinstance(info, Mapping) else ""
        except AdapterError as e:
            logger.info("get_login_info unavailable: %s", e)
        await _emit(sink, Connected("qq", self.self_id, name))
        await self._catch_up(sink)

    async def _catch_up(self, sink: EventSink) -> None:
        """Emit group messages that arrived while the connection was down."""
        now = datetime.fromtimestamp(int(datetime.now(UTC).timestamp()), UTC)
        try:
            groups = await self.transport.call("get_group_list")
        except AdapterError as e:
            logger.info("catch-up skipped: %s", e)
            return
        entries = groups if isinstance(groups, list) else []
        group_ids = [qq_number(e.get("group_id")) for e in entries if isinstance(e, Mapping)]
        answered = False
        for gid in filter(None, group_ids):
            # A group seen for the first time is watched from now: no replay of older chat.
            self.state.start_watching(gid, now)
            try:
                data = await self.transport.call(
                    "get_group_msg_history", {"group_id": qq_int(gid), "count": self.history_count}
                )
            except AdapterError as e:
                if not answered:
                    # Plain OneBot v11 has no history API; NapCat does. One note, then live only.
                    logger.info("catch-up skipped, no usable get_group_msg_history: %s", e)
                    return
                logger.info("catch-up of QQ group %s failed: %s", gid, e)
                continue
            answered = True
            await self._replay(gid, data, sink)

    async def _replay(self, gid: str, data: object, sink: EventSink) -> None:
        raw = data.get("messages") if isinstance(data, Mapping) else data
        messages = []
        for entry in raw if isinstance(raw, list) else []:
            if not isinstance(entry, dict) or entry.get("post_type") == "message_sent":
                continue  # message_sent: the bot's own posts
            try:
                messages.append(self._group_message({"group_id": gid, **entry}))
            except MalformedFrame as e:
                logger.warning("skipping a malformed history message in %s: %s", gid, e)
        since = self.state.last_seen(gid)
        fresh = [m for m in sorted(messages, key=lambda m: m.at) if since is None or m.at >= since]
        if len(messages) >= self.history_count and len(fresh) == len(messages):
            logger.info(
                "QQ group %s: more than %d messages missed, older ones are lost",
                gid,
                self.history_count,
            )
        for msg in fresh:
            if msg.sender_id != self.self_id:
                await self._emit_group_message(msg, sink)

    async def _emit_group_message(self, msg: GroupMessage, sink: EventSink) -> None:
        received = datetime.now(UTC)
        cleaned = clean_event(msg, received)
        if cleaned is None or self.state.is_seen(cleaned.group_id, cleaned.message_id):
            return
        self.state.mark(cleaned.group_id, cleaned.message_id, cleaned.at, received)
        await _emit(sink, cleaned, clean=False)

    def _group_message(self, frame: Mapping[str, Any]) -> GroupMessage:
        gid = required_id(frame, "group_id")
        sender = frame.get("sender")
        sender = sender if isinstance(sender, Mapping) else {}
        uid = qq_number(frame.get("user_id")) or qq_number(sender.get("user_id"))
        if uid is None:
            raise MalformedFrame("user_id missing or not a QQ number")
        try:
            body = parse_message(frame.get("message"), frame.get("raw_message"))
        except ValueError as e:
            raise MalformedFrame(str(e)) from None
        group_name = text_field(frame.get("group_name")) or self._group_names.get(gid)
        return GroupMessage(
            platform="qq",
            group_id=gid,
            message_id=required_message_id(frame),
            sender_id=uid,
            sender_name=text_field(sender.get("card")) or text_field(sender.get("nickname")) or uid,
            at=frame_time(frame),
            text=body.text,
            msg_type=body.msg_type,
            mentions=body.mentions,
            mention_all=body.mention_all,
            sender_role=_ROLES.get(text_field(sender.get("role"))),
            reply_to=body.reply_to,
            group_name=group_name or None,
        )

    async def _notice(self, frame: Mapping[str, Any]) -> Event | None:
        kind = frame.get("notice_type")
        if kind not in ("group_increase", "group_decrease"):
            return None
        gid, uid = required_id(frame, "group_id"), required_id(frame, "user_id")
        operator = qq_number(frame.get("operator_id"))  # 0 (no operator) is not a QQ number
        if kind == "group_increase":
            return MemberJoined(
                "qq", gid, uid, await self._member_name(gid, uid), frame_time(frame), operator
            )
        sub_type = frame.get("sub_type")
        if sub_type == "kick_me":
            # The account itself was removed; report it as the bot leaving.
            uid = required_id(frame, "self_id")
        return MemberLeft(
            "qq", gid, uid, frame_time(frame), operator, sub_type in ("kick", "kick_me")
        )

    async def _member_name(self, gid: str, uid: str) -> str:
        # Notices carry no name; ask once, and fall back to the QQ number.
        try:
            info = await self.transport.call(
                "get_group_member_info", {"group_id": qq_int(gid), "user_id": qq_int(uid)}
            )
        except AdapterError as e:
            logger.info("name of new member %s unavailable: %s", uid, e)
            return uid
        if not isinstance(info, Mapping):
            return uid
        return text_field(info.get("card")) or text_field(info.get("nickname")) or uid

    async def _invitation(self, frame: Mapping[str, Any]) -> GroupInvitation:
        flag = frame.get("flag")
        if not isinstance(flag, str) or not flag:
            raise MalformedFrame("group invitation without a flag")
        gid = required_id(frame, "group_id")
        name = text_field(frame.get("group_name"))
        if not name:
            try:
                info = await self.transport.call("get_group_info", {"group_id": qq_int(gid)})
                name = text_field(info.get("group_name")) if isinstance(info, Mapping) else ""
            except AdapterError:
                pass  # not a member yet; many implementations cannot tell
        return GroupInvitation(
            "qq", flag, required_id(frame, "user_id"), name or gid, frame_time(frame), gid
        )


async def _emit(sink: EventSink, event: Event, *, clean: bool = True) -> None:
    cleaned = clean_event(event) if clean else event
    if cleaned is None:
        return
    try:
        await sink(cleaned)
    except Exception:
        # A failing consumer must not drop the connection or later events.
        logger.exception("event sink failed on %s", type(event).__name__)


def _group(gid: str, name: str, members: tuple[Member, ...]) -> GroupInfo:
    owner = next((m.user_id for m in members if m.role == "owner"), None)
    return clean_group(GroupInfo("qq", gid, name, owner, members))
