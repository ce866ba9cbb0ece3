"""Pooled encoder features of training and dev texts, computed once and cached.

tone-v2 trains new heads on the frozen tone-v1 encoder (adapter merged), reading the same
pooled token states the product reads at run time (`ToneScorer.pool`): the paragraph mean, each
sentence in context, and each sentence's own (non-reported) tokens. Standalone labelled
sentences (CheckThat!, the proxy, NYT) are pooled as one unit over the whole text, since their
label is for the whole text. The cache key is the encoder folder's content plus the texts, so a
changed model or changed data is never read from a stale cache.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np

from analyzer.inference import ToneScorer
from analyzer.prepare import PreparedText
from models.packages import cache_dir


@dataclass
class Features:
    """Pooled features of a list of texts; sentence rows in text order, `owner` names their text."""

    paragraph: np.ndarray
    sentence: np.ndarray
    sentence_own: np.ndarray
    own_tokens: np.ndarray
    owner: np.ndarray


def as_one_unit(prepared: PreparedText, length: int) -> PreparedText:
    """The whole text as its single sentence: for labelled units that are scored whole."""
    return replace(prepared, sentence=np.zeros_like(prepared.sentence), sentences=[(0, length)])


def _key(scorer: ToneScorer, texts: list[str], whole: bool) -> str:
    digest = hashlib.sha256(scorer.model_key.encode())
    digest.update(b"whole" if whole else b"split")
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()[:20]


def features(scorer: ToneScorer, texts: list[str], whole: bool = False, chunk: int = 512) -> Features:
    """Pooled features of `texts` (cached under the analyzer cache's `features/`)."""
    path = cache_dir().parent / "features" / f"{_key(scorer, texts, whole)}.npz"
    if path.exists():
        with np.load(path) as stored:
            return Features(**{name: stored[name] for name in Features.__dataclass_fields__})
    parts = []
    for start in range(0, len(texts), chunk):
        piece = texts[start:start + chunk]
        prepared = scorer.prepare(piece)
        if whole:
            prepared = [as_one_unit(p, len(t)) for p, t in zip(prepared, piece)]
        pooled = scorer.pool(prepared)
        parts.append((pooled, start))
    result = Features(
        paragraph=np.concatenate([p.paragraph.numpy() for p, _ in parts]),
        sentence=np.concatenate([p.sentence.numpy() for p, _ in parts]),
        sentence_own=np.concatenate([p.sentence_own.numpy() for p, _ in parts]),
        own_tokens=np.concatenate([p.own_tokens.numpy() for p, _ in parts]),
        owner=np.concatenate([np.repeat(np.arange(len(p.n_sentences)), p.n_sentences) + start for p, start in parts]),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **result.__dict__)
    return result
