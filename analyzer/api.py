"""The Python API under the CLI and the evaluation harness: `Analyzer.score`, `Analyzer.compare`.

Documents stream through the three stages (`analyzer.engine`): each comes back as a
DocumentScore in input order, and a bad input passes through as its ErrorRecord so that records
out = documents in.
"""

from __future__ import annotations

import atexit
import os
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from analyzer.decoding import check_text
from analyzer.engine import CHUNK_PARAGRAPHS, CpuStages, LocalEngine, Options, Output, WindowOutput, _start_worker
from analyzer.postprocess import Postprocessor
from analyzer.inference import ToneScorer
from analyzer.records import Document, DocumentScore, ErrorRecord, Paragraph, ParagraphScore
from analyzer.workers import OrderedPool

WORKER_MEMORY_BYTES = 400 * 2**20  # what one worker process may come to (tokenizer, records in flight)


def available_memory() -> int:
    """Bytes the kernel can give without swapping (MemAvailable), else the free pages."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def usable_workers(requested: int) -> int:
    """`requested` capped by the cores this process may use and the memory there is."""
    cores = len(os.sched_getaffinity(0))
    return max(1, min(requested, cores, available_memory() // WORKER_MEMORY_BYTES))


@lru_cache(maxsize=2)
def _shared_scorer(model_dir, device, batch_size, max_tokens, precision) -> ToneScorer:
    """One loaded model per setting, shared by every Analyzer in the process."""
    return ToneScorer(model_dir=model_dir, device=device, batch_size=batch_size, max_tokens=max_tokens, precision=precision)


class Analyzer:
    """Loads the tone model once (lazily, on first use) and scores documents with it."""

    def __init__(self, model_dir: Path | str | None = None, device: str = "auto", batch_size: int | None = None,
                 max_tokens: int | None = None, workers: int | None = None, precision: str = "auto"):
        """`workers`: processes for the prepare and postprocess stages (default: one per core but one
        on CUDA, up to 16; none on the CPU, where the model needs the cores); capped by cores and memory."""
        self._options = {"model_dir": model_dir, "device": device, "batch_size": batch_size, "max_tokens": max_tokens,
                         "precision": precision}
        self._scorer: ToneScorer | None = None
        self._postprocessor: Postprocessor | None = None
        self._requested_workers = workers
        self._workers: int | None = None
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

    @property
    def workers(self) -> int:
        """Worker processes the engine uses (1: none, the stages run inline); decided once, as the pool is started once."""
        if self._workers is None:
            requested = self._requested_workers
            if requested is None:
                requested = min(16, len(os.sched_getaffinity(0)) - 1) if self.scorer.device == "cuda" else 1
            self._workers = usable_workers(requested)
        return self._workers

    def score(self, documents: Iterable[Document | ErrorRecord | str], segment: bool = True,
              on_scored: Callable[[int], None] | None = None, explain: bool = False) -> Iterator[DocumentScore | ErrorRecord]:
        """Score documents lazily, in input order; `segment=False` makes each text one body paragraph;
        `explain` adds each paragraph's evidence (analyzer.evidence)."""
        yield from self.stream(documents, Options(segment), explain, on_scored)

    def stream(self, documents: Iterable[Document | ErrorRecord | str], options: Options, explain: bool = False,
               on_scored: Callable[[int], None] | None = None) -> Iterator[Output]:
        """The engine's outputs: records, or with `options.fmt` their Serialized text (the CLI's path)."""
        for window in self.windows(documents, options, explain):
            yield from window.outputs
            if on_scored:
                on_scored(len(window.outputs))

    def windows(self, documents: Iterable[Document | ErrorRecord | str], options: Options, explain: bool = False) -> Iterator[WindowOutput]:
        """The engine's outputs window by window, with where its forward chunks end (for a clean stop)."""
        if isinstance(documents, str):  # iterating it would score each character as a document
            raise TypeError("score takes an iterable of documents or texts, not one str: pass [text]")
        items = (Document(str(n), item) if isinstance(item, str) else item for n, item in enumerate(documents))
        return self.engine(explain).run(items, options)

    def engine(self, explain: bool = False) -> LocalEngine:
        scorer = self.scorer
        stages = CpuStages(scorer.tokenizer, self.postprocessor)
        return LocalEngine(stages, lambda tokens: scorer.forward_arrays(tokens, explain), CHUNK_PARAGRAPHS[scorer.device],
                           self._pool(stages), self.workers)

    def score_texts(self, texts: Sequence[str], explain: bool = False) -> list[ParagraphScore]:
        """Each text scored as one unit (no segmentation): for sentences and evaluation. Raises
        ValueError on a text that is blank or not valid Unicode (it has no score)."""
        if isinstance(texts, str):
            raise TypeError("score_texts takes a sequence of texts, not one str: pass [text]")
        for number, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"text {number} is {'blank' if isinstance(text, str) else type(text).__name__}: nothing to score")
            check_text(text)  # NotText, a ValueError, names a lone surrogate
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

    def _pool(self, stages: CpuStages):
        """Worker processes for the CPU stages, started once (fork: they inherit the loaded code)."""
        if self.workers <= 1:
            return None
        if self._worker_pool is None:
            self._worker_pool = OrderedPool(self.workers, _start_worker, (stages,))
            atexit.register(self._worker_pool.terminate)
        return self._worker_pool
