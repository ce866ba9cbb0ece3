"""Result records and their three outputs: report.json, a Markdown summary, reliability diagrams."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.metrics import ClassificationMetrics

SCHEMA_VERSION = 1


@dataclass
class SystemResult:
    """One system (the model or a baseline) on one data set."""

    metrics: ClassificationMetrics | dict[str, float]
    seconds: float
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        metrics = self.metrics.to_dict() if isinstance(self.metrics, ClassificationMetrics) else dict(self.metrics)
        record: dict[str, Any] = {"metrics": metrics, "seconds": round(self.seconds, 3)}
        if self.note:
            record["note"] = self.note
        return record


@dataclass
class DatasetResult:
    """All systems on one data set; `skipped` holds the reason when it could not be evaluated."""

    name: str
    task: str
    description: str
    labels: list[str] = field(default_factory=list)
    n: int = 0
    n_total: int = 0
    systems: dict[str, SystemResult] = field(default_factory=dict)
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "description": self.description,
            "labels": self.labels,
            "n": self.n,
            "n_total": self.n_total,
            "skipped": self.skipped,
            "systems": {name: result.to_dict() for name, result in self.systems.items()},
        }


def build_report(
    results: list[DatasetResult], model_version: str, model_dir: str, timings: dict[str, float], settings: dict[str, Any]
) -> dict[str, Any]:
    """The machine-readable report (the gate section is added by the caller once checked)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "model_version": model_version,
        "model_dir": model_dir,
        "settings": settings,
        "timings_s": {key: round(value, 3) for key, value in timings.items()},
        "datasets": {result.name: result.to_dict() for result in results},
    }


def write_json(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def _cell(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}"


def summary_markdown(report: dict[str, Any]) -> str:
    """A table with one row per data set and system, then the seed pair, the gate and the notes."""
    lines = [
        f"# Evaluation of {report['model_version']}",
        "",
        "| data set | system | n | macro-F1 | accuracy | ECE | AUC | reporting called opinion |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    for name, entry in report["datasets"].items():
        if entry["skipped"]:
            notes.append(f"- {name}: skipped ({entry['skipped']})")
            continue
        if entry["task"] in ("seed_pair", "story_pairs", "explanations"):
            continue
        for system, result in entry["systems"].items():
            m = result["metrics"]
            cells = [_cell(m.get(key)) for key in ("macro_f1", "accuracy", "ece", "roc_auc", "false_positive_rate")]
            lines.append(f"| {name} | {system} | {m['n']} | " + " | ".join(cells) + " |")
    seed = report["datasets"].get("seed_pair")
    if seed and not seed["skipped"]:
        m = seed["systems"]["model"]["metrics"]
        lines += [
            "",
            f"Seed pair opinion_share: editorialized (000) {m['opinion_share_editorialized']:.3f}, "
            f"plain (001) {m['opinion_share_plain']:.3f}, gap {m['opinion_share_gap']:+.3f} (must be > 0).",
        ]
    pairs = report["datasets"].get("authored_pairs_test")
    if pairs and not pairs["skipped"]:
        m = pairs["systems"]["model"]["metrics"]
        lines += ["", f"Authored test minimal pairs: framed above plain in opinion share on {m['framed_above_plain_share']:.0%} "
                      f"of {m['pairs']} pairs (mean gap {m['mean_gap']:+.3f}, smallest {m['smallest_gap']:+.3f})."]
    for task in ("opinion", "sentiment"):
        entry = report["datasets"].get(f"explanations_{task}")
        if entry and not entry["skipped"]:
            m = entry["systems"]["model"]["metrics"]
            lines.append(f"Evidence faithfulness ({task}, {m['units']} units): deleting the top-3 evidence words moves the score by "
                         f"{m['comprehensiveness']:.3f} (3 random words: {m['random_deletion']:.3f}; evidence beats random on "
                         f"{m['beats_random_share']:.0%}); the evidence sentence alone keeps {m['sufficiency']:.0%} of the score.")
    lines += ["", "ECE: 15 equal-width bins over the top-label confidence; – = the system gives no probabilities.",
              "TextBlob: opinion when subjectivity >= 0.5; its AUC uses the raw subjectivity."]
    if report["settings"].get("limit"):
        lines.append(f"Subsampled: at most {report['settings']['limit']} examples per data set (seed {report['settings']['seed']}).")
    gate = report.get("gate")
    if gate:
        lines += ["", f"Gate: {'PASSED' if gate['passed'] else 'FAILED'}"]
        lines += [f"- {message}" for message in gate["failures"] + gate["skipped"]]
    if notes:
        lines += ["", "Notes:", *notes]
    return "\n".join(lines) + "\n"


def write_reliability_diagrams(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """One PNG per task: the model's accuracy against its confidence per bin, one line per data set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_task: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for name, entry in report["datasets"].items():
        model = entry["systems"].get("model")
        if entry["skipped"] or not model or not model["metrics"].get("reliability"):
            continue
        by_task.setdefault(entry["task"], []).append((name, model["metrics"]))
    written = []
    for task, curves in by_task.items():
        figure, axis = plt.subplots(figsize=(5, 5))
        axis.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
        for name, metrics in curves:
            bins = [b for b in metrics["reliability"] if b["count"]]
            axis.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o",
                      label=f"{name} (ECE {metrics['ece']:.3f})")
        axis.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (max probability)", ylabel="accuracy",
                 title=f"Reliability, {task} ({report['model_version']})")
        axis.legend(loc="upper left", fontsize=8)
        path = out_dir / f"reliability_{task}.png"
        figure.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(figure)
        written.append(path)
    return written
