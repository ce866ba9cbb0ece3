"""Check the alignment threshold of analyzer.compare on labelled document pairs.

Every body-paragraph combination of each pair is scored; the true pairs are known (identical
text in the seed pair, hand-labelled indices elsewhere). Prints the weakest true pairs and the
strongest false ones, and whether SIMILARITY_THRESHOLD separates them.

    .venv/bin/python examples/calibrate_alignment.py            # tone-v1 through the Analyzer
    .venv/bin/python examples/calibrate_alignment.py --base     # no tone model: segmentation only
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from analyzer.align import (  # noqa: E402
    SIMILARITY_THRESHOLD, base_encoder_embeddings, normalise, similarity_matrix,
)
from analyzer.records import DocumentScore  # noqa: E402
from test_compare import (  # noqa: E402
    PARAPHRASES, REWORDED_REPORT, SEED_A, SEED_B, UNRELATED_A, UNRELATED_B, make_document,
)

Truth = Callable[[DocumentScore, DocumentScore], set[tuple[int, int]]]


def same_text(a: DocumentScore, b: DocumentScore) -> set[tuple[int, int]]:
    return {(p.index, q.index) for p in a.body for q in b.body if normalise(p.text) == normalise(q.text)}


def by_prefix(pairs: list[tuple[str, str]]) -> Truth:
    """True pairs named by the first words of each side's paragraph."""
    def truth(a: DocumentScore, b: DocumentScore) -> set[tuple[int, int]]:
        find = lambda doc, prefix: next(p.index for p in doc.body if p.text.startswith(prefix))  # noqa: E731
        return {(find(a, pa), find(b, pb)) for pa, pb in pairs}
    return truth


def cases() -> list[tuple[str, str, str, Truth]]:
    examples = ROOT / "examples"
    editorial, report = ((examples / name).read_text(encoding="utf-8") for name in ("editorial.txt", "report.txt"))
    paraphrase_a = "\n\n".join([a for a, _ in PARAPHRASES] + UNRELATED_A)
    paraphrase_b = "\n\n".join([b for _, b in PARAPHRASES] + UNRELATED_B)
    return [
        ("seed", SEED_A.read_text(encoding="utf-8"), SEED_B.read_text(encoding="utf-8"), same_text),
        ("example", editorial, report, lambda a, b: same_text(a, b) | by_prefix([("Mayor", "Mayor")])(a, b)),
        ("paraphrase", paraphrase_a, paraphrase_b, by_prefix([(a[:25], b[:25]) for a, b in PARAPHRASES])),
        ("reworded", report, "\n\n".join(REWORDED_REPORT), by_prefix([
            ("Construction", "Builders"), ("The Port Alder city", "Borrowing"),
            ("The regional", "The plan"), ("The loan", "Homeowners")])),
        ("editorial-reworded", editorial, "\n\n".join(REWORDED_REPORT), by_prefix([
            ("The Port Alder city", "Borrowing"), ("The loan", "Homeowners")])),
    ]


def base_scorer() -> Callable[[str, str], tuple[DocumentScore, DocumentScore]]:
    """Segment with analyzer.segment, no tone model (alignment reads the pretrained encoder anyway)."""
    from analyzer.segment import segment

    def doc(doc_id: str, text: str) -> DocumentScore:
        return make_document(doc_id, [(p.text, p.kind, 0.0, 0.0) for p in segment(text)])

    return lambda text_a, text_b: (doc("a", text_a), doc("b", text_b))


def model_scorer() -> Callable[[str, str], tuple[DocumentScore, DocumentScore]]:
    from analyzer import Analyzer
    from analyzer.records import Document

    analyzer = Analyzer()
    return lambda text_a, text_b: tuple(analyzer.score([Document("a", text_a), Document("b", text_b)]))


def main() -> None:
    score = base_scorer() if "--base" in sys.argv else model_scorer()
    embed = base_encoder_embeddings
    true_scores, false_scores = [], []
    for name, text_a, text_b, truth in cases():
        a, b = score(text_a, text_b)
        sim, labels = similarity_matrix(a.body, b.body, embed), truth(a, b)
        for i, p in enumerate(a.body):
            for j, q in enumerate(b.body):
                cos = "-" if sim.cosine is None else f"{sim.cosine[i, j]:.3f}"
                row = (float(sim.combined[i, j]), f"{name:18} A{p.index:<3} B{q.index:<3} cos {cos} "
                       f"lexical {sim.lexical[i, j]:.3f} | {p.text[:40]!r} | {q.text[:40]!r}")
                (true_scores if (p.index, q.index) in labels else false_scores).append(row)
    print("weakest true pairs:")
    for score_, line in sorted(true_scores)[:6]:
        print(f"  {score_:.3f} {line}")
    print("strongest false pairs:")
    for score_, line in sorted(false_scores, reverse=True)[:6]:
        print(f"  {score_:.3f} {line}")
    low, high = min(true_scores)[0], max(false_scores)[0]
    verdict = "separates" if high < SIMILARITY_THRESHOLD <= low else "does NOT separate"
    print(f"{len(true_scores)} true, {len(false_scores)} false combinations")
    print(f"true >= {low:.3f}, false <= {high:.3f}: threshold {SIMILARITY_THRESHOLD} {verdict} them")


if __name__ == "__main__":
    main()
