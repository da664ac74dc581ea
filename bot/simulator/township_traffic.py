"""Generates one seeded week of work-group messages for a simulated township."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.simulator import township_phrases as ph
from bot.simulator.township_model import SimGroup, SimMessage, SimPerson, Township

TZ = ZoneInfo("Asia/Shanghai")

# Relative weight of each half-hour (00:00, 00:30, ... 23:30) for starting an episode.
# Peaks 8:30-11:30 and 14:30-17:30, an evening tail to 22h, a trickle at night.
WEEKDAY_PROFILE: tuple[float, ...] = (
    0.04, 0.03, 0.02, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.04,  # 0-6h
    0.08, 0.15, 0.30, 0.50, 0.90, 3.00, 3.50, 3.50, 3.50, 3.20, 2.60, 1.20,  # 6-12h
    0.45, 0.30, 0.30, 0.50, 1.50, 3.00, 3.30, 3.30, 3.20, 2.80, 1.60, 0.70,  # 12-18h
    0.50, 0.45, 0.45, 0.45, 0.50, 0.45, 0.35, 0.25, 0.18, 0.10, 0.06, 0.04,  # 18-24h
)  # fmt: skip
WEEKEND_PROFILE: tuple[float, ...] = (
    0.02, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.04,
    0.08, 0.15, 0.20, 0.40, 0.80, 1.00, 1.30, 1.30, 1.30, 1.20, 1.00, 0.80,
    0.50, 0.40, 0.40, 0.50, 0.80, 0.90, 1.00, 1.00, 1.00, 0.90, 0.70, 0.60,
    0.50, 0.50, 0.50, 0.60, 0.70, 0.70, 0.50, 0.40, 0.20, 0.10, 0.05, 0.03,
)  # fmt: skip
# Monday carries the week's kick-off; Saturday and Sunday are lighter but not empty.
DAY_WEIGHTS: tuple[float, ...] = (1.15, 1.0, 1.0, 1.0, 0.95, 0.25, 0.18)
# Episodes (a post plus the replies it triggers) per group per week, by group kind.
BASE_EPISODES: dict[str, float] = {"unit": 20.0, "topic": 15.0, "village": 18.0, "county": 9.0}
# Episode mix by group kind: chat, notice, notice_no_reply, demand, roll_call.
EPISODE_MIX: dict[str, tuple[float, float, float, float, float]] = {
    "unit": (0.30, 0.24, 0.08, 0.30, 0.08),
    "topic": (0.15, 0.24, 0.08, 0.41, 0.12),
    "village": (0.42, 0.18, 0.05, 0.30, 0.05),
    "county": (0.12, 0.33, 0.10, 0.45, 0.00),
}
DEMAND_MIX: dict[str, float] = {
    "ack_request": 0.22, "ledger": 0.30, "photo": 0.16, "amplify": 0.08, "meeting": 0.14,
    "urgent": 0.10,
}  # fmt: skip
GROUP_TOPICS: dict[str, str] = {
    "town_all": "general", "secretaries": "general", "leaders": "leaders",
    "office_党政办": "general", "office_农业农村办": "agri", "office_社会事务办": "social",
    "office_应急办": "safety", "office_经济发展办": "stats", "flood": "flood",
    "flood_cmd": "flood", "fire": "fire", "census": "stats", "rural": "rural",
    "safety": "safety", "conscript": "conscript", "medical": "medical", "grid_all": "grid",
    "county_agri": "agri", "county_emerg": "safety", "county_medical": "medical",
    "county_stats": "stats",
}  # fmt: skip
# Busy months per seasonal topic; outside them a group still exists but posts less.
SEASONS: dict[str, tuple[frozenset[int], float, float]] = {
    "flood": (frozenset(range(5, 10)), 1.6, 0.35),
    "fire": (frozenset({10, 11, 12, 1, 2, 3, 4}), 1.4, 0.5),
    "conscript": (frozenset({1, 2, 3, 7, 8, 9}), 1.3, 0.5),
    "medical": (frozenset({9, 10, 11, 12, 1, 2}), 1.5, 0.5),
}
LEADER_TITLES = frozenset({"镇党委书记", "镇长", "镇党委副书记", "副镇长"})
REPEATABLE_GROUPS = ("town_all", "secretaries", "rural", "safety", "medical", "flood")


def topic_of(group: SimGroup) -> str:
    """The topic whose phrases a group uses."""
    if group.key.startswith(("village_", "grid_")):
        return "grid" if group.key.startswith("grid_") else "village"
    return GROUP_TOPICS.get(group.key, "general")


@dataclass(slots=True)
class _Week:
    """Mutable state while one week is generated."""

    town: Township
    rng: random.Random
    start: datetime
    people: dict[str, SimPerson]
    out: list[tuple[datetime, int, SimMessage]] = field(default_factory=list)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=7)

    def emit(self, at: datetime, group: SimGroup, sender: str, text: str, intent: str,
             mentions: tuple[str, ...] = (), mention_all: bool = False) -> None:  # fmt: skip
        if self.start <= at < self.end:
            msg = SimMessage(at, group.key, sender, text, mentions, mention_all, intent)
            self.out.append((at, len(self.out), msg))

    def posters(self, group: SimGroup) -> list[str]:
        """Who issues notices and demands: owner, admins, leaders and county staff."""
        extra = [
            k for k in group.member_keys
            if self.people[k].title in LEADER_TITLES
            or (group.kind == "county" and self.people[k].unit.startswith("县"))
        ]  # fmt: skip
        return list(dict.fromkeys([group.owner_key, *group.admin_keys, *extra]))

    def label(self, key: str) -> str:
        """How a member signs a reply: villages prefix their village name."""
        p = self.people[key]
        return f"{p.unit}{p.name}" if p.unit.endswith("村") else p.name


def _week_weights() -> list[float]:
    """Weight of each of the week's 336 half-hours for starting an episode.

    Each day's profile is normalised so DAY_WEIGHTS alone sets a day's share.
    """
    weekday, weekend = sum(WEEKDAY_PROFILE), sum(WEEKEND_PROFILE)
    return [
        DAY_WEIGHTS[day]
        * (WEEKDAY_PROFILE[s] / weekday if day < 5 else WEEKEND_PROFILE[s] / weekend)
        for day in range(7)
        for s in range(48)
    ]


def _episode_times(w: _Week, count: int) -> list[datetime]:
    """``count`` start times drawn by stratified sampling of the weekly profile.

    Stratifying (evenly spaced quantiles, one random offset) keeps each group's
    time-of-day mix close to the profile, so a week's after-hours share varies
    little between seeds while times still look random.
    """
    weights = _week_weights()
    total = sum(weights)
    offset = w.rng.random() / count
    times, cumulative, slot = [], 0.0, 0
    for i in range(count):
        target = (offset + i / count) * total
        while slot < len(weights) - 1 and cumulative + weights[slot] < target:
            cumulative += weights[slot]
            slot += 1
        times.append(w.start + timedelta(seconds=slot * 1800 + w.rng.randrange(1800)))
    w.rng.shuffle(times)
    return times


def _delay(w: _Week, at: datetime, scale: float = 1.0) -> timedelta:
    """Reply delay: minutes by day, slower late in the evening and at night."""
    median = 3.0 if 7 <= at.hour < 18 else (6.0 if 18 <= at.hour < 22 else 15.0)
    minutes = min(240.0, max(0.2, w.rng.lognormvariate(0.0, 0.9) * median * scale))
    return timedelta(minutes=minutes)


def _acks(w: _Week, g: SimGroup, at: datetime, sender: str, low: float, high: float) -> None:
    """Bare 收到/好的/1 replies from a share of members shortly after ``at``."""
    night = at.hour >= 22 or at.hour < 7
    share = w.rng.uniform(low, high) * (0.6 if night else 1.0)
    others = [k for k in g.member_keys if k != sender]
    count = round(share * len(others))
    for key in w.rng.sample(others, count):
        text = ph.pick_ack(w.rng)
        if w.people[key].unit.endswith("村") and w.rng.random() < 0.2:
            text = f"{w.people[key].unit}{text}"
        w.emit(at + _delay(w, at), g, key, text, "ack")


def _chat(w: _Week, g: SimGroup, at: datetime) -> None:
    rng, members = w.rng, list(g.member_keys)
    if 7 <= at.hour < 9 and at.weekday() < 5:
        for key in rng.sample(members, min(len(members), rng.randint(1, 3))):
            at += _delay(w, at)
            w.emit(at, g, key, rng.choice(ph.GREETINGS_MORNING), "greeting")
        return
    pool = ph.WEEKEND if at.weekday() >= 5 else ph.CHAT_EVENING if at.hour >= 18 else ph.CHAT
    asker = rng.choice(members)
    text = rng.choice(pool)
    w.emit(at, g, asker, text, "chat")
    if text.endswith(("？", "吗？")) or rng.random() < 0.3:
        answerer = rng.choice([k for k in members if k != asker])
        w.emit(at + _delay(w, at, 2.0), g, answerer, rng.choice(ph.ANSWERS), "chat")


def _notice(w: _Week, g: SimGroup, at: datetime, no_reply: bool) -> None:
    rng = w.rng
    sender = rng.choice(w.posters(g))
    topic = ph.TOPICS[topic_of(g)]
    mention_all = rng.random() < (0.2 if no_reply else 0.35)
    text = f"【通知】{rng.choice(topic.notices)}。"
    if no_reply:
        text += rng.choice(ph.NEGATIONS)
    if mention_all:
        text = "@所有人 " + text
    w.emit(at, g, sender, text, "notice_no_reply" if no_reply else "notice", (), mention_all)
    if no_reply:
        _acks(w, g, at, sender, 0.0, 0.08)  # habit: some reply 收到 anyway
    elif mention_all:
        _acks(w, g, at, sender, 0.3, 0.6)
    else:
        _acks(w, g, at, sender, 0.0, 0.15)


def _who(w: _Week, g: SimGroup) -> str:
    villages = {w.people[k].unit for k in g.member_keys if w.people[k].unit.endswith("村")}
    if g.key.startswith("grid_") or topic_of(g) == "grid":
        return "各网格员"
    if len(villages) > 1:
        return w.rng.choice(["各村", "各村支书", "各村（社区）"])
    return w.rng.choice(["各位", "大家", "各位同志"])


def demand_text(w: _Week, g: SimGroup, at: datetime, kind: str) -> tuple[str, str]:
    """The text of a demand of ``kind`` and the item it is about."""
    rng, topic, who = w.rng, ph.TOPICS[topic_of(g)], _who(w, g)
    dl = ph.deadline_phrase(at, rng)
    if kind == "ack_request":
        item = rng.choice(topic.notices)
        return f"{item}，{rng.choice(ph.ACK_REQUESTS)}", item
    if kind == "ledger":
        item = rng.choice(topic.ledgers)
        verb = rng.choice(["报送", "填报", "上报"])
        return f"请{who}于{dl}{verb}{item}，{rng.choice(ph.TAILS)}", item
    if kind == "photo":
        item = rng.choice(topic.photos)
        return rng.choice([
            f"请{who}{dl}把{item}现场照片发群里，每村不少于3张，要带定位水印。",
            f"从今天起{item}每天拍照打卡，照片发群里留痕。",
            f"请{who}开展{item}，开启定位，截图发群里，{dl}前没发的视为未完成。",
        ]), item  # fmt: skip
    if kind == "amplify":
        return rng.choice(ph.AMPLIFY), "转发"
    if kind == "meeting":
        when = ph.meeting_phrase(at, rng)
        return rng.choice([
            f"紧急通知：{when}在镇三楼会议室召开{topic.meeting}，请{who}准时参加，不得请假。收到请回复。",
            f"{when}召开{topic.meeting}（视频），请{who}提前10分钟进入会议室签到。",
        ]), topic.meeting  # fmt: skip
    item = rng.choice(topic.ledgers)
    return f"特急！县里马上要数据，请{who}1小时内上报{item}，直接在群里回复数字。", item


def _follow_up(w: _Week, g: SimGroup, at: datetime, sender: str, kind: str, item: str) -> None:
    """Files, photos and reminders that trail a demand."""
    rng = w.rng
    others = [k for k in g.member_keys if k != sender]
    if kind in {"ledger", "urgent"}:
        reporters = [k for k in others if w.people[k].title in {"村支书", "村会计", "网格员"}]
        reporters = reporters or others
        done = rng.sample(reporters, round(len(reporters) * rng.uniform(0.4, 0.9)))
        spread = 50.0 if kind == "urgent" else 240.0
        for key in done:
            when = at + timedelta(minutes=rng.uniform(5, spread))
            name = w.people[key].unit if w.people[key].unit.endswith("村") else w.people[key].name
            text = rng.choice([f"[文件] {name}{item}.xlsx", f"{name}已报送，请查收。"])
            w.emit(when, g, key, text, "report")
        late = [k for k in reporters if k not in done][:3]
        if late:
            when = at + timedelta(minutes=spread + rng.uniform(10, 60))
            tags = " ".join(f"@{w.people[k].name}" for k in late)
            text = f"{tags} 还没报{item}，请抓紧，县里在催。"
            w.emit(when, g, sender, text, "reminder", tuple(late))
    elif kind in {"photo", "amplify"}:
        for key in rng.sample(others, round(len(others) * rng.uniform(0.2, 0.6))):
            text = "[图片]" if rng.random() < 0.5 else f"[图片] {w.label(key)}已完成"
            w.emit(at + timedelta(minutes=rng.uniform(3, 120)), g, key, text, "proof")


def _demand(w: _Week, g: SimGroup, at: datetime, kind: str, sender: str | None = None,
            text: str | None = None, item: str = "", intent: str = "demand") -> None:  # fmt: skip
    rng = w.rng
    sender = sender or rng.choice(w.posters(g))
    if text is None:
        text, item = demand_text(w, g, at, kind)
    mention_all = rng.random() < (0.85 if kind in {"meeting", "urgent"} else 0.6)
    if mention_all:
        text = "@所有人 " + text
    w.emit(at, g, sender, text, intent, (), mention_all)
    _acks(w, g, at, sender, 0.45, 0.9)
    _follow_up(w, g, at, sender, kind, item)


def _roll_call(w: _Week, g: SimGroup, at: datetime) -> None:
    """A 接龙: the header, then members each reposting the list with their line added."""
    rng = w.rng
    sender = rng.choice(w.posters(g))
    title = rng.choice(ph.TOPICS[topic_of(g)].roll_calls)
    counting = "人数" in title or "积分" in title
    status = (
        "已到岗" if "到岗" in title or "值守" in title
        else "参加" if "参加" in title or "参会" in title
        else rng.choice(["已完成", "已落实"])
    )  # fmt: skip
    lines = [f"1. {w.label(sender)} {rng.randint(3, 60) if counting else status}"]
    w.emit(at, g, sender, "#接龙\n" + title + "\n\n" + "\n".join(lines), "roll_call")
    others = [k for k in g.member_keys if k != sender]
    for key in rng.sample(others, min(25, round(len(others) * rng.uniform(0.4, 0.85)))):
        at += _delay(w, at, 0.8)
        entry = rng.randint(3, 60) if counting else status
        lines.append(f"{len(lines) + 1}. {w.label(key)} {entry}")
        text = "#接龙\n" + title + "\n\n" + "\n".join(lines)
        w.emit(at, g, key, text, "roll_call_reply")


_REPEAT_WORDINGS = (
    "请{who}于{dl}报送{item}，{tail}",
    "麻烦{who}{dl}再报一次{item}，县里要用。",
    "{who}{dl}把{item}报上来（模板有更新），报送至镇里邮箱。",
)


def _repeats(w: _Week) -> None:
    """The same ledger asked for twice, by two departments in two groups, days apart."""
    rng = w.rng
    groups = [w.town.group(k) for k in REPEATABLE_GROUPS]
    for _ in range(rng.randint(2, 3)):
        first, second = rng.sample(groups, 2)
        item = rng.choice(ph.TOPICS[rng.choice(["social", "safety", "agri", "rural"])].ledgers)
        day = rng.randint(0, 2)
        wordings = rng.sample(_REPEAT_WORDINGS, 2)
        senders: list[str] = []
        for n, (g, wording) in enumerate(zip((first, second), wordings, strict=True)):
            at = w.start + timedelta(days=day + n * rng.randint(1, 2),
                                     minutes=rng.randint(8 * 60 + 40, 16 * 60 + 30))  # fmt: skip
            posters = [k for k in w.posters(g) if k not in senders] or w.posters(g)
            sender = rng.choice(posters)
            senders.append(sender)
            dl = ph.deadline_phrase(at, rng)
            text = wording.format(who=_who(w, g), dl=dl, item=item, tail=rng.choice(ph.TAILS))
            _demand(w, g, at, "ledger", sender, text, item, "demand" if n == 0 else "repeat_demand")


def _episodes(w: _Week, g: SimGroup) -> None:
    topic = topic_of(g)
    busy, high, low = SEASONS.get(topic, (frozenset(), 1.0, 1.0))
    season = (high if w.start.month in busy else low) if topic in SEASONS else 1.0
    size = 0.7 + 0.3 * min(1.0, len(g.member_keys) / 30)
    count = max(2, round(BASE_EPISODES[g.kind] * season * size * w.rng.uniform(0.7, 1.3)))
    kinds = list(DEMAND_MIX)
    for at in _episode_times(w, count):
        episode = w.rng.choices(range(5), EPISODE_MIX[g.kind])[0]
        if episode == 0:
            _chat(w, g, at)
        elif episode in (1, 2):
            _notice(w, g, at, no_reply=episode == 2)
        elif episode == 3:
            _demand(w, g, at, w.rng.choices(kinds, list(DEMAND_MIX.values()))[0])
        else:
            _roll_call(w, g, at)


def generate_week(township: Township, week_start: date, seed: int = 7) -> list[SimMessage]:
    """All messages of the week starting on Monday ``week_start``, sorted by time."""
    if week_start.weekday() != 0:
        raise ValueError(f"week_start must be a Monday, got {week_start.isoformat()}")
    # Mixing the week into the seed makes consecutive weeks differ but stay reproducible.
    rng = random.Random(f"{seed}:{week_start.isoformat()}")
    start = datetime.combine(week_start, time(0, 0), tzinfo=TZ)
    w = _Week(township, rng, start, {p.key: p for p in township.people})
    for g in township.groups:
        if not g.dormant:
            _episodes(w, g)
    _repeats(w)
    return [m for _, _, m in sorted(w.out, key=lambda t: (t[0], t[1]))]
