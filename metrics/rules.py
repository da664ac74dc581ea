"""The policy rules a finding can cite (DOMAIN.md section 2), by short id."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    short: str
    source: str

    @property
    def citation(self) -> str:
        return f"{self.id}「{self.short}」（{self.source}）"


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("R1", "原则上非工作时间不发布工作信息", "珠海香洲2019；湖北2019"),
        Rule("R2", "原则上一个单位只建一个工作群，同类型工作群整合", "香洲2019；湖北2019"),
        Rule("R3", "专项工作群结束后及时解散", "香洲2019；黄石2022"),
        Rule(
            "R4",
            "不得强制要求打卡接龙、即时响应",
            "中央网信委2023《关于防治“指尖上的形式主义”的若干意见》",
        ),
        Rule("R5", "不得以上传工作场景截图、视频代替对实际工作的评价", "2019中办通知；浙江2019"),
        Rule(
            "R6", "相同材料不得要求基层反复提供", "香洲2019；2024《整治形式主义为基层减负若干规定》"
        ),
        Rule("R7", "不得强制点赞、转发、投票", "黄石2022"),
        Rule("R8", "谁建群谁负责；加群自愿、退群自由", "湖北2019；银川2019"),
    )
}
