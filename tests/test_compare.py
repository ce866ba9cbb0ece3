"""Alignment and contrast of two versions of a story (analyzer.compare).

The first part runs on hand-built DocumentScore objects (no tone model; alignment embeds them
with the pretrained encoder, as the product does); the second on the real model through the
Python API.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from analyzer.aggregate import aggregate
from analyzer.align import lexical_similarity, longest_increasing, match, normalise, similarity_matrix
from analyzer.compare import Comparison, compare_documents
from analyzer.compare_table import render_comparison_table
from analyzer.records import DocumentScore, OpinionScore, ParagraphScore, SentimentScore
from tests.conftest import SEED_EDITORIAL as SEED_A
from tests.conftest import SEED_PLAIN as SEED_B
from tests.conftest import SEEDS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# ---------------------------------------------------------------------------- hand-built scores


def make_paragraph(
    index: int,
    text: str,
    kind: str = "body",
    opinion: float = 0.1,
    sentiment: float = 0.0,
    doc_id: str = "doc",
) -> ParagraphScore:
    """A scored paragraph with the label/tone rules of GUIDE §3 applied to the given numbers."""
    label = "positive" if sentiment > 0.3 else "negative" if sentiment < -0.3 else "neutral"
    pos, neg = max(sentiment, 0.0), max(-sentiment, 0.0)
    opinion_label = "opinion" if opinion >= 0.5 else "reporting"
    return ParagraphScore(
        doc_id=doc_id,
        index=index,
        kind=kind,
        text=text,
        sentiment=SentimentScore(label, {"negative": neg, "neutral": 1 - pos - neg, "positive": pos}, sentiment),
        opinion=OpinionScore(opinion_label, opinion),
        tone=label if opinion_label == "opinion" else "neutral",
        model="test@0",
    )


def make_document(doc_id: str, specs: list[tuple]) -> DocumentScore:
    """specs: (text, kind, opinion, sentiment) per paragraph, in reading order."""
    paragraphs = [make_paragraph(i, *spec, doc_id=doc_id) for i, spec in enumerate(specs)]
    return DocumentScore(doc_id, "test@0", paragraphs, aggregate(paragraphs))


SHARED = [
    "The Port Alder city council voted 7-2 on Tuesday to borrow $48 million for a new seawall.",
    "The project would raise the existing barrier by 1.8 metres and add two pump stations near the fish market.",
    "The loan will be repaid over 25 years from a levy of about $60 a year on homes in the flood zone.",
    "The regional environment agency must still approve the design; a decision is expected in March.",
]


def editorial_and_report() -> tuple[DocumentScore, DocumentScore]:
    """A: headline, an opinion lead with a heading, the shared report, an ad. B: the plain report."""
    a = make_document("editorial", [
        ("Port Alder Finally Wakes Up", "headline", 0.0, 0.0),
        ("Two wasted years and a flooded fish market later, the council has finally done the obvious.", "body", 0.93, -0.6),
        ("A Vote Long Overdue", "heading", 0.0, 0.0),
        ("The holdouts protected nothing but their own habit of delay, and shopkeepers paid for it.", "body", 0.88, -0.7),
        (SHARED[0], "body", 0.12, 0.0),
        # near-identical: scraping defects (no space after the full stop, shouting caps)
        (SHARED[1].upper().replace(". ", "."), "body", 0.1, 0.0),
        (SHARED[2], "body", 0.08, -0.1),
        (SHARED[3], "body", 0.1, 0.0),
        ("Subscribe to the Harbor Ledger for $1 a week.", "boilerplate", 0.0, 0.0),
    ])
    b = make_document("report", [
        (SHARED[0], "body", 0.1, 0.0),
        (SHARED[1], "body", 0.12, 0.0),
        ("Construction is scheduled to begin next spring and to last about three years.", "body", 0.05, 0.0),
        (SHARED[2], "body", 0.1, -0.1),
        (SHARED[3], "body", 0.1, 0.0),
    ])
    return a, b


# ---------------------------------------------------------------------------- unit tests


def test_lexical_similarity_ignores_scraping_noise() -> None:
    a = "China sees the trip as a chance to flip one of Washington’s closest allies.Xi wants TRUMP gone."
    b = "China sees the trip as a chance to flip one of Washington's closest allies. Xi wants Trump gone."
    assert lexical_similarity(a, b) > 0.95
    assert lexical_similarity(a, "Heavy rain is forecast for the weekend across the north.") < 0.15


@pytest.mark.parametrize("shape", [(3, 3), (3, 5), (5, 3), (1, 4), (6, 6)])
@pytest.mark.parametrize("threshold", [0.0, 0.5])
def test_match_is_optimal(shape: tuple[int, int], threshold: float) -> None:
    """One-to-one, never below the threshold, and the best summed similarity of all assignments."""
    rng = np.random.default_rng(sum(shape))
    similarity = rng.random(shape)
    chosen = match(similarity, threshold)
    n, m = shape
    gated = np.where(similarity >= threshold, similarity, 0.0)
    if n <= m:
        best = max(sum(gated[i, j] for i, j in enumerate(cols)) for cols in itertools.permutations(range(m), n))
    else:
        best = max(sum(gated[i, j] for j, i in enumerate(rows)) for rows in itertools.permutations(range(n), m))
    assert len({i for i, _ in chosen}) == len({j for _, j in chosen}) == len(chosen)
    assert all(similarity[i, j] >= threshold for i, j in chosen)
    assert len(chosen) == min(n, m) or threshold > 0
    assert sum(similarity[i, j] for i, j in chosen) == pytest.approx(best)


def test_match_beats_greedy_and_respects_threshold() -> None:
    # Greedy would take (0, 0) = 0.9 first and leave (1, 1) = 0.1, below the threshold.
    similarity = np.array([[0.9, 0.8], [0.85, 0.1]])
    assert match(similarity, 0.5) == [(0, 1), (1, 0)]
    assert match(np.array([[0.2, 0.1]]), 0.5) == []


def test_longest_increasing_marks_the_moved() -> None:
    values = [0, 3, 1, 2, 4]
    assert sorted(values[k] for k in longest_increasing(values)) == [0, 1, 2, 4]
    assert longest_increasing([]) == set()


def test_editorial_against_report() -> None:
    a, b = editorial_and_report()
    comparison = compare_documents(a, b)
    assert [(p.a_index, p.b_index) for p in comparison.pairs] == [(4, 0), (5, 1), (6, 3), (7, 4)]
    assert [p.match for p in comparison.pairs] == ["identical", "near-identical", "identical", "identical"]
    assert not any(p.moved for p in comparison.pairs)
    assert [p.index for p in comparison.only_a] == [1, 3]
    assert [p.index for p in comparison.only_b] == [2]
    assert comparison.placement_a.before == [1, 3]
    assert comparison.placement_b.within == [2]
    assert {p.kind for p in comparison.not_content("a")} == {"headline", "heading", "boilerplate"}
    text = " ".join(comparison.summary)
    assert "A adds 2 paragraphs (2 opinion, 0 reporting): 2 before the shared report (paragraphs 1 and 3)" in text
    assert "B adds 1 paragraph (0 opinion, 1 reporting): 1 interleaved with the shared report (paragraph 2)" in text
    assert "4 paragraphs are shared (4 identical or near-identical, 0 reworded) and score alike" in text
    assert "A's added framing is negative in tone (paragraphs 1 and 3)" in text
    assert "A is clearly more opinionated" in text
    assert "Not counted as content: A has 1 boilerplate, 1 heading, 1 headline" in text


def test_the_summary_calls_a_barely_leading_tone_mixed() -> None:
    a, b = editorial_and_report()
    lead = a.paragraphs[1]
    lead.sentiment = SentimentScore("negative", {"negative": 0.375, "neutral": 0.313, "positive": 0.312}, -0.063)
    text = " ".join(compare_documents(a, b).summary)
    assert lead.tone == "negative"  # the record keeps its label; only the summary's wording changes
    assert "A's added framing is negative in tone (paragraph 3) and mixed in tone (paragraph 1)" in text


def test_the_summary_names_the_scores_that_differ() -> None:
    """A shared pair that differs in sentiment only is not described by its (equal) opinion numbers."""
    a = make_document("a", [(SHARED[0], "body", 0.1, 0.5), (SHARED[2], "body", 0.1, 0.0)])
    b = make_document("b", [(SHARED[0], "body", 0.1, -0.2), (SHARED[2], "body", 0.6, -0.5)])
    text = " ".join(compare_documents(a, b, embed=lambda paragraphs: None).summary)
    assert "A 0/B 0 (sentiment +0.50 vs -0.20)" in text
    assert "A 1/B 1 (opinion 0.10 vs 0.60; sentiment +0.00 vs -0.50)" in text
    # a label on either side of the threshold differs even when the probabilities are close
    c = make_document("c", [(SHARED[0], "body", 0.45, 0.0)])
    d = make_document("d", [(SHARED[0], "body", 0.55, 0.0)])
    assert "A 0/B 0 (opinion 0.45 vs 0.55)" in " ".join(compare_documents(c, d, embed=lambda paragraphs: None).summary)


def test_to_dict_is_json_and_deltas_are_b_minus_a() -> None:
    a, b = editorial_and_report()
    record = json.loads(json.dumps(compare_documents(a, b).to_dict()))
    assert set(record) >= {"a", "b", "pairs", "only_a", "only_b", "summary", "threshold", "delta_direction"}
    assert record["a"]["opinion_share"] == pytest.approx(2 / 6, abs=1e-3)
    pair = record["pairs"][0]
    assert pair["opinion_delta"] == pytest.approx(pair["b_opinion"] - pair["a_opinion"])
    assert record["delta_direction"] == "b_minus_a"
    assert record["only_a"][0] == {**record["only_a"][0], "index": 1, "kind": "body", "tone": {"label": "negative"}}
    assert record["only_a"][0]["opinion"]["label"] == "opinion"
    assert record["not_content"]["a"][0]["kind"] == "headline"
    assert [p["text"] for p in record["a"]["paragraphs"]] == [p.text for p in a.paragraphs]  # paired ones too
    assert all("sentences" in p for p in record["b"]["paragraphs"])


def test_reordered_paragraphs_are_paired_and_marked_moved() -> None:
    a = make_document("a", [(t, "body", 0.1, 0.0) for t in SHARED])
    order = [2, 0, 1, 3]
    b = make_document("b", [(SHARED[k], "body", 0.1, 0.0) for k in order])
    comparison = compare_documents(a, b)
    assert {(p.a_index, p.b_index) for p in comparison.pairs} == {(k, order.index(k)) for k in range(4)}
    assert [p.a_index for p in comparison.moved] == [2]
    assert "in a different order in B" in " ".join(comparison.summary)
    rows = comparison.rows()
    assert [r.a.index for r in rows if r.a] == [0, 1, 2, 3]  # A reads in its own order
    assert [r.b.index for r in rows if r.b and not r.moved] == [1, 2, 3]


def test_paraphrase_found_by_embedding_margin_not_raw_cosine() -> None:
    """A different paragraph of the same story is nearly as close in raw cosine as the reworded
    one; only the reworded pair stands out from its neighbours."""
    a = make_document("a", [
        (PARAPHRASES[0][0], "body", 0.1, 0.0),
        (SHARED[2], "body", 0.1, 0.0),  # the loan's repayment: same story, not in B
    ])
    b = make_document("b", [
        (PARAPHRASES[0][1], "body", 0.1, 0.0),  # the vote, reworded
        (PARAPHRASES[1][1], "body", 0.1, 0.0),
        (REWORDED_REPORT[4], "body", 0.1, 0.0),
    ])
    comparison = compare_documents(a, b)
    cosine = similarity_matrix(a.body, b.body).cosine
    assert cosine[1, 0] > 0.5 and cosine[1, 0] > 0.85 * cosine[0, 0]  # close in raw cosine ...
    assert [(p.a_index, p.b_index, p.match) for p in comparison.pairs] == [(0, 0, "reworded")]
    assert [p.index for p in comparison.only_b] == [1, 2]  # ... but not paired


def no_embeddings(paragraphs: list[ParagraphScore]) -> np.ndarray | None:
    """An embedder that has nothing to give (the Embedder contract allows None)."""
    return None


def test_without_embeddings_lexical_alone() -> None:
    a, b = editorial_and_report()
    comparison = compare_documents(a, b, embed=no_embeddings)
    assert len(comparison.pairs) == 4 and comparison.pairs[0].cosine is None


def test_empty_sides() -> None:
    a, _ = editorial_and_report()
    empty = make_document("empty", [("Just a Title", "headline", 0.0, 0.0)])
    comparison = compare_documents(a, empty)
    assert comparison.pairs == [] and len(comparison.only_a) == 6
    assert "The two versions share no paragraphs." in comparison.summary
    assert "none shared with the other version" in comparison.summary[0]
    assert json.dumps(comparison.to_dict())
    assert "Neither version has body paragraphs to compare." in compare_documents(empty, empty).summary


def test_table_renders_rows_and_summary() -> None:
    a, b = editorial_and_report()
    console = Console(record=True, width=200)
    render_comparison_table(compare_documents(a, b), console)
    out = console.export_text()
    assert "opinion share" in out and "A is clearly more opinionated" in out
    assert "Two wasted years" in out and "—" in out and "1.00" in out
    bullets = [line for line in out.splitlines() if line.startswith("│ • ")]
    assert len(bullets) == len(compare_documents(a, b).summary) and "\\x0a" not in out  # one line per summary sentence


def test_aggregates_name_the_documents_apart_and_never_as_markup() -> None:
    a, b = editorial_and_report()
    a.doc_id, b.doc_id = "/news/archive/2024/versions/[bold]editorial.txt", "/news/archive/2024/versions/report.txt"
    console = Console(record=True, width=80)
    render_comparison_table(compare_documents(a, b), console)
    out = console.export_text()
    assert "[bold]editorial.txt" in out and "report.txt" in out and "/news/archive" not in out


# ---------------------------------------------------------------------------- real model


def score_pair(analyzer, text_a: str, text_b: str) -> tuple[DocumentScore, DocumentScore]:
    from analyzer.records import Document

    a, b = analyzer.score([Document("a", text_a), Document("b", text_b)])
    return a, b


@pytest.fixture(scope="module")
def seed_comparison(analyzer) -> Comparison:
    if not (SEED_A.exists() and SEED_B.exists()):
        pytest.skip(f"seed files not found under {SEEDS}")
    a, b = score_pair(analyzer, SEED_A.read_text(encoding="utf-8"), SEED_B.read_text(encoding="utf-8"))
    return compare_documents(a, b)


def test_seed_shared_paragraphs_align_one_to_one(seed_comparison: Comparison) -> None:
    c = seed_comparison
    first_shared = next(p.index for p in c.a.paragraphs if p.text.startswith("Beijing and Ottawa"))
    shared_a = [p for p in c.a.body if p.index > first_shared]
    assert len(shared_a) == 10
    by_a = {p.a_index: p for p in c.pairs}
    assert sorted(by_a) == [p.index for p in shared_a]
    for pair in c.pairs:
        assert normalise(pair.a.text) == normalise(pair.b.text)  # identical up to "TRUMP"/"Trump"
    assert not c.moved


def test_seed_leads_are_reported_as_only_in_one_version(seed_comparison: Comparison) -> None:
    c = seed_comparison
    first_shared = next(p.index for p in c.a.paragraphs if p.text.startswith("Beijing and Ottawa"))
    assert [p.index for p in c.only_a] == [p.index for p in c.a.body if p.index < first_shared]
    assert c.placement_a.before == [p.index for p in c.only_a]
    b_lead = next(p.index for p in c.b.paragraphs if p.text.startswith("Beijing and Ottawa"))
    assert [p.index for p in c.only_b] == [p.index for p in c.b.body if p.index < b_lead] and len(c.only_b) == 3


def test_seed_headings_and_ad_are_not_content(seed_comparison: Comparison) -> None:
    c = seed_comparison
    ad = next(p for p in c.a.paragraphs if p.text.startswith("Want your project"))
    assert ad.kind == "boilerplate"
    counted = {p.index for p in c.only_a} | {p.a_index for p in c.pairs}
    non_body = {p.index for p in c.a.paragraphs if p.kind != "body"}
    assert ad.index in non_body and not counted & non_body
    assert {p.kind for p in c.not_content("a")} >= {"heading", "boilerplate"}
    assert c.a.aggregates["n_body"] == len(c.a.body) == 15
    rows = c.rows()
    first_pair = next(k for k, row in enumerate(rows) if row.kind == "pair")
    headings = rows[first_pair - 1]  # both versions' "Beijing and Ottawa ..." heading, side by side
    assert headings.kind == "other" and headings.a.text == headings.b.text


def test_seed_opinion_share_and_summary(seed_comparison: Comparison) -> None:
    c = seed_comparison
    share_a, share_b = c.a.aggregates["opinion_share"], c.b.aggregates["opinion_share"]
    assert share_a > share_b + 0.15
    text = " ".join(c.summary)
    assert "A is clearly more opinionated" in text
    assert "before the shared report" in text
    assert "10 paragraphs are shared" in text


PARAPHRASES = [
    ("The council voted on Tuesday to borrow $48 million for a new seawall along the eastern waterfront.",
     "On Tuesday, city lawmakers approved a $48 million loan to build fresh flood defences on the east side of the harbour."),
    ("Construction is scheduled to begin next spring and to last about three years.",
     "Work should start in the spring and take roughly three years to finish."),
    ("Shop owners on Quay Street, which flooded twice last winter, said they lost weeks of trade each time the water came in.",
     "Merchants along Quay Street told officials that the two floods of the past winter cost them weeks of business."),
    ("The regional environment agency must still approve the design, and a decision is expected in March.",
     "Final sign-off rests with the region's environmental regulator, which is due to rule in March."),
    ("Police arrested three men after a jewellery shop in the old town was robbed on Friday night.",
     "Officers detained a trio of suspects following a Friday evening raid on a jeweller's in the historic centre."),
    ("The company said its quarterly profit fell by a third because of weaker demand in Europe.",
     "Earnings for the three months dropped 33 percent as European customers bought less, the firm reported."),
]
UNRELATED_A = ["This is a disgrace, and the mayor should be ashamed of how long it took.",
               "The football club sacked its manager after five straight defeats."]
UNRELATED_B = ["Heavy rain is forecast for the weekend across the northern region."]

# The example report reworded heavily (few shared words) and reordered, plus one unrelated line.
REWORDED_REPORT = [
    "Builders are expected to move in next spring; the work should take roughly three years, and stretches of "
    "the seaside walkway will be fenced off meanwhile.",
    "Borrowing of $48m to build a higher sea barrier on the east waterfront won the backing of seven of Port "
    "Alder's nine councillors this week, closing a dispute that had dragged on since 2023.",
    "The plan still needs a green light from the region's environmental regulator, which is due to rule in March.",
    "Homeowners inside the flood zone will pay back the debt through an extra charge of around $60 annually for "
    "a quarter of a century, finance officials said.",
    "The ferry to Gull Island will run a reduced timetable over the holidays.",
]


def test_paraphrases_align_and_unrelated_do_not(analyzer) -> None:
    text_a = "\n\n".join([a for a, _ in PARAPHRASES] + UNRELATED_A)
    text_b = "\n\n".join([b for _, b in PARAPHRASES] + UNRELATED_B)
    c = compare_documents(*score_pair(analyzer, text_a, text_b))
    assert [(p.a_index, p.b_index) for p in c.pairs] == [(k, k) for k in range(len(PARAPHRASES))]
    assert all(p.match == "reworded" for p in c.pairs)
    assert len(c.only_a) == 2 and len(c.only_b) == 1


def test_reworded_and_reordered_report_aligns(analyzer) -> None:
    report = (EXAMPLES / "report.txt").read_text(encoding="utf-8")
    c = compare_documents(*score_pair(analyzer, report, "\n\n".join(REWORDED_REPORT)))
    texts = {p.b.text[:20]: p.a.text[:20] for p in c.pairs}
    assert texts == {
        "Builders are expecte": "Construction is sche",
        "Borrowing of $48m to": "The Port Alder city ",
        "The plan still needs": "The regional environ",
        "Homeowners inside th": "The loan will be rep",
    }
    assert c.moved and [p.text[:9] for p in c.only_b] == ["The ferry"]


def test_examples_pair(analyzer) -> None:
    editorial = (EXAMPLES / "editorial.txt").read_text(encoding="utf-8")
    report = (EXAMPLES / "report.txt").read_text(encoding="utf-8")
    c = compare_documents(*score_pair(analyzer, editorial, report))
    assert len(c.pairs) == 5 and sum(p.match == "reworded" for p in c.pairs) == 1
    assert c.placement_a.before and c.placement_a.after
    assert len(c.only_b) == 3


@pytest.mark.parametrize("joined_side", ["a", "b"])
def test_a_paragraph_the_other_version_joins_is_text_of_it_not_an_addition(joined_side: str) -> None:
    """One-to-one alignment pairs a joined paragraph with one of its parts; the other part is
    reported as part of it (merged or split), and only the truly new paragraph as added."""
    new = "Critics called the borrowing a reckless gamble with the town's future."
    apart = [(t, "body", 0.1, 0.0) for t in SHARED]
    joined = [(SHARED[0], "body", 0.1, 0.0), (SHARED[1] + " " + SHARED[2], "body", 0.1, 0.0), (SHARED[3], "body", 0.1, 0.0),
              (new, "body", 0.9, -0.5)]
    a, b = (make_document("a", joined), make_document("b", apart)) if joined_side == "a" else (
        make_document("a", apart), make_document("b", joined))
    comparison = compare_documents(a, b, embed=no_embeddings)
    other = "b" if joined_side == "a" else "a"
    (part,) = comparison.parts
    assert part.side == other and part.within == 1 and part.index in (1, 2)
    assert [p.text for p in comparison.added(joined_side)] == [new] and comparison.added(other) == []
    text = " ".join(comparison.summary)
    assert f"{other.upper()} {part.index} is text of {joined_side.upper()} 1" in text and "not an addition" in text
    assert f"{joined_side.upper()} adds 1 paragraph (1 opinion, 0 reporting)" in text and f"{other.upper()} adds" not in text
    assert json.loads(json.dumps(comparison.to_dict()))["parts"] == [part.to_dict()]
