"""Faithfulness of the evidence: deleting the evidence words must move the score, the evidence
sentence alone must keep it (comprehensiveness and sufficiency, as in ERASER, DeYoung et al. 2020).

Measured on the opinion paragraphs of the authored dev split that the model also labels opinion
(the ones it shows opinion evidence for; the count is reported) and on the NYT test
sentences the model scores as non-neutral (sentiment, signed: deleting negative evidence must
raise the score). For each unit:
* comprehensiveness: the score with the top-3 evidence words deleted, against the score with
  3 random words of the same unit deleted (RANDOM_DRAWS seeded draws; "beats random" is the
  share of (unit, draw) pairs where the evidence moves the score more: one draw alone moved it
  by up to 5 points between seeds on the 300 NYT test sentences);
* sufficiency: the score of the evidence sentence alone, as a share of the unit's score.
`python -m eval` reports and gates these for the product's method (`analyzer.evidence`);
`python -m eval.explanations --compare` also measures captum's Layer Integrated Gradients and
Layer Gradient x Activation on the embedding layer, on the same units, and times all three.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from analyzer.evidence import WORD, word_weights

TOP_WORDS = 3
RANDOM_DRAWS = 5
WordWeights = list[tuple[int, int, float]]  # (start, end, weight) per word


@dataclass
class Unit:
    text: str
    task: str  # opinion | sentiment


def delete_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with the character spans removed and the spaces around them collapsed."""
    kept, cursor = [], 0
    for start, end in sorted(spans):
        kept.append(text[cursor:start])
        cursor = max(cursor, end)
    kept.append(text[cursor:])
    return re.sub(r"\s{2,}", " ", "".join(kept)).strip()


def _score(analyzer, texts: list[str], task: str) -> np.ndarray:
    scored = analyzer.score_texts(texts)
    return np.array([p.opinion.prob if task == "opinion" else p.sentiment.score for p in scored])


def evidence_words(analyzer, texts: list[str], task: str) -> tuple[list[WordWeights], list[str | None]]:
    """The product's evidence: its evidence words, strongest first, and the evidence sentence.

    The words are the product's own ranking of single words (`Evidence.opinion_words` and
    `sentiment_words`: the words of its listed spans that push the score its way, each by its own
    weight, function words after content words), so "the top-3 evidence words" are the 3 words the product
    weighs highest, not the first words of its strongest phrase.
    """
    words, sentences = [], []
    for paragraph in analyzer.score_texts(texts, explain=True):
        evidence = paragraph.evidence
        ranked = evidence.opinion_words if task == "opinion" else evidence.sentiment_words
        words.append([(w.start, w.end, w.weight) for w in ranked])
        index = evidence.opinion_sentence if task == "opinion" else evidence.sentiment_sentence
        sentences.append(paragraph.sentences[index].text if index is not None else None)
    return words, sentences


def faithfulness(analyzer, units: list[str], task: str, words: list[WordWeights], sentences: list[str | None] | None,
                 seed: int = 0) -> dict[str, float]:
    """Comprehensiveness against random deletion, and sufficiency, for given word rankings."""
    rng = random.Random(seed)
    before = _score(analyzer, units, task)
    direction = np.ones(len(units)) if task == "opinion" else np.sign(before)
    top = [delete_spans(text, [(s, e) for s, e, _ in w[:TOP_WORDS]]) for text, w in zip(units, words)]
    unit_words = [[m.span() for m in WORD.finditer(text)] for text in units]
    randoms = [delete_spans(text, rng.sample(spans, min(TOP_WORDS, len(spans))))
               for _ in range(RANDOM_DRAWS) for text, spans in zip(units, unit_words)]
    drop_top = direction * (before - _score(analyzer, top, task))
    drop_random = direction * (before - _score(analyzer, randoms, task).reshape(RANDOM_DRAWS, len(units)))  # [draws, units]
    result = {"units": len(units), "comprehensiveness": round(float(drop_top.mean()), 4),
              "random_deletion": round(float(drop_random.mean()), 4),
              "beats_random_share": round(float((drop_top > drop_random).mean()), 4)}
    if sentences is not None:
        alone = _score(analyzer, [s or "" for s in sentences], task)
        kept = np.clip(direction * alone / np.maximum(direction * before, 1e-6), 0, 1)
        result["sufficiency"] = round(float(kept.mean()), 4)
    return result


def opinion_units(analyzer) -> list[str]:
    """Authored dev paragraphs labelled opinion that the model also calls opinion (the ones it shows evidence for)."""
    from models import authored

    texts = [p.text for p in authored.load() if p.split == "dev" and p.opinion == "opinion"]
    return [t for t, p in zip(texts, analyzer.score_texts(texts)) if p.opinion.label == "opinion"]


def sentiment_units(analyzer, limit: int = 300) -> list[str]:
    from models import data

    texts = list(data.nyt_sentences("test")["text"])
    scored = analyzer.score_texts(texts)
    return [t for t, p in zip(texts, scored) if p.sentiment.label != "neutral"][:limit]


def evaluate(analyzer, limit: int | None = None) -> dict[str, dict[str, float]]:
    """The product method's faithfulness on both tasks (what `python -m eval` gates)."""
    results = {}
    for task, units in (("opinion", opinion_units(analyzer)[:limit]), ("sentiment", sentiment_units(analyzer)[:limit])):
        words, sentences = evidence_words(analyzer, units, task)
        results[task] = faithfulness(analyzer, units, task, words, sentences)
    return results


# ----------------------------------------------------------------- captum comparison


def _captum_words(analyzer, texts: list[str], task: str, method: str) -> list[WordWeights]:
    """Word weights from a captum attribution of the product's own score (embedding layer)."""
    import torch
    from captum.attr import LayerGradientXActivation, LayerIntegratedGradients

    scorer, config = analyzer.scorer, analyzer.scorer.config
    net = scorer.net.float().cpu()
    sentiment_head, opinion_head, sentence_head = scorer._heads
    labels = config.sentiment_labels
    results = []
    for text in texts:
        prepared = scorer.prepare([text])[0]
        ids = torch.tensor([[scorer.tokenizer.cls_token_id, *prepared.ids[:510].tolist(), scorer.tokenizer.sep_token_id]])
        n = ids.shape[1] - 2
        membership = torch.zeros(max(len(prepared.sentences), 1), ids.shape[1])
        for position in range(n):
            if prepared.sentence[position] >= 0 and prepared.own[position]:
                membership[prepared.sentence[position], position + 1] = 1
        membership = membership / membership.sum(1, keepdim=True).clamp(min=1)

        def target(input_ids: torch.Tensor) -> torch.Tensor:
            mask = torch.ones_like(input_ids)
            hidden = net.encode(input_ids, mask)
            paragraph = hidden.mean(1)
            if task == "sentiment":
                logits = sentiment_head(paragraph)
                return logits[:, labels.index("positive")] - logits[:, labels.index("negative")]
            sentences = torch.einsum("sl,nlh->nsh", membership, hidden)
            sentence_log_odds = sentence_head(sentences)
            strongest = (sentence_log_odds[..., 1] - sentence_log_odds[..., 0]).max(1).values
            weights = (config.paragraph_opinion or {}).get("weights")
            paragraph_log_odds = opinion_head(paragraph)
            paragraph_log_odds = paragraph_log_odds[:, 1] - paragraph_log_odds[:, 0]
            if weights is None:
                return paragraph_log_odds
            return weights["sentence_max"] * strongest + weights["paragraph"] * paragraph_log_odds + weights["bias"]

        layer = net.encoder.embeddings.word_embeddings if hasattr(net.encoder, "embeddings") else net.encoder.get_input_embeddings()
        if method == "integrated_gradients":
            baseline = torch.full_like(ids, scorer.tokenizer.pad_token_id)
            baseline[0, 0], baseline[0, -1] = ids[0, 0], ids[0, -1]
            attributions = LayerIntegratedGradients(target, layer).attribute(ids, baselines=baseline, n_steps=20, internal_batch_size=20)
        else:
            attributions = LayerGradientXActivation(target, layer).attribute(ids)
        token_weights = attributions.sum(-1)[0, 1:n + 1].detach().numpy()
        results.append(_words_of(text, prepared, token_weights, task, float(target(ids).item())))
    return results


def _words_of(text: str, prepared, token_weights: np.ndarray, task: str, score: float) -> WordWeights:
    """Token weights summed into words (as the product's evidence sums them), ranked in the score's direction."""
    words, weights = word_weights(text, prepared, token_weights)
    direction = 1.0 if task == "opinion" or score >= 0 else -1.0
    order = np.argsort(-direction * weights)
    return [(words[i][0], words[i][1], float(weights[i])) for i in order if direction * weights[i] > 0]


def compare(analyzer, limit: int) -> dict[str, Any]:
    """All three methods on the same units: faithfulness and seconds per unit."""
    report: dict[str, Any] = {}
    for task, units in (("opinion", opinion_units(analyzer)[:limit]), ("sentiment", sentiment_units(analyzer, limit))):
        methods: dict[str, Callable[[], list[WordWeights]]] = {
            "decomposition (analyzer.evidence)": lambda: evidence_words(analyzer, units, task)[0],
            "captum LayerGradientXActivation": lambda: _captum_words(analyzer, units, task, "gradient_x_activation"),
            "captum LayerIntegratedGradients (20 steps)": lambda: _captum_words(analyzer, units, task, "integrated_gradients"),
        }
        report[task] = {}
        for name, method in methods.items():
            started = time.perf_counter()
            words = method()
            seconds = time.perf_counter() - started
            report[task][name] = {**faithfulness(analyzer, units, task, words, None), "seconds_per_unit": round(seconds / len(units), 4)}
            print(task, name, json.dumps(report[task][name]), flush=True)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compare", action="store_true", help="also measure captum's methods (slow: minutes)")
    parser.add_argument("--limit", type=int, default=60, help="units per task for --compare")
    args = parser.parse_args()
    from analyzer import Analyzer

    analyzer = Analyzer(device="cpu")
    print(json.dumps(compare(analyzer, args.limit) if args.compare else evaluate(analyzer), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
