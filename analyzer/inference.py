"""Runs the tone model over many texts fast: tokenise once, length-sorted batches, one pass.

Both heads and the embedding come out of the same forward pass. Texts too long for the
encoder are scored over overlapping windows whose logits are averaged (weighted by length).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from analyzer.batching import make_batches, make_windows
from analyzer.model import DEFAULT_MODEL_DIR, load_tone_net, locate_base_model

DEFAULT_MAX_TOKENS = 2048  # padded tokens per batch on the CPU (fastest measured: cache-sized); 16x on a GPU


@dataclass
class RawScore:
    """Calibrated probabilities and the normalised embedding of one text."""

    sentiment_probs: list[float]
    opinion_prob: float
    embedding: np.ndarray
    n_tokens: int


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but no CUDA device is available")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r} (auto, cpu or cuda)")
    return device


def tokenize(tokenizer, texts: Sequence[str]) -> list[list[int]]:
    """Token ids without [CLS]/[SEP] (the windows add them): plain lists, cheap to send between processes."""
    encoded = tokenizer(list(texts), add_special_tokens=False, return_attention_mask=False, return_token_type_ids=False)
    return encoded["input_ids"]


class ToneScorer:
    """The loaded model plus its tokenizer; created once and reused for every batch."""

    def __init__(self, model_dir: Path | str | None = None, device: str = "auto", batch_size: int = 128,
                 max_tokens: int | None = None):
        from transformers import AutoTokenizer

        self.device = resolve_device(device)
        if self.device == "cpu":
            torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))
        self.net, self.config = load_tone_net(Path(model_dir or DEFAULT_MODEL_DIR))
        self.net.to(self.device)
        self.tokenizer = AutoTokenizer.from_pretrained(str(locate_base_model()))
        self.tokenizer.model_max_length = 1 << 30  # long texts are windowed here, not truncated
        self.batch_size = batch_size
        self.max_tokens = max_tokens or (DEFAULT_MAX_TOKENS * (16 if self.device == "cuda" else 1))

    @property
    def model_version(self) -> str:
        return self.config.model_version

    @torch.inference_mode()
    def score(self, texts: Sequence[str], token_ids: Sequence[Sequence[int]] | None = None) -> list[RawScore]:
        """Score texts; `token_ids` (from `tokenize`) skips the tokenizer when the caller has them already."""
        if not texts:
            return []
        if token_ids is None:
            token_ids = tokenize(self.tokenizer, texts)
        windows = make_windows(token_ids, self.tokenizer.cls_token_id, self.tokenizer.sep_token_id, self.config.max_length)
        n, hidden = len(texts), self.net.sentiment.in_features
        sentiment = torch.zeros(n, self.net.sentiment.out_features)
        opinion = torch.zeros(n, self.net.opinion.out_features)
        embedding = torch.zeros(n, hidden)
        weight = torch.zeros(n)
        use_autocast = self.device == "cuda"
        for batch in make_batches(windows, self.max_tokens, self.batch_size):
            ids = batch.input_ids.to(self.device, non_blocking=True)
            mask = batch.attention_mask.to(self.device, non_blocking=True)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_autocast):
                s_logits, o_logits, pooled = self.net(ids, mask)
            owners = torch.tensor([w.owner for w in batch.windows])
            lengths = batch.attention_mask.sum(1).float()
            sentiment.index_add_(0, owners, s_logits.float().cpu() * lengths[:, None])
            opinion.index_add_(0, owners, o_logits.float().cpu() * lengths[:, None])
            embedding.index_add_(0, owners, pooled.float().cpu() * lengths[:, None])
            weight.index_add_(0, owners, lengths)
        sentiment /= weight[:, None]
        opinion /= weight[:, None]
        sentiment += torch.tensor(self.config.sentiment_bias)
        # Python floats, converted once per call: numpy scalars cost ten times more per use downstream.
        sentiment_probs = (sentiment / self.config.sentiment_temperature).softmax(-1).tolist()
        opinion_probs = (opinion / self.config.opinion_temperature).softmax(-1)[:, 1].tolist()
        embedding = torch.nn.functional.normalize(embedding, dim=-1).numpy()
        return [
            RawScore(sentiment_probs[i], opinion_probs[i], embedding[i], len(token_ids[i]))
            for i in range(n)
        ]

