"""Rule-based reply-demand classifier for work-group messages (labels and resolved deadline)."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import ahocorasick

from metrics import phrases as P
from metrics.classifier_ack import is_ack_reply
from metrics.classifier_cues import cues as shape_cues
from metrics.classifier_model import LinearModel, features, load_model
from metrics.classifier_text import (
    QUOTE_PLACEHOLDER,
    clause_spans,
    mentions_everyone,
    normalise,
    quoted_parts,
    sentence_spans,
    strip_quotes,
)
from metrics.deadline import DeadlineMention, find_deadlines
from metrics.errors import MetricsError

__all__ = ["LABELS", "Classification", "classify", "classify_rules", "mentions_everyone"]

LABELS: Final[tuple[str, ...]] = (
    "ack_reply",
    "ack_request",
    "amplify",
    "deadline",
    "material_request",
    "meeting",
    "roll_call",
    "trace_proof",
    "urgent",
)
_ACK: Final = "ack_reply"
_SENTENCE_EXEMPTION: Final = "exemption_sentence"


@dataclass(frozen=True, slots=True)
class Classification:
    """The labels of one message and, when it sets one, its resolved deadline."""

    labels: tuple[str, ...]
    deadline: datetime | None = None

    @property
    def is_demand(self) -> bool:
        """True when the message asks something of members (any label but ack_reply)."""
        return any(label != _ACK for label in self.labels)


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int  # exclusive
    kind: str
    label: str
    phrase: str


def _build_automaton() -> ahocorasick.Automaton:
    entries: dict[str, list[tuple[str, str]]] = {}

    def add(kind: str, label: str, words: tuple[str, ...]) -> None:
        for word in words:
            entries.setdefault(word, []).append((kind, label))

    for label, words in P.STRONG_TRIGGERS.items():
        add(P.TRIGGER_STRONG, label, words)
    for label, words in P.WEAK_TRIGGERS.items():
        add(P.TRIGGER_WEAK, label, words)
    add(P.TRIGGER_WEAK, "material_dest", P.MATERIAL_DESTINATIONS)
    add(P.DIRECTIVE, "", P.DIRECTIVES)
    add("mask", "", P.NOT_DIRECTIVE + P.MASKS)
    add(P.EXEMPTION, "", P.EXEMPTIONS)
    add(_SENTENCE_EXEMPTION, "", P.SENTENCE_EXEMPTIONS)
    add(P.PROHIBITION, "", P.PROHIBITIONS)
    add(P.COMPLAINT, "", P.COMPLAINTS)
    add(P.CANCELLED, "", P.CANCELLATIONS)
    add("content", "", P.CONTENT_MARKERS)
    add("meeting", "", P.MEETING_NOUNS)
    add("meeting_verb", "", P.MEETING_VERBS)
    automaton = ahocorasick.Automaton()
    for word, values in entries.items():
        automaton.add_word(word, (word, tuple(values)))
    automaton.make_automaton()
    return automaton


_AUTOMATON: Final = _build_automaton()
# Structural patterns the phrase sets cannot express.
_DATA_REPLY: Final = re.compile(
    r"回复(?:本|各|今日|当天|今天)?[^,;。!?]{0,20}?(?:人数|户数|数量|情况|数据|名单|多少|几|结果|进度"
    r"|[\u4e00-\u9fff]数(?!据))"
)
# A reply template in quotes (回复“在岗人数”) asks for data when it names a count or list.
_DATA_TEMPLATE: Final = re.compile(r"人数|户数|数量|数据|名单|多少|[\u4e00-\u9fff]数$")
_REPLY_TEMPLATE: Final = re.compile(r"回复\s*" + re.escape(QUOTE_PLACEHOLDER))
# Implicit chases: 还有X村没交, 进度表还没报, 你们村的台账呢
_CHASE: Final = re.compile(
    r"(?:还有[^。!?]{0,24}?|还)(?:没|未)(?:交|报|填|发|上报|报送|提交)"
    r"|(?:表|材料|台账|名单|数据|报表|总结)(?:呢|咋还没|怎么还没)"
)
# A deadline followed by an action is a demand even with no other label (下周二前完成).
_ACTION_AFTER: Final = re.compile(
    r"\s*(?:\([^)]{0,12}\))?\s*(?:务必|必须|要|请|全部|都|各村)?"
    r"(?:完成|报|交|发|提交|上传|落实|整改|到位|处理|反馈|回复|填|准备|核实|排查|清理|办结)"
)
_TO_OFFICE: Final = re.compile(
    r"(?:报|交|(?<![县市镇区局])发(?!布|改|展|生|现|放|出|文))(?:至|到|给|送)?"
    r"[\u4e00-\u9fff]{0,6}?(?:办|站|局|所|中心|科|部|室|组)(?!法|公)"
)
# Reporting on a piece of work (报巡山情况, 巡查结果明晚8点前报): material even with photos.
_REPORT_ON: Final = re.compile(
    r"报(?:告|送)?[^,;。!?]{0,6}?(?<![有么何种此该])(?:情况|结果)"
    r"|(?<=[\u4e00-\u9fff])(?<![有么何种此该])(?:情况|结果)[^,;。!?]{0,12}?报(?!道|纸|到|名)"
)
# Any named form (清点表, 登记表): a document even when the phrase list does not know its name.
_FORM: Final = re.compile(
    r"(?<=[\u4e00-\u9fff])(?<![代发外手图列仪钟电水年])表(?![示彰现扬态达演率格外决明])"
)
_FOLLOW_ACCOUNT: Final = re.compile(r"关注[^,;。!?]{0,14}?(?:公众号|视频号|抖音|微博|账号)")
_CLOCK: Final = re.compile(r"\d{1,2}(?::\d{2}|[点时])|[一二两三四五六七八九十]{1,3}点")
# A day or part of day also dates a meeting (周四下午开支委会); a bare 今天 may report the past.
_MEETING_WHEN: Final = re.compile(
    r"明天|明日|后天|明早|明晚|今晚|上午|下午|晚上|早上|中午"
    r"|(?:下|本|这)?(?:周|星期|礼拜)[一二三四五六日天]|\d{1,2}月\d{1,2}[日号]"
)
_ALREADY: Final = re.compile(r"已经?")
# 把/将 + object + a verb of handing over is an imperative (把表交一下, 将名单报镇里).
_BA_IMPERATIVE: Final = re.compile(r"(?:把|将)[^,;。!?已]{1,16}?(?:交|报|发|上传|填|提交)")
# Photos or videos that are themselves the content (宣传视频, 推介视频, 参赛照片).
_CONTENT_BEFORE: Final = re.compile(r"(?:推介|宣传|原创|参赛|作品|形象|风光|摄影|短|微)$")
_READ_BEFORE: Final = re.compile(r"(?:查看|查阅|参考|参阅|阅读|下载|详见|见)[^,;。!?]{0,10}$")
_READ_AFTER: Final = re.compile(r"[^,;。!?]{0,3}?(?:详见|见附件|见群|已上传|已发)")
# Something members are asked to watch, not to film (看一下这个视频).
_WATCHED: Final = re.compile(r"(?:看|观看|收看|学习|播放)[^,;。!?]{0,5}$")
_TIME_LINE: Final = re.compile(r"(?:^|\n)\s*(?:会议)?时间\s*:")
# 召开/举行 … 会: any kind of meeting, named or not (召开2025年度述职评议会).
_CONVENE: Final = re.compile(
    r"(?:召开|举行|举办)[^,;。!?\n]{0,24}?会(?!计|员|长|场)"
    # 开 + a short name ending in 会 (开收心会, 开个碰头会), not 会议室 or 会计
    r"|开(?:个|一个|一次)?[\u4e00-\u9fff]{1,5}?会(?!计|员|长|场|所|议室)"
)
_TIME_BEFORE: Final = re.compile(r"[^,;。!?]{0,4}?(?:之|以)?前(?!往)")
_ARRIVAL: Final = re.compile(r"[^,;。!?]{0,14}?(?:报到|集合|入会|入场|进场|就座)")
# Labels a message can carry while only informing (【紧急】 weather, a meeting notice).
_INFORMING_LABELS: Final = frozenset({"urgent", "meeting"})


def classify(
    text: str,
    ts: datetime,
    mention_all: bool = False,
    *,
    model: LinearModel | None = None,
) -> Classification:
    """Label one message; ``ts`` is its aware send time, used to resolve any deadline.

    The rules read labels and deadlines; the shipped linear model (metrics.classifier_model),
    which sees the text's n-grams and what the rules found, decides whether the message is a
    demand, an acknowledgement or neither. A demand the rules gave no label is labelled by
    the model's per-label scores. ``model`` replaces the shipped one (to evaluate another).
    """
    reading = _read(text, ts, mention_all)
    model = load_model() if model is None else model
    grams, cues = features(reading.body, reading.cues)
    decision = model.decide(grams, cues)
    if decision == "ack" and not mention_all:
        return Classification((_ACK,))
    if decision != "demand":
        return Classification(())
    labels, deadline, forced = _labels(reading.body, ts, reading.hits, reading.normalised)
    if not labels - {"deadline"}:
        labels = model.labels(grams, cues)
        deadline = forced
    if deadline is not None:
        labels.add("deadline")
    return Classification(tuple(sorted(labels)), deadline)


def classify_rules(text: str, ts: datetime, mention_all: bool = False) -> Classification:
    """Label one message with the rules alone (the model's input, and a baseline to measure)."""
    reading = _read(text, ts, mention_all)
    if not mention_all and is_ack_reply(reading.body):
        return Classification((_ACK,))
    labels, deadline, _ = _labels(reading.body, ts, reading.hits, reading.normalised)
    return Classification(tuple(sorted(labels)), deadline)


@dataclass(frozen=True, slots=True)
class _Reading:
    """What every message needs read, whatever it turns out to be; labels come later."""

    normalised: str
    body: str
    hits: list[_Hit]
    cues: frozenset[str]


def _read(text: str, ts: datetime, mention_all: bool) -> _Reading:
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise MetricsError(
            f"classify: ts {ts.isoformat()} has no time zone; pass an aware datetime"
        )
    normalised = normalise(text)
    body = strip_quotes(normalised)
    hits = _hits(body)
    # The rules' own ack recogniser is no cue: left out, the model did as well on held-out
    # authors (bench --loao) and classifies faster.
    cues = {"hit:" + (h.kind + ":" + h.label if h.label else h.kind) for h in hits}
    if mention_all:
        cues.add("mention_all")
    if QUOTE_PLACEHOLDER in body:
        cues.add("quote")
    cues.update(shape_cues(body))
    return _Reading(normalised, body, hits, frozenset(cues))


def _labels(
    body: str, ts: datetime, hits: list[_Hit], normalised: str | None = None
) -> tuple[set[str], datetime | None, datetime | None]:
    """The rules' labels, their deadline, and the deadline were the message a demand."""
    mentions = find_deadlines(body, ts)
    if any(h.kind == P.COMPLAINT for h in hits) and not any(h.phrase == "请" for h in hits):
        return set(), None, None
    quotes = quoted_parts(normalised or body) if QUOTE_PLACEHOLDER in body else []
    scope = _Scope(body, hits, mentions, quotes)
    has_directive = any(
        h.kind == P.DIRECTIVE or (h.kind == P.TRIGGER_STRONG and scope.is_live(h)) for h in hits
    )
    labels: set[str] = set()
    for hit in hits:
        if hit.kind in {P.TRIGGER_STRONG, P.TRIGGER_WEAK} and scope.counts(hit):
            labels.add(_label_of(hit, body, scope))
    labels |= _structural_labels(body, scope)
    labels.discard("")
    if "material_dest" in labels or "material_verb" in labels:
        labels -= {"material_dest", "material_verb"}
        labels.add("material_request")
    if "meeting" not in labels and _is_meeting(body, hits, scope):
        labels.add("meeting")
    live = [
        m
        for m in mentions
        if not scope.is_negated(m.start) and not scope.is_clause_question(m.start)
    ]
    forced = min((m.when for m in live), default=None)
    demanded = labels - _INFORMING_LABELS or has_directive
    if not demanded:
        live = [m for m in live if _ACTION_AFTER.match(body, m.end)]
    deadline = min((m.when for m in live), default=None)
    if deadline is not None:
        labels.add("deadline")
    return labels, deadline, forced


def _hits(body: str) -> list[_Hit]:
    spans: dict[tuple[int, int], list[_Hit]] = {}
    for end, (word, values) in _AUTOMATON.iter(body):
        start = end + 1 - len(word)
        spans.setdefault((start, end + 1), []).extend(
            _Hit(start, end + 1, kind, label, word) for kind, label in values
        )
    # A phrase inside a longer matched phrase (请 in 请问, 视频 in 视频会议) is not a hit itself.
    # Spans sorted by start, longest first: one is inside an earlier one iff an earlier one
    # reaches at least as far.
    hits: list[_Hit] = []
    reach = -1
    for span in sorted(spans, key=lambda se: (se[0], -se[1])):
        if span[1] > reach:
            hits.extend(spans[span])
            reach = span[1]
    hits.sort(key=lambda h: h.start)
    return hits


class _Scope:
    """Which clause and sentence a position is in, and what cancels triggers there."""

    def __init__(
        self, body: str, hits: list[_Hit], mentions: list[DeadlineMention], quotes: list[str]
    ) -> None:
        self.body = body
        self.quotes = quotes  # the quoted spans, in the order of their placeholders in body
        self.clauses = clause_spans(body)
        self.sentences = sentence_spans(body)
        self._clause_starts = [start for start, _ in self.clauses]
        self._sentence_starts = [start for start, _ in self.sentences]
        self.hits = hits
        self.deadline_starts = [mention.start for mention in mentions]
        # Per clause: the offset from which triggers are cancelled (its start for 无需/不用,
        # the first 严禁/别 otherwise), computed once because every trigger asks.
        self._cancelled_from: dict[tuple[int, int], int] = {}
        self._directive: dict[tuple[int, int], bool] = {}  # per sentence, asked once per trigger
        for hit in hits:
            if hit.kind in {P.EXEMPTION, P.PROHIBITION}:
                clause = self.clause_of(hit.start)
                start = clause[0] if self._cancels_clause(hit, clause) else hit.start + 1
                self._cancel(clause, start)
            elif hit.kind == _SENTENCE_EXEMPTION:
                sentence = self.sentence_of(hit.start)
                for clause in self.clauses:
                    if sentence[0] <= clause[0] <= hit.start:
                        self._cancel(clause, clause[0])

    def _cancel(self, clause: tuple[int, int], start: int) -> None:
        self._cancelled_from[clause] = min(start, self._cancelled_from.get(clause, start))

    def _cancels_clause(self, hit: _Hit, clause: tuple[int, int]) -> bool:
        """无需 cancels its whole clause; so does a polite 请…不要, whose object may come first."""
        if hit.kind == P.EXEMPTION:
            return True
        return any(
            h.phrase == "请" and clause[0] <= h.start < hit.start
            for h in self.hits
            if h.kind == P.DIRECTIVE
        )

    def clause_of(self, pos: int) -> tuple[int, int]:
        return self.clauses[max(0, bisect.bisect_right(self._clause_starts, pos) - 1)]

    def sentence_of(self, pos: int) -> tuple[int, int]:
        return self.sentences[max(0, bisect.bisect_right(self._sentence_starts, pos) - 1)]

    def in_span(self, span: tuple[int, int], kinds: set[str]) -> list[_Hit]:
        return [h for h in self.hits if h.kind in kinds and span[0] <= h.start < span[1]]

    def is_question(self, pos: int) -> bool:
        start, end = self.sentence_of(pos)
        sentence = self.body[start:end]
        return self.body[end : end + 1] == "?" or "请问" in sentence or sentence.endswith("吗")

    def is_clause_question(self, pos: int) -> bool:
        """The clause at ``pos`` asks (周五前报吗？), or its sentence opens with 请问.

        A deadline stated in a sentence that only ends in a question (今天截止，还有没有？)
        still stands.
        """
        start, end = self.clause_of(pos)
        clause = self.body[start:end]
        if self.body[end : end + 1] == "?" or clause.endswith("吗"):
            return True
        s_start, s_end = self.sentence_of(pos)
        return "请问" in self.body[s_start:s_end]

    def is_directive(self, pos: int) -> bool:
        """The sentence at ``pos`` addresses members (请, a deadline, a live strong trigger)."""
        span = self.sentence_of(pos)
        known = self._directive.get(span)
        if known is None:
            known = self._directive[span] = self._sentence_is_directive(span)
        return known

    def _sentence_is_directive(self, span: tuple[int, int]) -> bool:
        directives = self.in_span(span, {P.DIRECTIVE})
        if any(not self.is_negated(h.start) for h in directives):
            return True
        if _CHASE.search(self.body, *span):
            return True
        if _BA_IMPERATIVE.search(self.body, *span):
            return True
        if any(span[0] <= start < span[1] for start in self.deadline_starts):
            return True
        return any(self.is_live(h) for h in self.in_span(span, {P.TRIGGER_STRONG}))

    def is_negated(self, pos: int) -> bool:
        """Cancelled by 无需/不用 anywhere in its clause, or by 严禁/别 before it."""
        if not self._cancelled_from:
            return False  # most messages negate nothing; skip the clause lookup
        cancelled_from = self._cancelled_from.get(self.clause_of(pos))
        return cancelled_from is not None and pos >= cancelled_from

    def is_descriptive(self, pos: int) -> bool:
        """已 before a trigger in a clause with no request reports what happened."""
        start, _ = span = self.clause_of(pos)
        if self.in_span(span, {P.DIRECTIVE}):
            return False
        return _ALREADY.search(self.body, start, pos) is not None

    def is_live(self, hit: _Hit) -> bool:
        """Not cancelled, not asked about, not a modifier (报送的台账), not a report of the past."""
        if self.is_negated(hit.start) or self.is_clause_question(hit.start):
            return False
        if hit.label == "urgent":
            return True
        return not self.body.startswith("的", hit.end) and not self.is_descriptive(hit.start)

    def counts(self, hit: _Hit) -> bool:
        if not self.is_live(hit):
            return False
        return hit.kind == P.TRIGGER_STRONG or self.is_directive(hit.start)


def _label_of(hit: _Hit, body: str, scope: _Scope) -> str:
    label = hit.label
    sentence = scope.sentence_of(hit.start)
    if label == "ack_request" and "回复" in hit.phrase:
        reply_at = hit.start + hit.phrase.index("回复")
        if _DATA_REPLY.match(body, reply_at) or _asks_data_template(reply_at, body, scope):
            return "material_request"
    if label == "trace_proof" and scope.in_span(sentence, {"content"}):
        return "material_request"
    if label == "trace_proof" and _is_content(hit, body):
        return ""  # a promo video to like or share; submitting it is caught by the verb
    if hit.kind == P.TRIGGER_WEAK and label in {"material_request", "trace_proof"}:
        clause_start = scope.clause_of(hit.start)[0]
        if _READ_BEFORE.search(body, clause_start, hit.start) or _READ_AFTER.match(body, hit.end):
            return ""  # 请查阅附件材料: something to read, not to hand in
    if hit.phrase in {"视频", "视屏"} and _WATCHED.search(body, sentence[0], hit.start):
        return ""
    if label == "material_request" and hit.kind == P.TRIGGER_STRONG:
        label = "material_verb"
    if label in {"material_verb", "material_dest"} and _only_proof_sent(sentence, scope):
        return ""
    return label


def _asks_data_template(reply_at: int, body: str, scope: _Scope) -> bool:
    """回复“在岗人数”: the quoted template names the data to send back."""
    template = _REPLY_TEMPLATE.match(body, reply_at)
    if template is None:
        return False
    index = body.count(QUOTE_PLACEHOLDER, 0, template.end() - 1)
    if index >= len(scope.quotes):
        return False
    return _DATA_TEMPLATE.search(scope.quotes[index].strip('“”‘’「」『』"')) is not None


def _only_proof_sent(sentence: tuple[int, int], scope: _Scope) -> bool:
    """报送/发至 with photos and no document in the sentence submits proof, not material."""
    triggers = [
        h for h in scope.in_span(sentence, {P.TRIGGER_WEAK}) if not scope.is_negated(h.start)
    ]
    has_proof = any(h.label == "trace_proof" and not _is_content(h, scope.body) for h in triggers)
    has_document = any(h.label == "material_request" for h in triggers) or (
        _FORM.search(scope.body, *sentence) is not None
    )
    return has_proof and not has_document and not scope.in_span(sentence, {"content"})


def _is_content(hit: _Hit, body: str) -> bool:
    return _CONTENT_BEFORE.search(body, max(0, hit.start - 2), hit.start) is not None


def _structural_labels(body: str, scope: _Scope) -> set[str]:
    labels: set[str] = set()
    for match in _CHASE.finditer(body):
        pos = match.start()
        if not scope.is_negated(pos) and not scope.is_clause_question(pos):
            # 照片还有3个村没发 chases proof, not material
            labels.add(_label_of(_Hit(pos, match.end(), "", "material_dest", ""), body, scope))
    report_matches = _REPORT_ON.finditer(body) if "情况" in body or "结果" in body else ()
    for match in report_matches:
        pos = match.start()
        if not scope.is_negated(pos) and not scope.is_question(pos) and scope.is_directive(pos):
            labels.add("material_request")
    for pattern, label in ((_TO_OFFICE, "material_dest"), (_FOLLOW_ACCOUNT, "amplify")):
        for match in pattern.finditer(body):
            pos = match.start()
            if body.startswith("报到", pos) or body.startswith("报名", pos):
                continue
            if not scope.is_negated(pos) and not scope.is_question(pos) and scope.is_directive(pos):
                labels.add(_label_of(_Hit(pos, match.end(), "", label, ""), body, scope) or "")
    return labels


def _is_meeting(body: str, hits: list[_Hit], scope: _Scope) -> bool:
    """A meeting noun, a convening verb and a clock time in one sentence, none cancelled."""
    if any(h.kind == P.CANCELLED for h in hits):
        return False
    # A notice laid out as lines (时间：… / 地点：…) dates the meeting on a line of its own.
    when_span = (0, len(body)) if _TIME_LINE.search(body) else None
    for hit in hits:
        if hit.kind != "meeting" or body.startswith(P.MEETING_NOUN_OBJECTS, hit.end):
            continue
        span = scope.sentence_of(hit.start)
        if scope.is_question(hit.start) or scope.is_negated(hit.start):
            continue
        if scope.in_span(span, {"meeting_verb"}) and _has_start_time(body, when_span or span):
            return True
    for match in _CONVENE.finditer(body) if "会" in body else ():
        span = scope.sentence_of(match.start())
        if scope.is_question(match.start()) or scope.is_negated(match.start()):
            continue
        if _has_start_time(body, when_span or span):
            return True
    return False


def _has_start_time(body: str, span: tuple[int, int]) -> bool:
    """A time in the span that is not a deadline (X点前), unless it is an arrival time."""
    for pattern in (_CLOCK, _MEETING_WHEN):
        for when in pattern.finditer(body, *span):
            before = _TIME_BEFORE.match(body, when.end())
            if before is None or _ARRIVAL.match(body, before.end()):
                return True
    return False
