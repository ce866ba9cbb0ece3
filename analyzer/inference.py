"""The forward stage: prepared texts -> pooled embeddings -> head logits, in one pass over the encoder.

Texts are windowed ([CLS] ... [SEP], overlapping windows past 512 tokens), length-sorted into
token-budget batches and encoded once. The same token states are pooled three ways:
* the paragraph: the mean over all its tokens (the pooling the encoder was trained with);
* each sentence, for sentiment: the mean over the sentence's tokens, read in context;
* each sentence, for opinion: the mean over the sentence's tokens that are the author's own
  (reported speech left out, see `analyzer.attribution`); a sentence that is all reported speech
  has none and is reporting by the product's rule.
Scoring every sentence therefore costs no second pass. Calibration and labels are applied
later, in `analyzer.postprocess`; this module returns raw logits.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from analyzer.batching import make_batches, make_windows
from analyzer.model import DEFAULT_MODEL_DIR, ModelConfig, load_tone_net, locate_base_model, sha256_of
from analyzer.prepare import PreparedText, prepare_texts

DEFAULT_MAX_TOKENS = 2048  # padded tokens per batch on the CPU (fastest measured: cache-sized); 16x on a GPU


@dataclass
class Pooled:
    """Pooled token states of many texts; sentence rows are in text order, `owner` names their text."""

    paragraph: torch.Tensor  # [texts, hidden]
    sentence: torch.Tensor  # [sentences, hidden]
    sentence_own: torch.Tensor  # [sentences, hidden]: zeros where `own_tokens` is 0
    own_tokens: torch.Tensor  # [sentences]: author's own tokens pooled for opinion
    owner: np.ndarray  # [sentences]: index of the text each sentence belongs to
    token_scores: list[np.ndarray] | None = None  # per text [tokens, directions]: each token state on the head directions


@dataclass
class Logits:
    """Raw head outputs of one text: opinion as one log-odds value, sentiment per class."""

    sentiment: np.ndarray  # [3]
    opinion: float
    sentence_sentiment: np.ndarray  # [sentences, 3]
    sentence_opinion: np.ndarray  # [sentences]; -inf for a sentence that is all reported speech
    embedding: np.ndarray  # unit-length paragraph embedding
    n_tokens: int
    # with explain: [tokens, 2], each token's state on the opinion and the valence direction of
    # the heads (a head is linear on a mean, so these add up to the logits: see analyzer.evidence)
    token_scores: np.ndarray | None = None


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but no CUDA device is available")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r} (auto, cpu or cuda)")
    return device


class ToneScorer:
    """The loaded model plus its tokenizer; created once and reused for every batch."""

    def __init__(self, model_dir: Path | str | None = None, device: str = "auto", batch_size: int = 128,
                 max_tokens: int | None = None):
        from transformers import AutoTokenizer

        device = resolve_device(device)
        if device == "cpu":
            torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))
        self.model_dir = Path(model_dir or DEFAULT_MODEL_DIR)
        net, config = load_tone_net(self.model_dir)
        # what the encoder's token states depend on: the adapter's files and the base weights
        adapter = "".join(sha256_of(f) for f in sorted((self.model_dir / "adapter").iterdir()))
        self.model_key = adapter + config.base["sha256"]
        tokenizer = AutoTokenizer.from_pretrained(str(locate_base_model()))
        tokenizer.model_max_length = 1 << 30  # long texts are windowed here, not truncated
        self._attach(net, config, tokenizer, device, batch_size, max_tokens)

    @classmethod
    def from_parts(cls, net, config: ModelConfig, tokenizer, device: str, batch_size: int = 64) -> "ToneScorer":
        """A scorer over a network in memory (training evaluates its epochs through the product's path)."""
        scorer = cls.__new__(cls)
        scorer.model_dir, scorer.model_key = None, None
        scorer._attach(net, config, tokenizer, device, batch_size, None)
        return scorer

    def _attach(self, net, config: ModelConfig, tokenizer, device: str, batch_size: int, max_tokens: int | None) -> None:
        self.device, self.config, self.tokenizer, self.batch_size = device, config, tokenizer, batch_size
        self.net = net.to(device)
        # The heads run on the CPU copies of their few weights: pooling already left the device.
        sentence_opinion = net.sentence_opinion if net.sentence_opinion is not None else net.opinion
        self._heads = tuple(copy.deepcopy(head).cpu() for head in (net.sentiment, net.opinion, sentence_opinion))
        self.max_tokens = max_tokens or (DEFAULT_MAX_TOKENS * (16 if device == "cuda" else 1))

    @property
    def model_version(self) -> str:
        return self.config.model_version

    def prepare(self, texts: Sequence[str]) -> list[PreparedText]:
        return prepare_texts(self.tokenizer, texts)

    @torch.inference_mode()
    def pool(self, prepared: Sequence[PreparedText], directions: torch.Tensor | None = None) -> Pooled:
        """One pass over the encoder; every text's and every sentence's pooled token states.

        `directions` ([hidden, k]): also project every token state on them (for evidence).
        """
        hidden_size = self.net.sentiment.in_features
        first_sentence = np.cumsum([0] + [len(p.sentences) for p in prepared])
        n_texts, n_sentences = len(prepared), int(first_sentence[-1])
        paragraph = torch.zeros(n_texts, hidden_size)
        tokens = torch.zeros(n_texts)
        sentence = torch.zeros(n_sentences + 1, hidden_size)  # the last row collects tokens of no sentence
        sentence_tokens = torch.zeros(n_sentences + 1)
        own = torch.zeros(n_sentences + 1, hidden_size)
        own_tokens = torch.zeros(n_sentences + 1)
        windows = make_windows([p.ids for p in prepared], self.tokenizer.cls_token_id, self.tokenizer.sep_token_id, self.config.max_length)
        if directions is not None:
            token_sums = [np.zeros((p.n_tokens, directions.shape[1])) for p in prepared]
            token_counts = [np.zeros(p.n_tokens) for p in prepared]
        use_autocast = self.device == "cuda"
        for batch in make_batches(windows, self.max_tokens, self.batch_size):
            ids = batch.input_ids.to(self.device, non_blocking=True)
            mask = batch.attention_mask.to(self.device, non_blocking=True)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_autocast):
                hidden = self.net.encode(ids, mask)
            hidden = hidden.float().cpu()
            owners = torch.tensor([w.owner for w in batch.windows])
            paragraph.index_add_(0, owners, (hidden * batch.attention_mask[..., None]).sum(1))
            tokens.index_add_(0, owners, batch.attention_mask.sum(1).float())
            rows, own_rows = self._sentence_rows(batch, prepared, first_sentence, n_sentences)
            flat = hidden.reshape(-1, hidden_size)
            sentence.index_add_(0, rows, flat)
            sentence_tokens.index_add_(0, rows, torch.ones(len(rows)))
            own.index_add_(0, own_rows, flat)
            own_tokens.index_add_(0, own_rows, torch.ones(len(own_rows)))
            if directions is not None:
                _project_tokens(batch, hidden @ directions, token_sums, token_counts)
        own_tokens, sentence_tokens = own_tokens[:-1], sentence_tokens[:-1]
        return Pooled(
            paragraph=paragraph / tokens.clamp(min=1)[:, None],
            sentence=sentence[:-1] / sentence_tokens.clamp(min=1)[:, None],
            sentence_own=own[:-1] / own_tokens.clamp(min=1)[:, None],
            own_tokens=own_tokens,
            owner=np.repeat(np.arange(n_texts), np.diff(first_sentence)),
            token_scores=[t / np.maximum(c, 1)[:, None] for t, c in zip(token_sums, token_counts)] if directions is not None else None,
        )

    @staticmethod
    def _sentence_rows(batch, prepared, first_sentence, n_sentences) -> tuple[torch.Tensor, torch.Tensor]:
        """For every position of the batch, the sentence row it is pooled into (n_sentences: none)."""
        width = batch.input_ids.shape[1]
        rows = np.full((len(batch.windows), width), n_sentences, dtype=np.int64)
        own_rows = rows.copy()
        for row, window in enumerate(batch.windows):
            text = prepared[window.owner]
            piece = slice(window.start, window.start + len(window.ids) - 2)
            local = text.sentence[piece]
            target = np.where(local >= 0, local + first_sentence[window.owner], n_sentences)
            rows[row, 1:1 + len(local)] = target
            own_rows[row, 1:1 + len(local)] = np.where(text.own[piece], target, n_sentences)
        return torch.from_numpy(rows.reshape(-1)), torch.from_numpy(own_rows.reshape(-1))

    def forward(self, prepared: Sequence[PreparedText], explain: bool = False) -> list[Logits]:
        """Raw logits for each text and its sentences (no calibration); with `explain`, token scores too."""
        if not prepared:
            return []
        sentiment_head, opinion_head, sentence_opinion_head = self._heads
        pooled = self.pool(prepared, self._directions() if explain else None)
        with torch.inference_mode():
            sentiment = sentiment_head(pooled.paragraph).numpy()
            opinion = _log_odds(opinion_head(pooled.paragraph))
            sentence_sentiment = sentiment_head(pooled.sentence).numpy()
            sentence_opinion = _log_odds(sentence_opinion_head(pooled.sentence_own))
        sentence_opinion[pooled.own_tokens.numpy() == 0] = -np.inf
        embedding = torch.nn.functional.normalize(pooled.paragraph, dim=-1).numpy()
        bounds = np.cumsum([0] + [len(p.sentences) for p in prepared])
        return [
            Logits(sentiment[i], float(opinion[i]), sentence_sentiment[bounds[i]:bounds[i + 1]],
                   sentence_opinion[bounds[i]:bounds[i + 1]], embedding[i], prepared[i].n_tokens,
                   pooled.token_scores[i] if explain else None)
            for i in range(len(prepared))
        ]

    def _directions(self) -> torch.Tensor:
        """[hidden, 2]: the sentence opinion head's opinion-minus-reporting row and the sentiment
        head's positive-minus-negative row (on the CPU, where pooling reads the token states)."""
        sentiment_head, _, sentence_opinion_head = self._heads
        labels = self.config.sentiment_labels
        valence = sentiment_head.weight[labels.index("positive")] - sentiment_head.weight[labels.index("negative")]
        opinion = sentence_opinion_head.weight[1] - sentence_opinion_head.weight[0]
        return torch.stack([opinion, valence], 1).detach()


def _project_tokens(batch, projected: torch.Tensor, sums: list[np.ndarray], counts: list[np.ndarray]) -> None:
    """Add each window's token projections to its text's tokens (windows overlap: counts average them)."""
    values = projected.float().cpu().numpy()
    for row, window in enumerate(batch.windows):
        n = len(window.ids) - 2
        sums[window.owner][window.start:window.start + n] += values[row, 1:n + 1]
        counts[window.owner][window.start:window.start + n] += 1


def _log_odds(logits: torch.Tensor) -> np.ndarray:
    """Two-class logits -> log P(opinion)/P(reporting), the one number the calibration reads."""
    return (logits[:, 1] - logits[:, 0]).numpy().astype(np.float64)
