"""The CI gate: compare the model's metrics in a report with the bounds in eval/thresholds.toml.

A key in a `[data_set]` table names a metric of the model on that data set and how it is bound:

* `macro_f1 = 0.73`            a floor: the metric must be >= 0.73
* `ece_max = 0.07`             a ceiling: the metric (`ece`) must be <= 0.07
* `opinion_share_gap_gt = 0.0` a strict lower bound: the metric must be > 0.0

A data set the report marks as skipped (for example the seed pair when its folder is missing)
is listed as not checked; a metric that is absent or not a number fails.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

THRESHOLDS_FILE = Path(__file__).resolve().parent / "thresholds.toml"

_SUFFIXES = {"_max": ("ceiling", ">"), "_gt": ("bound", "<=")}


@dataclass(frozen=True)
class Bound:
    """One gated metric: `kind` is floor (>=), ceiling (<=) or bound (strictly >)."""

    dataset: str
    metric: str
    kind: str
    limit: float

    def holds(self, value: float) -> bool:
        if self.kind == "ceiling":
            return value <= self.limit
        if self.kind == "bound":
            return value > self.limit
        return value >= self.limit

    def failure(self, value: float) -> str:
        sign = {"floor": "<", "ceiling": ">", "bound": "<="}[self.kind]
        return f"GATE FAILED: {self.dataset}.{self.metric} = {value:.3f} {sign} {self.kind} {self.limit:.3f}"


@dataclass
class GateResult:
    """What the gate found: failures (one message each), data sets it could not check, bounds that held."""

    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    passed_checks: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, Any]:
    with Path(path).open("rb") as handle:
        return tomllib.load(handle)


def parse_bounds(thresholds: dict[str, Any]) -> list[Bound]:
    """Turn the TOML tables into bounds, reading the kind from the key's suffix."""
    bounds = []
    for dataset, table in thresholds.items():
        if not isinstance(table, dict):
            raise ValueError(f"thresholds: [{dataset}] must be a table of metric bounds")
        for key, limit in table.items():
            metric, kind = key, "floor"
            for suffix, (suffix_kind, _) in _SUFFIXES.items():
                if key.endswith(suffix):
                    metric, kind = key[: -len(suffix)], suffix_kind
            if not isinstance(limit, (int, float)) or isinstance(limit, bool):
                raise ValueError(f"thresholds: {dataset}.{key} must be a number")
            bounds.append(Bound(dataset, metric, kind, float(limit)))
    return bounds


def model_metric(report: dict[str, Any], dataset: str, metric: str) -> float | None:
    """The model's value of one metric in a report, or None when absent."""
    entry = report.get("datasets", {}).get(dataset, {})
    value = entry.get("systems", {}).get("model", {}).get("metrics", {}).get(metric)
    return None if value is None else float(value)


def check_gate(report: dict[str, Any], thresholds: dict[str, Any]) -> GateResult:
    """Check every bound against the report's model metrics."""
    result = GateResult()
    for bound in parse_bounds(thresholds):
        entry = report.get("datasets", {}).get(bound.dataset, {})
        name = f"{bound.dataset}.{bound.metric}"
        if entry.get("skipped"):
            note = f"{name} not checked: {entry['skipped']}"
            if note not in result.skipped:
                result.skipped.append(note)
            continue
        value = model_metric(report, bound.dataset, bound.metric)
        if value is None or math.isnan(value):
            result.failures.append(f"GATE FAILED: {name} missing from the report")
        elif bound.holds(value):
            result.passed_checks.append(name)
        else:
            result.failures.append(bound.failure(value))
    return result
