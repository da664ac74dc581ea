"""The bot: routes normalised events to consent handling and recording."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import notices, store
from bot.adapters.edge import LogThrottle
from bot.commands import OPEN_IN_GROUPS, Command, addresses_bot, parse_command
from bot.config import Config, Ref
from bot.consent import may_consent
from bot.events import (
    AdapterError,
    ChatAdapter,
    Connected,
    Disconnected,
    Event,
    GroupInfo,
    GroupInvitation,
    GroupMessage,
    Member,
    MemberJoined,
    MemberLeft,
    PrivateMessage,
)
from bot.group_state import GroupState
from bot.ingest import Recorder, is_unavailable
from bot.outbox import Outbox, send_now
from bot.records import message_record
from bot.runtime import Runtime
from bot.saved_digests import forget_in_saved_digests
from bot.spill import SpillFile
from metrics.annotate import Annotator
from metrics.models import Group, Person
from metrics.personal import personal_summary

log = logging.getLogger(__name__)
_throttle = LogThrottle(log)

BOT_NAME = "减负助手"

Observer = Callable[[Event], None]


class JianfuBot:
    """Consent-gated recording for any number of platform adapters.

    ``clock`` returns the current aware time; the simulator passes its own.
    ``observers`` are called with every event after the bot handled it (tests and
    the demo watch the bot through them).
    """

    def __init__(
        self,
        config: Config,
        engine: AsyncEngine,
        adapters: dict[str, ChatAdapter],
        *,
        clock: Callable[[], datetime] | None = None,
        unit_of: Callable[[str, str], str | None] | None = None,
        spill: SpillFile | None = None,
    ) -> None:
        self.config = config
        self.engine = engine
        self.adapters = adapters
        self.clock = clock or (lambda: datetime.now(UTC))
        self.recorder = Recorder(
            engine, batch_size=config.batch_size, flush_seconds=config.flush_seconds, spill=spill
        )
        self.outbox = Outbox(adapters)
        self.runtime = Runtime(adapters, self.recorder, self.outbox)
        self.observers: list[Observer] = []
        self.annotator = Annotator(config.schedule, {u.name: u.schedule for u in config.units})
        self.self_ids: dict[str, str] = {}
        self.self_names: dict[str, str] = {}
        self._unit_of = unit_of
        self._groups: dict[tuple[str, str], GroupState] = {}
        self._admins = frozenset((r.platform, r.user_id) for r in config.consent.admins)

    # -- lifecycle -------------------------------------------------------

    async def run(self) -> None:
        """Run every adapter, the outbox and the recorder until ``stop`` (see ``Runtime``)."""
        await self.runtime.run(self.handle)

    async def stop(self) -> None:
        """Stop without losing anything already received."""
        await self.runtime.stop()

    # -- dispatch ----------------------------------------------------------

    async def handle(self, event: Event) -> None:
        """Handle one event; a failure is logged and never stops other groups."""
        try:
            await self._dispatch(event)
        except Exception as e:
            _throttle.error(
                f"handle-{type(event).__name__}-{type(e).__name__}",
                "handling %s failed",
                type(event).__name__,
                exc_info=True,
            )
        for observe in self.observers:
            try:
                observe(event)
            except Exception:
                log.exception("an observer failed on %s", type(event).__name__)

    async def _dispatch(self, event: Event) -> None:
        match event:
            case GroupMessage():
                await self._on_group_message(event)
            case Connected():
                await self._on_connected(event)
            case MemberJoined():
                await self._on_member_joined(event)
            case MemberLeft():
                await self._on_member_left(event)
            case PrivateMessage():
                await self._on_private_message(event)
            case GroupInvitation():
                await self._on_invitation(event)
            case Disconnected():
                log.warning("%s disconnected: %s", event.platform, event.reason)

    # -- groups and consent ------------------------------------------------

    def group_unit(self, platform: str, group_id: str, owner_id: str | None) -> str | None:
        explicit = self.config.group_units.get(f"{platform}:{group_id}")
        if explicit:
            return explicit
        if self._unit_of and owner_id:
            return self._unit_of(platform, owner_id)
        return None

    async def _on_connected(self, event: Connected) -> None:
        self.self_ids[event.platform] = event.self_id
        self.self_names[event.platform] = event.self_name
        log.info("%s logged in as %s", event.platform, event.self_id)
        async with self.engine.begin() as conn:
            await store.record_login(
                conn, event.platform, event.self_id, event.self_name, self.clock()
            )
        adapter = self.adapters[event.platform]
        for info in await adapter.list_groups():
            await self._see_group(info)

    async def _see_group(self, info: GroupInfo) -> tuple[int, str]:
        """Register a group; announce it when new; refresh members when active."""
        now = self.clock()
        unit = self.group_unit(info.platform, info.group_id, info.owner_id)
        async with self.engine.begin() as conn:
            gid, state, announce = await store.upsert_group(
                conn,
                info.platform,
                info.group_id,
                name=info.name,
                owner_id=info.owner_id,
                unit=unit,
                now=now,
            )
            if state == "active" and info.members:
                await store.sync_members(conn, info.platform, gid, self._people(info), now)
            period = (
                await conn.execute(
                    select(Group.consented_at, Group.stopped_at).where(Group.id == gid)
                )
            ).one()
        self._groups[(info.platform, info.group_id)] = GroupState(gid, state, unit, *period)
        if announce:
            await self._announce(info.platform, info.group_id, gid)
        return gid, state

    async def _announce(self, platform: str, group_ext: str, gid: int) -> None:
        text = notices.announcement(
            BOT_NAME,
            self.config.consent.contact,
            self.config.privacy.retention_days,
            self.config.privacy.store_text,
        )
        await self._send_group(platform, group_ext, text)
        async with self.engine.begin() as conn:
            await store.set_group_state(conn, gid, "pending", announced_at=self.clock())
            await store.audit(
                conn,
                at=self.clock(),
                platform=platform,
                group_id=gid,
                action="announce",
                outcome="ok",
            )

    async def _group(self, platform: str, group_ext: str, name: str | None) -> tuple[int, str]:
        group = await self._group_state(platform, group_ext, name)
        return group.gid, group.state

    async def _group_state(self, platform: str, group_ext: str, name: str | None) -> GroupState:
        cached = self._groups.get((platform, group_ext))
        if cached:
            return cached
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(
                        Group.id, Group.state, Group.unit, Group.consented_at, Group.stopped_at
                    ).where(Group.platform == platform, Group.external_id == group_ext)
                )
            ).first()
        if row is None:
            # A message from a group we never saw: learn it from the platform and announce.
            try:
                info = await self.adapters[platform].group_info(group_ext)
            except AdapterError:
                info = GroupInfo(platform, group_ext, name or "", None)  # type: ignore[arg-type]
            await self._see_group(info)
            return self._groups[(platform, group_ext)]
        group = GroupState(*row)
        self._groups[(platform, group_ext)] = group
        return group

    def _people(self, info: GroupInfo) -> list[Member]:
        """Group members except the bot itself, which is never measured."""
        me = self.self_ids.get(info.platform)
        return [m for m in info.members if m.user_id != me]

    def _names(self, platform: str) -> tuple[str, ...]:
        """What members may write after "@" to address the bot on ``platform``."""
        names = (BOT_NAME, self.self_names.get(platform, ""), self.self_ids.get(platform, ""))
        return tuple(dict.fromkeys(n for n in names if n))

    async def _on_invitation(self, event: GroupInvitation) -> None:
        adapter = self.adapters[event.platform]
        await adapter.accept_invitation(event.invitation_id)
        async with self.engine.begin() as conn:
            await store.audit(
                conn,
                at=self.clock(),
                platform=event.platform,
                action="invitation",
                outcome="ok",
                detail=f"accepted invitation to {event.group_name}",
            )

    async def _on_member_joined(self, event: MemberJoined) -> None:
        if event.user_id == self.self_ids.get(event.platform):
            info = await self.adapters[event.platform].group_info(event.group_id)
            gid, state = await self._see_group(info)
            if state == "stopped":
                # Invited back after 停止记录: ask for consent afresh.
                async with self.engine.begin() as conn:
                    await store.set_group_state(conn, gid, "pending")
                self._groups.pop((event.platform, event.group_id), None)
                await self._announce(event.platform, event.group_id, gid)
            return
        gid, state = await self._group(event.platform, event.group_id, None)
        if state != "active":
            return
        async with self.engine.begin() as conn:
            ident = await store.resolve_identity(
                conn, event.platform, event.user_id, event.name, event.at
            )
            await store.open_membership(conn, gid, ident, "member", event.at)

    async def _on_member_left(self, event: MemberLeft) -> None:
        gid, state = await self._group(event.platform, event.group_id, None)
        if event.user_id == self.self_ids.get(event.platform):
            async with self.engine.begin() as conn:
                if state != "stopped":
                    await store.set_group_state(conn, gid, "stopped", stopped_at=event.at)
                await store.audit(
                    conn,
                    at=event.at,
                    platform=event.platform,
                    group_id=gid,
                    action="bot_removed",
                    outcome="ok",
                )
            self._groups.pop((event.platform, event.group_id), None)
            return
        if state != "active":
            return
        async with self.engine.begin() as conn:
            ident = await store.resolve_identity(conn, event.platform, event.user_id, "", event.at)
            await store.close_membership(conn, gid, ident.identity_id, event.at)

    async def _on_group_message(self, event: GroupMessage) -> None:
        if event.sender_id == self.self_ids.get(event.platform):
            return
        group = await self._group_state(event.platform, event.group_id, event.group_name)
        command = parse_command(event.text, self._names(event.platform))
        # Consent and opt-out words work as the announcement says, typed alone; other
        # commands (帮助, 我的负担 ...) only when addressed to the bot, so a member's
        # "帮助" is an ordinary message and the help text is not posted into the group.
        addressed = addresses_bot(
            event.text, event.mentions, self.self_ids.get(event.platform), self._names(event.platform)
        )
        if command is not None and (command.name in OPEN_IN_GROUPS or addressed):
            try:
                await self._group_command(event, group.gid, group.state, command)
            except Exception as e:
                if not is_unavailable(e):
                    raise
                self._database_down(e)
                await self._send_group(event.platform, event.group_id, notices.DATABASE_DOWN)
            return
        if not group.covers(event.at):
            # No consent yet, stopped, or sent before the consent and delivered late
            # (catch-up, a slow frame): nothing of it is recorded.
            if group.state == "active":
                _throttle.warning(
                    f"before-consent-{event.platform}-{event.group_id}",
                    "not recording a %s message of group %s sent at %s, before its consent",
                    event.platform,
                    event.group_id,
                    event.at.isoformat(timespec="seconds"),
                )
            return
        ann = self.annotator.annotate(event.text, event.at, event.mention_all, group.unit)
        record = message_record(
            event,
            group.gid,
            ann,
            self_id=self.self_ids.get(event.platform),
            store_text=self.config.privacy.store_text,
        )
        await self.recorder.add(record)

    async def _group_command(self, event: GroupMessage, gid: int, state: str, cmd: Command) -> None:
        platform, now = event.platform, self.clock()
        async with self.engine.connect() as conn:
            owner = (
                await conn.execute(select(Group.owner_external_id).where(Group.id == gid))
            ).scalar_one_or_none()
        authorised = cmd.name in ("consent", "stop") and await may_consent(
            self.adapters[platform],
            event.group_id,
            event.sender_id,
            stored_owner=owner,
            config_admins=self._admins,
        )
        reply: str | None = None
        leave = False
        forgotten: store.Forgotten | None = None
        if cmd.name == "opt_out":
            await self.recorder.flush()  # rows still buffered must be removed too
        async with self.engine.begin() as conn:
            ident = await store.resolve_identity(
                conn, platform, event.sender_id, event.sender_name, event.at
            )
            outcome = "ok"
            match cmd.name:
                case "consent" if not authorised:
                    reply, outcome = notices.NOT_AUTHORISED_CONSENT, "refused"
                case "consent" if state == "active":
                    reply = notices.ALREADY_ACTIVE
                case "consent":
                    # One monitoring period per group is kept: a group consented
                    # again after 停止记录 counts from the new consent.
                    await store.set_group_state(
                        conn,
                        gid,
                        "active",
                        # The consent message's own time (its platform's clock, like the
                        # messages compared with it); never later than now.
                        consented_at=min(event.at, now),
                        consented_by=None if ident.opted_out else event.sender_id,
                        stopped_at=None,
                    )
                    reply = notices.consented(self.config.privacy.store_text)
                case "stop" if not authorised:
                    reply, outcome = notices.NOT_AUTHORISED_STOP, "refused"
                case "stop":
                    await store.set_group_state(conn, gid, "stopped", stopped_at=now)
                    reply, leave = notices.STOPPED, True
                case "opt_out" if ident.opted_out:
                    reply = notices.ALREADY_OPTED_OUT
                case "opt_out":
                    forgotten = await store.opt_out(
                        conn, ident.person_id, now, also=(event.sender_name,)
                    )
                    reply = notices.OPTED_OUT
                case "opt_in":
                    await store.opt_in(
                        conn, ident.person_id, platform, event.sender_id, event.sender_name, now
                    )
                    reply = notices.OPTED_IN
                case "help":
                    reply = notices.help_text(self.config.privacy.store_text)
                case "my_load" | "report_groups":
                    reply = notices.PRIVATE_ONLY
            await store.audit(
                conn,
                at=now,
                platform=platform,
                group_id=gid,
                actor_identity_id=None if cmd.name == "opt_out" else ident.identity_id,
                action=cmd.name,
                outcome=outcome,
            )
        self._groups.pop((platform, event.group_id), None)
        if forgotten is not None:
            await self._forget_outside_database(forgotten)
        if cmd.name == "consent" and outcome == "ok" and state != "active":
            info = await self.adapters[platform].group_info(event.group_id)
            async with self.engine.begin() as conn:
                await store.sync_members(conn, platform, gid, self._people(info), now)
        if cmd.name == "opt_in":
            await self._resync_active_groups(platform)
        if reply:
            await self._send_group(platform, event.group_id, reply)
        if leave:
            self.outbox.leave_group(platform, event.group_id)

    async def _resync_active_groups(self, platform: str) -> None:
        async with self.engine.connect() as conn:
            groups = (
                await conn.execute(
                    select(Group.id, Group.external_id).where(
                        Group.platform == platform, Group.state == "active"
                    )
                )
            ).all()
        for gid, ext in groups:
            info = await self.adapters[platform].group_info(ext)
            async with self.engine.begin() as conn:
                await store.sync_members(conn, platform, gid, self._people(info), self.clock())

    # -- private commands ----------------------------------------------------

    async def _on_private_message(self, event: PrivateMessage) -> None:
        cmd = parse_command(event.text, self._names(event.platform))
        if cmd is None:
            return
        try:
            reply = await self._private_command(event, cmd)
        except Exception as e:
            if not is_unavailable(e):
                raise
            self._database_down(e)
            reply = notices.DATABASE_DOWN
        self.outbox.private_text(event.platform, event.sender_id, reply)

    async def _private_command(self, event: PrivateMessage, cmd: Command) -> str:
        now = self.clock()
        reply: str
        forgotten: store.Forgotten | None = None
        if cmd.name in ("my_load", "opt_out"):
            await self.recorder.flush()
        async with self.engine.begin() as conn:
            ident = await store.resolve_identity(
                conn, event.platform, event.sender_id, event.sender_name, event.at
            )
            if cmd.name == "my_load":
                reply = await conn.run_sync(
                    lambda c: personal_summary(c, ident.person_id, now, self.config.schedule)
                )
            elif cmd.name == "report_groups" and cmd.argument is not None:
                await conn.execute(
                    update(Person)
                    .where(Person.id == ident.person_id)
                    .values(self_reported_groups=cmd.argument, self_reported_at=now)
                )
                reply = notices.SELF_REPORT_OK.format(count=cmd.argument)
            elif cmd.name == "opt_out":
                forgotten = await store.opt_out(
                    conn, ident.person_id, now, also=(event.sender_name,)
                )
                reply = notices.OPTED_OUT
            elif cmd.name == "opt_in":
                await store.opt_in(
                    conn, ident.person_id, event.platform, event.sender_id, event.sender_name, now
                )
                reply = notices.OPTED_IN
            else:
                reply = notices.help_text(self.config.privacy.store_text)
            await store.audit(
                conn,
                at=now,
                platform=event.platform,
                actor_identity_id=None if cmd.name == "opt_out" else ident.identity_id,
                action=f"private_{cmd.name}",
                outcome="ok",
            )
        if forgotten is not None:
            await self._forget_outside_database(forgotten)
        return reply

    async def _forget_outside_database(self, forgotten: store.Forgotten) -> None:
        """After an opt-out: the saved digest files, and SQLite's log of old pages."""
        await forget_in_saved_digests(self.engine, self.config, forgotten)
        await store.truncate_wal(self.engine)

    # -- sending ---------------------------------------------------------------

    async def _send_group(self, platform: str, group_ext: str, text: str) -> None:
        """Queue a group message; event handling never waits for a send."""
        self.outbox.group_text(platform, group_ext, text)

    def _database_down(self, error: BaseException) -> None:
        _throttle.error(
            "command-database-down",
            "a command could not be carried out, the database cannot be written: %s",
            getattr(error, "orig", None) or error,
        )

    async def send_to(self, ref: Ref, text: str, picture: bytes | None = None) -> None:
        """Send a digest now (not queued: delivery must know it went out); see ``send_now``."""
        await send_now(self.adapters, ref, text, picture)
