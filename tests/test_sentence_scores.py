"""Sentences scored inside their paragraphs: offsets, records, attribution, the sentence level."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from analyzer.cli import app
from tests.conftest import SEED_EDITORIAL

runner = CliRunner()


def test_every_sentence_has_exact_offsets_on_the_seed(analyzer):
    document = next(iter(analyzer.score([SEED_EDITORIAL.read_text(encoding="utf-8")])))
    body = [p for p in document.paragraphs if p.kind == "body"]
    assert body and all(p.sentences for p in body)
    for paragraph in document.paragraphs:
        for sentence in paragraph.sentences:
            assert paragraph.text[sentence.start:sentence.end] == sentence.text
            assert 0.0 <= sentence.opinion.prob <= 1.0


def test_a_sentence_that_is_all_reported_speech_is_reporting(analyzer):
    text = "The council voted on Tuesday. “This is a shameful, disgraceful betrayal of every family here.”, said one resident."
    paragraph = analyzer.score_texts([text])[0]
    quote = paragraph.sentences[1]
    assert quote.attributed
    assert quote.opinion.label == "reporting"


def test_sentence_level_records_point_back_to_their_paragraph():
    result = runner.invoke(app, ["score", str(SEED_EDITORIAL), "--level", "sentence", "-q"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    paragraphs = json.loads(runner.invoke(app, ["score", str(SEED_EDITORIAL), "--level", "paragraph", "--format", "json", "-q"]).stdout)
    by_index = {p["index"]: p for p in paragraphs}
    assert len(rows) == sum(len(p["sentences"]) for p in paragraphs)
    for row in rows:
        text = by_index[row["paragraph_index"]]["text"]
        assert text[row["start"]:row["end"]] == row["text"]
        assert {"sentiment", "opinion", "tone", "attributed", "model"} <= row.keys()
