"""Datasette for inspectors: a read-only, Chinese-described view of a jianfu SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from metrics.db import open_readonly
from metrics.errors import DatabaseError
from metrics.views import VIEWS

__all__ = [
    "CANNED_QUERIES",
    "TABLES",
    "InspectError",
    "build_datasette",
    "build_metadata",
    "check_database",
    "hash_password",
    "serve",
]

USERNAME = "inspector"


class InspectError(DatabaseError):
    """The file cannot be shown to inspectors (missing, not SQLite, not a jianfu database)."""


# Base tables, described for Datasette and the document (docs/inspectors.md).
_ID = "编号"
_PLATFORM = "平台：wechat 微信 / qq QQ"
_GROUP = "工作群编号（groups.id）"
_IDENTITY = "账号编号（identities.id）"
TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "people": (
        "人员（花名册导入，或在群里首次出现时自动建立）。已退出成员的姓名改为“已退出成员”。",
        {
            "id": _ID,
            "name": "姓名（已退出成员为“已退出成员”）",
            "unit": "单位",
            "department": "科室/部门",
            "title": "职务",
            "is_head": "是否单位负责人（周报收件人）",
            "source": "来源：roster 花名册 / auto 在群里自动建立",
            "opted_out": "是否本人已退出统计",
            "opted_out_at": "退出时间（UTC）",
            "self_reported_groups": "本人自报的工作群总数（含机器人不在的群）",
            "self_reported_at": "自报时间（UTC）",
        },
    ),
    "identities": (
        "人员在各平台的账号（微信号、QQ 号）。",
        {
            "id": _ID,
            "platform": _PLATFORM,
            "external_id": "平台上的账号（微信 wxid、QQ 号）；已退出成员为 ~ 开头的假名",
            "display_name": "群里显示的名字（已退出成员清空）",
            "person_id": "所属人员（people.id）",
            "first_seen": "首次见到的时间（UTC）",
        },
    ),
    "groups": (
        "机器人所在的工作群及其监测同意状态。",
        {
            "id": _ID,
            "platform": _PLATFORM,
            "external_id": "平台上的群号",
            "name": "群名称",
            "owner_external_id": "群主账号（群主已退出统计则为空）",
            "unit": "群所属单位",
            "state": "监测状态：pending 待同意 / active 监测中 / stopped 已停止",
            "first_seen": "机器人首次见到该群的时间（UTC）",
            "announced_at": "机器人在群里说明来意的时间（UTC）",
            "consented_at": "群主或管理员同意监测的时间（UTC）",
            "consented_by": "同意人的账号（同意人已退出统计则为空）",
            "stopped_at": "停止监测的时间（UTC）",
            "last_message_at": "最后一条消息时间（UTC）",
            "end_date": "专项工作群声明的结束日期（UTC）",
        },
    ),
    "memberships": (
        "成员在群里的每一段时间：加入时间，离开后有离开时间。",
        {
            "id": _ID,
            "group_id": _GROUP,
            "identity_id": _IDENTITY,
            "role": "群内角色：owner 群主 / admin 管理员 / member 成员",
            "joined_at": "加入（或机器人首次见到）的时间（UTC）",
            "left_at": "离开时间（UTC），仍在群里为空",
        },
    ),
    "messages": (
        "每条群消息的元数据（时间、时段、@、要求类别）；原文仅在运营方开启时保存。",
        {
            "id": _ID,
            "platform": _PLATFORM,
            "platform_msg_id": "平台上的消息编号",
            "group_id": _GROUP,
            "sender_identity_id": "发送人账号（identities.id）；发送人已退出则为空",
            "sent_at": "发送时间（UTC）",
            "week": "ISO 周（按单位所在时区计），如 2026-W47",
            "band": "时段：work 工作时间 / lunch 午休 / evening 晚间 / night 深夜 / "
            "weekend 周末 / holiday 节假日",
            "msg_type": "消息类型：text 文字 / image 图片 / file 文件 等",
            "length": "文字长度（字数）",
            "mention_all": "是否@所有人",
            "mention_count": "单独@的人数",
            "labels": "要求类别标签（逗号分隔）",
            "is_demand": "是否要求类消息",
            "is_ack": "是否“收到”“1”“接龙”之类的回复",
            "deadline_at": "要求的截止时间（UTC）",
            "fingerprint": "文字指纹（SimHash），用于找重复要求",
            "reply_to": "所回复消息的平台编号",
            "text": "原文（仅当运营方开启保存原文；已退出成员的为空）",
        },
    ),
    "message_mentions": (
        "消息单独@了哪些人。",
        {"message_id": "消息编号（messages.id）", "identity_id": "被@的账号（identities.id）"},
    ),
    "audit_events": (
        "同意、停止、退出等操作的审计记录。",
        {
            "id": _ID,
            "at": "发生时间（UTC）",
            "platform": _PLATFORM,
            "group_id": _GROUP,
            "actor_identity_id": "操作人账号；已退出则为空",
            "action": "操作，如 consent / stop / opt_out / opt_in",
            "outcome": "结果：ok 成功 / refused 被拒绝 / error 出错",
            "detail": "说明",
        },
    ),
    "digests": (
        "发给单位负责人的周报：每个单位、每周、每个收件人最多发送一次。",
        {
            "id": _ID,
            "unit": "单位",
            "week": "ISO 周",
            "recipient_platform": "收件人所在平台",
            "recipient_id": "收件人账号（收件人已退出统计则为假名）",
            "status": "状态：sending 发送中 / sent 已发送 / failed 失败",
            "created_at": "本次发送开始的时间（UTC；失败后重发时更新）",
            "sent_at": "发送时间（UTC）",
            "body": "周报正文",
            "error": "失败原因",
        },
    ),
    "pseudonym_salt": (
        "本数据库的随机盐，用来把已退出成员的账号换成不可逆的假名（只有一行）。",
        {"id": _ID, "salt": "随机盐（十六进制）", "created_at": "生成时间（UTC）"},
    ),
    "accounts": (
        "机器人自己在各平台的登录账号。",
        {
            "id": _ID,
            "platform": _PLATFORM,
            "self_id": "机器人的账号",
            "name": "机器人的昵称",
            "first_seen": "首次登录时间（UTC）",
            "last_seen": "最近登录时间（UTC）",
        },
    ),
    "quarantined_messages": (
        "记录时出错、被单独搁置的消息（只有位置和原因，不含发送人和内容），其余消息照常记录。",
        {
            "id": _ID,
            "platform": _PLATFORM,
            "platform_msg_id": "平台上的消息编号",
            "group_id": _GROUP,
            "sent_at": "发送时间（UTC）",
            "quarantined_at": "被搁置的时间（UTC）",
            "reason": "出错原因",
        },
    ),
}

# Canned queries for the questions unit heads and inspectors ask most. An empty
# week means the latest week with messages, so the page shows figures at once.
_WEEK = "COALESCE(NULLIF(:week, ''), (SELECT MAX(week) FROM messages))"
CANNED_QUERIES: dict[str, dict[str, str]] = {
    "heaviest_load": {
        "title": "本周负担最重",
        "description": "按非工作时间被@和非工作时间要求之和排序；周留空为最近一周，写法如 2026-W47。",
        "sql": f"""SELECT week AS 周, person AS 姓名, unit AS 单位, department AS 科室,
       pings_off_hours AS "非工作时间被@", mention_all_off_hours AS "非工作时间@所有人",
       demands_off_hours AS 非工作时间要求, received_off_hours AS 非工作时间收到消息,
       received AS 收到消息, groups_with_messages AS 有消息的群数
FROM v_person_week WHERE week = {_WEEK}
ORDER BY pings_off_hours + demands_off_hours DESC, received_off_hours DESC, person
LIMIT 50""",
    },
    "off_hours_demand_senders": {
        "title": "非工作时间发送要求最多的人",
        "description": "非工作时间发出的要求类消息，按发送人统计；已退出成员合并为“匿名”或“已退出成员”。",
        "sql": f"""SELECT sender AS 发送人, sender_unit AS 单位, COUNT(*) AS 非工作时间要求,
       SUM(CASE WHEN mention_all THEN 1 ELSE 0 END) AS "其中@所有人",
       COUNT(DISTINCT group_id) AS 涉及群数
FROM v_demands WHERE week = {_WEEK} AND band <> 'work'
GROUP BY sender, sender_unit ORDER BY COUNT(*) DESC, sender LIMIT 50""",
    },
    "repeated_demands": {
        "title": "重复要求",
        "description": "7 天内在不同群或由不同人重复发出的相同要求（R6）。",
        "sql": f"""SELECT first_group AS 先发群, first_sender AS 先发人, repeat_group AS 重复群,
       repeat_sender AS 重复发出人, days_apart AS 相隔天数, labels AS 类别,
       first_sent_at_utc AS "先发时间(UTC)", repeat_sent_at_utc AS "重复时间(UTC)"
FROM v_repeated_demands WHERE week = {_WEEK} ORDER BY repeat_sent_at_utc""",
    },
    "idle_groups": {
        "title": "沉寂群",
        "description": "监测中但 30 天以上没有消息、或已过声明结束日期的群（R3：专项工作群结束后及时解散）。",
        "sql": """SELECT group_name AS 群名称, platform AS 平台, unit AS 单位, days_idle AS 沉寂天数,
       last_message_at_utc AS "最后消息(UTC)", member_count AS 成员数, past_end_date AS 已过结束日期
FROM v_group_activity WHERE state = 'active' AND (days_idle >= 30 OR past_end_date = 1)
ORDER BY days_idle DESC""",
    },
    "overlapping_groups": {
        "title": "重叠群",
        "description": "成员重叠率在 0.8 以上的两个监测中的群（R2：同类型工作群整合）；只看 5 人以上的群。",
        "sql": """SELECT group_a AS 群甲, group_b AS 群乙, members_a AS 群甲人数, members_b AS 群乙人数,
       shared_members AS 共同成员, overlap_ratio AS 重叠率
FROM v_group_overlap WHERE overlap_ratio >= 0.8 AND members_a >= 5 AND members_b >= 5
ORDER BY overlap_ratio DESC, shared_members DESC""",
    },
}


def check_database(path: Path) -> None:
    """Raise InspectError unless ``path`` is a jianfu SQLite file migrated to the views."""
    try:
        open_readonly(f"sqlite:///{path}").dispose()
    except DatabaseError as e:
        raise InspectError(str(e)) from e


def hash_password(password: str) -> str:
    """The PBKDF2 hash datasette-auth-passwords expects for ``password``."""
    from datasette_auth_passwords.utils import (  # type: ignore[import-untyped]
        hash_password as _hash,
    )

    return str(_hash(password))


def build_metadata(database: str, password_hash: str | None = None) -> dict[str, Any]:
    """Datasette metadata: Chinese titles, table/view/column descriptions, canned queries.

    With a password hash the whole instance needs a login (user ``inspector``) at /-/login.
    """
    tables: dict[str, Any] = {
        name: {"description": desc, **({"columns": cols} if cols else {})}
        for name, (desc, cols) in TABLES.items()
    }
    for name, view in VIEWS.items():
        tables[name] = {"description": view.description, "columns": dict(view.columns)}
    metadata: dict[str, Any] = {
        "title": "减负 jianfu：工作群负担数据（只读）",
        "description": (
            "工作群消息元数据的只读查询界面。视图（v_ 开头）是给督查和单位负责人用的稳定查询面，"
            "时间列均为 UTC（北京时间 = UTC + 8 小时）。已退出成员不出现姓名。"
            "各表和视图的说明见 docs/inspectors.md。"
        ),
        "databases": {
            database: {
                "description": "减负 jianfu 数据库",
                "tables": tables,
                "queries": {key: dict(q) for key, q in CANNED_QUERIES.items()},
            }
        },
    }
    if password_hash is not None:
        metadata["allow"] = {"id": USERNAME}
        metadata["plugins"] = {
            "datasette-auth-passwords": {f"{USERNAME}_password_hash": password_hash}
        }
    return metadata


def build_datasette(
    path: Path, *, password_hash: str | None = None, immutable: bool = False
) -> Any:
    """A Datasette instance over ``path``, opened read-only (``?mode=ro``) or immutable.

    Read-only suits a file the bot is still writing; immutable (no locking, no change
    detection) suits a copy nobody writes.
    """
    from datasette.app import Datasette  # type: ignore[import-untyped]

    check_database(path)
    files = {"immutables": [str(path)]} if immutable else {"files": [str(path)]}
    return Datasette(
        **files,
        metadata=build_metadata(path.stem, password_hash),
        settings={"sql_time_limit_ms": 15000, "allow_download": False},
    )


def serve(datasette: Any, port: int = 8001) -> None:
    """Run Datasette on 127.0.0.1 until interrupted (as ``datasette serve`` does)."""
    import uvicorn

    asyncio.run(datasette.invoke_startup())
    uvicorn.run(datasette.app(), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
