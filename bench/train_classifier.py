"""Train the classifier's linear models (metrics/classifier_model.py) and write their weights.

Needs scikit-learn, a training-only dependency: `.tools/bin/uv sync --group train`.

    .venv/bin/python bench/train_classifier.py            # all labelled sets -> shipped weights
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # runnable as a plain script from any directory
    sys.path.insert(0, str(REPO))

from bench.eval_scores import Example, load_corpus  # noqa: E402
from metrics.classifier import LABELS, _read  # noqa: E402
from metrics.classifier_model import DECISIONS, WEIGHTS, LinearModel, features  # noqa: E402

DATA = REPO / "tests" / "data"
TRAINING = (
    REPO.parent / "shared" / "corpus" / "demand-dev.jsonl",
    DATA / "demand-holdout.jsonl",
    *(DATA / f"everyday-{author}.jsonl" for author in "acde"),
)
MIN_COUNT = 2  # an n-gram seen in one message only is noise
C_DECISION = 3.0
C_LABEL = 10.0
KEEP = 1e-3  # weights smaller than this change no decision; leaving them out keeps the file small
DEMAND_LABELS = tuple(label for label in LABELS if label not in {"ack_reply", "deadline"})


def decision_class(ex: Example) -> str:
    return "demand" if ex.is_demand else "ack" if ex.is_ack else "none"


def featurise(examples: Sequence[Example]) -> list[dict[str, float]]:
    """One feature dictionary per example, valued as LinearModel.scores values them."""
    rows = []
    for ex in examples:
        reading = _read(ex.text, ex.ts, ex.mention_all)
        grams, cues = features(reading.body, reading.cues)
        scale = 1.0 / len(grams) ** 0.5 if grams else 0.0
        row = {g: scale for g in grams}
        row.update({c: 1.0 for c in cues})
        rows.append(row)
    return rows


def _fit(rows: list[dict[str, float]], targets: list[str], c: float) -> dict[str, dict[str, float]]:
    """Per class (or, for yes/no, for "yes" alone: its margin) the weight of each feature."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vectoriser = DictVectorizer()
    matrix = vectoriser.fit_transform(rows)
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    model.fit(matrix, targets)
    names = [str(n) for n in vectoriser.get_feature_names_out()]
    classes = [str(k) for k in model.classes_]
    if classes == ["no", "yes"]:  # one row: the margin of "yes"
        return {
            "yes": {"": float(model.intercept_[0]), **dict(zip(names, model.coef_[0], strict=True))}
        }
    return {
        k: {"": float(model.intercept_[i]), **dict(zip(names, model.coef_[i], strict=True))}
        for i, k in enumerate(classes)
    }


def train(examples: Sequence[Example]) -> LinearModel:
    """The decision (none / demand / ack) and a yes/no margin per demand label, in one table."""
    rows = featurise(examples)
    counts: dict[str, int] = {}
    for row in rows:
        for name in row:
            counts[name] = counts.get(name, 0) + 1
    rows = [
        {k: v for k, v in row.items() if k.startswith("cue:") or counts[k] >= MIN_COUNT}
        for row in rows
    ]
    decision = _fit(rows, [decision_class(ex) for ex in examples], C_DECISION)
    columns = {"decision:" + d: decision[d] for d in DECISIONS}
    demands = [(row, ex) for row, ex in zip(rows, examples, strict=True) if ex.is_demand]
    for label in DEMAND_LABELS:
        targets = ["yes" if label in ex.labels else "no" for _, ex in demands]
        if len(set(targets)) == 2:
            columns["label:" + label] = _fit([r for r, _ in demands], targets, C_LABEL)["yes"]
    outputs = tuple(columns)
    names = {name for column in columns.values() for name in column if name}
    table = {}
    for name in sorted(names):
        row = tuple(round(float(columns[o].get(name, 0.0)), 4) for o in outputs)
        if max(abs(w) for w in row) >= KEEP:
            table[name] = row
    bias = tuple(round(columns[o][""], 4) for o in outputs)
    return LinearModel(outputs, bias, table)


def dump(model: LinearModel, path: Path) -> None:
    data = {"outputs": model.outputs, "bias": model.bias, "table": dict(model.table)}
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as fh:
        json.dump(data, fh, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, action="append", help="training corpora")
    parser.add_argument("--out", type=Path, default=WEIGHTS, help="weights file to write")
    args = parser.parse_args(argv)
    corpora = args.corpus or list(TRAINING)
    examples = [ex for path in corpora for ex in load_corpus(path)]
    model = train(examples)
    dump(model, args.out)
    size = args.out.stat().st_size
    print(f"trained on {len(examples)} messages from {len(corpora)} corpora -> {args.out}")
    print(f"{len(model.table)} features x {len(model.outputs)} outputs, {size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
