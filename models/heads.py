"""Logistic-regression heads on pooled encoder features, and CheckThat! cross-validation with them.

Two uses:
* the heads-only baseline of tone-v2 (new heads on the frozen tone-v1 encoder), recorded in the
  model card: it reached ~0.75 paragraph macro-F1 on the authored dev split, which is why
  tone-v2 fine-tunes the encoder instead (`models.finetune`);
* `python -m eval`'s CheckThat! 5-fold cross-validation: the sentence opinion head and the
  paragraph combination are refitted without each fold (on the authored train sentences, the
  other folds and the proxy) and the fold is scored through the product's path.
  The encoder is not refitted per fold (that takes a fine-tune per fold), and it has seen
  CheckThat! train while being trained, so this estimate is optimistic; the model card says so.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from analyzer.inference import ToneScorer
from analyzer.postprocess import LOG_ODDS_LIMIT
from analyzer.records import SENTIMENT_LABELS
from models import authored, data, realnews
from models.features import Features, features

CV_FOLDS = 5
CV_SEED = 0
PROXY_ROWS = 4000
SENTIMENT_INDEX = {label: i for i, label in enumerate(SENTIMENT_LABELS)}


@dataclass
class HeadRecipe:
    """The knobs the grid searches; the rest is fixed."""

    c: float = 1.0  # inverse L2 strength of both regressions
    authored_weight: float = 1.0
    checkthat_weight: float = 1.0
    proxy_weight: float = 0.2


@dataclass
class OpinionRows:
    """Features and labels of one opinion source (sentence rows for the sentence head)."""

    x: np.ndarray
    y: np.ndarray


@dataclass
class ParagraphSet:
    """Paragraph-level data for the combination and for selection: per-sentence features and the paragraph's."""

    features: Features
    opinion: np.ndarray  # 1 = opinion
    sentiment: np.ndarray  # index into SENTIMENT_LABELS


def _paragraph_set(scorer: ToneScorer, texts: list[str], opinion: list[str], sentiment: list[str]) -> ParagraphSet:
    return ParagraphSet(features(scorer, texts), np.array([o == "opinion" for o in opinion], dtype=int),
                        np.array([SENTIMENT_INDEX[s] for s in sentiment]))


def opinion_tables(scorer: ToneScorer, data_dir: Path | None) -> dict:
    """The feature tables the opinion head, the combination and the CheckThat CV read (cached on disk)."""
    started = time.time()
    paragraphs = authored.load()
    train = [p for p in paragraphs if p.split == "train"]
    dev = [p for p in paragraphs if p.split == "dev"]
    train_features = features(scorer, [p.text for p in train])
    own = train_features.own_tokens > 0
    sentence_opinion = np.array([label == "opinion" for p in train for label in p.sentence_opinion], dtype=int)
    checkthat_rows = list(data.checkthat("train", data_dir)) + list(data.checkthat("dev", data_dir))
    checkthat_texts = [r["text"] for r in checkthat_rows]
    proxy = data.subjectivity_proxy("train").shuffle(seed=0).select(range(PROXY_ROWS))
    real_dev = realnews.labelled("dev")
    tables = {
        "authored_train": (train, train_features),
        "authored_sentences": OpinionRows(train_features.sentence_own[own], sentence_opinion[own]),
        "checkthat_whole": OpinionRows(features(scorer, checkthat_texts, whole=True).sentence_own, np.array([r["label"] for r in checkthat_rows])),
        "checkthat_split": features(scorer, checkthat_texts),
        "proxy": OpinionRows(features(scorer, list(proxy["text"]), whole=True).sentence_own, np.array(proxy["label"])),
        "authored_dev": _paragraph_set(scorer, [p.text for p in dev], [p.opinion for p in dev], [p.sentiment for p in dev]),
        "real_dev": _paragraph_set(scorer, [p.text for p in real_dev], [p.opinion for p in real_dev], [p.sentiment for p in real_dev]),
    }
    print(f"opinion features ready in {time.time() - started:.0f} s", flush=True)
    return tables


def fit_sentence_head(tables: dict, recipe: HeadRecipe, checkthat_keep: np.ndarray | None = None) -> LogisticRegression:
    """The sentence opinion head on the weighted sources (CheckThat rows restricted to `checkthat_keep`)."""
    checkthat = tables["checkthat_whole"]
    keep = np.ones(len(checkthat.y), dtype=bool) if checkthat_keep is None else checkthat_keep
    parts = [(tables["authored_sentences"], recipe.authored_weight), (OpinionRows(checkthat.x[keep], checkthat.y[keep]), recipe.checkthat_weight),
             (tables["proxy"], recipe.proxy_weight)]
    x = np.concatenate([rows.x for rows, _ in parts])
    y = np.concatenate([rows.y for rows, _ in parts])
    # each source's weight is per source, not per row, so a big source does not drown a small one
    w = np.concatenate([np.full(len(rows.y), weight * len(tables["authored_sentences"].y) / len(rows.y)) for rows, weight in parts])
    return LogisticRegression(C=recipe.c, class_weight="balanced", max_iter=2000).fit(x, y, sample_weight=w)


def _log_odds(head: LogisticRegression, x: np.ndarray) -> np.ndarray:
    return head.decision_function(x)


def paragraph_inputs(head: LogisticRegression, paragraph_head: torch.nn.Linear, feats: Features) -> np.ndarray:
    """[strongest sentence log-odds, paragraph head log-odds] per paragraph (as `analyzer.postprocess` reads them)."""
    sentence = np.where(feats.own_tokens > 0, _log_odds(head, feats.sentence_own), -LOG_ODDS_LIMIT)
    strongest = np.full(len(feats.paragraph), -LOG_ODDS_LIMIT)
    np.maximum.at(strongest, feats.owner, sentence)
    with torch.no_grad():
        logits = paragraph_head(torch.from_numpy(feats.paragraph)).numpy()
    return np.stack([np.maximum(strongest, -LOG_ODDS_LIMIT), logits[:, 1] - logits[:, 0]], axis=1)


def fit_combination(inputs: np.ndarray, labels: np.ndarray) -> dict:
    model = LogisticRegression(C=10.0, max_iter=1000).fit(inputs, labels)
    (a, b), c = model.coef_[0], model.intercept_[0]
    return {"sentence_max": float(a), "paragraph": float(b), "bias": float(c)}


def combine(weights: dict, inputs: np.ndarray) -> np.ndarray:
    z = weights["sentence_max"] * inputs[:, 0] + weights["paragraph"] * inputs[:, 1] + weights["bias"]
    return 1 / (1 + np.exp(-np.clip(z, -LOG_ODDS_LIMIT, LOG_ODDS_LIMIT)))


def _macro_f1(y: np.ndarray, p: np.ndarray) -> float:
    return float(f1_score(y, p, average="macro"))


def recipe_of(model_dir: Path) -> HeadRecipe | None:
    """The head recipe a tone-v2 model was trained with (None for a model without one)."""
    training = json.loads((Path(model_dir) / "config.json").read_text()).get("training", {})
    return HeadRecipe(**training["cv_heads"]) if training.get("heads") == "tone-v2" else None


def evaluate_recipe(tables: dict, recipe: HeadRecipe, paragraph_head: torch.nn.Linear) -> dict:
    """Dev numbers of one recipe: authored and real-news dev paragraphs, CheckThat 5-fold CV."""
    head = fit_sentence_head(tables, recipe)
    dev_sets = [tables["authored_dev"], tables["real_dev"]]
    inputs = [paragraph_inputs(head, paragraph_head, d.features) for d in dev_sets]
    labels = np.concatenate([d.opinion for d in dev_sets])
    weights = fit_combination(np.concatenate(inputs), labels)
    scores = {"authored_dev_f1": _macro_f1(dev_sets[0].opinion, combine(weights, inputs[0]) >= 0.5),
              "real_dev_f1": _macro_f1(dev_sets[1].opinion, combine(weights, inputs[1]) >= 0.5)}
    scores["checkthat_cv_f1"] = _macro_f1(tables["checkthat_whole"].y, checkthat_cv(tables, recipe, paragraph_head) >= 0.5)
    scores["selection"] = float(np.mean(list(scores.values())))
    return scores


def checkthat_cv(tables: dict, recipe: HeadRecipe, paragraph_head: torch.nn.Linear) -> np.ndarray:
    """P(opinion) of every CheckThat! train+dev sentence, 5 folds: each fold scored by a model fitted
    without it, through the product's path (sentences in context, the fold model's combination)."""
    checkthat = tables["checkthat_whole"]
    split_feats: Features = tables["checkthat_split"]
    predictions = np.zeros(len(checkthat.y))
    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=CV_SEED)
    for train_index, test_index in folds.split(checkthat.x, checkthat.y):
        keep = np.zeros(len(checkthat.y), dtype=bool)
        keep[train_index] = True
        head = fit_sentence_head(tables, recipe, keep)
        dev_sets = [tables["authored_dev"], tables["real_dev"]]
        weights = fit_combination(np.concatenate([paragraph_inputs(head, paragraph_head, d.features) for d in dev_sets]),
                                  np.concatenate([d.opinion for d in dev_sets]))
        probs = combine(weights, paragraph_inputs(head, paragraph_head, split_feats))
        predictions[test_index] = probs[test_index]
    return predictions


GRID = {"c": [0.1, 0.5, 2.0], "authored_weight": [1.0, 2.0], "checkthat_weight": [0.5, 1.0], "proxy_weight": [0.1, 0.3]}


def main() -> None:
    """The heads-only baseline: every recipe of the grid on the frozen encoder of --model, with its dev numbers."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=Path("models/tone-v1"))
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    scorer = ToneScorer(model_dir=args.model, device="cpu", precision="fp32")  # the recipe is the same on every CPU
    tables = opinion_tables(scorer, args.data_dir)
    for values in itertools.product(*GRID.values()):
        recipe = HeadRecipe(**dict(zip(GRID, values)))
        scores = evaluate_recipe(tables, recipe, scorer.net.opinion)
        print(json.dumps({"recipe": asdict(recipe), **{k: round(v, 4) for k, v in scores.items()}}), flush=True)


if __name__ == "__main__":
    main()


