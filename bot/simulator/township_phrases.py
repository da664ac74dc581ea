"""Chinese phrase banks for simulated work-group traffic, with deadlines relative to send time."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Topic:
    """What a group talks about: things to announce, collect, photograph and roll-call."""

    notices: tuple[str, ...]
    ledgers: tuple[str, ...]
    photos: tuple[str, ...]
    roll_calls: tuple[str, ...]
    meeting: str


_GENERAL = Topic(
    notices=(
        "县委巡察组本周进驻我镇，请各单位把近三年的会议记录、台账整理好备查",
        "本周六正常上班，补上周调休，请大家相互转告",
        "近期电信诈骗高发，请各村利用村广播、村民群做好宣传",
        "镇机关食堂本周四中午停餐一次",
        "请各单位落实好周末值班带班，值班表已发群文件",
        "关于进一步规范公文处理的通知已下发，请认真学习",
    ),
    ledgers=("本月重点工作完成情况表", "干部在岗情况统计表", "民生实事项目进度表",
             "信访矛盾排查化解台账", "党员冬训学习台账"),
    photos=("主题党日活动", "环境卫生大扫除", "值班在岗"),
    roll_calls=("参加明天上午全镇干部大会人员", "本周值班人员到岗情况", "党员学习强国本周积分"),
    meeting="全镇重点工作调度会",
)  # fmt: skip

TOPICS: dict[str, Topic] = {
    "general": _GENERAL,
    "leaders": _GENERAL,
    "agri": Topic(
        notices=(
            "秋冬种已进入关键期，请各村组织农户抢抓墒情",
            "县里下周来我镇检查高标准农田项目",
            "秸秆禁烧进入高峰期，各村要加强巡查",
        ),
        ledgers=(
            "秋冬种进度统计表",
            "撂荒耕地摸排台账",
            "防返贫监测对象信息表",
            "高标准农田建后管护台账",
        ),
        photos=("秸秆禁烧巡查", "撂荒地复耕现场", "农田水利设施管护"),
        roll_calls=("各村秋冬种进度", "撂荒地复耕完成情况"),
        meeting="农业农村重点工作推进会",
    ),
    "social": Topic(
        notices=(
            "今年城乡居民医保征缴已启动，请各村加大宣传力度",
            "本月低保资金已发放到位",
            "寒潮将至，请各村走访独居老人，确保温暖过冬",
        ),
        ledgers=(
            "独居空巢老人台账",
            "低保对象动态复核表",
            "残疾人两项补贴核查表",
            "退役军人信息采集表",
        ),
        photos=("走访慰问困难群众", "独居老人入户走访"),
        roll_calls=("独居老人走访完成情况", "低保复核入户情况"),
        meeting="民生保障工作推进会",
    ),
    "safety": Topic(
        notices=(
            "近期气温骤降，请各村做好燃气、用电安全宣传",
            "县安委会明天开始安全生产大检查",
            "请各单位严格落实领导带班和24小时值班制度",
        ),
        ledgers=(
            "安全隐患排查整治台账",
            "经营性自建房安全排查表",
            "燃气用户安全检查台账",
            "“九小场所”消防检查表",
        ),
        photos=("安全隐患排查", "消防通道清理", "燃气入户检查"),
        roll_calls=("安全生产大检查自查完成情况", "今晚带班领导到岗情况"),
        meeting="安全生产工作专题会",
    ),
    "flood": Topic(
        notices=(
            "气象台发布暴雨黄色预警，请各村立即进入防汛应急状态",
            "各村要落实好地质灾害点巡查责任人",
            "防汛物资仓库本周盘点，请各村核对物资清单",
        ),
        ledgers=("防汛责任人名单", "地质灾害隐患点巡查台账", "防汛物资储备情况表"),
        photos=("地质灾害点巡查", "山塘水库巡查", "防汛值班在岗"),
        roll_calls=("今晚防汛值班人员到岗情况", "各村地灾点巡查完成情况"),
        meeting="防汛工作视频调度会",
    ),
    "fire": Topic(
        notices=(
            "进入森林防火紧要期，严禁野外用火",
            "请各村护林员每天上山巡查",
            "清明前后祭祀用火管控要提前部署",
        ),
        ledgers=("森林防火巡查台账", "野外用火管控责任人名单", "护林员在岗情况表"),
        photos=("护林员上山巡查", "防火卡点值守", "森林防火宣传"),
        roll_calls=("各村护林员今日巡查情况", "防火卡点值守人员到岗情况"),
        meeting="森林防火工作部署会",
    ),
    "rural": Topic(
        notices=(
            "人居环境整治月度评比下周开始",
            "驻村工作队考勤纳入年度考核",
            "乡村振兴衔接资金项目要加快进度",
        ),
        ledgers=(
            "衔接资金项目进度表",
            "人居环境整治问题清单",
            "驻村工作队考勤表",
            "防返贫监测对象信息表",
        ),
        photos=("人居环境整治", "产业项目现场", "驻村工作队在岗"),
        roll_calls=("人居环境整治自查情况", "驻村工作队本周在岗情况"),
        meeting="乡村振兴工作推进会",
    ),
    "conscript": Topic(
        notices=("征兵宣传进村入户要做到全覆盖", "适龄青年兵役登记网上系统已开放"),
        ledgers=("适龄青年兵役登记花名册", "应征青年体检名单", "大学生征兵宣传台账"),
        photos=("征兵宣传横幅悬挂", "入户宣传"),
        roll_calls=("各村兵役登记完成人数", "参加体检人员到场情况"),
        meeting="征兵工作推进会",
    ),
    "medical": Topic(
        notices=(
            "城乡居民医保缴费截止日期临近，请各村抓紧动员",
            "缴费可通过微信小程序完成，请宣传到户",
        ),
        ledgers=("医保缴费进度统计表", "未参保人员摸排台账", "特困人员代缴名单"),
        photos=("医保缴费入户宣传", "缴费二维码张贴"),
        roll_calls=("各村今日医保缴费人数", "未参保人员走访情况"),
        meeting="医保征缴工作调度会",
    ),
    "stats": Topic(
        notices=("统计执法检查下月开始，请各村规范原始记录", "本季度统计报表系统已开放"),
        ledgers=("农业统计季报", "规上企业联网直报情况", "人口抽样调查底册"),
        photos=("入户调查",),
        roll_calls=("各村报表报送情况",),
        meeting="统计工作培训会",
    ),
    "grid": Topic(
        notices=(
            "网格员每天要完成入户走访任务，系统里及时上报",
            "重点人员要做到每周见面一次",
            "本周开展矛盾纠纷大排查",
        ),
        ledgers=("矛盾纠纷排查台账", "重点人员走访记录", "网格事件处置台账"),
        photos=("网格巡查", "入户走访", "重点人员见面"),
        roll_calls=("今日网格巡查打卡", "重点人员走访完成情况"),
        meeting="网格员工作例会",
    ),
    "village": Topic(
        notices=(
            "明天上午村里开党员大会，请通知到每位党员",
            "村部本周五大扫除，各位安排好时间",
            "镇里通知各村周末不得空岗，请轮流值班",
        ),
        ledgers=("村集体经济收支台账", "村民代表会议记录", "农户信息采集表"),
        photos=("村部值班", "环境卫生整治", "入户走访"),
        roll_calls=("周末值班安排", "党员大会参会确认"),
        meeting="村两委会",
    ),
}

ACKS: tuple[tuple[str, int], ...] = (
    ("收到", 40), ("收到！", 10), ("好的", 12), ("明白", 6), ("已阅", 4), ("1", 8),
    ("+1", 3), ("👌", 4), ("收到，马上落实", 4), ("收到，立即安排", 3), ("好的，收到", 5),
)  # fmt: skip
ACK_REQUESTS = ("收到请回复。", "请回复收到。", "看到请回复。", "收到请回复，不回复的视为未收到。")
NEGATIONS = (
    "仅供知悉，无需回复。",
    "无需回复。",
    "请知悉，不用接龙。",
    "大家知道就行，不用回复收到。",
)
TAILS = (
    "逾期未报的将在全镇通报。",
    "表格已发群文件。",
    "以县里最新模板为准。",
    "请务必准确，不得漏报。",
    "",
)
AMPLIFY = (
    "请大家把县融媒体中心今天推送的文章转发朋友圈，转发后截图发群里。",
    "我镇参评“最美乡村”网络投票今天截止，请每人投票后截图回复。",
    "请大家给镇公众号最新一期点赞、点在看，并分享到朋友圈。",
    "县里统计转发量，请每位同志转发到3个以上微信群，截图发群里。",
)  # fmt: skip
GREETINGS_MORNING = ("早上好", "大家早", "早！今天降温，注意保暖")
CHAT = (
    "请问这个表是填到村还是填到组？", "系统又登不上了，有人遇到吗？", "表格模板能再发一下吗？",
    "辛苦了", "👍", "大家辛苦了！", "今天下雨，路上注意安全", "谢谢领导",
    "我下午去县里开会，有事电话联系",
    "刚才的文件打不开，麻烦重发一下", "车在村部门口，谁要去镇里可以一起", "好的，我问一下再回复",
)  # fmt: skip
ANSWERS = (
    "填到村就行",
    "重新发了，请查收",
    "我这边可以登，换个浏览器试试",
    "按上次的模板来",
    "好的，我来处理",
)
CHAT_EVENING = (
    "今天辛苦了，早点休息",
    "明天的材料我晚上弄完发你",
    "还在加班吗？",
    "收到，明天一早处理",
)
WEEKEND = ("周末还在忙啊", "大家周末愉快", "值班的同志辛苦了")


def pick_ack(rng: random.Random) -> str:
    """A typical bare acknowledgement, weighted by how often each is seen."""
    return rng.choices([a for a, _ in ACKS], [w for _, w in ACKS])[0]


def deadline_phrase(at: datetime, rng: random.Random) -> str:
    """A deadline that makes sense relative to the send time (今天下班前 only before 16:00 etc.)."""
    hour, weekday = at.hour + at.minute / 60, at.weekday()
    if weekday >= 5:
        options = ["下周一上班前", "明早8点前", "今晚8点前" if hour < 18 else "明天中午前"]
    elif hour < 7.5:
        options = ["今天上午10点前", "上班前", "1小时内"]
    elif hour < 15.5:
        options = [
            "今天下班前",
            "今天下班前",
            "今天下午4点前" if hour < 14 else "1小时内",
            "明天上午10点前",
            "1小时内",
        ]
        if hour < 10:
            options.append("今天中午12点前")
        if weekday <= 2:
            options.append("本周五前")
    elif hour < 18.5:
        options = ["今晚8点前", "明早8点前", "1小时内", "明天下班前"]
        if weekday == 4:
            options.append("下周一上午9点前")
    else:
        options = ["明早8点前", "明天上午9点前", "1小时内"]
        if hour < 21:
            options.append("今晚10点前")
    return rng.choice(options)


def meeting_phrase(at: datetime, rng: random.Random) -> str:
    """When a meeting is called for, relative to the send time."""
    hour, weekday = at.hour + at.minute / 60, at.weekday()
    if weekday == 4 and hour >= 12:
        return rng.choice(["下周一上午9点", "下周一上午8点半"])
    if hour < 12:
        return rng.choice(["今天下午3点", "今天下午2点半", "明天上午9点"])
    if hour < 18:
        return rng.choice(["明天上午9点", "明天上午8点半", "今晚7点半"])
    return rng.choice(["明天上午9点", "明早8点"])
