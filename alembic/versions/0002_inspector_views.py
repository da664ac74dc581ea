"""inspector views (v_person_week, v_group_week, ...)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 00:40:00

The SQL below is a frozen copy of ``metrics/views.py`` as rendered for each dialect,
so this migration keeps creating exactly these views however that module changes.
Changing a view means a new migration that drops and re-creates it with the new SQL;
tests/test_views.py fails while ``metrics/views.py`` and the head migrations disagree.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE: dict[str, str] = {
    "v_person_week": """
CREATE VIEW v_person_week AS WITH received AS (
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
""",
    "v_group_week": """
CREATE VIEW v_group_week AS SELECT m.week AS week, g.id AS group_id, g.name AS group_name, g.platform AS platform,
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
""",
    "v_after_hours_pings": """
CREATE VIEW v_after_hours_pings AS SELECT m.id AS message_id, m.sent_at AS sent_at_utc, m.week AS week, m.band AS band,
       g.id AS group_id, g.name AS group_name,
       CASE WHEN si.id IS NULL THEN '匿名' WHEN sp.opted_out THEN '已退出成员' ELSE sp.name END AS sender, CASE WHEN sp.opted_out THEN NULL ELSE sp.unit END AS sender_unit,
       CASE WHEN ti.id IS NULL THEN '匿名' WHEN tp.opted_out THEN '已退出成员' ELSE tp.name END AS target, CASE WHEN tp.opted_out THEN NULL ELSE tp.unit END AS target_unit,
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
       CASE WHEN si.id IS NULL THEN '匿名' WHEN sp.opted_out THEN '已退出成员' ELSE sp.name END, CASE WHEN sp.opted_out THEN NULL ELSE sp.unit END,
       '@所有人', NULL, m.is_demand, m.labels
FROM messages m
JOIN groups g ON g.id = m.group_id
LEFT JOIN identities si ON si.id = m.sender_identity_id
LEFT JOIN people sp ON sp.id = si.person_id
WHERE m.band <> 'work' AND m.mention_all
""",
    "v_demands": """
CREATE VIEW v_demands AS SELECT m.id AS message_id, m.sent_at AS sent_at_utc, m.week AS week, m.band AS band,
       g.id AS group_id, g.name AS group_name,
       CASE WHEN si.id IS NULL THEN '匿名' WHEN sp.opted_out THEN '已退出成员' ELSE sp.name END AS sender, CASE WHEN sp.opted_out THEN NULL ELSE sp.unit END AS sender_unit,
       m.labels AS labels, m.mention_all AS mention_all, m.mention_count AS mention_count,
       m.deadline_at AS deadline_at_utc,
       ROUND(CAST((julianday(m.deadline_at) - julianday(m.sent_at)) * 24 AS NUMERIC), 1) AS hours_to_deadline,
       m.fingerprint AS fingerprint,
       CASE WHEN si.id IS NULL OR sp.opted_out THEN NULL ELSE m.text END AS text
FROM messages m
JOIN groups g ON g.id = m.group_id
LEFT JOIN identities si ON si.id = m.sender_identity_id
LEFT JOIN people sp ON sp.id = si.person_id
WHERE m.is_demand
""",
    "v_repeated_demands": """
CREATE VIEW v_repeated_demands AS SELECT a.id AS first_message_id, b.id AS repeat_message_id,
       a.sent_at AS first_sent_at_utc, b.sent_at AS repeat_sent_at_utc,
       ROUND(CAST((julianday(b.sent_at) - julianday(a.sent_at)) AS NUMERIC), 2) AS days_apart,
       b.week AS week,
       ga.name AS first_group, gb.name AS repeat_group,
       CASE WHEN ia.id IS NULL THEN '匿名' WHEN pa.opted_out THEN '已退出成员' ELSE pa.name END AS first_sender, CASE WHEN ib.id IS NULL THEN '匿名' WHEN pb.opted_out THEN '已退出成员' ELSE pb.name END AS repeat_sender,
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
  AND (julianday(b.sent_at) - julianday(a.sent_at)) <= 7
  AND (a.group_id <> b.group_id
       OR a.sender_identity_id IS NULL OR b.sender_identity_id IS NULL
       OR a.sender_identity_id <> b.sender_identity_id)
""",
    "v_group_activity": """
CREATE VIEW v_group_activity AS WITH lm AS (
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
       ROUND(CAST((julianday('now') - julianday(COALESCE(lm.last_at, g.consented_at, g.first_seen)))
                  AS NUMERIC), 1) AS days_idle,
       COALESCE(members.n, 0) AS member_count,
       CASE WHEN (julianday('now') - julianday(g.end_date)) > 0 THEN 1 ELSE 0 END AS past_end_date
FROM groups g
JOIN lm ON lm.id = g.id
LEFT JOIN members ON members.group_id = g.id
""",
    "v_group_overlap": """
CREATE VIEW v_group_overlap AS WITH current_members AS (
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
""",
    "v_audit": """
CREATE VIEW v_audit AS SELECT e.id AS event_id, e.at AS at_utc, e.platform AS platform, e.group_id AS group_id,
       g.name AS group_name, CASE WHEN i.id IS NULL THEN '匿名' WHEN p.opted_out THEN '已退出成员' ELSE p.name END AS actor, CASE WHEN p.opted_out THEN NULL ELSE p.unit END AS actor_unit,
       e.action AS action, e.outcome AS outcome, e.detail AS detail
FROM audit_events e
LEFT JOIN groups g ON g.id = e.group_id
LEFT JOIN identities i ON i.id = e.actor_identity_id
LEFT JOIN people p ON p.id = i.person_id
""",
}

POSTGRESQL: dict[str, str] = {
    "v_person_week": """
CREATE VIEW v_person_week AS WITH received AS (
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
""",
    "v_group_week": """
CREATE VIEW v_group_week AS SELECT m.week AS week, g.id AS group_id, g.name AS group_name, g.platform AS platform,
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
""",
    "v_after_hours_pings": """
CREATE VIEW v_after_hours_pings AS SELECT m.id AS message_id, m.sent_at AS sent_at_utc, m.week AS week, m.band AS band,
       g.id AS group_id, g.name AS group_name,
       CASE WHEN si.id IS NULL THEN '匿名' WHEN sp.opted_out THEN '已退出成员' ELSE sp.name END AS sender, CASE WHEN sp.opted_out THEN NULL ELSE sp.unit END AS sender_unit,
       CASE WHEN ti.id IS NULL THEN '匿名' WHEN tp.opted_out THEN '已退出成员' ELSE tp.name END AS target, CASE WHEN tp.opted_out THEN NULL ELSE tp.unit END AS target_unit,
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
       CASE WHEN si.id IS NULL THEN '匿名' WHEN sp.opted_out THEN '已退出成员' ELSE sp.name END, CASE WHEN sp.opted_out THEN NULL ELSE sp.unit END,
       '@所有人', NULL, m.is_demand, m.labels
FROM messages m
JOIN groups g ON g.id = m.group_id
LEFT JOIN identities si ON si.id = m.sender_identity_id
LEFT JOIN people sp ON sp.id = si.person_id
WHERE m.band <> 'work' AND m.mention_all
""",
    "v_demands": """
CREATE VIEW v_demands AS SELECT m.id AS message_id, m.sent_at AS sent_at_utc, m.week AS week, m.band AS band,
       g.id AS group_id, g.name AS group_name,
       CASE WHEN si.id IS NULL THEN '匿名' WHEN sp.opted_out THEN '已退出成员' ELSE sp.name END AS sender, CASE WHEN sp.opted_out THEN NULL ELSE sp.unit END AS sender_unit,
       m.labels AS labels, m.mention_all AS mention_all, m.mention_count AS mention_count,
       m.deadline_at AS deadline_at_utc,
       ROUND(CAST((EXTRACT(EPOCH FROM ((m.deadline_at) - (m.sent_at))) / 86400.0) * 24 AS NUMERIC), 1) AS hours_to_deadline,
       m.fingerprint AS fingerprint,
       CASE WHEN si.id IS NULL OR sp.opted_out THEN NULL ELSE m.text END AS text
FROM messages m
JOIN groups g ON g.id = m.group_id
LEFT JOIN identities si ON si.id = m.sender_identity_id
LEFT JOIN people sp ON sp.id = si.person_id
WHERE m.is_demand
""",
    "v_repeated_demands": """
CREATE VIEW v_repeated_demands AS SELECT a.id AS first_message_id, b.id AS repeat_message_id,
       a.sent_at AS first_sent_at_utc, b.sent_at AS repeat_sent_at_utc,
       ROUND(CAST((EXTRACT(EPOCH FROM ((b.sent_at) - (a.sent_at))) / 86400.0) AS NUMERIC), 2) AS days_apart,
       b.week AS week,
       ga.name AS first_group, gb.name AS repeat_group,
       CASE WHEN ia.id IS NULL THEN '匿名' WHEN pa.opted_out THEN '已退出成员' ELSE pa.name END AS first_sender, CASE WHEN ib.id IS NULL THEN '匿名' WHEN pb.opted_out THEN '已退出成员' ELSE pb.name END AS repeat_sender,
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
  AND (EXTRACT(EPOCH FROM ((b.sent_at) - (a.sent_at))) / 86400.0) <= 7
  AND (a.group_id <> b.group_id
       OR a.sender_identity_id IS NULL OR b.sender_identity_id IS NULL
       OR a.sender_identity_id <> b.sender_identity_id)
""",
    "v_group_activity": """
CREATE VIEW v_group_activity AS WITH lm AS (
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
       ROUND(CAST((EXTRACT(EPOCH FROM (((now() AT TIME ZONE 'UTC')) - (COALESCE(lm.last_at, g.consented_at, g.first_seen)))) / 86400.0)
                  AS NUMERIC), 1) AS days_idle,
       COALESCE(members.n, 0) AS member_count,
       CASE WHEN (EXTRACT(EPOCH FROM (((now() AT TIME ZONE 'UTC')) - (g.end_date))) / 86400.0) > 0 THEN 1 ELSE 0 END AS past_end_date
FROM groups g
JOIN lm ON lm.id = g.id
LEFT JOIN members ON members.group_id = g.id
""",
    "v_group_overlap": """
CREATE VIEW v_group_overlap AS WITH current_members AS (
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
""",
    "v_audit": """
CREATE VIEW v_audit AS SELECT e.id AS event_id, e.at AS at_utc, e.platform AS platform, e.group_id AS group_id,
       g.name AS group_name, CASE WHEN i.id IS NULL THEN '匿名' WHEN p.opted_out THEN '已退出成员' ELSE p.name END AS actor, CASE WHEN p.opted_out THEN NULL ELSE p.unit END AS actor_unit,
       e.action AS action, e.outcome AS outcome, e.detail AS detail
FROM audit_events e
LEFT JOIN groups g ON g.id = e.group_id
LEFT JOIN identities i ON i.id = e.actor_identity_id
LEFT JOIN people p ON p.id = i.person_id
""",
}


def _statements() -> dict[str, str]:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        return SQLITE
    if dialect == "postgresql":
        return POSTGRESQL
    raise NotImplementedError(f"inspector views exist for sqlite and postgresql, not {dialect}")


def upgrade() -> None:
    for sql in _statements().values():
        op.execute(sql)


def downgrade() -> None:
    for name in reversed(list(_statements())):
        op.execute(f"DROP VIEW IF EXISTS {name}")
