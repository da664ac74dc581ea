"""Shape cues for the classifier's model: families of how replies, plans, chases and notices look.

Each cue is one regular expression over the normalised, quote-free text. They name families
(a member stating their own next step, a report of something done, a chase for what is
missing, a notice that asks nothing), so the model can weigh a family as a whole instead of
learning each wording from n-grams alone.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["cues"]

_UNIT: Final = (
    r"[\u4e00-\u9fff]{1,8}?(?:村|社区|网格|小组|组|中心|站|所|办|院|校|小学|中学|队|局|科|股)"
)
_VERB: Final = (
    r"(?:发|报|交|弄|改|补|整理|填|传|上传|安排|处理|落实|核|统计|写|拍|转|去|过去|到|赶|通知|联系)"
)
_WHEN: Final = (
    r"(?:马上|立即|立刻|这就|今晚|今天|明天|明早|明天上午|明天下午|下午|上午|晚上|晚点|稍后|回头|等下|等会"
    r"|一会|待会|周末|下周|这周|十分钟|半小时|\d+分钟)"
)
_CUES: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    # a member's own next step: 马上补, 今晚整理好发, 我这就安排, 十分钟后发
    (
        "plan",
        re.compile(
            r"(?:^|[,，。\s]|我|我们|的)"
            + _WHEN
            + r"(?:后|就|再|能|会|一上班)?[^,，。!?]{0,6}?"
            + _VERB
        ),
    ),
    ("self", re.compile(r"(?:^|[,，。\s])(?:我|我们|我这边|我们这边)(?!们?各)")),
    # something done: 已报, 发了, 转了, 弄好了, 补齐了, 核完了
    ("done", re.compile(r"已经?" + _VERB + r"|" + _VERB + r"(?:好|完|齐|上)?了")),
    ("unit_start", re.compile(r"^" + _UNIT + r"(?:[:：\s]|的|已|收到|无|今|目前|共|新增)")),
    (
        "nil_report",
        re.compile(r"(?:无|正常|平安|没有|无异常|零报告|无变化|无新增|到岗|到位|到了)[!。.]?$"),
    ),
    ("attachment", re.compile(r"\[(?:文件|图片|位置|链接|视频|语音|聊天记录)\]")),
    ("question", re.compile(r"[?？]|吗$|呢$|请问|是不是|能不能|要不要|怎么|哪个|哪里|多少|几个")),
    # asking others: 请各村, 麻烦大家, 各网格把, 你们
    (
        "to_others",
        re.compile(
            r"(?:请|麻烦|务必|必须|要求|抓紧|记得)[^。!?\n]{0,8}?(?:各|大家|你们|同志|全体|所有)"
            r"|^(?:@\S+\s*)*(?:各|请各|大家|你们)"
        ),
    ),
    ("imperative", re.compile(r"(?:请|麻烦|务必|必须|一定要|记得|别忘了)")),
    ("no_reply", re.compile(r"(?:无需|无须|不用|不需要|不必|免)(?:回复|回|报|报送|接龙|拍照|发)")),
    ("not_urgent", re.compile(r"非紧急|不紧急|不急|不着急")),
    (
        "chase",
        re.compile(
            r"还差|还有[^。!?]{0,10}?(?:没|未)|还没(?:交|报|发|见到|接|回)|(?:的|表|材料|回执|名单)呢[?？]?$"
        ),
    ),
    ("thanks", re.compile(r"谢谢|辛苦|感谢|多谢")),
    ("greeting", re.compile(r"早上好|早安|新年快乐|节日快乐|快乐[!！]?$|晚安|拜年")),
    (
        "deadline_like",
        re.compile(
            r"(?:今天|明天|今晚|本周|下周|周[一二三四五六日天]|\d+[月日号点时]|下班)[^,，。]{0,4}?(?:前|截止|之前)|截止"
        ),
    ),
    (
        "notice_head",
        re.compile(r"^(?:【[^】]{1,10}】|[\u4e00-\u9fff]{2,8}(?:通知|提醒|通报|公告|预警)[:：])"),
    ),
    ("forward", re.compile(r"^(?:转发|【转|\[转|转:|转：)|\[链接\]")),
    ("mention", re.compile(r"@")),
    ("sorry", re.compile(r"不好意思|抱歉|晚了")),
    ("ack_word", re.compile(r"^(?:收到|好的|好|嗯|明白|知道了|了解|ok|1)(?:[,，。!！\s]|$)")),
)


def cues(body: str) -> list[str]:
    """The names of the cue families found in normalised, quote-free ``body``."""
    found = [name for name, pattern in _CUES if pattern.search(body)]
    size = len(body)
    found.append(
        "len:"
        + ("short" if size <= 8 else "mid" if size <= 30 else "long" if size <= 90 else "longer")
    )
    return found
