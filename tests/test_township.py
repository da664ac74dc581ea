"""Tests for the seeded township traffic model used by `jianfu demo`."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from bot.simulator.township import (
    SimMessage,
    Township,
    build_township,
    generate_week,
    roster_rows,
)
from bot.simulator.township_phrases import TOPICS, deadline_phrase
from bot.simulator.township_traffic import TZ

WEEKS = (date(2026, 1, 5), date(2026, 7, 13), date(2026, 11, 16))
SEEDS = (1, 7, 42, 2026)


@pytest.fixture(scope="module")
def town() -> Township:
    return build_township(7)


@pytest.fixture(scope="module")
def week(town: Township) -> list[SimMessage]:
    return generate_week(town, date(2026, 11, 16), 7)


def is_working_time(at: datetime) -> bool:
    """The test's own simple rule: weekdays 8:30-12:00 and 14:00-17:30."""
    minute = at.hour * 60 + at.minute
    return at.weekday() < 5 and (510 <= minute < 720 or 840 <= minute < 1050)


def jaccard(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    return len(set(a) & set(b)) / len(set(a) | set(b))


def test_same_seed_gives_identical_township_and_week() -> None:
    """Building and generating twice with one seed gives equal results; another seed differs."""
    first, second = build_township(7), build_township(7)
    assert first == second
    assert generate_week(first, date(2026, 11, 16), 7) == generate_week(second, date(2026, 11, 16))
    assert build_township(8) != first
    assert generate_week(first, date(2026, 11, 16), 8) != generate_week(first, date(2026, 11, 16))


def test_output_does_not_depend_on_hash_seed() -> None:
    """Two interpreters with different PYTHONHASHSEED produce byte-identical weeks."""
    script = (
        "from datetime import date; from bot.simulator.township import *; "
        "t = build_township(7); print(repr(t), repr(generate_week(t, date(2026, 11, 16))))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        ).stdout
        for hash_seed in ("1", "2")
    }
    assert len(outputs) == 1


@pytest.mark.parametrize("seed", SEEDS)
def test_township_size_is_in_range(seed: int) -> None:
    """About 100 people, 25-35 groups of 5-80 members, about a quarter on QQ, 5-6 villages."""
    town = build_township(seed)
    assert 85 <= len(town.people) <= 110
    assert 25 <= len(town.groups) <= 35
    assert all(5 <= len(g.member_keys) <= 80 for g in town.groups)
    qq_share = sum(g.platform == "qq" for g in town.groups) / len(town.groups)
    assert 0.15 <= qq_share <= 0.35
    villages = [u for u in town.units if u.endswith("村")]
    assert 5 <= len(villages) <= 6
    sizes = Counter(p.unit for p in town.people)
    assert all(6 <= sizes[v] <= 10 for v in villages)


def test_people_and_groups_are_consistent(town: Township) -> None:
    """Keys, names and ids are unique; owners and admins are members; QQ members have QQ numbers."""
    assert len(town.people) == len({p.key for p in town.people})
    assert len(town.people) == len({p.name for p in town.people})
    assert len(town.groups) == len({(g.platform, g.group_id) for g in town.groups})
    for g in town.groups:
        assert g.owner_key in g.member_keys
        assert set(g.admin_keys) <= set(g.member_keys)
        assert len(g.member_keys) == len(set(g.member_keys))
        if g.platform == "qq":
            assert all(town.person(k).qq_id for k in g.member_keys)
    assert all(p.wechat_id for p in town.people)
    assert len(town.units) == len(town.heads)


def test_some_people_are_in_groups_on_both_platforms(town: Township) -> None:
    """Several people sit in WeChat groups and QQ groups at once."""
    both = [
        p for p in town.people if {g.platform for g in town.groups_of(p.key)} == {"wechat", "qq"}
    ]
    assert len(both) >= 10


def test_dormant_group_exists_and_stays_silent(town: Township, week: list[SimMessage]) -> None:
    """At least one group is dormant and posts nothing, while every other group posts."""
    dormant = {g.key for g in town.groups if g.dormant}
    posting = {m.group_key for m in week}
    assert dormant
    assert set() == dormant & posting
    assert {g.key for g in town.groups} - dormant == posting


def test_merge_candidate_pair_overlaps_heavily(town: Township) -> None:
    """Some pair of distinct groups shares at least 80% of its members (Jaccard)."""
    groups = town.groups
    best = max(
        jaccard(a.member_keys, b.member_keys) for i, a in enumerate(groups) for b in groups[i + 1 :]
    )
    assert best >= 0.8
    assert jaccard(town.group("flood").member_keys, town.group("flood_cmd").member_keys) >= 0.8


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("week_start", WEEKS)
def test_week_is_well_formed(seed: int, week_start: date) -> None:
    """Messages fall in the week, are sorted, come from members and mention only members."""
    town = build_township(seed)
    msgs = generate_week(town, week_start, seed)
    start = datetime(week_start.year, week_start.month, week_start.day, tzinfo=TZ)
    assert 1500 <= len(msgs) <= 4000
    assert [m.at for m in msgs] == sorted(m.at for m in msgs)
    for m in msgs:
        group = town.group(m.group_key)
        assert start <= m.at < start + timedelta(days=7)
        assert m.at.utcoffset() == timedelta(hours=8)
        assert m.sender_key in group.member_keys
        assert set(m.mention_keys) <= set(group.member_keys)
        for key in m.mention_keys:
            assert f"@{town.person(key).name} " in m.text
        assert ("@所有人 " in m.text) == m.mention_all


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("week_start", WEEKS)
def test_after_hours_share_is_in_stated_band(seed: int, week_start: date) -> None:
    """20-35% of messages fall outside weekday 8:30-12:00 / 14:00-17:30 (docs/simulator.md)."""
    msgs = generate_week(build_township(seed), week_start, seed)
    share = sum(not is_working_time(m.at) for m in msgs) / len(msgs)
    assert 0.20 <= share <= 0.35


def test_hour_profile_has_peaks_evening_tail_and_light_weekend(week: list[SimMessage]) -> None:
    """Mornings and afternoons peak, evenings and nights are not empty, weekends are lighter."""
    hours = Counter(m.at.hour for m in week)
    days = Counter(m.at.weekday() for m in week)
    assert hours[10] > 3 * hours[19]
    assert hours[15] > 3 * hours[20]
    assert sum(hours[h] for h in range(18, 22)) >= 50
    assert 0 < days[5] < days[1]
    assert 0 < days[6] < days[2]


def test_week_contains_the_demand_patterns(week: list[SimMessage]) -> None:
    """Demands, @所有人, late acks, 接龙 chains, repeats, negations and chat all occur."""
    intents = Counter(m.intent for m in week)
    for intent in ("demand", "repeat_demand", "ack", "roll_call", "roll_call_reply", "chat",
                   "notice", "notice_no_reply", "reminder", "report"):  # fmt: skip
        assert intents[intent] > 0, intent
    texts = [m.text for m in week if m.intent == "demand"]
    for phrase in ("收到请回复", "报送", "台账", "拍照", "转发"):
        assert any(phrase in t for t in texts), phrase
    assert any("无需回复" in m.text or "不用" in m.text for m in week)
    assert any(m.mention_all for m in week if m.intent in {"demand", "notice"})
    acks = [m for m in week if m.intent == "ack"]
    late = [m for m in acks if m.at.hour >= 20 or m.at.hour < 7]
    assert len(late) >= 10


def test_roll_call_replies_copy_the_list_with_one_line_added(week: list[SimMessage]) -> None:
    """Each 接龙 reply repeats the previous list in that group and adds exactly one line."""
    last: dict[str, str] = {}
    for m in week:
        if m.intent == "roll_call":
            last[m.group_key] = m.text
        elif m.intent == "roll_call_reply":
            previous = last[m.group_key]
            assert m.text.startswith(previous + "\n")
            assert previous.count("\n") + 1 == m.text.count("\n")
            last[m.group_key] = m.text


def test_repeated_request_reappears_in_another_group_within_days(week: list[SimMessage]) -> None:
    """Every repeated ledger request names a ledger demanded in another group 1-3 days earlier."""
    ledgers = {name for topic in TOPICS.values() for name in topic.ledgers}
    repeats = [m for m in week if m.intent == "repeat_demand"]
    assert 2 <= len(repeats) <= 3
    for r in repeats:
        (ledger,) = [name for name in ledgers if name in r.text]
        earlier = [
            m
            for m in week
            if m.intent == "demand"
            and m.group_key != r.group_key
            and timedelta(hours=12) < r.at - m.at <= timedelta(days=3)
            and ledger in m.text
        ]
        assert earlier, r.text
        assert r.text not in {m.text for m in earlier}


@pytest.mark.parametrize(
    ("at", "allowed"),
    [
        (datetime(2026, 11, 16, 9, 0, tzinfo=TZ), {"今天下班前", "今天下午4点前", "明天上午10点前",
                                                  "1小时内", "今天中午12点前", "本周五前"}),
        (datetime(2026, 11, 16, 20, 0, tzinfo=TZ), {"明早8点前", "明天上午9点前", "1小时内",
                                                   "今晚10点前"}),
        (datetime(2026, 11, 21, 10, 0, tzinfo=TZ), {"下周一上班前", "明早8点前", "今晚8点前"}),
    ],
)  # fmt: skip
def test_deadline_phrases_fit_the_send_time(at: datetime, allowed: set[str]) -> None:
    """A deadline such as 今天下班前 is only used when it is still ahead of the send time."""
    rng = random.Random(0)
    seen = {deadline_phrase(at, rng) for _ in range(200)}
    assert seen <= allowed
    assert len(seen) >= 2


def test_week_start_must_be_a_monday(town: Township) -> None:
    """A week_start that is not a Monday is rejected with a message naming the date."""
    with pytest.raises(ValueError, match="2026-11-17"):
        generate_week(town, date(2026, 11, 17))


def test_roster_rows_are_complete(town: Township) -> None:
    """One roster row per person with all columns; heads marked yes; QQ ids match people."""
    rows = roster_rows(town)
    assert len(town.people) == len(rows)
    columns = {"name", "unit", "department", "title", "wechat_id", "qq_id", "is_head"}
    assert all(columns == set(r) for r in rows)
    assert all(r["name"] and r["unit"] and r["title"] and r["wechat_id"] for r in rows)
    assert len(town.heads) == sum(r["is_head"] == "yes" for r in rows)
    assert {r["is_head"] for r in rows} == {"yes", "no"}
    assert [p.qq_id or "" for p in town.people] == [r["qq_id"] for r in rows]
