"""The CI gate: its rules on synthetic reports, the harness end to end, and a broken model failing it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.records import DocumentScore, OpinionScore, ParagraphScore, SentimentScore
from eval import cli, model
from eval.gate import THRESHOLDS_FILE, check_gate, load_thresholds, parse_bounds
from analyzer.model import DEFAULT_MODEL_DIR

REPO_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_MODEL = DEFAULT_MODEL_DIR

THRESHOLDS = {
    "checkthat_dev": {"macro_f1": 0.73, "ece_max": 0.07},
    "nyt_test": {"macro_f1": 0.68},
    "seed_pair": {"opinion_share_gap_gt": 0.0},
}


def _report(checkthat_f1: float = 0.80, ece: float = 0.03, nyt_f1: float = 0.71, gap: float = 0.25, seed_skipped: str | None = None) -> dict:
    def entry(**metrics: float) -> dict:
        return {"skipped": None, "systems": {"model": {"metrics": metrics}, "majority": {"metrics": {"macro_f1": 0.1}}}}

    seed = {"skipped": seed_skipped, "systems": {} if seed_skipped else {"model": {"metrics": {"opinion_share_gap": gap}}}}
    return {
        "datasets": {
            "checkthat_dev": entry(macro_f1=checkthat_f1, ece=ece),
            "nyt_test": entry(macro_f1=nyt_f1, ece=0.02),
            "seed_pair": seed,
        }
    }


def test_gate_passes_when_every_bound_holds() -> None:
    result = check_gate(_report(), THRESHOLDS)
    assert result.passed and result.failures == []
    assert sorted(result.passed_checks) == ["checkthat_dev.ece", "checkthat_dev.macro_f1", "nyt_test.macro_f1", "seed_pair.opinion_share_gap"]


def test_gate_names_each_metric_below_its_floor() -> None:
    result = check_gate(_report(checkthat_f1=0.612, nyt_f1=0.5), THRESHOLDS)
    assert not result.passed
    assert result.failures == [
        "GATE FAILED: checkthat_dev.macro_f1 = 0.612 < floor 0.730",
        "GATE FAILED: nyt_test.macro_f1 = 0.500 < floor 0.680",
    ]


def test_gate_ceiling_and_strict_bound() -> None:
    result = check_gate(_report(ece=0.081, gap=0.0), THRESHOLDS)
    assert result.failures == [
        "GATE FAILED: checkthat_dev.ece = 0.081 > ceiling 0.070",
        "GATE FAILED: seed_pair.opinion_share_gap = 0.000 <= bound 0.000",  # a gap of 0 is not > 0
    ]


def test_gate_floor_is_inclusive() -> None:
    assert check_gate(_report(checkthat_f1=0.73), THRESHOLDS).passed


def test_skipped_data_set_is_noted_not_failed() -> None:
    result = check_gate(_report(seed_skipped="seed folder not found"), THRESHOLDS)
    assert result.passed
    assert result.skipped == ["seed_pair.opinion_share_gap not checked: seed folder not found"]


def test_missing_metric_fails() -> None:
    report = _report()
    del report["datasets"]["nyt_test"]
    result = check_gate(report, THRESHOLDS)
    assert result.failures == ["GATE FAILED: nyt_test.macro_f1 missing from the report"]


def test_committed_thresholds_cover_every_gated_data_set() -> None:
    bounds = {(b.dataset, b.metric): b for b in parse_bounds(load_thresholds(THRESHOLDS_FILE))}
    assert bounds[("checkthat_dev", "macro_f1")].kind == "floor"
    assert bounds[("proxy_test", "accuracy")].kind == "floor"
    assert bounds[("nyt_test", "macro_f1")].kind == "floor"
    assert bounds[("seed_pair", "opinion_share_gap")].kind == "bound"
    assert bounds[("seed_pair", "opinion_share_gap")].limit >= 0.0
    # ECE ceilings are the measured values + 0.02; above 0.15 the gate would guard nothing.
    assert all(b.limit <= 0.15 for b in bounds.values() if b.kind == "ceiling")


class _AlwaysOpinion:
    """A stand-in for the Analyzer: everything is an opinion and neutral, P(opinion) 0.6."""

    model_version = "fake-always-opinion"

    def score_texts(self, texts: list[str]) -> list[ParagraphScore]:
        sentiment = SentimentScore("neutral", {"negative": 0.2, "neutral": 0.6, "positive": 0.2}, 0.0)
        return [
            ParagraphScore("", i, "body", text, sentiment, OpinionScore("opinion", 0.6), "neutral", self.model_version)
            for i, text in enumerate(texts)
        ]

    def score(self, documents):
        for document in documents:
            share = 1.0 if document.doc_id.startswith("000") else 0.5
            yield DocumentScore(document.doc_id, self.model_version, [], {"opinion_share": share, "mean_opinion_prob": 0.6})


def test_harness_end_to_end_with_a_stand_in_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """Data, systems, report files and the exit status, without the real model."""
    monkeypatch.setattr(model, "load_analyzer", lambda model_dir, device="auto", precision="auto": _AlwaysOpinion())
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "000_a.txt").write_text("An editorialized story.", encoding="utf-8")
    (seeds / "001_b.txt").write_text("A plain story.", encoding="utf-8")

    out = tmp_path / "out"
    status = cli.main(["--out", str(out), "--limit", "40", "--seeds-dir", str(seeds)])
    captured = capsys.readouterr()

    assert status == cli.EXIT_GATE_FAILED  # always-opinion cannot reach the floors
    assert "GATE FAILED: checkthat_dev.macro_f1" in captured.out
    assert "GATE FAILED: nyt_test.macro_f1" in captured.err
    report = json.loads((out / "report.json").read_text())
    assert report["model_version"] == "fake-always-opinion"
    assert set(report["datasets"]) == {"authored_paragraphs_test", "authored_paragraphs_test_sentiment", "realnews_test",
                                       "realnews_test_sentiment", "checkthat_dev", "proxy_test", "nyt_test", "authored_sentences_test",
                                       "authored_pairs_test", "checkthat_cv", "explanations_opinion", "explanations_sentiment", "seed_pair"}
    # a model without sentence scores cannot be measured there: skipped with the reason, not failed
    assert "sentence scores" in report["datasets"]["authored_sentences_test"]["skipped"]
    checkthat = report["datasets"]["checkthat_dev"]
    assert checkthat["n"] == 40 and set(checkthat["systems"]) == {"model", "majority", "textblob"}
    assert checkthat["systems"]["model"]["metrics"]["roc_auc"] == 0.5  # constant P(opinion): all tied
    assert set(report["datasets"]["nyt_test"]["systems"]) == {"model", "majority", "vader"}
    assert report["datasets"]["seed_pair"]["systems"]["model"]["metrics"]["opinion_share_gap"] == 0.5
    assert "seed_pair.opinion_share_gap" in report["gate"]["checked"]
    assert report["gate"]["passed"] is False
    assert (out / "summary.md").read_text().startswith("# Evaluation of fake-always-opinion")
    assert (out / "reliability_opinion.png").stat().st_size > 0
    assert (out / "reliability_sentiment.png").stat().st_size > 0


def test_no_gate_exits_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "load_analyzer", lambda model_dir, device="auto", precision="auto": _AlwaysOpinion())
    status = cli.main(["--out", str(tmp_path), "--limit", "20", "--no-gate", "--seeds-dir", str(tmp_path / "absent")])
    assert status == cli.EXIT_OK
    report = json.loads((tmp_path / "report.json").read_text())
    assert "gate" not in report
    assert "not found" in report["datasets"]["seed_pair"]["skipped"]


def _swap_opinion_head(model_dir: Path) -> None:
    """Swap the two rows of the opinion head, so that P(opinion) becomes P(reporting)."""
    from safetensors.torch import load_file, save_file

    config = json.loads((model_dir / "config.json").read_text())
    heads = model_dir / config.get("heads_file", "heads.safetensors")
    tensors = load_file(str(heads))
    for name in ("opinion.weight", "opinion.bias", "sentence_opinion.weight", "sentence_opinion.bias"):
        if name in tensors:
            tensors[name] = tensors[name].flip(0).contiguous()
    save_file(tensors, str(heads))
    from analyzer.model import write_manifest

    write_manifest(model_dir)  # a model trained wrong, not a damaged one: its manifest matches it


@pytest.mark.slow  # a whole evaluation run (about 2 minutes on 2 cores); make test runs the real gate anyway
@pytest.mark.skipif(
    not (SHIPPED_MODEL / "config.json").exists(),
    reason="the shipped model's config.json does not exist yet: the shipped model has not landed",
)
def test_harness_fails_a_model_with_a_swapped_opinion_head(tmp_path: Path) -> None:
    import shutil

    broken = tmp_path / "tone-broken"
    shutil.copytree(SHIPPED_MODEL, broken)
    _swap_opinion_head(broken)
    completed = subprocess.run(
        [sys.executable, "-m", "eval", "--model-dir", str(broken), "--out", str(tmp_path / "out"), "--limit", "200", "--device", "cpu"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == cli.EXIT_GATE_FAILED, output
    assert "GATE FAILED: checkthat_dev.macro_f1" in output
    assert "GATE FAILED: proxy_test.accuracy" in output
