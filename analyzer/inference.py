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
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch

from analyzer.batching import Batch, make_batches
from analyzer.mixing import MixingCapture
from analyzer.model import DEFAULT_MODEL_DIR, ModelConfig, load_tone_net, locate_base_model, sha256_of
from analyzer.prepare import PreparedText, TokenArrays, prepare_texts

DEFAULT_MAX_TOKENS = 2048  # padded tokens per batch on the CPU (fastest measured: cache-sized); 16x on a GPU
DEFAULT_BATCH_ROWS = {"cpu": 128, "cuda": 1024}  # most rows per batch; on a GPU the token budget decides
# The columns of `ToneScorer._directions` that are rolled back (analyzer.mixing): the sentiment
# head's positive-minus-neutral and negative-minus-neutral rows (analyzer.evidence.sentiment_mix)
ROLLED_BACK = [1, 3]


@dataclass
class Pooled:
    """Pooled token states of many texts; sentence rows are in text order, `n_sentences` per text."""

    paragraph: torch.Tensor  # [texts, hidden]
    sentence: torch.Tensor  # [sentences, hidden]
    sentence_own: torch.Tensor  # [sentences, hidden]: zeros where `own_tokens` is 0
    own_tokens: torch.Tensor  # [sentences]: author's own tokens pooled for opinion
    n_sentences: np.ndarray  # [texts]
    # [all tokens, directions]: each token state on the head directions; the sentiment columns
    # are centred and rolled back to the tokens they came from (analyzer.mixing)
    token_scores: np.ndarray | None = None


@dataclass
class Logits:
    """Raw head outputs of one text: opinion as one log-odds value, sentiment per class."""

    sentiment: np.ndarray  # [3]
    opinion: float
    sentence_sentiment: np.ndarray  # [sentences, 3]
    sentence_opinion: np.ndarray  # [sentences]; -inf for a sentence that is all reported speech
    n_tokens: int
    # with explain: [tokens, 4], each token's state on the heads' directions (`ToneScorer._directions`;
    # a head is linear on a mean, so these add up to the logits: see analyzer.evidence); the two
    # sentiment columns centred and rolled back (analyzer.mixing)
    token_scores: np.ndarray | None = None


@dataclass
class LogitArrays:
    """Raw head outputs of many texts in flat arrays, one text after another: the forward stage's output."""

    sentiment: np.ndarray  # float32 [texts, 3]
    opinion: np.ndarray  # float64 [texts]: log-odds
    sentence_sentiment: np.ndarray  # float32 [sentences, 3]
    sentence_opinion: np.ndarray  # float64 [sentences]
    n_sentences: np.ndarray  # int64 [texts]
    lengths: np.ndarray  # int64 [texts]: tokens
    token_scores: np.ndarray | None = None  # float64 [tokens, 4] with explain

    @classmethod
    def zeros(cls, tokens: TokenArrays, explain: bool = False) -> "LogitArrays":
        """All-zero outputs of the right shapes (the benchmark's no-op forward)."""
        n, s = tokens.n_texts, int(tokens.n_sentences.sum())
        return cls(np.zeros((n, 3), np.float32), np.zeros(n), np.zeros((s, 3), np.float32), np.zeros(s),
                   tokens.n_sentences, tokens.lengths, np.zeros((len(tokens.ids), 4)) if explain else None)

    def slices(self, counts: Sequence[int]) -> list["LogitArrays"]:
        """Consecutive parts of `counts` texts each (the windows a forward chunk was made of)."""
        parts, text, sentence, token = [], 0, 0, 0
        for count in counts:
            s = int(self.n_sentences[text:text + count].sum())
            t = int(self.lengths[text:text + count].sum())
            parts.append(LogitArrays(self.sentiment[text:text + count], self.opinion[text:text + count],
                                     self.sentence_sentiment[sentence:sentence + s], self.sentence_opinion[sentence:sentence + s],
                                     self.n_sentences[text:text + count], self.lengths[text:text + count],
                                     None if self.token_scores is None else self.token_scores[token:token + t]))
            text, sentence, token = text + count, sentence + s, token + t
        return parts

    def per_text(self) -> list[Logits]:
        sentences = np.concatenate([[0], np.cumsum(self.n_sentences)])
        tokens = np.concatenate([[0], np.cumsum(self.lengths)])
        return [Logits(self.sentiment[i], float(self.opinion[i]), self.sentence_sentiment[sentences[i]:sentences[i + 1]],
                       self.sentence_opinion[sentences[i]:sentences[i + 1]], int(self.lengths[i]),
                       None if self.token_scores is None else self.token_scores[tokens[i]:tokens[i + 1]])
                for i in range(len(self.lengths))]


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but no CUDA device is available")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r} (auto, cpu or cuda)")
    return device


# /proc/cpuinfo flags of CPUs that multiply bf16 in hardware: Intel AMX (Sapphire Rapids and later)
# and AVX512-BF16 dot products (AMD Zen 4 and later, Intel Cooper Lake). Without them bf16 is
# emulated and slower than fp32.
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")


def cpu_has_fast_bf16() -> bool:
    """Whether bf16 beats fp32 on this CPU: measured ~2.5x the fp32 forward pass with AMX, and 1.6x
    end to end on a Zen 4 with AVX512-BF16 (README "Speed")."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return False
    return any(flag in flags for flag in BF16_CPU_FLAGS)


def resolve_precision(precision: str, device: str) -> str:
    """fp32 or bf16 for the encoder's matrix products. `auto`: bf16 on CUDA and on CPUs with bf16
    hardware (measured against fp32 on every eval set: labels agree on 99.5-100% of items, no metric moves
    0.5 points; README "Speed"), fp32 elsewhere."""
    if precision == "auto":
        return "bf16" if device == "cuda" or cpu_has_fast_bf16() else "fp32"
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"unknown precision {precision!r} (auto, fp32 or bf16)")
    return precision


class ToneScorer:
    """The loaded model plus its tokenizer; created once and reused for every batch."""

    def __init__(self, model_dir: Path | str | None = None, device: str = "auto", batch_size: int | None = None,
                 max_tokens: int | None = None, precision: str = "auto"):
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
        self._attach(net, config, tokenizer, device, batch_size, max_tokens, precision)

    @classmethod
    def from_parts(cls, net, config: ModelConfig, tokenizer, device: str, batch_size: int = 64) -> "ToneScorer":
        """A scorer over a network in memory (training evaluates its epochs through the product's path)."""
        scorer = cls.__new__(cls)
        scorer.model_dir, scorer.model_key = None, None
        scorer._attach(net, config, tokenizer, device, batch_size, None, "fp32" if device == "cpu" else "auto")
        return scorer

    def _attach(self, net, config: ModelConfig, tokenizer, device: str, batch_size: int | None, max_tokens: int | None,
                precision: str) -> None:
        self.device, self.config, self.tokenizer = device, config, tokenizer
        self.batch_size = batch_size or DEFAULT_BATCH_ROWS[device]
        self.bf16 = resolve_precision(precision, device) == "bf16"
        self.net = net.to(device)
        # The heads run on CPU copies of their few weights: only pooled rows leave the device.
        sentence_opinion = net.sentence_opinion if net.sentence_opinion is not None else net.opinion
        self._heads = tuple(copy.deepcopy(head).cpu() for head in (net.sentiment, net.opinion, sentence_opinion))
        self.max_tokens = max_tokens or (DEFAULT_MAX_TOKENS * (16 if device == "cuda" else 1))

    @property
    def model_version(self) -> str:
        return self.config.model_version

    def prepare(self, texts: Sequence[str]) -> list[PreparedText]:
        return prepare_texts(self.tokenizer, texts)

    def batches(self, tokens: TokenArrays) -> Iterator[Batch]:
        """The token-budget batches of these texts (host work: on a GPU, the main process's share)."""
        return make_batches(tokens, self.max_tokens, self.batch_size, self.tokenizer.cls_token_id,
                            self.tokenizer.sep_token_id, self.config.max_length)

    @torch.inference_mode()
    def pool(self, texts: Sequence[PreparedText] | TokenArrays, directions: torch.Tensor | None = None) -> Pooled:
        """One pass over the encoder; every text's and every sentence's pooled token states.

        The sums are kept on the model's device, so that only pooled rows (and, with
        `directions` ([hidden, k]), each token state's projection on them) come back to the host.
        """
        tokens = texts if isinstance(texts, TokenArrays) else TokenArrays.of(texts)
        device, hidden_size = self.device, self.net.sentiment.in_features
        n_texts, n_sentences = tokens.n_texts, int(tokens.n_sentences.sum())
        zeros = partial(torch.zeros, device=device)
        paragraph, paragraph_tokens = zeros(n_texts, hidden_size), zeros(n_texts)
        # one extra row collects the positions of no sentence ([CLS], [SEP], padding, reported speech)
        sentence, sentence_tokens = zeros(n_sentences + 1, hidden_size), zeros(n_sentences + 1)
        own, own_tokens = zeros(n_sentences + 1, hidden_size), zeros(n_sentences + 1)
        capture = MixingCapture(self.net.encoder) if directions is not None else None
        if directions is not None:
            directions = directions.to(device)
            token_sums, token_counts = zeros(len(tokens.ids) + 1, directions.shape[1]), zeros(len(tokens.ids) + 1)
        for batch in self.batches(tokens):
            ids, mask, owner, rows, own_rows, position = (self._to_device(a) for a in (
                batch.input_ids, batch.attention_mask, batch.owner, batch.sentence_row, batch.own_row, batch.position))
            with torch.autocast(device, dtype=torch.bfloat16, enabled=self.bf16), (capture.hooks() if capture else nullcontext()):
                hidden = self.net.encode(ids, mask)
            hidden = hidden.float()
            paragraph.index_add_(0, owner, (hidden * mask[..., None]).sum(1))
            paragraph_tokens.index_add_(0, owner, mask.sum(1).float())
            flat, ones = hidden.reshape(-1, hidden_size), torch.ones(rows.numel(), device=device)
            rows, own_rows = rows.reshape(-1), own_rows.reshape(-1)
            sentence.index_add_(0, rows, flat)
            sentence_tokens.index_add_(0, rows, ones)
            own.index_add_(0, own_rows, flat)
            own_tokens.index_add_(0, own_rows, ones)
            if directions is not None:  # overlapping windows add twice; the counts average them
                where = position.reshape(-1)  # [CLS], [SEP] and padding point one past the last token
                projection = hidden @ directions
                projection[..., ROLLED_BACK] = capture.rollout(projection[..., ROLLED_BACK], mask)
                token_sums.index_add_(0, where, projection.reshape(-1, directions.shape[1]))
                token_counts.index_add_(0, where, ones)
        own_tokens, sentence_tokens = own_tokens[:-1], sentence_tokens[:-1]
        token_scores = None
        if directions is not None:
            token_scores = (token_sums[:-1] / token_counts[:-1].clamp(min=1)[:, None]).double().cpu().numpy()
        return Pooled(
            paragraph=(paragraph / paragraph_tokens.clamp(min=1)[:, None]).cpu(),
            sentence=(sentence[:-1] / sentence_tokens.clamp(min=1)[:, None]).cpu(),
            sentence_own=(own[:-1] / own_tokens.clamp(min=1)[:, None]).cpu(),
            own_tokens=own_tokens.cpu(),
            n_sentences=tokens.n_sentences,
            token_scores=token_scores,
        )

    def _to_device(self, array: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(array)
        if self.device == "cuda":  # pinned, so that the copy overlaps the previous batch's compute
            return tensor.pin_memory().to(self.device, non_blocking=True)
        return tensor

    def forward_arrays(self, tokens: TokenArrays, explain: bool = False) -> LogitArrays:
        """The forward stage: raw logits for each text and its sentences (no calibration); with `explain`, token scores too."""
        sentiment_head, opinion_head, sentence_opinion_head = self._heads
        pooled = self.pool(tokens, self._directions() if explain else None)
        with torch.inference_mode():
            sentiment = sentiment_head(pooled.paragraph).numpy()
            opinion = _log_odds(opinion_head(pooled.paragraph))
            sentence_sentiment = sentiment_head(pooled.sentence).numpy()
            sentence_opinion = _log_odds(sentence_opinion_head(pooled.sentence_own))
        sentence_opinion[pooled.own_tokens.numpy() == 0] = -np.inf
        return LogitArrays(sentiment, opinion, sentence_sentiment, sentence_opinion, tokens.n_sentences, tokens.lengths,
                           pooled.token_scores)

    def forward(self, prepared: Sequence[PreparedText], explain: bool = False) -> list[Logits]:
        """`forward_arrays` for a list of prepared texts, one Logits each (training and evaluation use this)."""
        if not prepared:
            return []
        return self.forward_arrays(TokenArrays.of(prepared), explain).per_text()

    def _directions(self) -> torch.Tensor:
        """[hidden, 4]: the sentence opinion head's opinion-minus-reporting row, the sentiment
        head's positive-minus-neutral row, the paragraph opinion head's opinion-minus-reporting
        row (the paragraph's P(opinion) reads both opinion heads: analyzer.evidence) and the
        sentiment head's negative-minus-neutral row (with the second, they span the directions the
        sentiment score can move in); on the CPU, where the heads' copies live (`pool` moves them
        to the device)."""
        sentiment_head, opinion_head, sentence_opinion_head = self._heads
        rows = {label: sentiment_head.weight[i] for i, label in enumerate(self.config.sentiment_labels)}
        opinion = sentence_opinion_head.weight[1] - sentence_opinion_head.weight[0]
        paragraph_opinion = opinion_head.weight[1] - opinion_head.weight[0]
        return torch.stack([opinion, rows["positive"] - rows["neutral"], paragraph_opinion,
                            rows["negative"] - rows["neutral"]], 1).detach()


def _log_odds(logits: torch.Tensor) -> np.ndarray:
    """Two-class logits -> log P(opinion)/P(reporting), the one number the calibration reads."""
    return (logits[:, 1] - logits[:, 0]).numpy().astype(np.float64)
