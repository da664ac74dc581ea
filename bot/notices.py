"""The Chinese texts the bot posts: announcement, help, consent replies, refusals."""

from __future__ import annotations

# Who may consent or stop (bot.consent.may_consent), in every text that says so.
AUTHORISED = "群主、QQ 群管理员或运营方授权的人员"


def announcement(bot_name: str, contact: str, retention_days: int, store_text: bool) -> str:
    content = (
        "消息时间、发送人、@提及和消息中的要求类型（如“收到请回复”、接龙、报送材料、拍照打卡、截止时间）"
        + ("，以及消息正文（本单位已开启正文存储）" if store_text else "，不记录消息内容")
    )
    keep = f"保存 {retention_days} 天后自动删除" if retention_days > 0 else "按单位规定保存"
    return (
        f"大家好，我是“{bot_name}”，受{contact}委托统计工作群给基层带来的负担（为基层减负）。\n"
        f"【记录什么】{content}。\n"
        f"【谁能看到】本单位负责人每周收到汇总；督查人员可查阅统计数据；个人可私聊我查看自己的数据。\n"
        f"【保存多久】{keep}。\n"
        f"【何时开始】{AUTHORISED}回复“同意记录”后才开始；在此之前不记录本群任何消息。\n"
        "【如何退出】任何成员发送“退出统计”即删除本人历史记录，此后只计入匿名总数；"
        f"{AUTHORISED}发送“停止记录”我将退出本群。\n"
        "@我并发送“减负帮助”查看全部指令。"
    )


def consented(store_text: bool) -> str:
    what = "，并保存消息正文（本单位已开启正文存储）" if store_text else "（不记录内容）"
    return f"已开始统计本群的消息时间和要求{what}。成员可随时发送“退出统计”。"


ALREADY_ACTIVE = "本群已在统计中。"
NOT_AUTHORISED_CONSENT = f"抱歉，只有{AUTHORISED}可以同意记录。本群在同意之前不会被记录。"
NOT_AUTHORISED_STOP = (
    f"抱歉，只有{AUTHORISED}可以停止记录。您可以发送“退出统计”删除本人的记录。"
)
STOPPED = "已停止统计本群，助手将退出本群。感谢配合。"
OPTED_OUT = "已删除您在统计中的历史记录，今后只计入匿名总数。发送“加入统计”可重新参与。"
ALREADY_OPTED_OUT = "您已退出统计。"
OPTED_IN = "已恢复统计您的数据。"
SELF_REPORT_OK = "已记下：您共在 {count} 个工作群。周报会把它与助手统计到的群数对照。"
PRIVATE_ONLY = "为保护隐私，个人数据只在私聊中发送，请私聊我“我的负担”。"
DATABASE_DOWN = "抱歉，统计数据库暂时无法写入，这条指令没有执行，请稍后再试。"


def help_text(store_text: bool) -> str:
    """The list of commands, saying truthfully whether message text is stored."""
    what = (
        "消息的时间和要求，并保存消息正文（本单位已开启正文存储）"
        if store_text
        else "消息的时间和要求，不记录内容"
    )
    return (
        "减负助手可用指令：\n"
        f"· 同意记录（{AUTHORISED}）：开始统计本群{what}\n"
        f"· 停止记录（{AUTHORISED}）：停止统计，助手退出本群\n"
        "· 退出统计（任何成员）：删除您的历史记录，今后只计入匿名总数\n"
        "· 加入统计：重新参与统计\n"
        "· 减负帮助（在群里请先@我）：查看本说明\n"
        "· 我的负担（私聊助手）：查看您本周的工作群负担\n"
        "· 我的群数 N（私聊助手）：告诉助手您一共在多少个工作群（含助手不在的群）"
    )
