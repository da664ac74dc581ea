"""Who may consent to recording in a group, or stop it: the decision and nothing else."""

from __future__ import annotations

import logging

from bot.events import AdapterError, ChatAdapter

log = logging.getLogger(__name__)


async def may_consent(
    adapter: ChatAdapter,
    group_id: str,
    user_id: str,
    *,
    stored_owner: str | None,
    config_admins: frozenset[tuple[str, str]],
) -> bool:
    """Whether ``user_id`` may send 同意记录 or 停止记录 in the group.

    The group's owner and admins as the platform's own member list says (a
    frame's ``sender.role`` is only the sender's claim), and the admins named in
    the config. The WeChat adapter reports owners only, so on WeChat that means
    the owner. When the member list cannot be read, the owner stored when the
    group was last listed still counts.
    """
    if (adapter.platform, user_id) in config_admins:
        return True
    try:
        info = await adapter.group_info(group_id)
    except AdapterError as e:
        log.warning("member list of %s group %s unavailable (%s)", adapter.platform, group_id, e)
        return stored_owner is not None and user_id == stored_owner
    role = next((m.role for m in info.members if m.user_id == user_id), None)
    return user_id == info.owner_id or role in ("owner", "admin")
