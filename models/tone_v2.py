"""tone-v2 recipe, last step: calibrate a fine-tuned run on dev and write the model folder.

`python -m models.tone_v2` re-creates analyzer/model_files/tone-v2 from scratch: the fine-tune
(`models.finetune`, 30 to 45 minutes on 2 CPU cores; not measured on a GPU) then this
calibration of every saved epoch (and with `--soup` of the averages of the last epochs,
`soup_epochs`; under a minute each), keeping the checkpoint with the best sum of the two
calibrated dev macro-F1s. `--run DIR` calibrates an existing fine-tune run instead.

Everything is fitted on dev data only (the authored and real-news test splits are never read):
* the paragraph opinion combination of `analyzer.postprocess` (strongest sentence's log-odds and
  the tone-v1 paragraph head's), a 3-parameter logistic regression on the authored dev and
  real-news dev paragraphs (the two sets weighted equally), and its threshold (the best mean of
  the two sets' macro-F1 within [0.3, 0.7]);
* the sentence opinion temperature, on the authored dev sentences;
* the sentiment class offsets and temperature, on NYT dev sentences and the authored and
  real-news dev paragraphs together.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from analyzer.inference import ToneScorer
from analyzer.model import write_manifest
from analyzer.postprocess import LOG_ODDS_LIMIT
from analyzer.records import OPINION_LABELS, SENTIMENT_LABELS
from models import authored, data, realnews
from models.calibration import best_class_bias, fit_temperature
from models.heads import HeadRecipe

SOURCE = Path("models/tone-v1")
LOG_ODDS_FLOOR = -LOG_ODDS_LIMIT  # as analyzer.postprocess reads a sentence that is all reported speech
SENTIMENT_INDEX = {label: i for i, label in enumerate(SENTIMENT_LABELS)}


def paragraph_inputs(scorer: ToneScorer, texts: list[str]) -> np.ndarray:
    """[strongest sentence log-odds, paragraph head log-odds] of each text, as postprocess reads them."""
    rows = []
    for logits in scorer.forward(scorer.prepare(texts)):
        strongest = max(LOG_ODDS_FLOOR, float(logits.sentence_opinion.max())) if len(logits.sentence_opinion) else LOG_ODDS_FLOOR
        rows.append((strongest, logits.opinion))
    return np.array(rows)


def best_threshold(probs: np.ndarray, labels: np.ndarray, in_first: np.ndarray) -> float:
    """The cut in [0.3, 0.7] with the best mean of the two dev sets' macro-F1, nearest 0.5 among ties."""
    grid = np.round(np.arange(0.30, 0.701, 0.01), 2)

    def mean_f1(t: float) -> float:
        return float(np.mean([f1_score(labels[part], probs[part] >= t, average="macro") for part in (in_first, ~in_first)]))

    return float(max(grid, key=lambda t: (mean_f1(t), -abs(t - 0.5))))


def calibrate(scorer: ToneScorer) -> dict:
    """Every calibration number of config.json, fitted on the dev splits."""
    dev = [p for p in authored.load() if p.split == "dev"]
    real_dev = realnews.labelled("dev")
    texts = [p.text for p in dev] + [p.text for p in real_dev]
    opinion = np.array([p.opinion == "opinion" for p in dev] + [p.opinion == "opinion" for p in real_dev], dtype=int)
    inputs = paragraph_inputs(scorer, texts)
    # The two dev sets weigh the same, so that the many authored paragraphs (41% opinion) do not
    # set the prior for real news (8% opinion).
    n_authored = len(dev)
    in_authored = np.arange(len(texts)) < n_authored
    weights = np.where(in_authored, 1 / n_authored, 1 / len(real_dev))
    combination = LogisticRegression(C=10.0, max_iter=1000).fit(inputs, opinion, sample_weight=weights * len(texts))
    (a, b), c = combination.coef_[0], combination.intercept_[0]
    probs = combination.predict_proba(inputs)[:, 1]
    threshold = best_threshold(probs, opinion, in_authored)

    logits = scorer.forward(scorer.prepare([p.text for p in dev]))
    sentence_log_odds = np.concatenate([x.sentence_opinion for x in logits])
    sentence_labels = np.array([label == "opinion" for p in dev for label in p.sentence_opinion], dtype=int)
    own = np.isfinite(sentence_log_odds)
    two_class = torch.from_numpy(np.stack([np.zeros(own.sum()), sentence_log_odds[own]], 1)).float()
    sentence_temperature = fit_temperature(two_class, torch.from_numpy(sentence_labels[own]))

    nyt_dev = data.nyt_sentences("dev")
    sentiment_logits = np.concatenate([np.stack([x.sentiment for x in scorer.forward(scorer.prepare(list(nyt_dev["text"])))]),
                                       np.stack([x.sentiment for x in scorer.forward(scorer.prepare(texts))])])
    sentiment_labels = np.array(list(nyt_dev["label"]) + [SENTIMENT_INDEX[p.sentiment] for p in dev] + [SENTIMENT_INDEX[p.sentiment] for p in real_dev])
    offsets, _ = best_class_bias(torch.from_numpy(sentiment_logits).float(), torch.from_numpy(sentiment_labels))
    sentiment_temperature = fit_temperature(torch.from_numpy(sentiment_logits).float() + torch.tensor(offsets), torch.from_numpy(sentiment_labels))
    return {
        "paragraph_opinion": {"pooling": "logistic on the strongest sentence's and the paragraph head's log-odds",
                              "weights": {"sentence_max": round(float(a), 4), "paragraph": round(float(b), 4), "bias": round(float(c), 4)}},
        "thresholds": {"opinion": threshold, "sentence_opinion": 0.5},
        "temperatures": {"sentiment": round(sentiment_temperature, 4), "sentence_opinion": round(sentence_temperature, 4)},
        "biases": {"sentiment": [round(o, 2) for o in offsets]},
        "dev": {"authored_paragraph_f1": round(float(f1_score(opinion[:n_authored], probs[:n_authored] >= threshold, average="macro")), 4),
                "real_paragraph_f1": round(float(f1_score(opinion[n_authored:], probs[n_authored:] >= threshold, average="macro")), 4)},
    }


def soup_epochs(run: Path, epochs: list[int]) -> str:
    """A checkpoint that averages some epochs of one run: the mean of their LoRA updates (B A, as
    one adapter of k times the rank: `models.train.soup`) and of their heads. Why: along one run
    the authored dev score rises while the real-news one falls; a weight average of checkpoints
    often keeps the better of both (checkpoint averaging), at no cost at inference (merged at load)."""
    from models.train import soup

    name = "soup" + "-".join(str(e) for e in epochs)
    out = run / name / "adapter"
    out.mkdir(parents=True, exist_ok=True)
    adapters = [load_file(str(run / f"epoch{e}" / "adapter" / "adapter_model.safetensors")) for e in epochs]
    save_file({k: v.half().contiguous() for k, v in soup([{k: v.float() for k, v in a.items()} for a in adapters]).items()},
              str(out / "adapter_model.safetensors"))
    adapter_config = json.loads((run / f"epoch{epochs[0]}" / "adapter" / "adapter_config.json").read_text())
    adapter_config["r"] *= len(epochs)
    adapter_config["lora_alpha"] *= len(epochs)  # the same alpha / r scaling
    (out / "adapter_config.json").write_text(json.dumps(adapter_config, indent=2) + "\n")
    heads = [load_file(str(run / f"epoch{e}" / "heads.safetensors")) for e in epochs]
    save_file({k: (sum(h[k] for h in heads) / len(heads)).contiguous() for k in heads[0]}, str(run / name / "heads.safetensors"))
    return name


def write_model(run: Path, checkpoint: str, model_dir: Path, version: str) -> dict:
    """Copy one checkpoint's adapter and heads, calibrate on dev, write config.json and training-run.json."""
    source_config = json.loads((SOURCE / "config.json").read_text())
    run_record = json.loads((run / "run.json").read_text())  # read first: a wrong --run leaves the model folder alone
    shutil.rmtree(model_dir / "adapter", ignore_errors=True)  # the artifact's files; the model card stays
    model_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(run / checkpoint / "adapter", model_dir / "adapter", ignore=shutil.ignore_patterns("README.md"))
    shutil.copy(run / checkpoint / "heads.safetensors", model_dir / "heads.safetensors")
    config = {
        "name": "tone-v2", "version": version,
        "labels": {"sentiment": list(SENTIMENT_LABELS), "opinion": list(OPINION_LABELS)},
        "thresholds": {"opinion": 0.5}, "temperatures": dict(source_config["temperatures"]),
        "biases": {"sentiment": [0.0, 0.0, 0.0]},
        "max_length": 512, "pooling": "mean per paragraph and per sentence (the author's own tokens for opinion)",
        "base": source_config["base"],
        "training": {"heads": "tone-v2", "finetune": run_record["recipe"], "from": f"{source_config['name']}@{source_config['version']}",
                     "checkpoint": checkpoint, "cv_heads": asdict(HeadRecipe())},
    }
    (model_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    write_manifest(model_dir)  # the provisional config's, so that the calibration can load the model
    # fp32, so that the calibration (and so the shipped config) is the same on every CPU
    calibration = calibrate(ToneScorer(model_dir=model_dir, device="cpu", precision="fp32"))
    for key in ("thresholds", "biases"):
        config[key] = calibration[key]
    config["temperatures"].update(calibration["temperatures"])
    config["paragraph_opinion"] = calibration["paragraph_opinion"]
    (model_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (model_dir / "training-run.json").write_text(json.dumps({"finetune": run_record, "calibration": calibration}, indent=1) + "\n")
    write_manifest(model_dir)
    return calibration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, default=None, help="a finished models.finetune run (default: run one into .cache/finetune)")
    parser.add_argument("--model-dir", type=Path, default=Path("analyzer/model_files/tone-v2"))
    parser.add_argument("--version", default="2.0.1")
    parser.add_argument("--soup", action="store_true", help="also calibrate the averages of the last epochs (tried; not shipped)")
    args = parser.parse_args()
    run = args.run
    if run is None:
        run = Path(".cache/finetune")
        subprocess.run([sys.executable, "-m", "models.finetune", "--out", str(run)], check=True)
    epochs = sorted(int(path.name[len("epoch"):]) for path in run.glob("epoch*"))
    checkpoints = [f"epoch{e}" for e in epochs]
    if args.soup:
        checkpoints += [soup_epochs(run, epochs[i:]) for i in range(len(epochs) - 1)]
    calibrated = {}
    for checkpoint in checkpoints:
        calibrated[checkpoint] = write_model(run, checkpoint, args.model_dir, args.version)["dev"]
        print(f"{checkpoint}: calibrated dev {calibrated[checkpoint]}", flush=True)
    best = max(checkpoints, key=lambda c: calibrated[c]["authored_paragraph_f1"] + calibrated[c]["real_paragraph_f1"])
    result = write_model(run, best, args.model_dir, args.version)
    result["checkpoints"] = calibrated
    training = json.loads((args.model_dir / "training-run.json").read_text())
    training["calibrated_checkpoints"] = result["checkpoints"]
    (args.model_dir / "training-run.json").write_text(json.dumps(training, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
