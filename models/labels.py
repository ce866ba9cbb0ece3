"""Double-labelled data: two blind label files, their agreement, and the adjudicated gold labels.

Shared by the authored stories (`models.authored`) and the real-news paragraphs
(`models.realnews`). Each unit carries a few labelled fields ("opinion", "sentiment", or the
same per sentence); labeller files are JSONL with one object per unit, keyed by `key`.
A field on which the two labellers agree is gold as it stands; where they disagree, the
adjudicator's label (a third, separate read) is gold.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from sklearn.metrics import cohen_kappa_score

Labels = dict[str, dict[str, Any]]  # unit key -> {field: label}


def read_labels(paths: list[Path], key: str) -> Labels:
    """Labeller files -> {unit key: record}; a unit labelled twice in one slot is an error."""
    labels: Labels = {}
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    record = json.loads(line)
                    if record[key] in labels:
                        raise ValueError(f"{path}: {record[key]} labelled twice")
                    labels[record[key]] = record
    return labels


def fields(record: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(field name, label) of one unit's labels, sentence labels flattened as `s<n>.<task>`."""
    for task in ("opinion", "sentiment"):
        if task in record:
            yield task, record[task]
    for number, sentence in enumerate(record.get("sentences", [])):
        for task in ("opinion", "sentiment"):
            yield f"s{number}.{task}", sentence[task]


def agreement(first: Labels, second: Labels) -> dict[str, dict[str, float]]:
    """Cohen's kappa and raw agreement per task (paragraph/sentence x opinion/sentiment)."""
    pairs: dict[str, tuple[list[str], list[str]]] = {}
    for unit, record in first.items():
        other = dict(fields(second[unit]))
        for name, label in fields(record):
            task = ("sentence_" if name.startswith("s") and "." in name else "paragraph_") + name.split(".")[-1]
            a, b = pairs.setdefault(task, ([], []))
            a.append(label)
            b.append(other[name])
    return {task: {"kappa": round(float(cohen_kappa_score(a, b)), 3), "agreement": round(sum(x == y for x, y in zip(a, b)) / len(a), 3),
                   "n": len(a)} for task, (a, b) in sorted(pairs.items())}


def disagreements(first: Labels, second: Labels) -> dict[str, list[str]]:
    """unit key -> the fields on which the two labellers differ."""
    found = {}
    for unit, record in first.items():
        other = dict(fields(second[unit]))
        differing = [name for name, label in fields(record) if other[name] != label]
        if differing:
            found[unit] = differing
    return found


def read_adjudications(path: Path) -> dict[tuple[str, str], str]:
    """The adjudicator's file: one {"key", "field", "label"} line per disputed field."""
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return {(row["key"], row["field"]): row["label"] for row in rows}


def gold(first: Labels, second: Labels, adjudicated: dict[tuple[str, str], str]) -> dict[str, dict[str, str]]:
    """unit key -> {field: gold label}: agreed labels, and the adjudicator's where they differ."""
    result = {}
    for unit, record in first.items():
        other = dict(fields(second[unit]))
        labels = {}
        for name, label in fields(record):
            if other[name] == label:
                labels[name] = label
            elif (unit, name) in adjudicated:
                labels[name] = adjudicated[(unit, name)]
            else:
                raise ValueError(f"{unit}: {name} disagrees ({label} / {other[name]}) and was not adjudicated")
        result[unit] = labels
    return result
