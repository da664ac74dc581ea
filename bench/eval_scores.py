"""Scores for bench/classifier_eval.py: per-label F1, demand and ack P/R, deadlines, ack links."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from metrics.acks import AckItem, link_acks
from metrics.calendar import WorkingCalendar
from metrics.classifier import LABELS, Classification
from metrics.classifier_ack import is_chain_list
from metrics.classifier_text import normalise
from metrics.working_time import working_time

DEADLINE_DEFINITION = (
    "deadline accuracy = exact matches of the resolved deadline (null == null counts as a match)"
    " / messages where the expected or the predicted deadline is non-null"
)


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled corpus message; the everyday sets also say who sent it where, and what to."""

    id: str
    ts: datetime
    text: str
    mention_all: bool
    labels: tuple[str, ...]
    deadline: datetime | None
    group: str | None = None
    sender: str | None = None
    mentions: tuple[str, ...] = ()
    answers: str | None = None
    has_answers: bool = False
    kind: str | None = None

    @property
    def is_demand(self) -> bool:
        return any(label != "ack_reply" for label in self.labels)

    @property
    def is_ack(self) -> bool:
        return "ack_reply" in self.labels


@dataclass(frozen=True, slots=True)
class PR:
    """Precision, recall and F1 of one binary decision, with its counts."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: PR) -> PR:
        return PR(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


@dataclass(frozen=True, slots=True)
class Scores:
    """Classifier scores on a corpus."""

    per_label: dict[str, tuple[float, float, float, int]]  # precision, recall, f1, support
    macro_f1: float
    deadline_accuracy: float
    deadline_total: int
    demand: PR
    ack: PR
    links: PR | None = None  # links from predicted classes, where the corpus has `answers`
    links_gold: PR | None = None  # links from the corpus's own classes: the linker alone


def load_corpus(path: Path) -> list[Example]:
    """Read a demand corpus in the JSONL format described in its README."""
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        deadline = datetime.fromisoformat(row["deadline"]) if row["deadline"] else None
        examples.append(
            Example(
                id=row["id"],
                ts=datetime.fromisoformat(row["ts"]),
                text=row["text"],
                mention_all=bool(row["mention_all"]),
                labels=tuple(row["labels"]),
                deadline=deadline,
                group=row.get("group"),
                sender=row.get("sender"),
                mentions=tuple(row.get("mentions") or ()),
                answers=row.get("answers"),
                has_answers="answers" in row and "group" in row and "sender" in row,
                kind=row.get("kind"),
            )
        )
    return examples


def _binary(
    examples: Sequence[Example],
    predictions: Sequence[Classification],
    truth: Callable[[Example], bool],
    guess: Callable[[Classification], bool],
) -> PR:
    pairs = list(zip(examples, predictions, strict=True))
    return PR(
        tp=sum(truth(ex) and guess(p) for ex, p in pairs),
        fp=sum(not truth(ex) and guess(p) for ex, p in pairs),
        fn=sum(truth(ex) and not guess(p) for ex, p in pairs),
    )


def score(examples: Sequence[Example], predictions: Sequence[Classification]) -> Scores:
    """Per-label P/R/F1, macro F1 over labels with support, demand/ack P/R, deadlines, links."""
    per_label: dict[str, tuple[float, float, float, int]] = {}
    for label in LABELS:
        pr = _binary(
            examples,
            predictions,
            lambda ex, label=label: label in ex.labels,  # type: ignore[misc]
            lambda p, label=label: label in p.labels,  # type: ignore[misc]
        )
        per_label[label] = (pr.precision, pr.recall, pr.f1, pr.tp + pr.fn)
    supported = [f1 for _, _, f1, support in per_label.values() if support]
    macro = sum(supported) / len(supported) if supported else 0.0
    relevant = [
        (ex.deadline, p.deadline)
        for ex, p in zip(examples, predictions, strict=True)
        if ex.deadline is not None or p.deadline is not None
    ]
    correct = sum(expected == got for expected, got in relevant)
    accuracy = correct / len(relevant) if relevant else 1.0
    demand = _binary(examples, predictions, lambda ex: ex.is_demand, lambda p: p.is_demand)
    ack = _binary(examples, predictions, lambda ex: ex.is_ack, lambda p: "ack_reply" in p.labels)
    links = links_gold = None
    if examples and all(ex.has_answers for ex in examples):
        links = link_score(
            examples, [(p.is_demand, "ack_reply" in p.labels, p) for p in predictions]
        )
        gold = [(ex.is_demand, ex.is_ack, Classification(ex.labels)) for ex in examples]
        links_gold = link_score(examples, gold)
    return Scores(per_label, macro, accuracy, len(relevant), demand, ack, links, links_gold)


def true_links(examples: Sequence[Example]) -> set[tuple[str, str]]:
    """(ack, demand) pairs: an acknowledgement whose `answers` names a labelled demand."""
    demands = {ex.id for ex in examples if ex.is_demand}
    return {
        (ex.id, ex.answers)
        for ex in examples
        if ex.is_ack and ex.answers is not None and ex.answers in demands
    }


def link_score(
    examples: Sequence[Example], classes: Sequence[tuple[bool, bool, Classification]]
) -> PR:
    """Links metrics.acks.link_acks makes from the given classes, against `answers`.

    Time is working time under the default schedule, as the digest measures it; a 接龙
    list is marked as joining a roll call, as the recorder marks it.
    """
    key_of = {ex.id: n for n, ex in enumerate(examples)}
    items = [
        AckItem(
            key=n,
            group_key=ex.group or "",
            sender_key=ex.sender or "",
            at=ex.ts,
            is_demand=is_demand,
            is_ack=is_ack,
            is_roll_call="roll_call" in c.labels,
            mention_all=ex.mention_all,
            mentions=frozenset(ex.mentions),
            joins_roll_call=is_ack and is_chain_list(normalise(ex.text)),
        )
        for n, (ex, (is_demand, is_ack, c)) in enumerate(zip(examples, classes, strict=True))
    ]
    clock = working_time(WorkingCalendar())
    made = {(examples[a].id, examples[d].id) for a, d in link_acks(items, elapsed=clock).items()}
    wanted = {pair for pair in true_links(examples) if pair[1] in key_of}
    return PR(tp=len(made & wanted), fp=len(made - wanted), fn=len(wanted - made))
