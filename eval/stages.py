"""Where the CPU time of `analyzer score` goes, stage by stage, on real BBC articles.

On a GPU the forward pass is cheap, so these CPU stages bound end-to-end throughput. Each
segmentation worker segments and tokenizes; the main process reads the input, receives the
workers' results, builds batches, turns scores into records and writes JSONL.
`python -m eval.stages [--articles N]` prints microseconds per paragraph for each stage and the
ceilings they imply. The scores are the model's own (one forward pass, not timed).
"""

from __future__ import annotations

import argparse
import io
import json
import pickle
import tempfile
import time
from functools import partial
from pathlib import Path

from analyzer.api import Analyzer, _segmented, _start_worker
from analyzer.batching import make_batches, make_windows
from analyzer.prepare import prepare_texts
from analyzer.reading import read_inputs
from analyzer.writers import Writer
from models.packages import bbc_articles


def _timed(step) -> tuple[float, object]:
    started = time.perf_counter()
    result = step()
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--workers", type=int, default=15, help="segmentation workers assumed for the worker ceiling")
    args = parser.parse_args()

    analyzer = Analyzer(device="cpu")
    scorer = analyzer.scorer
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "bbc.jsonl"
        corpus.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in bbc_articles(args.articles)))
        read_s, documents = _timed(lambda: list(read_inputs([str(corpus)])))

    _start_worker(partial(prepare_texts, scorer.tokenizer))  # as in a worker: one tokenizer thread
    worker_s, segmented = _timed(lambda: [_segmented(d, True) for d in documents])
    blob = pickle.dumps(segmented)
    receive_s, _ = _timed(lambda: pickle.loads(blob))
    prepared = [item for _, _, items in segmented if items for item in items]
    tok = scorer.tokenizer
    batch_s, _ = _timed(lambda: list(make_batches(make_windows([p.ids for p in prepared], tok.cls_token_id, tok.sep_token_id), scorer.max_tokens, scorer.batch_size)))
    texts = [p.text for _, paragraphs, _ in segmented for p in paragraphs]
    logits = scorer.forward(prepared)
    records_s, documents_scored = _timed(lambda: list(analyzer.records(segmented, prepared, logits)))
    writer = Writer(io.StringIO(), "jsonl", "paragraph")
    write_s, _ = _timed(lambda: [writer.write(d) for d in documents_scored])

    n = len(texts)
    main_stages = {"read": read_s, "receive from workers": receive_s, "batch": batch_s, "records": records_s, "write JSONL": write_s}
    print(f"{len(documents)} BBC articles, {n} paragraphs; microseconds per paragraph")
    print(f"  worker: segment + tokenize  {worker_s * 1e6 / n:7.1f}")
    for name, seconds in main_stages.items():
        print(f"  main: {name:22s} {seconds * 1e6 / n:7.1f}")
    main_us = sum(main_stages.values()) * 1e6 / n
    print(f"ceiling of the main process (everything but the forward pass): {1e6 / main_us:,.0f} paragraphs/s")
    print(f"ceiling of {args.workers} segmentation workers: {args.workers * n / worker_s:,.0f} paragraphs/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
