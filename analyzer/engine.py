"""The local engine: streams documents through prepare -> forward -> postprocess, in input order.

Inputs go in windows of WINDOW_DOCUMENTS: `analyzer.reading.Source`s (raw bytes or a path: the
main process does not decode), Documents or ErrorRecords. `prepare` (decode, segment, tokenize,
tag) and `finish`
(postprocess: records, aggregates and, for the streaming formats, the output text) are pure CPU
work on one window. With workers they run in a pool of processes, and the main process only
hands documents out, concatenates the windows' token arrays into a forward chunk, runs the
forward stage and passes the logit arrays on: a window's prepared paragraphs stay in the worker
that prepared them, only their token arrays come to the main process, and the window is
finished by the same worker when its logits arrive. Without workers
(the CPU default: there the model's threads need every core) the same stage functions run
inline. Bounded queues keep memory flat; output keeps input order.
"""

from __future__ import annotations

import os
import signal
from collections import deque
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Callable, Iterable, Iterator

from analyzer.inference import LogitArrays
from analyzer.postprocess import Postprocessor
from analyzer.prepare import PreparedWindow, TokenArrays, prepare_window
from analyzer.reading import Source, load
from analyzer.records import Document, DocumentScore, ErrorRecord
from analyzer.writers import Serialized, Serializer

WINDOW_DOCUMENTS = 32  # documents per prepare/finish task
# Paragraphs per forward chunk: enough to fill length-sorted batches, few enough that the first
# records come out within seconds and memory stays flat.
CHUNK_PARAGRAPHS = {"cpu": 512, "cuda": 8192}
TASKS_PER_WORKER = 3  # windows in flight per worker, in each direction

Output = DocumentScore | ErrorRecord | Serialized
Forward = Callable[[TokenArrays], LogitArrays]


@dataclass
class WindowOutput:
    """One window's outputs, in input order. `ends_chunk`: the last window of a forward chunk.

    A run stopped after such a window and resumed from the next document scores the rest in the
    same chunks, so the numbers come out bit for bit the same (a paragraph's last digits can
    depend on what it was batched with).
    """

    outputs: list[Output]
    ends_chunk: bool


@dataclass(frozen=True)
class Options:
    """What a task needs to know besides its documents (sent with every task: a few bytes)."""

    segment: bool = True
    fmt: str | None = None  # a streaming format: finish serialises the records in it
    level: str = "document"
    score_headings: bool = False  # label opinion and tone of headlines, headings and boilerplate too


@dataclass
class CpuStages:
    """The two CPU stages, with what they need: the tokenizer and the postprocessor of one model."""

    tokenizer: Any
    postprocessor: Postprocessor
    _serializers: dict[tuple[str, str], Serializer] = field(default_factory=dict)

    def prepare(self, items: list[Source | Document | ErrorRecord], options: Options) -> PreparedWindow:
        """Read and decode the window's sources (`analyzer.reading.load`), then the prepare stage."""
        return prepare_window(self.tokenizer, [load(item) for item in items], options.segment)

    def finish(self, window: PreparedWindow, logits: LogitArrays, options: Options) -> list[Output]:
        records = self.postprocessor.documents(window, logits, options.score_headings)
        if options.fmt is None:
            return records
        key = (options.fmt, options.level)
        serializer = self._serializers.get(key) or self._serializers.setdefault(key, Serializer(*key))
        return [serializer(record) for record in records]


_stages: CpuStages | None = None  # a worker process's stages, given once when it starts
_kept: dict[int, PreparedWindow] = {}  # a worker's prepared windows awaiting their logits, by window number


def _start_worker(stages: CpuStages) -> None:
    """Workers leave Ctrl-C to the main process (which stops them) and use one thread each."""
    global _stages
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    _stages = stages


def _prepare_task(number: int, items: list[Source | Document | ErrorRecord], options: Options) -> TokenArrays:
    window = _kept[number] = _stages.prepare(items, options)
    return window.tokens()


def _finish_task(number: int, logits: LogitArrays, options: Options) -> list[Output]:
    return _stages.finish(_kept.pop(number), logits, options)


def windows(items: Iterable, size: int = WINDOW_DOCUMENTS) -> Iterator[list]:
    iterator = iter(items)
    while window := list(islice(iterator, size)):
        yield window


class LocalEngine:
    """Runs the stages on this machine: inline, or with `pool` (an `analyzer.workers.OrderedPool` started with `_start_worker`)."""

    def __init__(self, stages: CpuStages, forward: Forward, chunk_paragraphs: int, pool=None, workers: int = 0):
        self.stages, self.forward, self.chunk_paragraphs = stages, forward, chunk_paragraphs
        self.pool, self.in_flight = pool, max(2, TASKS_PER_WORKER * workers)

    def run(self, items: Iterable[Source | Document | ErrorRecord], options: Options) -> Iterator[WindowOutput]:
        """Each window's outputs, in input order (sources are read and decoded where they are prepared)."""
        prepared = self._prepared(windows(items), options)
        finished: deque = deque()
        chunk: list[tuple[TokenArrays, Any]] = []
        n_paragraphs = 0
        for tokens, window in prepared:
            chunk.append((tokens, window))
            n_paragraphs += tokens.n_texts
            if n_paragraphs >= self.chunk_paragraphs:
                yield from self._forward_chunk(chunk, finished, options)
                chunk, n_paragraphs = [], 0
        yield from self._forward_chunk(chunk, finished, options)
        while finished:
            yield self._finished(finished.popleft())

    def _prepared(self, document_windows: Iterator[list], options: Options) -> Iterator[tuple[TokenArrays, Any]]:
        """(token arrays, window) per window in order; in the pool, (token arrays, (window number, its worker))."""
        if self.pool is None:
            for documents in document_windows:
                window = self.stages.prepare(documents, options)
                yield window.tokens(), window
            return
        pending: deque = deque()

        def received():
            ticket, number = pending.popleft()
            worker = self.pool.worker_of(ticket)
            return self.pool.result(ticket), (number, worker)
        for number, documents in enumerate(document_windows):
            pending.append((self.pool.submit(_prepare_task, number, documents, options), number))
            while len(pending) >= self.in_flight:
                yield received()
        while pending:
            yield received()

    def _forward_chunk(self, chunk: list[tuple[TokenArrays, Any]], finished: deque, options: Options) -> Iterator[WindowOutput]:
        if not chunk:
            return
        logits = self.forward(TokenArrays.concat([tokens for tokens, _ in chunk]))
        parts = logits.slices([tokens.n_texts for tokens, _ in chunk])
        for n, ((_, window), part) in enumerate(zip(chunk, parts), start=1):
            if self.pool is None:
                yield WindowOutput(self.stages.finish(window, part, options), n == len(chunk))
                continue
            number, worker = window
            finished.append((self.pool.submit(_finish_task, number, part, options, worker=worker), n == len(chunk)))
        while finished and (len(finished) > self.in_flight or self.pool.ready(finished[0][0])):
            yield self._finished(finished.popleft())

    def _finished(self, task: tuple[int, bool]) -> WindowOutput:
        ticket, ends_chunk = task
        return WindowOutput(self.pool.result(ticket), ends_chunk)
