"""A small linear model over character n-grams and rule cues: demand, acknowledgement or neither.

The weights are trained offline (bench/train_classifier.py, scikit-learn) and shipped as
package data (classifier_weights.json.gz); scoring here is plain Python so the runtime has
no numerical dependency. The same featurisation serves training and scoring.

One table maps each feature to its weights for every output at once: the decision's
classes (``decision:none``, ``decision:demand``, ``decision:ack``) and, for each demand
label, the margin of a yes/no model (``label:material_request`` ...). One lookup per
feature then scores every output, which keeps a message's scoring to a few microseconds.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from itertools import repeat
from operator import add
from pathlib import Path
from typing import Final

from metrics.errors import MetricsError

__all__ = ["DECISIONS", "LinearModel", "features", "load_model"]

WEIGHTS: Final = Path(__file__).with_name("classifier_weights.json.gz")
DECISIONS: Final = ("none", "demand", "ack")
# Long notices say what they are early; n-grams past this add time, not signal.
TEXT_MAX: Final = 100
# Attachments, mentions and numbers are shapes, not words: a file name or a count
# should not teach the model its topic.
_SHAPES: Final = re.compile(r"《[^》]{0,80}》|@[^\s@,:]{1,20}|\d+(?:\.\d+)?%?")


def _shape(match: re.Match[str]) -> str:
    token = match.group()
    if token.startswith("《"):
        return "《》"
    if token.startswith("@"):
        return "@"
    return "0"


def features(text: str, cues: Iterable[str] = ()) -> tuple[set[str], set[str]]:
    """The 1- to 3-grams of normalised ``text`` (^ and $ mark its ends) and the rule cues."""
    shaped = "^" + _SHAPES.sub(_shape, text[:TEXT_MAX]) + "$"
    # map(add, ...) builds the bigrams and trigrams at C speed; this runs on every message.
    bigrams = list(map(add, shaped, shaped[1:]))
    grams = set(shaped)
    grams.update(bigrams)
    grams.update(map(add, bigrams, shaped[2:]))
    return grams, {"cue:" + cue for cue in cues}


@dataclass(frozen=True, slots=True)
class LinearModel:
    """Linear scores for several outputs; n-gram features are scaled to unit length."""

    outputs: tuple[str, ...]
    bias: tuple[float, ...]
    table: Mapping[str, tuple[float, ...]]
    # The decision needs only demand-vs-none and ack-vs-none, packed as one complex number per
    # feature so that a single C-level sum scores both; labels are scored only for demands.
    _decision: dict[str, complex] = field(init=False, repr=False, compare=False)
    _label_rows: dict[str, tuple[float, ...]] = field(init=False, repr=False, compare=False)
    _label_names: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _decision_bias: complex = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        none, demand, ack = (self.outputs.index("decision:" + d) for d in DECISIONS)
        labels = [k for k, o in enumerate(self.outputs) if o.startswith("label:")]

        def packed(row: tuple[float, ...]) -> complex:
            return complex(row[demand] - row[none], row[ack] - row[none])

        decision = {name: packed(row) for name, row in self.table.items()}
        label_rows = {name: tuple(row[k] for k in labels) for name, row in self.table.items()}
        object.__setattr__(self, "_decision", {k: v for k, v in decision.items() if v})
        object.__setattr__(self, "_label_rows", {k: v for k, v in label_rows.items() if any(v)})
        object.__setattr__(self, "_label_names", tuple(self.outputs[k][6:] for k in labels))
        object.__setattr__(self, "_decision_bias", packed(self.bias))

    def decide(self, grams: set[str], cues: set[str]) -> str:
        """The likeliest of none / demand / ack."""
        get = self._decision.get
        scale = 1.0 / math.sqrt(len(grams)) if grams else 0.0
        zeros = repeat(0j)  # get(feature, 0j): unknown features add nothing, at C speed
        total = (
            sum(map(get, grams, zeros), 0j) * scale
            + sum(map(get, cues, zeros), 0j)
            + self._decision_bias
        )
        best = max(0.0, total.real, total.imag)
        return "none" if best == 0.0 else "demand" if best == total.real else "ack"

    def labels(self, grams: set[str], cues: set[str]) -> set[str]:
        """Demand labels whose yes/no margin is positive; the best one when none is."""
        names = self._label_names
        if not names:
            return set()
        get = self._label_rows.get
        scale = 1.0 / math.sqrt(len(grams)) if grams else 0.0
        margins = list(self.label_bias())
        for weight, rows in ((scale, map(get, grams)), (1.0, map(get, cues))):
            for k, column in enumerate(zip(*filter(None, rows), strict=False)):
                margins[k] += weight * math.fsum(column)
        chosen = {names[k] for k, m in enumerate(margins) if m > 0}
        return chosen or {names[max(range(len(names)), key=margins.__getitem__)]}

    def label_bias(self) -> tuple[float, ...]:
        return tuple(
            b for b, o in zip(self.bias, self.outputs, strict=True) if o.startswith("label:")
        )


def model_from_json(data: Mapping[str, object]) -> LinearModel:
    """Build a model from the dictionary the trainer writes."""
    try:
        outputs = tuple(str(o) for o in data["outputs"])  # type: ignore[attr-defined]
        bias = tuple(float(b) for b in data["bias"])  # type: ignore[attr-defined]
        raw: Mapping[str, list[float]] = data["table"]  # type: ignore[assignment]
        table = {str(k): tuple(float(w) for w in v) for k, v in raw.items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MetricsError(f"classifier weights: malformed model ({exc})") from exc
    missing = [d for d in DECISIONS if "decision:" + d not in outputs]
    if missing or len(bias) != len(outputs) or any(len(v) != len(outputs) for v in table.values()):
        raise MetricsError("classifier weights: outputs, bias and rows do not agree")
    return LinearModel(outputs, bias, table)


@cache
def load_model(path: Path = WEIGHTS) -> LinearModel:
    """The shipped model, read once."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise MetricsError(f"classifier weights: cannot read {path} ({exc})") from exc
    return model_from_json(data)
