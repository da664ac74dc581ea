"""Evaluate the demand classifier on labelled corpora: labels, demands, acks, links, speed.

.venv/bin/python bench/classifier_eval.py                 # every labelled dev set
.venv/bin/python bench/classifier_eval.py --corpus F.jsonl --no-misses
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # runnable as a plain script from any directory
    sys.path.insert(0, str(REPO))

from bench.eval_scores import (  # noqa: E402
    DEADLINE_DEFINITION,
    PR,
    Example,
    Scores,
    load_corpus,
    score,
)
from metrics.classifier import Classification, classify, classify_rules  # noqa: E402
from metrics.classifier_model import LinearModel  # noqa: E402

__all__ = ["Example", "Scores", "load_corpus", "main", "predict", "score"]

DEV_CORPUS = REPO.parent / "shared" / "corpus" / "demand-dev.jsonl"
DATA = REPO / "tests" / "data"
# The labelled sets one may tune on; the everyday holdout is run only by naming it.
LABELLED = (
    DEV_CORPUS,
    DATA / "demand-holdout.jsonl",
    *(DATA / f"everyday-{author}.jsonl" for author in "acde"),
)
THROUGHPUT_ROUNDS = 5
THROUGHPUT_REPEATS = 3


def predict(
    examples: Sequence[Example],
    *,
    rules_only: bool = False,
    model: LinearModel | None = None,
) -> list[Classification]:
    """Classify every example (with the rules alone, or with given models, when asked)."""
    if rules_only:
        return [classify_rules(ex.text, ex.ts, ex.mention_all) for ex in examples]
    return [classify(ex.text, ex.ts, ex.mention_all, model=model) for ex in examples]


def throughput(
    examples: Sequence[Example], *, rules_only: bool = False
) -> list[tuple[float, float]]:
    """Messages classified per second, (wall clock, this process's CPU time), per repeat.

    The machine is shared: CPU time leaves out the time other processes held the cores.
    """
    figures = []
    for _ in range(THROUGHPUT_REPEATS):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(THROUGHPUT_ROUNDS):
            predict(examples, rules_only=rules_only)
        count = THROUGHPUT_ROUNDS * len(examples)
        figures.append((count / (time.perf_counter() - wall), count / (time.process_time() - cpu)))
    return figures


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else "null"


def _pr(name: str, pr: PR) -> str:
    return (
        f"{name:<28} P={pr.precision:.3f} R={pr.recall:.3f} F1={pr.f1:.3f}"
        f"  (tp={pr.tp} fp={pr.fp} fn={pr.fn})"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Print the evaluation report for each corpus given (default: every labelled dev set)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--corpus",
        type=Path,
        action="append",
        help="a labelled JSONL corpus; repeat to evaluate several (default: the labelled dev sets)",
    )
    parser.add_argument(
        "--no-misses", action="store_true", help="print aggregate figures only (for a holdout)"
    )
    parser.add_argument(
        "--rules-only", action="store_true", help="the rules without the learned model"
    )
    parser.add_argument(
        "--loao",
        action="store_true",
        help="leave one author out: retrain on the other sets for each everyday set (needs"
        " scikit-learn: uv sync --group train), and compare with the rules alone",
    )
    args = parser.parse_args(argv)
    if args.loao:
        return leave_one_author_out()
    corpora: list[Path] = args.corpus or [p for p in LABELLED if p.is_file()]
    missing = [path for path in corpora if not path.is_file()]
    if missing:
        for path in missing:
            print(f"corpus not found: {path} (pass --corpus PATH)", file=sys.stderr)
        return 2
    summary: list[tuple[str, Scores]] = []
    every: list[Example] = []
    for number, path in enumerate(corpora):
        if number:
            print("\n" + "=" * 72 + "\n")
        examples = load_corpus(path)
        every.extend(examples)
        scores = report(path, examples, misses=not args.no_misses, rules_only=args.rules_only)
        summary.append((path.name, scores))
    print("\n" + "=" * 72)
    print_summary(summary)
    speeds = throughput(every, rules_only=args.rules_only)
    walls, cpus = [w for w, _ in speeds], [c for _, c in speeds]
    print(
        f"\nthroughput over {len(every)} messages x {THROUGHPUT_ROUNDS}, single thread:"
        f" median {statistics.median(walls):,.0f} messages/second wall clock"
        f" (runs: {', '.join(f'{w:,.0f}' for w in walls)}),"
        f" {statistics.median(cpus):,.0f}/s of CPU time (runs: {', '.join(f'{c:,.0f}' for c in cpus)})"
    )
    return 0


def print_summary(summary: Sequence[tuple[str, Scores]]) -> None:
    """One line per corpus: the figures the issue's targets name."""
    print(
        f"{'corpus':<28}{'demP':>6}{'demR':>6}{'ackP':>6}{'ackR':>6}{'macF1':>7}{'deadl':>7}"
        f"{'linkP':>7}{'linkR':>7}"
    )
    for name, s in summary:
        link = f"{s.links.precision:>7.3f}{s.links.recall:>7.3f}" if s.links else f"{'-':>7}" * 2
        print(
            f"{name:<28}{s.demand.precision:>6.3f}{s.demand.recall:>6.3f}{s.ack.precision:>6.3f}"
            f"{s.ack.recall:>6.3f}{s.macro_f1:>7.3f}{s.deadline_accuracy:>7.3f}{link}"
        )


def leave_one_author_out() -> int:
    """For each everyday set: the rules alone, and rules + a model trained without that set."""
    from bench.train_classifier import train

    everyday = [p for p in LABELLED if p.name.startswith("everyday-")]
    sets = {p: load_corpus(p) for p in LABELLED if p.is_file()}
    rules: list[tuple[str, Scores]] = []
    combined: list[tuple[str, Scores]] = []
    for held in everyday:
        training = [ex for p, examples in sets.items() if p != held for ex in examples]
        model = train(training)
        test = sets[held]
        rules.append((held.name, score(test, predict(test, rules_only=True))))
        combined.append((held.name, score(test, predict(test, model=model))))
    print("leave one author out: rules alone")
    print_summary(rules)
    print("\nleave one author out: rules + model trained on the other sets (dev sets included)")
    print_summary(combined)
    return 0


def report(
    path: Path, examples: Sequence[Example], *, misses: bool = True, rules_only: bool = False
) -> Scores:
    """Print per-label scores, demand/ack/link P/R, deadline accuracy and the misses."""
    predictions = predict(examples, rules_only=rules_only)
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
    print(_pr("demand (any label but ack)", scores.demand))
    print(_pr("acknowledgement (ack_reply)", scores.ack))
    if scores.links is not None and scores.links_gold is not None:
        print(_pr("ack links, classifier", scores.links))
        print(_pr("ack links, labelled classes", scores.links_gold))
    if not misses:
        return scores
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
    return scores


if __name__ == "__main__":
    raise SystemExit(main())
