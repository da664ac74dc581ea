"""Builds a seeded simulated township (roster and work groups) for `jianfu demo`."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot.simulator.township_model import SimGroup, SimMessage, SimPerson, SimPlatform, Township
from bot.simulator.township_names import TOWN_NAMES, VILLAGE_CLANS, VILLAGE_NAMES, NameMaker
from bot.simulator.township_traffic import generate_week

__all__ = [
    "SimGroup",
    "SimMessage",
    "SimPerson",
    "Township",
    "build_township",
    "generate_week",
    "roster_rows",
]

LEADERS = "镇领导班子"
# (role tag, title, head?) — role tags let group recipes pick people by job.
_LEADER_ROLES: tuple[tuple[str, str, bool], ...] = (
    ("secretary", "镇党委书记", True),
    ("mayor", "镇长", False),
    ("deputy_secretary", "镇党委副书记", False),
    ("vice_agri", "副镇长", False),
    ("vice_social", "副镇长", False),
    ("vice_safety", "副镇长", False),
    ("congress", "镇人大主席", False),
    ("discipline", "镇纪委书记", False),
    ("armed", "镇武装部长", False),
)
# Offices: (unit, short name, [(role tag, title)]); the first entry is the head.
_OFFICES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("镇党政办", "党政办", (
        ("office_head", "党政办主任"), ("office_deputy", "党政办副主任"), ("clerk", "文书"),
        ("staff", "综合干事"), ("staff", "综合干事"), ("zhucun", "驻村干部"),
        ("zhucun", "驻村干部"),
    )),
    ("镇农业农村办", "农业农村办", (
        ("office_head", "农业农村办主任"), ("office_deputy", "农业农村办副主任"),
        ("agronomist", "农技员"), ("rural", "乡村振兴专干"), ("zhucun", "驻村干部"),
        ("zhucun", "驻村干部"),
    )),
    ("镇社会事务办", "社会事务办", (
        ("office_head", "社会事务办主任"), ("civil", "民政专干"), ("medical", "医保专干"),
        ("disabled", "残联专干"), ("veterans", "退役军人服务站站长"), ("zhucun", "驻村干部"),
    )),
    ("镇应急办", "应急办", (
        ("office_head", "应急办主任"), ("safety", "安全生产专干"), ("flood", "防汛专干"),
        ("fire", "森林防火专干"), ("zhucun", "驻村干部"),
    )),
    ("镇经济发展办", "经济发展办", (
        ("office_head", "经济发展办主任"), ("statistician", "统计员"),
        ("investment", "招商专干"), ("staff", "综合干事"),
    )),
)  # fmt: skip
_VILLAGE_CORE: tuple[tuple[str, str], ...] = (
    ("vsec", "村支书"),
    ("vdeputy", "村委副主任"),
    ("vacct", "村会计"),
    ("vwomen", "妇联主席"),
    ("vsafety", "治保主任"),
)
_COUNTY: tuple[tuple[str, str, str, str], ...] = (
    ("county_agri", "县农业农村局", "农村经营管理股", "股长"),
    ("county_agri", "县农业农村局", "农村经营管理股", "科员"),
    ("county_emerg", "县应急管理局", "应急指挥中心", "主任"),
    ("county_emerg", "县应急管理局", "安全生产基础股", "科员"),
    ("county_medical", "县医疗保障局", "待遇保障股", "股长"),
    ("county_medical", "县医疗保障局", "基金征缴股", "科员"),
    ("county_stats", "县统计局", "综合股", "科员"),
    ("county_armed", "县人武部", "军事科", "参谋"),
)


@dataclass(slots=True)
class _Draft:
    """A person before QQ numbers are known (they follow from QQ group membership)."""

    key: str
    name: str
    unit: str
    department: str
    title: str
    role: str
    is_head: bool
    village: str | None = None
    female: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def _draft_people(rng: random.Random, names: NameMaker) -> list[_Draft]:
    drafts: list[_Draft] = []

    def add(unit: str, dept: str, title: str, role: str, head: bool, village: str | None) -> None:
        # Township offices are still mostly male at the top; villages have 妇联主席 etc.
        female = role in {"vwomen"} or (role not in {"secretary", "mayor"} and rng.random() < 0.35)
        clan = VILLAGE_CLANS.get(village or "")
        surname = clan if clan and rng.random() < 0.45 else None
        key = f"p{len(drafts) + 1:03d}"
        name = names.make(female, surname)
        drafts.append(_Draft(key, name, unit, dept, title, role, head, village, female))

    for role, title, head in _LEADER_ROLES:
        add(LEADERS, LEADERS, title, role, head, None)
    for unit, _short, roles in _OFFICES:
        for i, (role, title) in enumerate(roles):
            add(unit, unit, title, role, i == 0, None)
    for village in VILLAGE_NAMES:
        for role, title in _VILLAGE_CORE:
            add(village, "村两委", title, role, role == "vsec", village)
        for _ in range(rng.randint(2, 4)):
            add(village, "村两委", "网格员", "grid", False, village)
        if rng.random() < 0.5:
            add(village, "村两委", "后备干部", "reserve", False, village)
    for role, unit, dept, title in _COUNTY:
        add(unit, dept, title, role, False, None)
    # Each village gets one 驻村干部 and one township leader who 包村 (is responsible for it).
    stationed = [d for d in drafts if d.role == "zhucun"]
    patrons = [d for d in drafts if d.unit == LEADERS and d.role not in {"secretary", "mayor"}]
    for village, cadre, patron in zip(VILLAGE_NAMES, stationed, patrons, strict=False):
        cadre.extra["village"] = village
        patron.extra.setdefault("patron_of", village)
    return drafts


class _Picker:
    """Selects people by role, unit or village when assembling group memberships."""

    def __init__(self, drafts: list[_Draft]) -> None:
        self.drafts = drafts

    def where(self, pred: Callable[[_Draft], bool]) -> list[str]:
        return [d.key for d in self.drafts if pred(d)]

    def role(self, *roles: str) -> list[str]:
        return self.where(lambda d: d.role in roles)

    def unit(self, unit: str) -> list[str]:
        return self.where(lambda d: d.unit == unit)

    def village(self, village: str) -> list[str]:
        return self.where(lambda d: d.village == village)

    def linked_to(self, village: str) -> list[str]:
        """The 驻村干部 and 包村 leader who sit in a village's groups."""
        return self.where(
            lambda d: d.extra.get("village") == village or d.extra.get("patron_of") == village
        )

    def one(self, role: str, unit: str | None = None) -> str:
        return self.where(lambda d: d.role == role and (unit is None or d.unit == unit))[0]


def _unique(keys: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(keys))


@dataclass(slots=True)
class _GroupPlan:
    key: str
    platform: SimPlatform
    name: str
    unit: str
    kind: str
    owner: str
    admins: list[str]
    members: list[str]
    dormant: bool = False


def _plan_groups(town: str, pk: _Picker) -> list[_GroupPlan]:
    town_staff = pk.where(lambda d: d.unit == LEADERS or d.unit.startswith("镇"))
    leaders = pk.unit(LEADERS)
    vsecs = pk.role("vsec")
    office_head = {u: pk.one("office_head", u) for u, _s, _r in _OFFICES}
    dzb_head, clerk = office_head["镇党政办"], pk.one("clerk")
    yjb, nyb, shb, jjb = (
        pk.unit(u) for u in ("镇应急办", "镇农业农村办", "镇社会事务办", "镇经济发展办")
    )
    p: list[_GroupPlan] = [
        _GroupPlan(
            "town_all",
            "wechat",
            f"{town}机关干部群",
            "镇党政办",
            "unit",
            dzb_head,
            [clerk, pk.one("staff")],
            town_staff + vsecs,
        ),
        _GroupPlan(
            "secretaries",
            "wechat",
            f"{town}村书记工作群",
            "镇党政办",
            "unit",
            dzb_head,
            [clerk],
            [
                *pk.role("secretary", "mayor", "deputy_secretary"),
                dzb_head,
                clerk,
                *vsecs,
                *pk.role("vdeputy"),
            ],
        ),
        _GroupPlan(
            "leaders",
            "wechat",
            f"{town}班子成员群",
            LEADERS,
            "unit",
            pk.one("secretary"),
            [dzb_head],
            [*leaders, dzb_head],
        ),
    ]
    patron = {
        "镇党政办": "deputy_secretary",
        "镇农业农村办": "vice_agri",
        "镇社会事务办": "vice_social",
        "镇应急办": "vice_safety",
        "镇经济发展办": "mayor",
    }
    for unit, short, _roles in _OFFICES:
        members = [pk.one(patron[unit]), *pk.unit(unit)]
        p.append(
            _GroupPlan(
                f"office_{short}",
                "wechat",
                f"{town}{short}工作群",
                unit,
                "unit",
                office_head[unit],
                [members[2]],
                members,
            )
        )
    for i, village in enumerate(VILLAGE_NAMES, 1):
        vs = pk.village(village)
        sec = pk.one("vsec", village)
        p.append(
            _GroupPlan(
                f"village_{i}",
                "wechat",
                f"{village}两委工作群",
                village,
                "village",
                sec,
                [pk.one("vdeputy", village)],
                vs + pk.linked_to(village),
            )
        )
        if i in (1, 2, 4):  # some villages run their grid on QQ, where grid workers already are
            grid_workers = [k for k in vs if k in pk.role("grid")]
            grid = [sec, pk.one("vsafety", village), *grid_workers, *pk.linked_to(village)[:1]]
            p.append(
                _GroupPlan(
                    f"grid_{i}",
                    "qq",
                    f"{village}网格员群",
                    village,
                    "village",
                    sec,
                    [pk.one("vsafety", village)],
                    grid,
                )
            )
    flood = [
        pk.one("mayor"),
        pk.one("vice_safety"),
        *yjb,
        dzb_head,
        office_head["镇农业农村办"],
        *vsecs,
        *pk.role("vsafety"),
    ]
    # The 指挥部 group was created later by the 防汛 headquarters with almost the same people:
    # the merge candidate R2 should flag.
    flood_cmd = [k for k in flood if k != office_head["镇农业农村办"]] + [pk.one("armed")]
    one_grid = [pk.village(v)[5] for v in VILLAGE_NAMES]  # first grid worker of each village
    p += [
        _GroupPlan("flood", "wechat", f"{town}防汛工作群", "镇应急办", "topic",
                   office_head["镇应急办"], [pk.one("flood")], flood),
        _GroupPlan("flood_cmd", "wechat", f"{town}防汛抗旱应急指挥群", "镇应急办", "topic",
                   pk.one("vice_safety"), [pk.one("flood")], flood_cmd),
        _GroupPlan("fire", "qq", f"{town}森林防火工作群", "镇应急办", "topic", pk.one("fire"),
                   [office_head["镇应急办"]], [pk.one("vice_safety"), *yjb, *vsecs, *one_grid]),
        _GroupPlan("census", "qq", f"第七次全国人口普查{town}工作群", "镇经济发展办", "topic",
                   pk.one("statistician"), [office_head["镇经济发展办"]],
                   [*jjb, *pk.unit("镇党政办"), *pk.role("vacct"), *one_grid], dormant=True),
        _GroupPlan("rural", "wechat", f"{town}乡村振兴工作群", "镇农业农村办", "topic",
                   pk.one("rural"), [office_head["镇农业农村办"]],
                   [pk.one("mayor"), pk.one("vice_agri"), *nyb, *vsecs, *pk.role("vdeputy"),
                    *pk.role("zhucun")]),
        _GroupPlan("safety", "wechat", f"{town}安全生产工作群", "镇应急办", "topic",
                   pk.one("safety"), [office_head["镇应急办"]],
                   [pk.one("vice_safety"), *yjb, *jjb, *vsecs, *pk.role("vsafety")]),
        _GroupPlan("conscript", "qq", f"{town}征兵工作专项群", LEADERS, "topic", pk.one("armed"),
                   [pk.one("veterans")], [pk.one("armed"), pk.one("veterans"), *vsecs,
                                          *pk.role("vsafety"), pk.one("county_armed")]),
        _GroupPlan("medical", "wechat", f"{town}城乡居民医保征缴工作群", "镇社会事务办", "topic",
                   pk.one("medical"), [office_head["镇社会事务办"]],
                   [pk.one("vice_social"), *shb, *pk.role("vacct", "grid")]),
        _GroupPlan("grid_all", "qq", f"{town}网格化服务管理群", "镇党政办", "topic",
                   pk.one("deputy_secretary"), [pk.one("office_deputy", "镇党政办")],
                   [pk.one("deputy_secretary"), pk.one("office_deputy", "镇党政办"),
                    *pk.role("vsafety", "grid")]),
        _GroupPlan("county_agri", "wechat", "县农业农村局-各镇对接群", "县农业农村局", "county",
                   pk.role("county_agri")[0], [pk.role("county_agri")[1]],
                   [*pk.role("county_agri"), pk.one("vice_agri"), *nyb[:3]]),
        _GroupPlan("county_emerg", "qq", "县应急管理局-乡镇应急对接群", "县应急管理局",
                   "county", pk.role("county_emerg")[0], [pk.role("county_emerg")[1]],
                   [*pk.role("county_emerg"), pk.one("vice_safety"), *yjb]),
        _GroupPlan("county_medical", "wechat", "县医保局-乡镇医保经办群", "县医疗保障局",
                   "county", pk.role("county_medical")[0], [pk.role("county_medical")[1]],
                   [*pk.role("county_medical"), office_head["镇社会事务办"], pk.one("medical"),
                    pk.one("civil")]),
        _GroupPlan("county_stats", "wechat", "县统计局-统计员联络群", "县统计局", "county",
                   pk.one("county_stats"), [], [pk.one("county_stats"), pk.one("statistician"),
                                                office_head["镇经济发展办"], *pk.role("vacct")]),
    ]  # fmt: skip
    return p


def build_township(seed: int = 7) -> Township:
    """Build the township's roster and groups; the same seed gives the same township."""
    rng = random.Random(seed)
    town = rng.choice(TOWN_NAMES)
    drafts = _draft_people(rng, NameMaker(rng))
    plans = _plan_groups(town, _Picker(drafts))
    # People have QQ because some of their groups live on QQ; a few more keep an old account.
    on_qq = {k for g in plans if g.platform == "qq" for k in g.members}
    on_qq |= {d.key for d in drafts if rng.random() < 0.08}
    qq_numbers: dict[str, str] = {}
    for d in drafts:
        if d.key in on_qq:
            while (num := str(rng.randint(10**5, 10**10 - 1))) in qq_numbers.values():
                pass
            qq_numbers[d.key] = num
    people = tuple(
        SimPerson(d.key, d.name, d.unit, d.department, d.title, f"wx_{d.key}",
                  qq_numbers.get(d.key), d.is_head)
        for d in drafts
    )  # fmt: skip
    groups = []
    used_ids: set[str] = set()
    for plan in plans:
        while True:
            if plan.platform == "qq":
                gid = str(rng.randint(10**7, 10**9 - 1))
            else:
                gid = f"{rng.randint(10**10, 10**11 - 1)}@chatroom"
            if gid not in used_ids:
                used_ids.add(gid)
                break
        members = _unique([plan.owner, *plan.admins, *plan.members])
        admins = _unique(a for a in plan.admins if a != plan.owner)
        groups.append(SimGroup(plan.key, plan.platform, gid, plan.name, plan.owner, admins,
                               members, plan.unit, plan.kind, plan.dormant))  # fmt: skip
    return Township(town, people, tuple(groups))


def roster_rows(township: Township) -> list[dict[str, str]]:
    """The operator's roster: one row per person; empty string for a missing QQ number."""
    return [
        {
            "name": p.name,
            "unit": p.unit,
            "department": p.department,
            "title": p.title,
            "wechat_id": p.wechat_id or "",
            "qq_id": p.qq_id or "",
            "is_head": "yes" if p.is_head else "no",
        }
        for p in township.people
    ]
