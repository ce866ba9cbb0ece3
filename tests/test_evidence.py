"""Evidence spans are exact character ranges of the paragraph, on real and awkward text."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from analyzer.cli import app
from tests.conftest import SEED_EDITORIAL, SEED_PLAIN

runner = CliRunner()


def _check_spans(paragraph) -> int:
    checked = 0
    for span in paragraph.evidence.opinion + paragraph.evidence.sentiment:
        assert paragraph.text[span.start:span.end] == span.text
        assert span.text.strip() == span.text and span.text
        checked += 1
    return checked


def test_spans_are_exact_on_the_seeds(analyzer):
    documents = list(analyzer.score([SEED_EDITORIAL.read_text(encoding="utf-8"), SEED_PLAIN.read_text(encoding="utf-8")], explain=True))
    assert sum(_check_spans(p) for d in documents for p in d.paragraphs) > 20
    editorial = documents[0]
    assert any(p.evidence.opinion for p in editorial.paragraphs if p.opinion.label == "opinion")
    # reporting paragraphs point at no opinion words
    assert all(not p.evidence.opinion for d in documents for p in d.paragraphs if p.opinion.label == "reporting")


def test_spans_are_exact_with_crlf_and_curly_quotes(analyzer):
    text = "The council’s “reform” plan passed.\r\nIt is, frankly, a reckless and short-sighted gamble with people’s homes.\r\n"
    paragraph = analyzer.score_texts([text], explain=True)[0]
    assert _check_spans(paragraph) > 0


def test_spans_are_exact_past_512_tokens(analyzer):
    sentences = [f"Council member {i} described the long budget session in plain procedural detail." for i in range(60)]
    text = " ".join(sentences) + " This reckless, shameful budget is an insult to every taxpayer."
    paragraph = analyzer.score_texts([text], explain=True)[0]
    assert paragraph.n_tokens > 512
    assert _check_spans(paragraph) > 0
    if paragraph.opinion.label == "opinion":
        # the judgemental clause at the end is found though it lies in the last window only
        assert paragraph.evidence.opinion_sentence == len(paragraph.sentences) - 1


def test_explain_flag_adds_evidence_to_jsonl_and_nothing_without_it():
    plain = runner.invoke(app, ["score", str(SEED_EDITORIAL), "--level", "paragraph", "-q"])
    explained = runner.invoke(app, ["score", str(SEED_EDITORIAL), "--level", "paragraph", "--explain", "-q"])
    assert plain.exit_code == explained.exit_code == 0
    assert all("evidence" not in json.loads(line) for line in plain.stdout.splitlines())
    rows = [json.loads(line) for line in explained.stdout.splitlines()]
    assert all({"opinion", "sentiment"} <= row["evidence"].keys() for row in rows)
    for row in rows:
        for span in row["evidence"]["opinion"] + row["evidence"]["sentiment"]:
            assert row["text"][span["start"]:span["end"]] == span["text"]


def test_sentiment_evidence_points_at_the_charged_word(analyzer):
    """The rollout (analyzer.mixing) carries the valence back from the neighbours to the word that
    carries it (without it these came 4th, behind "called", "after", "workers", "built")."""
    texts = {"Residents called the flooding a disaster after water reached the second floor of the school.": "disaster",
             "The plan is a shameful betrayal of the workers who built this company.": "shameful"}
    for paragraph, word in zip(analyzer.score_texts(list(texts), explain=True), texts.values()):
        assert paragraph.evidence.sentiment_words[0].text == word, paragraph.evidence.sentiment_words[:3]


def test_rollout_keeps_the_total_and_ignores_padding(analyzer):
    import torch

    from analyzer.inference import ROLLED_BACK
    from analyzer.mixing import MixingCapture

    scorer = analyzer.scorer
    batch = scorer.tokenizer(["A short calm line.", "A much longer sentence that needs padding in the other row of the batch."],
                             padding=True, return_tensors="pt")
    ids, mask = batch["input_ids"], batch["attention_mask"]
    capture = MixingCapture(scorer.net.encoder)

    def rolled(ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode(), capture.hooks():
            hidden = scorer.net.encode(ids, mask).float()
            return capture.rollout(hidden @ scorer._directions()[:, ROLLED_BACK], mask)
    together = rolled(ids, mask)
    short = int(mask[0].sum())
    alone = rolled(ids[:1, :short], mask[:1, :short])
    assert torch.allclose(together[0, :short], alone[0], atol=1e-5)
    assert (together[0, short:] == 0).all()
    assert torch.allclose(together.sum(1), torch.zeros(2, len(ROLLED_BACK)), atol=1e-4)  # rows of each mixing sum to one
    assert capture.captured[0] and len(capture.blocks) == 3


def test_sentiment_evidence_follows_the_score_towards_the_class_it_would_lose_to():
    from analyzer.evidence import sentiment_mix

    assert sentiment_mix(0.9, 0.0) == (1.0, 0.0)  # positive against neutral: positive-minus-neutral only
    assert sentiment_mix(0.0, 0.9) == (0.0, -1.0)  # negative against neutral: towards positive = away from negative
    assert sentiment_mix(0.5, 0.5) == (0.5, -0.5)  # no neutral mass: (positive - negative) / 2
    toward_positive, toward_negative = sentiment_mix(0.6, 0.1)
    assert 0.5 < toward_positive < 1 and toward_positive - toward_negative == 1.0
