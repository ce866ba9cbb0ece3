"""The evaluation data never leaks into training: splits are disjoint by group and by text."""

from __future__ import annotations

import pytest

from models import data

SPLITS = ("train", "dev", "test")


def _texts(dataset) -> set[str]:
    return {text.strip().lower() for text in dataset["text"]}


@pytest.fixture(scope="module")
def nyt():
    return {split: data.nyt_sentences(split) for split in SPLITS}


@pytest.fixture(scope="module")
def proxy():
    return {split: data.subjectivity_proxy(split) for split in SPLITS}


def test_nyt_articles_on_one_side_only(nyt) -> None:
    groups = {split: set(nyt[split]["group"]) for split in SPLITS}
    assert not groups["train"] & groups["dev"]
    assert not groups["train"] & groups["test"]
    assert not groups["dev"] & groups["test"]


def test_no_nyt_dev_or_test_sentence_in_train(nyt) -> None:
    train = _texts(nyt["train"])
    assert not _texts(nyt["test"]) & train
    assert not _texts(nyt["dev"]) & train


def test_proxy_movies_on_one_side_only(proxy) -> None:
    groups = {split: set(proxy[split]["group"]) for split in SPLITS}
    assert not groups["train"] & groups["dev"]
    assert not groups["train"] & groups["test"]
    assert not groups["dev"] & groups["test"]


def test_checkthat_train_and_dev_disjoint() -> None:
    train, dev = data.checkthat("train"), data.checkthat("dev")
    assert not set(train["id"]) & set(dev["id"])
    assert not _texts(train) & _texts(dev)


def test_extra_sentiment_data_holds_no_proxy_evaluation_text(proxy) -> None:
    """vader_extra_sentiment trains the shared encoder, so it must not hold the proxy's held-out snippets."""
    extra = {data._normalise(text) for text in data.vader_extra_sentiment()["text"]}
    held_out = {data._normalise(text) for split in ("dev", "test") for text in proxy[split]["text"]}
    assert not extra & held_out
