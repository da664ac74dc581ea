"""The simulated puppet's in-memory WeChat world: contacts, rooms, messages, invitations."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.events import BotError


class SimulatorError(BotError):
    """The simulated world was asked something impossible (unknown room, non-member...)."""


@dataclass(slots=True)
class Room:
    """A WeChat room as the simulator keeps it."""

    topic: str
    owner_id: str
    member_ids: list[str]
    aliases: dict[str, str] = field(default_factory=dict)  # 群昵称 per member


@dataclass(frozen=True, slots=True)
class Invitation:
    """An invitation of the bot into a room."""

    room_id: str
    inviter_id: str
    timestamp_ms: int


def epoch_ms(at: datetime | None) -> int:
    """Epoch milliseconds of an aware datetime (now when None), as puppets send them."""
    moment = at if at is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        raise SimulatorError(f"timestamp {moment!r} must be timezone-aware")
    return int(moment.timestamp() * 1000)


class World:
    """State only; events and gRPC live in ``puppet_service``. Lookups raise SimulatorError."""

    def __init__(self, self_id: str, self_name: str) -> None:
        self.contacts: dict[str, str] = {self_id: self_name}
        self.rooms: dict[str, Room] = {}
        self.messages: dict[str, Any] = {}  # id -> wechaty-grpc MessagePayloadResponse
        self.invitations: dict[str, Invitation] = {}
        self._ids = itertools.count(1)

    def new_id(self, kind: str) -> str:
        """A fresh id such as ``msg-12``."""
        return f"{kind}-{next(self._ids)}"

    def add_room(self, room_id: str, topic: str, owner_id: str, member_ids: Iterable[str]) -> None:
        """Create a room; every member (and the owner) must be a known contact."""
        members = list(dict.fromkeys(member_ids))
        if owner_id not in members:
            members.insert(0, owner_id)
        for contact_id in members:
            self.contact_name(contact_id)
        self.rooms[room_id] = Room(topic, owner_id, members)

    def contact_name(self, contact_id: str) -> str:
        """A known contact's name."""
        try:
            return self.contacts[contact_id]
        except KeyError:
            raise SimulatorError(f"unknown contact {contact_id!r}; add_contact() first") from None

    def room(self, room_id: str) -> Room:
        """A known room."""
        try:
            return self.rooms[room_id]
        except KeyError:
            raise SimulatorError(f"unknown room {room_id!r}; add_room() first") from None

    def member(self, room_id: str, contact_id: str) -> Room:
        """The room, after checking ``contact_id`` is in it."""
        room = self.room(room_id)
        if contact_id not in room.member_ids:
            raise SimulatorError(f"{contact_id!r} is not a member of room {room_id!r}")
        return room

    def invitation(self, invitation_id: str) -> Invitation:
        """A known invitation."""
        try:
            return self.invitations[invitation_id]
        except KeyError:
            raise SimulatorError(f"unknown room invitation {invitation_id!r}") from None
