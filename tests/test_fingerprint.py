"""Tests for demand fingerprints and repeated-demand clusters."""

# House style puts the expected value first in asserts; ruff reads that as Yoda.

from __future__ import annotations

from datetime import datetime, timedelta
from hashlib import blake2b
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics.errors import MetricsError
from metrics.fingerprint import (
    DEFAULT_MAX_DISTANCE,
    DemandRef,
    find_repeats,
    fingerprint,
    hamming,
    normalise,
    simhash,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 11, 10, 9, 0, tzinfo=SHANGHAI)

NOTICE = (
    "【紧急通知】各村（社区）：请于今天下班前将本村秸秆禁烧巡查台账报镇农业办，"
    "逾期未报的将予以通报。"
)
NOTICE_REPOST = (
    "转：@所有人 各村(社区)：请于今天下班前将本村秸秆禁烧巡查台账报镇农业办，逾期未报的将予以通报！"
    "联系人：李娜"
)
OTHER_REQUEST = "请各村于11月20日前报送本村防返贫监测户花名册和帮扶台账，并附入户照片。"


def reference_simhash(text: str) -> int:
    """A plain per-bit SimHash over the same grams, as an oracle for the fast one."""
    norm = normalise(text)
    grams = [norm[i : i + n] for n in (2, 3) for i in range(len(norm) - n + 1)]
    if not grams and norm:
        grams = [norm]
    if not grams:
        return 0
    sums = [0] * 64
    for gram in grams:
        h = int.from_bytes(blake2b(gram.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            sums[bit] += 1 if (h >> bit) & 1 else -1
    unsigned = sum(1 << bit for bit in range(64) if sums[bit] > 0)
    return unsigned - (1 << 64) if unsigned >= 1 << 63 else unsigned


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("请于周五前报送防汛台账", "周五前报送防汛台账"),
        ("@张伟\u2005请于周五前报送防汛台账", "周五前报送防汛台账"),
        ("@所有人 请于 周五前 报送「防汛台账」！！👍", "周五前报送防汛台账"),
        ("转：请于周五前报送防汛台账", "周五前报送防汛台账"),
        ("请于11月20日前报送", "#月#日前报送"),
        ("请于１１月２０日前报送", "#月#日前报送"),
        ("详见 https://example.gov.cn/a?b=1 表格", "详见表格"),
        ("Excel表格", "excel表格"),
        ("各位同事，辛苦了，谢谢大家", "同事"),
        ("", ""),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    """Normalising drops mentions, links, forward prefixes, punctuation, digits and filler words."""
    assert expected == normalise(text)


def test_fingerprint_is_stable() -> None:
    """Fingerprints never change between releases: stored ones are compared with new ones."""
    assert -1815228758991777361 == fingerprint("请于周五前报送防汛台账")
    assert -1815228758991777361 == simhash("请于周五前报送防汛台账")


@given(st.text(alphabet="请于周五前报送防汛台账各村社区1234567890，。@ ab", max_size=60))
def test_fingerprint_matches_reference(text: str) -> None:
    """The bit-sliced majority gives the same SimHash as a plain per-bit sum."""
    assert reference_simhash(text) == fingerprint(text)


@given(st.text(max_size=200))
def test_fingerprint_fits_bigint(text: str) -> None:
    """Every fingerprint fits a signed 64-bit SQL BIGINT."""
    assert -(2**63) <= fingerprint(text) < 2**63


@pytest.mark.parametrize("text", ["", "   ", "@所有人 ！！", "👌👌"])
def test_fingerprint_of_nothing_is_zero(text: str) -> None:
    """A text with nothing left after normalising fingerprints to 0."""
    assert 0 == fingerprint(text)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (0, 0, 0),
        (0, -1, 64),
        (1, 2, 2),
        (-(2**63), 2**63, 0),
        (-1, 2**64 - 1, 0),
        (0b1011, 0b0001, 2),
    ],
)
def test_hamming(a: int, b: int, expected: int) -> None:
    """Hamming distance counts differing bits of signed or unsigned 64-bit values."""
    assert expected == hamming(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (NOTICE, NOTICE_REPOST),
        ("请于周五前报送防汛台账", "@所有人 请各位于本周五前报送防汛台账，谢谢"),
        (
            "关于开展森林防火隐患排查的通知：请各村于9月15日前完成排查，并将排查照片和排查登记表报镇应急办。",
            "转：关于开展森林防火隐患排查的通知，请各村于9月18日前完成排查，并将排查照片和排查登记表报镇应急办！",
        ),
    ],
)
def test_near_duplicates_are_close(a: str, b: str) -> None:
    """The same demand with small edits stays within the default distance."""
    assert hamming(fingerprint(a), fingerprint(b)) <= DEFAULT_MAX_DISTANCE


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (NOTICE, OTHER_REQUEST),
        (
            "请各村于11月20日前报送本村低保户花名册和入户核查照片",
            "请各村于11月20日前报送本村防返贫监测户花名册和帮扶台账",
        ),
        ("请于周五前报送防汛台账", "请于周五前报送森林防火台账"),
        (
            "今天下班前把秸秆禁烧巡查照片发群里",
            "明天上午9点在镇政府三楼会议室召开低保专项治理推进会",
        ),
    ],
)
def test_different_requests_are_far(a: str, b: str) -> None:
    """Different demands, even in the same template, are beyond the default distance."""
    assert hamming(fingerprint(a), fingerprint(b)) > DEFAULT_MAX_DISTANCE


def ref(key: int, group: str, sender: str, hours: float, text: str) -> DemandRef:
    """A demand reference ``hours`` after T0 with the text's fingerprint."""
    return DemandRef(key, group, sender, T0 + timedelta(hours=hours), fingerprint(text))


def test_repost_to_two_groups_is_found() -> None:
    """The same notice posted to two groups within the window forms one cluster."""
    items = [
        ref(1, "g-town", "s-office", 0, NOTICE),
        ref(2, "g-town", "s-office", 1, OTHER_REQUEST),
        ref(3, "g-villages", "s-deputy", 26, NOTICE_REPOST),
    ]
    [cluster] = find_repeats(items)
    assert [1, 3] == [r.message_key for r in cluster.refs]
    assert 2 == cluster.group_count
    assert 2 == cluster.sender_count
    assert T0 == cluster.first_at
    assert T0 + timedelta(hours=26) == cluster.last_at
    assert cluster.matters


def test_different_requests_are_not_joined() -> None:
    """Two different demands in two groups form no cluster."""
    items = [ref(1, "g1", "s1", 0, NOTICE), ref(2, "g2", "s2", 1, OTHER_REQUEST)]
    assert [] == find_repeats(items)


@pytest.mark.parametrize(
    ("hours_apart", "window_days", "expected_clusters"),
    [
        (24 * 6, 7, 1),
        (24 * 7, 7, 1),
        (24 * 7 + 1, 7, 0),
        (24 * 8, 7, 0),
        (24 * 2, 1, 0),
    ],
)
def test_window(hours_apart: float, window_days: float, expected_clusters: int) -> None:
    """Copies further apart than the window are not joined; the window's edge is inclusive."""
    items = [ref(1, "g1", "s1", 0, NOTICE), ref(2, "g2", "s1", hours_apart, NOTICE_REPOST)]
    assert expected_clusters == len(find_repeats(items, window_days=window_days))


def test_chain_within_window_joins_one_cluster() -> None:
    """A notice re-sent every five days is one cluster, though its ends are ten days apart."""
    items = [
        ref(1, "g1", "s1", 0, NOTICE),
        ref(2, "g2", "s1", 24 * 5, NOTICE_REPOST),
        ref(3, "g3", "s1", 24 * 10, NOTICE),
    ]
    [cluster] = find_repeats(items)
    assert (1, 2, 3) == tuple(r.message_key for r in cluster.refs)
    assert 3 == cluster.group_count
    assert 1 == cluster.sender_count


@pytest.mark.parametrize(
    ("places", "expected_clusters"),
    [
        ([("g1", "s1"), ("g1", "s1")], 0),
        ([("g1", "s1"), ("g1", "s2")], 1),
        ([("g1", "s1"), ("g2", "s1")], 1),
    ],
)
def test_cluster_matters_only_across_groups_or_senders(
    places: list[tuple[str, str]], expected_clusters: int
) -> None:
    """A repeat by one sender in one group is not reported; a second group or sender is."""
    items = [ref(i, g, s, i, NOTICE) for i, (g, s) in enumerate(places)]
    assert expected_clusters == len(find_repeats(items))


def test_empty_texts_never_cluster() -> None:
    """Fingerprint 0 (nothing left of the text) does not link demands."""
    items = [ref(1, "g1", "s1", 0, "👌"), ref(2, "g2", "s2", 1, "！！")]
    assert [] == find_repeats(items)


def test_clusters_ordered_oldest_first_and_input_order_ignored() -> None:
    """Clusters come oldest first whatever order the refs are given in."""
    items = [
        ref(4, "g2", "s2", 50, OTHER_REQUEST),
        ref(2, "g2", "s2", 3, NOTICE_REPOST),
        ref(3, "g1", "s1", 40, OTHER_REQUEST),
        ref(1, "g1", "s1", 2, NOTICE),
    ]
    clusters = find_repeats(items)
    assert [(1, 2), (3, 4)] == [tuple(r.message_key for r in c.refs) for c in clusters]


def test_duplicate_message_key_is_refused() -> None:
    """Passing one message twice is a caller bug, reported instead of counted as a repeat."""
    items = [ref(1, "g1", "s1", 0, NOTICE), ref(1, "g2", "s2", 1, NOTICE)]
    with pytest.raises(MetricsError, match="message_key"):
        find_repeats(items)
