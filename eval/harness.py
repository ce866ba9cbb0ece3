"""One evaluation run: load the data, score it with the model and the baselines, report, gate."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.records import OPINION_LABELS
from eval import baselines, model
from eval.gate import THRESHOLDS_FILE, GateResult, check_gate, load_thresholds
from eval.metrics import classification_metrics
from eval.predictions import Predictions
from eval.report import (
    DatasetResult,
    SystemResult,
    build_report,
    summary_markdown,
    write_json,
    write_reliability_diagrams,
)
from eval.tasks import (
    DATASETS,
    DEFAULT_SEED,
    SEEDS_DIR,
    EvalSet,
    load_eval_set,
    load_seed_pair,
    subsample,
)

DEFAULT_OUT = Path(__file__).resolve().parent / "out"


@dataclass
class EvalOptions:
    """The command line's choices; defaults are what CI runs."""

    model_dir: Path | None = None
    out_dir: Path = DEFAULT_OUT
    data_dir: Path | None = None
    gate: bool = True
    limit: int | None = None
    seed: int = DEFAULT_SEED
    device: str = "auto"
    precision: str = "auto"
    with_model: bool = True
    seeds_dir: Path = SEEDS_DIR
    thresholds_file: Path = THRESHOLDS_FILE


@dataclass
class EvalRun:
    """What a run produced: the report dict, the Markdown summary and the gate (None when off)."""

    report: dict[str, Any]
    summary: str
    gate: GateResult | None
    files: list[Path] = field(default_factory=list)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def baseline_predictions(eval_set: EvalSet) -> dict[str, Predictions]:
    """The reference systems that fit the data set's task."""
    systems = {"majority": baselines.majority(eval_set.train_labels, len(eval_set.texts), len(eval_set.labels))}
    if eval_set.task == "sentiment":
        systems["vader"] = baselines.vader_sentiment(eval_set.texts)
    else:
        systems["textblob"] = baselines.textblob_opinion(eval_set.texts)
    return systems


def score_system(eval_set: EvalSet, predictions: Predictions) -> SystemResult:
    metrics = classification_metrics(
        eval_set.gold, predictions.labels, eval_set.labels, predictions.probs, predictions.positive_scores
    )
    return SystemResult(metrics, predictions.seconds)


def evaluate_dataset(eval_set: EvalSet, analyzer: Any | None) -> DatasetResult:
    """Every system on one data set, the model first."""
    result = DatasetResult(
        name=eval_set.name,
        task=eval_set.task,
        description=eval_set.spec.description,
        labels=list(eval_set.labels),
        n=len(eval_set.texts),
        n_total=eval_set.n_total,
    )
    systems: dict[str, Predictions] = {}
    if analyzer is not None:
        systems["model"] = model.model_predictions(analyzer, eval_set)
    systems.update(baseline_predictions(eval_set))
    result.systems = {name: score_system(eval_set, predictions) for name, predictions in systems.items()}
    return result


def evaluate_seed_pair(analyzer: Any | None, seeds_dir: Path) -> DatasetResult:
    """The seed pair's opinion_share gap, or a skipped entry saying why."""
    result = DatasetResult(name="seed_pair", task="seed_pair", description="opinion_share of seed 000 minus seed 001")
    pair, reason = load_seed_pair(seeds_dir)
    if pair is None or analyzer is None:
        result.skipped = reason or "no model (--baselines-only)"
        return result
    metrics, seconds = model.seed_pair_metrics(analyzer, pair)
    result.n = result.n_total = 2
    result.systems = {"model": SystemResult(metrics, seconds)}
    return result


def _unscorable(analyzer: Any | None) -> str | None:
    """Why the sentence-level sections cannot run: no model, or one without sentence scores."""
    if analyzer is None:
        return "no model (--baselines-only)"
    if not hasattr(analyzer, "scorer"):
        return "the model does not expose sentence scores and evidence"
    return None


def evaluate_authored_sentences(analyzer: Any | None, limit: int | None = None) -> DatasetResult:
    """Sentence opinion on the authored test split, each sentence read in its paragraph."""
    from models import authored

    result = DatasetResult(name="authored_sentences_test", task="opinion", labels=list(OPINION_LABELS),
                           description="Authored news sentences, test split (held-out stories), scored in their paragraphs")
    result.skipped = _unscorable(analyzer)
    if result.skipped:
        return result
    paragraphs = [p for p in authored.load() if p.split == "test"]
    paragraphs = [paragraphs[i] for i in subsample(len(paragraphs), limit)]
    gold, predictions = model.sentence_predictions(analyzer, paragraphs)
    result.n = result.n_total = len(gold)
    metrics = classification_metrics(gold, predictions.labels, OPINION_LABELS, predictions.probs, predictions.positive_scores)
    result.systems = {"model": SystemResult(metrics, predictions.seconds)}
    return result


def evaluate_story_pairs(analyzer: Any | None) -> DatasetResult:
    """Every authored test minimal pair: the framed version must have the higher opinion share."""
    from models import authored

    result = DatasetResult(name="authored_pairs_test", task="story_pairs",
                           description="Authored minimal pairs, test split: framed vs plain telling of the same story")
    result.skipped = _unscorable(analyzer)
    if result.skipped:
        return result
    pairs = authored.test_pairs()
    metrics, seconds = model.story_pair_metrics(analyzer, pairs)
    result.n = result.n_total = len(pairs)
    result.systems = {"model": SystemResult(metrics, seconds)}
    return result


def evaluate_checkthat_cv(analyzer: Any | None, data_dir: Path | None) -> DatasetResult:
    """CheckThat! 2023 train+dev, 5-fold cross-validation of the shipped recipe's heads.

    The heads are refitted per fold on the shipped encoder, frozen; each fold is
    scored by heads that never saw it, through the product's scoring path.
    """
    from models import heads

    result = DatasetResult(name="checkthat_cv", task="opinion", labels=list(OPINION_LABELS),
                           description="CheckThat! 2023 English train+dev, 5-fold CV of the tone-v2 heads (SUBJ = opinion)")
    result.skipped = _unscorable(analyzer)
    if result.skipped:
        return result
    recipe = heads.recipe_of(analyzer.scorer.model_dir)
    if recipe is None:
        result.skipped = "no tone-v2 recipe in the model's config (tone-v1 heads are not refitted per fold)"
        return result
    start = time.perf_counter()
    tables = heads.opinion_tables(analyzer.scorer, data_dir)
    p_opinion = heads.checkthat_cv(tables, recipe, analyzer.scorer.net.opinion)
    gold = tables["checkthat_whole"].y.tolist()
    probs = np.stack([1 - p_opinion, p_opinion], axis=1)
    predicted = (p_opinion >= analyzer.scorer.config.opinion_threshold).astype(int).tolist()
    result.n = result.n_total = len(gold)
    result.systems = {"model": SystemResult(classification_metrics(gold, predicted, OPINION_LABELS, probs, p_opinion.tolist()),
                                            time.perf_counter() - start)}
    return result


def evaluate_explanations(analyzer: Any | None, limit: int | None = None) -> list[DatasetResult]:
    """Faithfulness of the evidence (eval.explanations): opinion on authored dev, sentiment on NYT test."""
    from eval import explanations

    descriptions = {"opinion": "Evidence faithfulness, opinion: authored dev opinion paragraphs (top-3 words deleted, evidence sentence alone)",
                    "sentiment": "Evidence faithfulness, sentiment: NYT test sentences scored non-neutral (signed)"}
    results = [DatasetResult(name=f"explanations_{task}", task="explanations", description=text) for task, text in descriptions.items()]
    if (reason := _unscorable(analyzer)):
        for result in results:
            result.skipped = reason
        return results
    start = time.perf_counter()
    measured = explanations.evaluate(analyzer, limit)
    seconds = time.perf_counter() - start
    for result, task in zip(results, descriptions):
        result.n = result.n_total = measured[task]["units"]
        result.systems = {"model": SystemResult(measured[task], seconds / 2)}
    return results


def apply_gate(report: dict[str, Any], thresholds_file: Path) -> GateResult:
    """Check the model's metrics against the committed bounds and record the outcome in the report."""
    gate = check_gate(report, load_thresholds(thresholds_file))
    report["gate"] = {"passed": gate.passed, "failures": gate.failures, "skipped": gate.skipped,
                      "checked": gate.passed_checks, "thresholds_file": str(thresholds_file)}
    return gate


def write_outputs(report: dict[str, Any], summary: str, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(report, out_dir / "report.json")
    (out_dir / "summary.md").write_text(summary, encoding="utf-8")
    return [out_dir / "report.json", out_dir / "summary.md", *write_reliability_diagrams(report, out_dir)]


def run(options: EvalOptions) -> EvalRun:
    """Evaluate, apply the gate, write report.json, summary.md and the reliability diagrams."""
    import datasets

    datasets.disable_progress_bars()  # the per-split filter bars only clutter CI logs
    started = time.perf_counter()
    timings: dict[str, float] = {}
    eval_sets = []
    for spec in DATASETS:
        _log(f"loading {spec.name} ...")
        eval_sets.append(load_eval_set(spec, options.data_dir, options.limit, options.seed))
    timings["load_data"] = time.perf_counter() - started

    analyzer = None
    if options.with_model:
        _log(f"loading model {options.model_dir or '(shipped default)'} ...")
        start = time.perf_counter()
        analyzer = model.load_analyzer(options.model_dir, options.device, options.precision)
        timings["load_model"] = time.perf_counter() - start

    results = []
    for eval_set in eval_sets:
        _log(f"scoring {eval_set.name} ({len(eval_set.texts)} texts) ...")
        start = time.perf_counter()
        results.append(evaluate_dataset(eval_set, analyzer))
        timings[eval_set.name] = time.perf_counter() - start
    for name, evaluate in (("authored_sentences_test", lambda: evaluate_authored_sentences(analyzer, options.limit)),
                           ("authored_pairs_test", lambda: evaluate_story_pairs(analyzer)),
                           ("checkthat_cv", lambda: evaluate_checkthat_cv(analyzer, options.data_dir))):
        _log(f"scoring {name} ...")
        start = time.perf_counter()
        results.append(evaluate())
        timings[name] = time.perf_counter() - start
    _log("measuring the evidence's faithfulness ...")
    start = time.perf_counter()
    results.extend(evaluate_explanations(analyzer, options.limit))
    timings["explanations"] = time.perf_counter() - start
    results.append(evaluate_seed_pair(analyzer, options.seeds_dir))
    timings["total"] = time.perf_counter() - started

    report = build_report(
        results,
        model_version=model.model_version(analyzer) if analyzer is not None else "none (baselines only)",
        model_dir=str(options.model_dir or "default"),
        timings=timings,
        settings={"limit": options.limit, "seed": options.seed, "device": options.device, "precision": options.precision,
                  "data_dir": str(options.data_dir) if options.data_dir else None},
    )
    gate = apply_gate(report, options.thresholds_file) if options.gate and analyzer is not None else None
    summary = summary_markdown(report)
    return EvalRun(report, summary, gate, write_outputs(report, summary, Path(options.out_dir)))
