"""The prepare stage tags every token with its sentence and with whether it is the author's own."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from analyzer.model import locate_base_model
from analyzer.prepare import prepare_texts


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(locate_base_model()))


def test_tokens_map_to_their_sentences_and_quotes(tokenizer):
    text = "Prices rose.“It is a disgrace and a scandal,” the minister said. What a mess."
    prepared = prepare_texts(tokenizer, [text])[0]
    assert [text[s:e] for s, e in prepared.sentences] == ["Prices rose.", "“It is a disgrace and a scandal,” the minister said.", "What a mess."]
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    for (start, end), sentence, own in zip(offsets, prepared.sentence, prepared.own):
        s_start, s_end = prepared.sentences[sentence]
        assert s_start <= start and end <= s_end
        inside_quote = text.index("“") <= start < text.index("”") + 1
        assert own == (not inside_quote)
    assert set(prepared.sentence.tolist()) == {0, 1, 2}


def test_prepared_texts_are_picklable_arrays(tokenizer):
    prepared = prepare_texts(tokenizer, ["One sentence. Two sentences."])
    again = pickle.loads(pickle.dumps(prepared))[0]
    assert isinstance(again.ids, np.ndarray) and np.array_equal(again.ids, prepared[0].ids)


def test_a_paragraph_two_documents_share_is_scored_once(tokenizer, analyzer):
    """compare's two versions share most paragraphs: the window tokenizes and scores each text once,
    and both documents get the same record for it."""
    from analyzer.prepare import prepare_window
    from analyzer.records import Document

    shared = "The council approved the budget on Tuesday after a four-hour debate. The vote was 7 to 2."
    a = Document("a", f"Budget passes\n\n{shared}\n\nCritics called the plan reckless.")
    b = Document("b", f"Budget passes\n\n{shared}\n\nThe plan takes effect in July.")
    window = prepare_window(tokenizer, [a, b])
    assert window.n_paragraphs == 6 and len(window.distinct) == 4
    assert window.tokens().n_texts == 4
    assert window.row[1] == window.row[4]  # the shared paragraph, in both documents
    scored_a, scored_b = analyzer.score([a, b], explain=True)
    assert scored_a.paragraphs[1].to_dict(True) | {"doc_id": "b"} == scored_b.paragraphs[1].to_dict(True)
    assert scored_a.paragraphs[2].text != scored_b.paragraphs[2].text
    alone = analyzer.score([a])
    assert [p.opinion.prob for p in next(iter(alone)).paragraphs] == pytest.approx([p.opinion.prob for p in scored_a.paragraphs], abs=5e-3)
