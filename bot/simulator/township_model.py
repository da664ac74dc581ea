"""Plain data types of the simulated township: people, groups, messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

SimPlatform = Literal["wechat", "qq"]


@dataclass(frozen=True, slots=True)
class SimPerson:
    """One cadre (or county liaison) with the accounts they use."""

    key: str
    name: str
    unit: str
    department: str
    title: str
    wechat_id: str | None
    qq_id: str | None
    is_head: bool


@dataclass(frozen=True, slots=True)
class SimGroup:
    """One work group on one platform and its membership."""

    key: str
    platform: SimPlatform
    group_id: str
    name: str
    owner_key: str
    admin_keys: tuple[str, ...]
    member_keys: tuple[str, ...]
    unit: str
    kind: str
    dormant: bool


@dataclass(frozen=True, slots=True)
class SimMessage:
    """One text message posted in a group; ``intent`` is ground truth for tests only."""

    at: datetime
    group_key: str
    sender_key: str
    text: str
    mention_keys: tuple[str, ...]
    mention_all: bool
    intent: str


@dataclass(frozen=True, slots=True)
class Township:
    """A whole township: its roster and its groups."""

    name: str
    people: tuple[SimPerson, ...]
    groups: tuple[SimGroup, ...]

    def person(self, key: str) -> SimPerson:
        """Return the person with ``key``; KeyError names the key when absent."""
        for p in self.people:
            if p.key == key:
                return p
        raise KeyError(f"no person with key {key!r}")

    def group(self, key: str) -> SimGroup:
        """Return the group with ``key``; KeyError names the key when absent."""
        for g in self.groups:
            if g.key == key:
                return g
        raise KeyError(f"no group with key {key!r}")

    def members(self, group_key: str) -> tuple[SimPerson, ...]:
        """The people in a group, in membership order."""
        by_key = {p.key: p for p in self.people}
        return tuple(by_key[k] for k in self.group(group_key).member_keys)

    def groups_of(self, person_key: str) -> tuple[SimGroup, ...]:
        """The groups a person belongs to, on any platform."""
        return tuple(g for g in self.groups if person_key in g.member_keys)

    @property
    def heads(self) -> tuple[SimPerson, ...]:
        """Unit heads, who receive the weekly digest."""
        return tuple(p for p in self.people if p.is_head)

    @property
    def units(self) -> tuple[str, ...]:
        """The township's own units (town offices and villages), in roster order."""
        return tuple(p.unit for p in self.people if p.is_head)

    @property
    def all_units(self) -> tuple[str, ...]:
        """Every unit in the roster, county bureaus included, in roster order."""
        return tuple(dict.fromkeys(p.unit for p in self.people))
