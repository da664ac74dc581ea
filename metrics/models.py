"""SQLAlchemy models: the tables inspectors query (documented in docs/schema.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names: SQLite batch migrations recreate tables and need them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC; reads them back as aware UTC.

    SQLite has no time zone type, and inspectors compare stored times as text,
    so every stored moment is UTC in ISO form.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; give a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# An opted-out account's ``identities.external_id`` (and any copy of it) is replaced by
# this prefix and a salted slow hash of the account: the account is still recognised
# when it posts again, but its id cannot be read back. Platform ids never start with it.
PSEUDONYM_PREFIX = "~"


class Account(Base):
    """The bot's own login on a platform."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("platform", "self_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    self_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128), default="")
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())


class Person(Base):
    """A cadre, possibly with identities on several platforms (from the roster)."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    unit: Mapped[str | None] = mapped_column(String(128), index=True)
    department: Mapped[str | None] = mapped_column(String(128))
    title: Mapped[str | None] = mapped_column(String(128))
    is_head: Mapped[bool] = mapped_column(Boolean, default=False)
    # "roster" when the operator mapped this person, "auto" when first seen in a group
    source: Mapped[str] = mapped_column(String(16), default="auto")
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    self_reported_groups: Mapped[int | None] = mapped_column(Integer)
    self_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Identity(Base):
    """One platform account (WeChat wxid, QQ number) of a person."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(128), default="")
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())


class Group(Base):
    """A work group and its consent state."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(256), default="")
    owner_external_id: Mapped[str | None] = mapped_column(String(128))
    unit: Mapped[str | None] = mapped_column(String(128))
    # pending: announced, waiting for the owner/admin; active: recording;
    # stopped: the owner ended monitoring (the bot left)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consented_by: Mapped[str | None] = mapped_column(String(128))
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_date: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Membership(Base):
    """One stay of an identity in a group: a join and, once gone, a leave."""

    __tablename__ = "memberships"
    __table_args__ = (Index("ix_memberships_group_identity", "group_id", "identity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16), default="member")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Message(Base):
    """Metadata of one group message; ``text`` only when the operator stores text."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("platform", "platform_msg_id"),
        Index("ix_messages_group_sent", "group_id", "sent_at"),
        Index("ix_messages_week", "week"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_msg_id: Mapped[str] = mapped_column(String(128))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    # NULL once the sender opted out: the message stays as an anonymous count
    sender_identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("identities.id", ondelete="SET NULL"), index=True
    )
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    week: Mapped[str] = mapped_column(String(8))  # ISO week in local time, 2026-W47
    band: Mapped[str] = mapped_column(String(8))  # work/lunch/evening/night/weekend/holiday
    msg_type: Mapped[str] = mapped_column(String(16), default="text")
    length: Mapped[int] = mapped_column(Integer, default=0)
    mention_all: Mapped[bool] = mapped_column(Boolean, default=False)
    mention_count: Mapped[int] = mapped_column(Integer, default=0)
    labels: Mapped[str] = mapped_column(String(160), default="")  # sorted, comma separated
    is_demand: Mapped[bool] = mapped_column(Boolean, default=False)
    is_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fingerprint: Mapped[int | None] = mapped_column(BigInteger)
    reply_to: Mapped[str | None] = mapped_column(String(128))
    text: Mapped[str | None] = mapped_column(Text)


class MessageMention(Base):
    """A specific person @-mentioned by a message."""

    __tablename__ = "message_mentions"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AuditEvent(Base):
    """Consent decisions and commands, accepted or refused."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    actor_identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("identities.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))  # ok / refused / error
    detail: Mapped[str] = mapped_column(Text, default="")


class Digest(Base):
    """A weekly digest for one unit, week and recipient: sent at most once."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("unit", "week", "recipient_platform", "recipient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit: Mapped[str] = mapped_column(String(128))
    week: Mapped[str] = mapped_column(String(8))
    recipient_platform: Mapped[str] = mapped_column(String(16))
    recipient_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))  # sending / sent / failed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    body: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)


class QuarantinedMessage(Base):
    """A message the recorder could not store, set aside so the others are stored.

    Only where the message is and why it failed: no sender, no text, so an
    opt-out never has to reach into this table.
    """

    __tablename__ = "quarantined_messages"
    __table_args__ = (Index("ix_quarantined_messages_platform_msg", "platform", "platform_msg_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_msg_id: Mapped[str] = mapped_column(String(128))
    # groups.id when the record named a known group; no foreign key: a bad group id
    # may be the very reason the record failed.
    group_id: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    quarantined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text, default="")
class PseudonymSalt(Base):
    """The database's random salt for the pseudonyms of opted-out accounts (one row)."""

    __tablename__ = "pseudonym_salt"

    id: Mapped[int] = mapped_column(primary_key=True)
    salt: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
