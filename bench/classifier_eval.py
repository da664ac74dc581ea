"""Evaluate the demand classifier on a labelled corpus: per-label P/R/F1, deadlines, throughput."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # runnable as a plain script from any directory
    sys.path.insert(0, str(REPO))

from metrics.classifier import LABELS, Classification, classify  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "demand-dev.jsonl"
DEADLINE_DEFINITION = (
    "deadline accuracy = exact matches of the resolved deadline (null == null counts as a match)"
    " / messages where the expected or the predicted deadline is non-null"
)
THROUGHPUT_ROUNDS = 20


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled corpus message."""

    id: str
    ts: datetime
    text: str
    mention_all: bool
    labels: tuple[str, ...]
    deadline: datetime | None


@dataclass(frozen=True, slots=True)
class Scores:
    """Classifier scores on a corpus."""

    per_label: dict[str, tuple[float, float, float, int]]  # precision, recall, f1, support
    macro_f1: float
    deadline_accuracy: float
    deadline_total: int


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
            )
        )
    return examples


def predict(examples: Sequence[Example]) -> list[Classification]:
    """Classify every example."""
    return [classify(ex.text, ex.ts, ex.mention_all) for ex in examples]


def score(examples: Sequence[Example], predictions: Sequence[Classification]) -> Scores:
    """Compute per-label P/R/F1, macro F1 over labels with support, and deadline accuracy."""
    per_label: dict[str, tuple[float, float, float, int]] = {}
    for label in LABELS:
        tp = sum(
            label in ex.labels and label in p.labels
            for ex, p in zip(examples, predictions, strict=True)
        )
        fp = sum(
            label not in ex.labels and label in p.labels
            for ex, p in zip(examples, predictions, strict=True)
        )
        fn = sum(
            label in ex.labels and label not in p.labels
            for ex, p in zip(examples, predictions, strict=True)
        )
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = (precision, recall, f1, tp + fn)
    supported = [f1 for _, _, f1, support in per_label.values() if support]
    macro = sum(supported) / len(supported) if supported else 0.0
    relevant = [
        (ex.deadline, p.deadline)
        for ex, p in zip(examples, predictions, strict=True)
        if ex.deadline is not None or p.deadline is not None
    ]
    correct = sum(expected == got for expected, got in relevant)
    accuracy = correct / len(relevant) if relevant else 1.0
    return Scores(per_label, macro, accuracy, len(relevant))


def throughput(examples: Sequence[Example]) -> float:
    """Messages classified per second over several passes of the corpus."""
    started = time.perf_counter()
    for _ in range(THROUGHPUT_ROUNDS):
        predict(examples)
    elapsed = time.perf_counter() - started
    return THROUGHPUT_ROUNDS * len(examples) / elapsed


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else "null"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the evaluation report for each corpus given on the command line (default: dev)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--corpus",
        type=Path,
        action="append",
        help="a labelled JSONL corpus; repeat to evaluate several (default: the dev corpus)",
    )
    args = parser.parse_args(argv)
    corpora: list[Path] = args.corpus or [DEFAULT_CORPUS]
    missing = [path for path in corpora if not path.is_file()]
    if missing:
        for path in missing:
            print(f"corpus not found: {path} (pass --corpus PATH)", file=sys.stderr)
        return 2
    for number, path in enumerate(corpora):
        if number:
            print("\n" + "=" * 72 + "\n")
        report(path)
    return 0


def report(path: Path) -> None:
    """Print per-label scores, deadline accuracy, throughput and the misses on one corpus."""
    examples = load_corpus(path)
    predictions = predict(examples)
    scores = score(examples, predictions)
    print(f"corpus: {path} ({len(examples)} messages)\n")
    print(f"{'label':<18}{'precision':>10}{'recall':>10}{'f1':>8}{'support':>9}")
    for label, (precision, recall, f1, support) in scores.per_label.items():
        print(f"{label:<18}{precision:>10.3f}{recall:>10.3f}{f1:>8.3f}{support:>9}")
    print(f"\nmacro F1 (labels with support): {scores.macro_f1:.3f}")
    print(f"{DEADLINE_DEFINITION}")
    print(
        f"deadline accuracy: {scores.deadline_accuracy:.3f} over {scores.deadline_total} messages"
    )
    print(f"throughput: {throughput(examples):,.0f} messages/second")
    wrong = [
        (ex, p)
        for ex, p in zip(examples, predictions, strict=True)
        if ex.labels != p.labels or ex.deadline != p.deadline
    ]
    print(f"\nmisclassified: {len(wrong)}")
    for ex, p in wrong:
        print(f"  {ex.id}: expected {list(ex.labels)} {_iso(ex.deadline)}")
        print(f"  {' ' * len(ex.id)}  got      {list(p.labels)} {_iso(p.deadline)}")
        print(f"  {' ' * len(ex.id)}  text     {ex.text[:70]!r}")


if __name__ == "__main__":
    raise SystemExit(main())
