"""The inspectors' SQL views: their SQL, Chinese descriptions and per-column descriptions.

One source for the docs test, the Datasette metadata and the drift test. The migration
``alembic/versions/0002_inspector_views.py`` holds a frozen copy of the SQL (a later
change here must come with a new migration that replaces the view; tests/test_views.py
fails until it does).

The SQL is portable between SQLite and PostgreSQL except for day arithmetic, written
as two tokens that ``render`` expands per dialect:
``DAYS_BETWEEN(a, b)`` (days from moment a to moment b, fractional) and ``UTC_NOW``.
Stored moments are naive UTC (see ``metrics.models.UTCDateTime``), so every ``*_utc``
column is UTC, not local time.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from metrics.errors import MetricsError

__all__ = ["ANONYMOUS", "OPTED_OUT", "VIEWS", "View", "create_sql", "render"]

ANONYMOUS = "匿名"
OPTED_OUT = "已退出成员"


class View(NamedTuple):
    sql: str
    description: str
    columns: dict[str, str]


# A person shown by name only while they have not opted out; an unknown sender
# (opted out before the message, so sender_identity_id is NULL) is 匿名.
def _name(person: str, ident: str) -> str:
    return (
        f"CASE WHEN {ident}.id IS NULL THEN '{ANONYMOUS}' "
        f"WHEN {person}.opted_out THEN '{OPTED_OUT}' ELSE {person}.name END"
    )


def _unit(person: str) -> str:
    return f"CASE WHEN {person}.opted_out THEN NULL ELSE {person}.unit END"


_PERSON_WEEK = """
WITH received AS (
    SELECT DISTINCT m.week, i.person_id, m.id, m.group_id, m.band, m.mention_all, m.is_demand
    FROM messages m
    JOIN memberships ms ON ms.group_id = m.group_id
        AND ms.joined_at <= m.sent_at AND (ms.left_at IS NULL OR ms.left_at > m.sent_at)
    JOIN identities i ON i.id = ms.identity_id
    LEFT JOIN identities si ON si.id = m.sender_identity_id
    WHERE si.person_id IS NULL OR si.person_id <> i.person_id
),
pings AS (
    SELECT DISTINCT m.week, i.person_id, m.id
    FROM message_mentions mm
    JOIN messages m ON m.id = mm.message_id
    JOIN identities i ON i.id = mm.identity_id
    LEFT JOIN identities si ON si.id = m.sender_identity_id
    WHERE m.band <> 'work' AND (si.person_id IS NULL OR si.person_id <> i.person_id)
),
r AS (
    SELECT week, person_id,
           COUNT(DISTINCT group_id) AS n_groups,
           COUNT(*) AS received,
           SUM(CASE WHEN band <> 'work' THEN 1 ELSE 0 END) AS received_off,
           SUM(CASE WHEN band <> 'work' AND mention_all THEN 1 ELSE 0 END) AS all_off,
           SUM(CASE WHEN is_demand THEN 1 ELSE 0 END) AS demands,
           SUM(CASE WHEN is_demand AND band <> 'work' THEN 1 ELSE 0 END) AS demands_off
    FROM received GROUP BY week, person_id
),
pg AS (SELECT week, person_id, COUNT(*) AS pings FROM pings GROUP BY week, person_id),
k AS (SELECT week, person_id FROM r UNION SELECT week, person_id FROM pg)
SELECT k.week AS week, p.id AS person_id, p.name AS person, p.unit AS unit,
       p.department AS department,
       COALESCE(r.n_groups, 0) AS groups_with_messages,
       COALESCE(r.received, 0) AS received,
       COALESCE(r.received_off, 0) AS received_off_hours,
       COALESCE(pg.pings, 0) AS pings_off_hours,
       COALESCE(r.all_off, 0) AS mention_all_off_hours,
       COALESCE(r.demands, 0) AS demands,
       COALESCE(r.demands_off, 0) AS demands_off_hours
FROM k
JOIN people p ON p.id = k.person_id
LEFT JOIN r ON r.week = k.week AND r.person_id = k.person_id
LEFT JOIN pg ON pg.week = k.week AND pg.person_id = k.person_id
WHERE NOT p.opted_out
"""

_GROUP_WEEK = """
SELECT m.week AS week, g.id AS group_id, g.name AS group_name, g.platform AS platform,
       g.unit AS unit, g.state AS state,
       COUNT(*) AS messages,
       SUM(CASE WHEN m.band <> 'work' THEN 1 ELSE 0 END) AS off_hours,
       SUM(CASE WHEN m.band IN ('evening', 'night') THEN 1 ELSE 0 END) AS evening_night,
       SUM(CASE WHEN m.band IN ('weekend', 'holiday') THEN 1 ELSE 0 END) AS weekend_holiday,
       SUM(CASE WHEN m.mention_all AND m.band <> 'work' THEN 1 ELSE 0 END)
           AS mention_all_off_hours,
       SUM(CASE WHEN m.is_demand THEN 1 ELSE 0 END) AS demands,
       SUM(CASE WHEN m.is_demand AND m.band <> 'work' THEN 1 ELSE 0 END) AS demands_off_hours,
       SUM(CASE WHEN m.is_ack THEN 1 ELSE 0 END) AS acks,
       COUNT(DISTINCT m.sender_identity_id) AS named_senders
FROM messages m
JOIN groups g ON g.id = m.group_id
GROUP BY m.week, g.id, g.name, g.platform, g.unit, g.state
"""

_AFTER_HOURS_PINGS = f"""
SELECT m.id AS message_id, m.sent_at AS sent_at_utc, m.week AS week, m.band AS band,
       g.id AS group_id, g.name AS group_name,
       {_name("sp", "si")} AS sender, {_unit("sp")} AS sender_unit,
       {_name("tp", "ti")} AS target, {_unit("tp")} AS target_unit,
       m.is_demand AS is_demand, m.labels AS labels
FROM message_mentions mm
JOIN messages m ON m.id = mm.message_id
JOIN groups g ON g.id = m.group_id
JOIN identities ti ON ti.id = mm.identity_id
JOIN people tp ON tp.id = ti.person_id
LEFT JOIN identities si ON si.id = m.sender_identity_id
LEFT JOIN people sp ON sp.id = si.person_id
WHERE m.band <> 'work'
UNION ALL
SELECT m.id, m.sent_at, m.week, m.band, g.id, g.name,
       {_name("sp", "si")}, {_unit("sp")},
       '@所有人', NULL, m.is_demand, m.labels
FROM messages m
JOIN groups g ON g.id = m.group_id
LEFT JOIN identities si ON si.id = m.sender_identity_id
LEFT JOIN people sp ON sp.id = si.person_id
WHERE m.band <> 'work' AND m.mention_all
"""

_DEMANDS = f"""
SELECT m.id AS message_id, m.sent_at AS sent_at_utc, m.week AS week, m.band AS band,
       g.id AS group_id, g.name AS group_name,
       {_name("sp", "si")} AS sender, {_unit("sp")} AS sender_unit,
       m.labels AS labels, m.mention_all AS mention_all, m.mention_count AS mention_count,
       m.deadline_at AS deadline_at_utc,
       ROUND(CAST(DAYS_BETWEEN(m.sent_at, m.deadline_at) * 24 AS NUMERIC), 1) AS hours_to_deadline,
       m.fingerprint AS fingerprint,
       CASE WHEN si.id IS NULL OR sp.opted_out THEN NULL ELSE m.text END AS text
FROM messages m
JOIN groups g ON g.id = m.group_id
LEFT JOIN identities si ON si.id = m.sender_identity_id
LEFT JOIN people sp ON sp.id = si.person_id
WHERE m.is_demand
"""

_REPEATED_DEMANDS = f"""
SELECT a.id AS first_message_id, b.id AS repeat_message_id,
       a.sent_at AS first_sent_at_utc, b.sent_at AS repeat_sent_at_utc,
       ROUND(CAST(DAYS_BETWEEN(a.sent_at, b.sent_at) AS NUMERIC), 2) AS days_apart,
       b.week AS week,
       ga.name AS first_group, gb.name AS repeat_group,
       {_name("pa", "ia")} AS first_sender, {_name("pb", "ib")} AS repeat_sender,
       CASE WHEN a.group_id <> b.group_id THEN 1 ELSE 0 END AS other_group,
       b.labels AS labels, a.fingerprint AS fingerprint
FROM messages a
JOIN messages b ON b.fingerprint = a.fingerprint AND b.id <> a.id
    AND (b.sent_at > a.sent_at OR (b.sent_at = a.sent_at AND b.id > a.id))
JOIN groups ga ON ga.id = a.group_id
JOIN groups gb ON gb.id = b.group_id
LEFT JOIN identities ia ON ia.id = a.sender_identity_id
LEFT JOIN people pa ON pa.id = ia.person_id
LEFT JOIN identities ib ON ib.id = b.sender_identity_id
LEFT JOIN people pb ON pb.id = ib.person_id
WHERE a.is_demand AND b.is_demand AND a.fingerprint IS NOT NULL
  AND DAYS_BETWEEN(a.sent_at, b.sent_at) <= 7
  AND (a.group_id <> b.group_id
       OR a.sender_identity_id IS NULL OR b.sender_identity_id IS NULL
       OR a.sender_identity_id <> b.sender_identity_id)
"""

_GROUP_ACTIVITY = """
WITH lm AS (
    SELECT g.id, COALESCE(g.last_message_at,
                          (SELECT MAX(m.sent_at) FROM messages m WHERE m.group_id = g.id))
               AS last_at
    FROM groups g
),
members AS (
    SELECT ms.group_id, COUNT(DISTINCT i.person_id) AS n
    FROM memberships ms JOIN identities i ON i.id = ms.identity_id
    WHERE ms.left_at IS NULL GROUP BY ms.group_id
)
SELECT g.id AS group_id, g.name AS group_name, g.platform AS platform, g.unit AS unit,
       g.state AS state, g.first_seen AS first_seen_utc, g.consented_at AS consented_at_utc,
       g.stopped_at AS stopped_at_utc, g.end_date AS end_date_utc,
       lm.last_at AS last_message_at_utc,
       ROUND(CAST(DAYS_BETWEEN(COALESCE(lm.last_at, g.consented_at, g.first_seen), UTC_NOW)
                  AS NUMERIC), 1) AS days_idle,
       COALESCE(members.n, 0) AS member_count,
       CASE WHEN DAYS_BETWEEN(g.end_date, UTC_NOW) > 0 THEN 1 ELSE 0 END AS past_end_date
FROM groups g
JOIN lm ON lm.id = g.id
LEFT JOIN members ON members.group_id = g.id
"""

_GROUP_OVERLAP = """
WITH current_members AS (
    SELECT DISTINCT ms.group_id, i.person_id
    FROM memberships ms
    JOIN identities i ON i.id = ms.identity_id
    JOIN groups g ON g.id = ms.group_id
    WHERE ms.left_at IS NULL AND g.state = 'active'
),
sizes AS (SELECT group_id, COUNT(*) AS n FROM current_members GROUP BY group_id),
shared AS (
    SELECT a.group_id AS ga, b.group_id AS gb, COUNT(*) AS n
    FROM current_members a
    JOIN current_members b ON b.person_id = a.person_id AND b.group_id > a.group_id
    GROUP BY a.group_id, b.group_id
)
SELECT shared.ga AS group_a_id, g1.name AS group_a, shared.gb AS group_b_id, g2.name AS group_b,
       s1.n AS members_a, s2.n AS members_b, shared.n AS shared_members,
       ROUND(CAST(1.0 * shared.n / CASE WHEN s1.n < s2.n THEN s1.n ELSE s2.n END AS NUMERIC), 2)
           AS overlap_ratio
FROM shared
JOIN groups g1 ON g1.id = shared.ga
JOIN groups g2 ON g2.id = shared.gb
JOIN sizes s1 ON s1.group_id = shared.ga
JOIN sizes s2 ON s2.group_id = shared.gb
"""

_AUDIT = f"""
SELECT e.id AS event_id, e.at AS at_utc, e.platform AS platform, e.group_id AS group_id,
       g.name AS group_name, {_name("p", "i")} AS actor, {_unit("p")} AS actor_unit,
       e.action AS action, e.outcome AS outcome, e.detail AS detail
FROM audit_events e
LEFT JOIN groups g ON g.id = e.group_id
LEFT JOIN identities i ON i.id = e.actor_identity_id
LEFT JOIN people p ON p.id = i.person_id
"""

_WEEK = "ISO 周（按单位所在时区计），如 2026-W47"
_SENT = "发送时间（UTC，不是北京时间；北京时间 = UTC + 8 小时）"
_BAND = (
    "时段：work 工作时间 / lunch 午休 / evening 晚间 / night 深夜 / weekend 周末 / holiday 节假日"
)
_GROUP_ID = "工作群编号（groups.id）"

VIEWS: dict[str, View] = {
    "v_person_week": View(
        _PERSON_WEEK,
        "每人每周负担：所在工作群收到的消息、非工作时间消息、@提醒和要求。已退出成员不出现。",
        {
            "week": _WEEK,
            "person_id": "人员编号（people.id）",
            "person": "姓名",
            "unit": "单位",
            "department": "科室/部门",
            "groups_with_messages": "本周有消息的受监测工作群数（本人所在）",
            "received": "收到的消息数（所在群里他人发的消息）",
            "received_off_hours": "其中非工作时间（午休、晚间、深夜、周末、节假日）收到的",
            "pings_off_hours": "非工作时间被单独@的次数",
            "mention_all_off_hours": "非工作时间所在群里的@所有人次数",
            "demands": "所在群里的要求类消息数（收到请回复、接龙、报送、拍照打卡等）",
            "demands_off_hours": "其中非工作时间发出的要求",
        },
    ),
    "v_group_week": View(
        _GROUP_WEEK,
        "每个工作群每周的消息量、非工作时间消息、@所有人、要求和回复“收到”的数量。",
        {
            "week": _WEEK,
            "group_id": _GROUP_ID,
            "group_name": "群名称",
            "platform": "平台：wechat 微信 / qq QQ",
            "unit": "群所属单位",
            "state": "监测状态：pending 待同意 / active 监测中 / stopped 已停止",
            "messages": "消息总数",
            "off_hours": "非工作时间消息数",
            "evening_night": "晚间和深夜消息数",
            "weekend_holiday": "周末和节假日消息数",
            "mention_all_off_hours": "非工作时间@所有人次数",
            "demands": "要求类消息数",
            "demands_off_hours": "非工作时间要求类消息数",
            "acks": "“收到”“1”“接龙”等回复数",
            "named_senders": "发过消息的实名成员数（不含已退出成员）",
        },
    ),
    "v_after_hours_pings": View(
        _AFTER_HOURS_PINGS,
        "非工作时间的每一次@提醒（单独@某人，或@所有人），含发送人和被@的人。时间为 UTC。",
        {
            "message_id": "消息编号（messages.id）",
            "sent_at_utc": _SENT,
            "week": _WEEK,
            "band": _BAND,
            "group_id": _GROUP_ID,
            "group_name": "群名称",
            "sender": "发送人（已退出成员显示为“已退出成员”，未知为“匿名”）",
            "sender_unit": "发送人单位",
            "target": "被@的人；@所有人时为“@所有人”",
            "target_unit": "被@的人的单位",
            "is_demand": "是否要求类消息（1 是 / 0 否）",
            "labels": "要求类别标签（逗号分隔，如 ack,deadline,material）",
        },
    ),
    "v_demands": View(
        _DEMANDS,
        "每一条要求类消息：类别标签、截止时间和发送人。时间为 UTC。",
        {
            "message_id": "消息编号（messages.id）",
            "sent_at_utc": _SENT,
            "week": _WEEK,
            "band": _BAND,
            "group_id": _GROUP_ID,
            "group_name": "群名称",
            "sender": "发送人（已退出成员显示为“已退出成员”，未知为“匿名”）",
            "sender_unit": "发送人单位",
            "labels": "要求类别标签（逗号分隔，如 ack,deadline,material,proof）",
            "mention_all": "是否@所有人（1 是 / 0 否）",
            "mention_count": "单独@的人数",
            "deadline_at_utc": "要求的截止时间（UTC），没有写明则为空",
            "hours_to_deadline": "从发送到截止的小时数",
            "fingerprint": "文字指纹（SimHash），相同指纹表示内容相同或几乎相同",
            "text": "消息原文（仅当运营方开启保存原文；已退出成员的为空）",
        },
    ),
    "v_repeated_demands": View(
        _REPEATED_DEMANDS,
        "7 天内在不同群或由不同人重复发出的相同要求（文字指纹完全相同）。"
        "相近但不完全相同的重复要求由周报和命令行按指纹距离另行找出。",
        {
            "first_message_id": "先发的那条要求的消息编号",
            "repeat_message_id": "后发的重复要求的消息编号",
            "first_sent_at_utc": "先发时间（UTC）",
            "repeat_sent_at_utc": "重复发出时间（UTC）",
            "days_apart": "相隔天数",
            "week": "重复要求所在的 ISO 周",
            "first_group": "先发所在群",
            "repeat_group": "重复所在群",
            "first_sender": "先发人",
            "repeat_sender": "重复发出人",
            "other_group": "是否在另一个群（1 是 / 0 同一群、不同人）",
            "labels": "重复要求的类别标签",
            "fingerprint": "共同的文字指纹",
        },
    ),
    "v_group_activity": View(
        _GROUP_ACTIVITY,
        "群健康度：最后一条消息、沉寂天数、现有成员数和监测状态，用于找出该解散的群。",
        {
            "group_id": _GROUP_ID,
            "group_name": "群名称",
            "platform": "平台：wechat 微信 / qq QQ",
            "unit": "群所属单位",
            "state": "监测状态：pending 待同意 / active 监测中 / stopped 已停止",
            "first_seen_utc": "机器人首次见到该群的时间（UTC）",
            "consented_at_utc": "群主或管理员同意监测的时间（UTC）",
            "stopped_at_utc": "停止监测的时间（UTC）",
            "end_date_utc": "专项工作群声明的结束日期（UTC）",
            "last_message_at_utc": "最后一条消息时间（UTC）",
            "days_idle": "距今沉寂天数（从最后一条消息算起；没有消息则从同意监测或首次见到算起）",
            "member_count": "现有成员数（按人计，不含机器人）",
            "past_end_date": "是否已过声明的结束日期（1 是 / 0 否）",
        },
    ),
    "v_group_overlap": View(
        _GROUP_OVERLAP,
        "两两监测中的工作群的成员重叠：共同成员数和重叠率（共同成员 ÷ 较小群人数）。",
        {
            "group_a_id": "群甲编号",
            "group_a": "群甲名称",
            "group_b_id": "群乙编号",
            "group_b": "群乙名称",
            "members_a": "群甲现有成员数",
            "members_b": "群乙现有成员数",
            "shared_members": "共同成员数",
            "overlap_ratio": "重叠率：共同成员数 ÷ 较小群的人数，1.0 表示小群完全包含在大群里",
        },
    ),
    "v_audit": View(
        _AUDIT,
        "同意监测、停止监测、退出和加入等操作的审计记录。时间为 UTC。",
        {
            "event_id": "事件编号",
            "at_utc": "发生时间（UTC）",
            "platform": "平台：wechat 微信 / qq QQ",
            "group_id": _GROUP_ID,
            "group_name": "群名称",
            "actor": "操作人（已退出成员显示为“已退出成员”，未知为“匿名”）",
            "actor_unit": "操作人单位",
            "action": "操作，如 consent 同意监测 / stop 停止 / opt_out 本人退出 / opt_in 重新加入",
            "outcome": "结果：ok 成功 / refused 被拒绝 / error 出错",
            "detail": "说明",
        },
    ),
}

_DAYS_RE = re.compile(r"DAYS_BETWEEN\(((?:[^(),]|\([^()]*\))+),\s*((?:[^(),]|\([^()]*\))+)\)")


def render(sql: str, dialect: str) -> str:
    """Expand the day-arithmetic tokens for ``dialect`` ("sqlite" or "postgresql")."""
    if dialect == "sqlite":
        days, now = r"(julianday(\2) - julianday(\1))", "'now'"
    elif dialect == "postgresql":
        days = r"(EXTRACT(EPOCH FROM ((\2) - (\1))) / 86400.0)"
        now = "(now() AT TIME ZONE 'UTC')"
    else:
        raise MetricsError(f'views: dialect "{dialect}" is not supported (sqlite, postgresql)')
    # UTC_NOW only ever appears inside DAYS_BETWEEN; julianday('now') is UTC in SQLite.
    return _DAYS_RE.sub(days, sql).replace("UTC_NOW", now)


def create_sql(name: str, dialect: str) -> str:
    """The CREATE VIEW statement for one view of ``VIEWS``."""
    return f"CREATE VIEW {name} AS {render(VIEWS[name].sql, dialect).strip()}"
