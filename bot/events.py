"""The normalised chat events and the adapter contract every platform implements.

Adapters (WeChat through python-wechaty, QQ through OneBot v11, the simulator)
turn wire events into these dataclasses and hand them to an ``EventSink``.
Nothing here knows about metrics or storage. Adapters hand every credential they
hold to ``register_secret`` so that no log output, at any verbosity, shows it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from bot.logging_setup import register_secret as register_secret

Platform = Literal["wechat", "qq"]
Role = Literal["owner", "admin", "member"]


@dataclass(frozen=True, slots=True)
class Member:
    """One member of a group as the platform reports it."""

    user_id: str
    name: str
    role: Role = "member"


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A group (WeChat room, QQ group) with its current members."""

    platform: Platform
    group_id: str
    name: str
    owner_id: str | None
    members: tuple[Member, ...] = ()


@dataclass(frozen=True, slots=True)
class Connected:
    """The adapter is logged in; ``self_id`` is the bot's own account id."""

    platform: Platform
    self_id: str
    self_name: str


@dataclass(frozen=True, slots=True)
class Disconnected:
    """The connection to the platform dropped; the adapter will retry."""

    platform: Platform
    reason: str


@dataclass(frozen=True, slots=True)
class GroupMessage:
    """A message posted in a group.

    ``at`` is timezone-aware (UTC preferred). ``mentions`` are user ids of
    specifically @-mentioned members; ``mention_all`` is @所有人 / @全体成员.
    ``text`` is the visible text with mentions inline; it is only stored when
    the operator turns text storage on.
    """

    platform: Platform
    group_id: str
    message_id: str
    sender_id: str
    sender_name: str
    at: datetime
    text: str
    msg_type: str = "text"
    mentions: tuple[str, ...] = ()
    mention_all: bool = False
    sender_role: Role | None = None
    reply_to: str | None = None
    group_name: str | None = None


@dataclass(frozen=True, slots=True)
class PrivateMessage:
    """A direct message to the bot (commands such as 我的负担)."""

    platform: Platform
    message_id: str
    sender_id: str
    sender_name: str
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class MemberJoined:
    """A member joined a group (``user_id`` may be the bot itself)."""

    platform: Platform
    group_id: str
    user_id: str
    name: str
    at: datetime
    operator_id: str | None = None


@dataclass(frozen=True, slots=True)
class MemberLeft:
    """A member left or was removed from a group (``user_id`` may be the bot)."""

    platform: Platform
    group_id: str
    user_id: str
    at: datetime
    operator_id: str | None = None
    kicked: bool = False


@dataclass(frozen=True, slots=True)
class GroupInvitation:
    """Someone invited the bot into a group; the adapter may accept it."""

    platform: Platform
    invitation_id: str
    inviter_id: str
    group_name: str
    at: datetime
    group_id: str | None = None


Event = (
    Connected
    | Disconnected
    | GroupMessage
    | PrivateMessage
    | MemberJoined
    | MemberLeft
    | GroupInvitation
)

EventSink = Callable[[Event], Awaitable[None]]


class ChatAdapter(Protocol):
    """What the bot needs from a chat platform.

    ``run`` connects, emits events to the sink, reconnects after drops and
    returns only after ``stop``, once every event already received has been
    handed to the sink (a shutdown loses nothing the platform delivered); it
    raises ``AdapterError`` when it cannot run at all (the bot restarts it).
    Strings and times are cleaned with ``bot.adapters.edge`` before emitting.
    Sending methods raise ``AdapterError`` on failure. Implementations must not
    import anything from ``metrics``.
    """

    @property
    def platform(self) -> Platform: ...

    async def run(self, sink: EventSink) -> None: ...

    async def stop(self) -> None: ...

    async def list_groups(self) -> list[GroupInfo]: ...

    async def group_info(self, group_id: str) -> GroupInfo: ...

    async def send_group_text(self, group_id: str, text: str) -> None: ...

    async def send_private_text(self, user_id: str, text: str) -> None: ...

    async def send_private_image(self, user_id: str, png: bytes, name: str) -> None: ...

    async def leave_group(self, group_id: str) -> None: ...

    async def accept_invitation(self, invitation_id: str) -> None: ...


class BotError(Exception):
    """Root of every error raised by the ``bot`` package."""


class AdapterError(BotError):
    """A platform call failed (connection lost, rejected, timed out)."""
