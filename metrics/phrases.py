"""Phrase families the demand classifier matches, as plain data (simplified, NFKC-normalised)."""

from __future__ import annotations

from typing import Final


def _words(text: str) -> tuple[str, ...]:
    """Split a whitespace-separated phrase list (keeps long families readable and diffable)."""
    return tuple(text.split())


# Kinds of phrase hits. A "trigger" names a label; the other kinds shape how triggers count.
TRIGGER_STRONG: Final = "strong"  # imperative by itself (收到请回复, 接龙, 报送)
TRIGGER_WEAK: Final = "weak"  # counts only in a sentence that directs someone (照片, 台账)
DIRECTIVE: Final = "directive"  # marks a sentence as addressed to members (请, 务必)
EXEMPTION: Final = "exemption"  # 无需/不用: cancels the whole clause, before and after it
PROHIBITION: Final = "prohibition"  # 严禁/别: cancels what follows it in the clause
COMPLAINT: Final = "complaint"  # a member describing a burden, not imposing one
CANCELLED: Final = "cancelled"  # a meeting that is not (or not yet) convened

# label -> phrases that are imperative on their own in a work group.
STRONG_TRIGGERS: Final[dict[str, tuple[str, ...]]] = {
    "ack_request": _words(
        "收到请回复 请回复收到 看到请回复 看到后请回复 收到后请回复 已阅请回复 阅后请回复"
        " 收悉请回复 收到回复 回复收到 回复1 回个1 扣1 扣个1 请回复 确认收到 回复确认 请确认"
        " 收到请回 看到回复 请及时回复 收到请恢复 请恢复收到 看到请恢复"
        # homophone typos of 请/复 typed on phone keyboards (收到亲回复, 请回服)
        " 收到亲回复 看到亲回复 亲回复 请回服 收到请回服 回服收到 收到回服 收到请回覆"
    ),
    "roll_call": _words("接龙 接个龙"),
    "material_request": _words(
        "报送 填报 上报 报上来 报给我 发给我 发我 交给我 补报 补交 重新报 报过来 发过来 交上来"
        " 提交 录入 填写 报一下 报个数 报数 统计一下 汇总一下 交一下 发一下 填一下 填好 填表 里填 填到"
    ),
    "amplify": _words(
        "转发到 转发至 转发朋友圈 转到朋友圈 发朋友圈 分享到 分享朋友圈 点赞 投票 拉票 扩散 转载"
        " 一键三连 点个赞 投个票 投上 投一票 宝贵一票 帮忙投 帮忙转发 帮忙转 请转发 转发一下 大家转发 积极转发 转发扩散 转发给"
    ),
    "urgent": _words(
        "紧急 特急 加急 立即 立刻 马上 尽快 速报 抓紧 火速 即刻 第一时间 急件 十万火急 从速"
        " 赶紧 赶快 急需 刻不容缓 速度报"
    ),
}

# label -> phrases that need a directive sentence around them.
WEAK_TRIGGERS: Final[dict[str, tuple[str, ...]]] = {
    "ack_request": _words("回复"),
    "material_request": _words(
        "台账 台帐 报表 表格 统计表 登记表 核查表 值班表 明细表 进度表 排查表 调查表 汇总表"
        " 一览表 花名册 名册 名单 材料 资料 数据 总结 工作计划 心得 记录本 清单 报告 人数 户数"
        " 汇总 申报书 工作量 数量 进度 统计数 观后感 读后感 体会 感想 数字"
        # results and situations of a piece of work, which members report on
        " 结果 排查情况 巡查情况 检查情况 核查情况 落实情况 完成情况 推进情况 进展情况 整改情况"
        " 开展情况 值班情况 值守情况 收缴情况 缴费情况 在岗情况 摸排情况 走访情况 信息登记 信息采集"
    ),
    "trace_proof": _words(
        "拍照 照片 相片 图片 截图 截屏 视频 定位 打卡 签到 拍摄 合影 晒图 晒照 晒出 晒一晒 晒晒"
        " 晒成绩 晒到 留痕 拍个照 拍张照 照个相 视屏 打个卡 签个到 发个位置 共享位置 位置共享"
    ),
    "amplify": _words("朋友圈 评论 留言 家庭群 家族群 亲友群 亲朋好友"),
}

# Submission verbs and destinations: material unless what is sent is a photo or video proof.
MATERIAL_DESTINATIONS: Final = _words(
    "报镇 报县 报市 报区 报乡 报街道 报村 交到 交至 发至 发送至 邮箱"
)

DIRECTIVES: Final = _words(
    "请 麻烦 务必 必须 须 需 要求 抓紧 尽快 立即 马上 及时 记得 别忘 一定要 发群里 发到群里 发在群里"
    " 在群里发 往群里发 发群 发我 报上来 定于 至少 按时 准时 要把 要将"
    # counted sends (各发一次, 发一张) prescribe a routine to members
    " 各发 发一次 发一张 发一条"
)

# 请 inside these words is not a request to members.
NOT_DIRECTIVE: Final = _words("请问 请假 申请 邀请 提请 请示 请教 敬请 请客 请查收")

EXEMPTIONS: Final = _words(
    "无需 无须 不用 不需要 不需 不必 免于 不要求 不再 暂不 停止 仅供 供参考 供学习 供查阅 供大家"
    " 供各位 免回 免报 少用 尽量少"
)
# For-information phrases that close a sentence and cancel every clause before them in it
# (此项由镇里统一报送，各村无需报送，仅供知悉), but not a demand that follows them.
SENTENCE_EXEMPTIONS: Final = _words("仅供知悉 仅供参考 仅供学习 知悉即可 供知悉")
PROHIBITIONS: Final = _words("严禁 禁止 不得 不准 不许 不要 别 杜绝 避免 不能 切勿 勿")
COMPLAINTS: Final = _words(
    "被要求 太多了 也太 没完没了 怎么这么多 真的 没时间 受不了 太累 累死 烦死 吐槽 无语 不敢离手 天天都 一天回 心累 凭什么"
    " 能不能别 能不能让人 别搞了 大过年的 还让不让人 有没有办法改"
    " 😩 😫 😭 😤 唉 哎"
)
CANCELLATIONS: Final = _words("取消 另行通知 待定 暂停 纪要 要点 精神 已召开 已结束 昨天 刚才 上周")

# Phrases that look like triggers but are something else; matching them masks the inner hit.
MASKS: Final = _words(
    "视频连线 报到 报平安 报名 紧急联系人 紧急避险 马上就要 马上到了 上报纸 汇报 回复了 已回复"
    " 已报送 已上报 已填报 已提交 已拍照 已转发 已截图 无回复 未回复 已汇总 报告会 观看视频 看视频"
    " 学习视频 视频学习 视频链接 已收到 不定期 打卡点 网红打卡 一票否决"
    # not urgent: 非紧急 and 不紧急 say the opposite of 紧急; 不急 only eases a deadline
    " 非紧急 不紧急 不急 不着急"
    # progress rankings the sender publishes (征缴进度通报, 进度靠后的村)
    " 进度通报 进度靠后 进度落后 进度排名 进度较慢"
)

# Solicited content (a contest entry), where photos and videos are material, not proof.
CONTENT_MARKERS: Final = _words("征集 原创 短视频 作品 宣传片 参赛 投稿 素材 大赛 比赛 评选活动")

# A member's acknowledgement starts (or, when short, ends) with one of these.
ACK_TOKENS: Final = _words(
    "收到 好的 已阅 明白 了解 知道了 知悉 收悉 遵照执行 按要求 没问题 已报 已上报 已报送 已发"
    " 已提交 已完成 已交 已填报 已处理 已落实 已转发 已接龙 已核实 已到位 已安排 已拍照 已上传"
    " 已回复 ok 嗯嗯 嗯 好滴 好嘞 好 +1 1 保证 是的 已收到"
)
# Words right after an ack token that make it part of a request instead (收到请回复, 收到后).
ACK_BLOCKERS: Final = _words("请 亲回 后 的 回复 回 时 消息 通知 上级 县里 市里 镇里")
ACK_EMOJI: Final[frozenset[str]] = frozenset("👌👍🙏✌🤝💪✅☑✔🫡🆗🤙👏")
ACK_STICKERS: Final[frozenset[str]] = frozenset(
    _words("强 ok 抱拳 握手 好的 收到 胜利 拳头 鼓掌 耶 赞 嗯 ok手势")
)

MEETING_NOUNS: Final = _words(
    "会议 调度会 推进会 部署会 分析会 座谈会 协调会 动员会 培训 工作会 专题会 例会 总结会 表彰会"
    " 联席会 碰头会 现场会 视频会 电视电话会 务会 办公会 学习会 开会 参会 入会 晨会 周会 党课"
    " 讲座 集中学习 推介会 评审会 述职会 民主生活会 组织生活会 见面会 听证会 研讨会 汇报会 会商"
    " 视频会议 视频调度 视频连线会 大会 全会 常委会 党委会 支委会 短会 小会 个会"
)
MEETING_VERBS: Final = _words(
    "召开 举办 举行 参加 出席 列席 开 定于 参会 入会 集合 集中 改到 改在 调整到 改为 改期"
    " 推迟到 延期到 开会"
)
# A meeting noun followed by one of these names a document or place, not a meeting.
MEETING_NOUN_OBJECTS: Final = _words("材料 记录 照片 纪要 室 精神 要点 资料 截图 议程")
