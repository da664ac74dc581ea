"""Realistic, unique Chinese personal names and place names for the simulated township."""

from __future__ import annotations

import random

# Common surnames, weighted roughly by frequency so 王/李/张/刘/陈 dominate as they do.
_SURNAMES: tuple[tuple[str, int], ...] = (
    ("王", 12), ("李", 12), ("张", 11), ("刘", 9), ("陈", 8), ("杨", 6), ("黄", 5),
    ("赵", 5), ("吴", 4), ("周", 4), ("徐", 3), ("孙", 3), ("马", 3), ("朱", 3),
    ("胡", 3), ("郭", 3), ("何", 3), ("高", 2), ("林", 2), ("罗", 2), ("郑", 2),
    ("梁", 2), ("谢", 2), ("宋", 2), ("唐", 2), ("许", 1), ("韩", 1), ("冯", 1),
    ("邓", 1), ("曹", 1), ("彭", 1), ("曾", 1), ("肖", 1), ("田", 1), ("董", 1),
    ("潘", 1), ("袁", 1), ("蒋", 1), ("余", 1), ("杜", 1), ("叶", 1), ("程", 1),
)  # fmt: skip

# Characters common in given names of people born 1965-2000.
_GIVEN_MALE = "伟强军勇杰涛斌明超刚平辉鹏华飞建国庆文俊峰磊志海波林东永兵春德"
_GIVEN_FEMALE = "芳娟敏静丽艳霞燕玲红梅琴秀英萍娜婷雪慧桂兰凤洁倩颖"
_GIVEN_EITHER = "小晓子宏立家新永玉金春海建红志国"

TOWN_NAMES: tuple[str, ...] = ("白沙镇", "龙泉镇", "双溪镇", "清河镇", "桃源镇", "石门镇")
VILLAGE_NAMES: tuple[str, ...] = ("新河村", "石桥村", "柳塘村", "高坪村", "王家湾村", "青山村")
# A village is often dominated by one clan; 王家湾 obviously by the 王 family.
VILLAGE_CLANS: dict[str, str] = {
    "新河村": "陈",
    "石桥村": "李",
    "柳塘村": "刘",
    "高坪村": "张",
    "王家湾村": "王",
    "青山村": "黄",
}


class NameMaker:
    """Draws names that are unique within one township, so "@姓名" is unambiguous."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()
        self._surnames = [s for s, _ in _SURNAMES]
        self._weights = [w for _, w in _SURNAMES]

    def make(self, female: bool, surname: str | None = None) -> str:
        """A fresh two- or three-character name, optionally with a given surname."""
        while True:
            family = surname or self._rng.choices(self._surnames, self._weights)[0]
            pool = _GIVEN_FEMALE if female else _GIVEN_MALE
            if self._rng.random() < 0.3:
                given = self._rng.choice(pool)
            else:
                given = self._rng.choice(_GIVEN_EITHER + pool) + self._rng.choice(pool)
            name = family + given
            if name not in self._used:
                self._used.add(name)
                return name
