"""The Python API under the CLI and the evaluation harness: `Analyzer.score`, `Analyzer.compare`.

Documents are segmented, their paragraphs scored in chunks (so a huge input streams with
bounded memory), and each document comes back as a DocumentScore in input order; a bad
input passes through as its ErrorRecord so that records out = documents in.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
from functools import lru_cache, partial
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from analyzer.aggregate import aggregate
from analyzer.inference import Logits, ToneScorer
from analyzer.postprocess import Postprocessor
from analyzer.prepare import PreparedText, prepare_texts
from analyzer.records import Document, DocumentScore, ErrorRecord, Paragraph, ParagraphScore
from analyzer.segment import segment as split_paragraphs

# Paragraphs scored together: enough to fill length-sorted batches, few enough that the first
# records come out within seconds and memory stays flat.
CHUNK_PARAGRAPHS = {"cpu": 512, "cuda": 8192}
SEGMENT_WINDOW = 1024  # documents handed to the segmentation workers at a time

Segmented = tuple[Document | ErrorRecord, list[Paragraph], list[PreparedText] | None]

_worker_prepare: Callable[[list[str]], list[PreparedText]] | None = None  # set in segmentation workers


def _start_worker(prepare: Callable[[list[str]], list[PreparedText]]) -> None:
    """A segmentation worker prepares (tokenizes, tags) its paragraphs too, one thread each (the workers are the parallelism)."""
    global _worker_prepare
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    _worker_prepare = prepare


def _segmented(document: Document | ErrorRecord, segment: bool) -> Segmented:
    """A document's paragraphs (one unit when not segmenting) and, in a worker, their prepared tokens.

    An empty document becomes an error record.
    """
    if isinstance(document, ErrorRecord):
        return document, [], None
    if segment:
        paragraphs = split_paragraphs(document.text)
    else:
        paragraphs = [Paragraph(0, "body", document.text.strip())] if document.text.strip() else []
    if not paragraphs:
        return ErrorRecord(document.doc_id, "empty document"), [], None
    return document, paragraphs, _worker_prepare([p.text for p in paragraphs]) if _worker_prepare else None


def _windows(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while window := list(islice(iterator, size)):
        yield window


@lru_cache(maxsize=2)
def _shared_scorer(model_dir, device, batch_size, max_tokens) -> ToneScorer:
    """One loaded model per setting, shared by every Analyzer in the process."""
    return ToneScorer(model_dir=model_dir, device=device, batch_size=batch_size, max_tokens=max_tokens)


class Analyzer:
    """Loads the tone model once (lazily, on first use) and scores documents with it."""

    def __init__(self, model_dir: Path | str | None = None, device: str = "auto", batch_size: int = 128,
                 max_tokens: int | None = None, workers: int | None = None):
        """`workers`: processes that segment and tokenize documents (default: up to 16 on CUDA, none on the CPU)."""
        self._options = {"model_dir": model_dir, "device": device, "batch_size": batch_size, "max_tokens": max_tokens}
        self._scorer: ToneScorer | None = None
        self._postprocessor: Postprocessor | None = None
        self._workers = workers
        self._worker_pool = None

    @property
    def scorer(self) -> ToneScorer:
        if self._scorer is None:
            self._scorer = _shared_scorer(**self._options)
        return self._scorer

    @property
    def postprocessor(self) -> Postprocessor:
        if self._postprocessor is None:
            self._postprocessor = Postprocessor(self.scorer.config)
        return self._postprocessor

    @property
    def model_version(self) -> str:
        return self.scorer.model_version

    def score(self, documents: Iterable[Document | ErrorRecord | str], segment: bool = True,
              on_scored: Callable[[int], None] | None = None, explain: bool = False) -> Iterator[DocumentScore | ErrorRecord]:
        """Score documents lazily, in input order; `segment=False` makes each text one body paragraph;
        `explain` adds each paragraph's evidence (analyzer.evidence)."""
        pending: list[Segmented] = []
        n_pending, chunk = 0, CHUNK_PARAGRAPHS[self.scorer.device]
        items = (Document(str(n), item) if isinstance(item, str) else item for n, item in enumerate(documents))
        split = partial(_segmented, segment=segment)
        pool = self._pool()
        # Pool.imap would read the whole input ahead; windows keep the memory bound of streaming.
        segmented = (pair for window in _windows(items, SEGMENT_WINDOW) for pair in pool.imap(split, window, chunksize=16)) if pool else map(split, items)
        for document, paragraphs, token_ids in segmented:
            pending.append((document, paragraphs, token_ids))
            n_pending += len(paragraphs)
            if n_pending >= chunk:
                yield from self._score_chunk(pending, on_scored, explain)
                pending, n_pending = [], 0
        yield from self._score_chunk(pending, on_scored, explain)

    def score_texts(self, texts: Sequence[str], explain: bool = False) -> list[ParagraphScore]:
        """Each text scored as one unit (no segmentation): for sentences and evaluation."""
        prepared = self.scorer.prepare(list(texts))
        logits = self.scorer.forward(prepared, explain=explain)
        return [self.postprocessor.paragraph(str(i), Paragraph(0, "body", text), p, r)
                for i, (text, p, r) in enumerate(zip(texts, prepared, logits))]

    def compare(self, a: Document | str, b: Document | str):
        """Align and contrast two versions of a story (see analyzer.compare)."""
        from analyzer.compare import compare_documents

        docs = [Document(name, d) if isinstance(d, str) else d for name, d in (("A", a), ("B", b))]
        scored = list(self.score(docs, explain=True))
        for record in scored:
            if isinstance(record, ErrorRecord):
                raise ValueError(f"{record.doc_id}: {record.error}")
        return compare_documents(scored[0], scored[1])

    def _pool(self):
        """Worker processes for segmentation, started once (fork: they inherit the loaded code).

        On a GPU the forward pass is cheap and the pure-Python segmentation and the tokenizer
        bound throughput, so the workers do both; on the CPU the model needs every core, so no
        workers are used there by default.
        """
        workers = self._workers if self._workers is not None else (min(16, (os.cpu_count() or 1) - 1) if self.scorer.device == "cuda" else 1)
        if workers <= 1:
            return None
        if self._worker_pool is None:
            prepare = partial(prepare_texts, self.scorer.tokenizer)
            self._worker_pool = multiprocessing.get_context("fork").Pool(workers, _start_worker, (prepare,))
            atexit.register(self._worker_pool.terminate)
        return self._worker_pool

    def _score_chunk(self, pending: list[Segmented], on_scored, explain: bool = False) -> Iterator[DocumentScore | ErrorRecord]:
        texts = [p.text for _, paragraphs, _ in pending for p in paragraphs]
        ready = all(prepared is not None for _, paragraphs, prepared in pending if paragraphs)
        prepared = [item for _, _, items in pending if items for item in items] if ready else self.scorer.prepare(texts)
        yield from self.records(pending, prepared, self.scorer.forward(prepared, explain=explain))
        if on_scored:
            on_scored(len(pending))

    def records(self, pending: list[Segmented], prepared: list[PreparedText], logits: list[Logits]) -> Iterator[DocumentScore | ErrorRecord]:
        """Segmented documents and their paragraphs' prepared tokens and logits (in order) -> output records."""
        scores = iter(zip(prepared, logits))
        post = self.postprocessor
        for document, paragraphs, _ in pending:
            if isinstance(document, ErrorRecord):
                yield document
                continue
            paragraph_scores = [post.paragraph(document.doc_id, p, *next(scores)) for p in paragraphs]
            yield DocumentScore(document.doc_id, self.model_version, paragraph_scores, aggregate(paragraph_scores))
