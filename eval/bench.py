"""Throughput benchmark: `analyzer score` end to end vs. `transformers.pipeline`, same weights.

`python -m eval.bench [--quick] [--device auto|cpu|cuda]`. The corpus is real news: BBC
articles from the packaged corpus (models.packages.bbc_articles), raw text in, JSONL out. The
systems run interleaved, several times each, in one process; medians and ratios are reported.
The pipeline baseline is what a user would write: a feature-extraction pipeline over the same
(merged) encoder with mean pooling and the same two heads, on the same body paragraphs.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import statistics
import time
from pathlib import Path

import torch

from analyzer.api import Analyzer
from analyzer.model import mean_pool
from analyzer.reading import read_inputs
from analyzer.segment import segment
from analyzer.writers import Writer
from models.packages import bbc_articles


def _analyzer_run(analyzer: Analyzer, jsonl_path: Path, explain: bool = False) -> int:
    """Raw JSONL in, paragraph JSONL out, exactly what `analyzer score [--explain]` does (minus process start)."""
    out = io.StringIO()
    writer = Writer(out, "jsonl", "paragraph")
    for record in analyzer.score(read_inputs([str(jsonl_path)]), explain=explain):
        writer.write(record)
    writer.close()
    return out.getvalue().count("\n")


def _pipeline_run(pipe, heads, paragraphs: list[str], batch_size: int) -> int:
    """The usual pipeline loop: token features per text, then mean pooling and both heads."""
    n = 0
    with torch.inference_mode():
        for features in pipe(paragraphs, batch_size=batch_size, truncation=True, max_length=512, return_tensors=True):
            hidden = (features[0] if features.dim() == 3 else features).to(heads.sentiment.weight.device)
            pooled = mean_pool(hidden[None].float(), torch.ones(1, hidden.shape[0], device=hidden.device))
            heads.sentiment(pooled).softmax(-1), heads.opinion(pooled).softmax(-1)
            n += 1
    return n


def _until_paragraphs(n: int) -> list[tuple[str, str]]:
    """The first BBC articles that hold at least `n` paragraphs between them."""
    articles, total = [], 0
    for article in bbc_articles():
        articles.append(article)
        total += len(segment(article[1]))
        if total >= n:
            return articles
    return articles


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small corpus, for CI (under 2 minutes on 2 cores)")
    parser.add_argument("--articles", type=int, default=None, help="BBC articles to use (default 8 quick, 60 CPU, 2225 GPU)")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs of each system (default 3, 2 with --quick)")
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=None, help="segmentation processes (default: the analyzer's)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--out", type=Path, default=Path("eval/out/bench.json"))
    parser.add_argument("--explain", action="store_true", help="also time `analyzer score --explain` (its cost per paragraph)")
    parser.add_argument("--paragraphs", type=int, default=None, help="take articles until they hold this many paragraphs (e.g. 1000)")
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"], help="the analyzer's encoder arithmetic")
    parser.add_argument("--with-fp32", action="store_true", help="also time the analyzer in fp32 (where the default is bf16)")
    args = parser.parse_args()

    from transformers import pipeline

    args.repeats = args.repeats or (2 if args.quick else 3)
    analyzer = Analyzer(model_dir=args.model_dir, device=args.device, workers=args.workers, precision=args.precision)
    scorer = analyzer.scorer
    device = scorer.device
    n_articles = args.articles or (8 if args.quick else 2225 if device == "cuda" else 60)
    articles = _until_paragraphs(args.paragraphs) if args.paragraphs else bbc_articles(n_articles)
    jsonl_path = args.out.parent / "bench-corpus.jsonl"
    jsonl_path.parent.mkdir(parents=True, exist_ok=True)
    with jsonl_path.open("w") as handle:
        for doc_id, text in articles:
            handle.write(json.dumps({"id": doc_id, "text": text}) + "\n")
    paragraphs = [p.text for _, text in articles for p in segment(text)]
    n_tokens = sum(p.n_tokens + 2 for p in scorer.prepare(paragraphs))

    pipe_batch = 64 if device == "cuda" else 32
    # fp32 weights, as a user would load them; the pipeline shares the analyzer's merged encoder.
    pipe = pipeline("feature-extraction", model=scorer.net.encoder, tokenizer=scorer.tokenizer, device=0 if device == "cuda" else -1)
    systems = {
        "analyzer score": lambda: _analyzer_run(analyzer, jsonl_path),
        f"pipeline batch_size={pipe_batch}": lambda: _pipeline_run(pipe, scorer.net, paragraphs, pipe_batch),
    }
    if args.explain:
        systems["analyzer score --explain"] = lambda: _analyzer_run(analyzer, jsonl_path, explain=True)
    if args.with_fp32:
        fp32 = Analyzer(model_dir=args.model_dir, device=args.device, workers=args.workers, precision="fp32")
        systems["analyzer score --precision fp32"] = lambda: _analyzer_run(fp32, jsonl_path)
    if not args.quick:
        systems["pipeline batch_size=1"] = lambda: _pipeline_run(pipe, scorer.net, paragraphs[: max(len(paragraphs) // 4, 50)], 1)
    sizes = {name: (len(paragraphs) // 4 if name.endswith("=1") else len(paragraphs)) for name in systems}
    sizes = {name: max(size, min(50, len(paragraphs))) for name, size in sizes.items()}

    for run in systems.values():  # warm-up: first-call costs stay out of the numbers
        run()
    times: dict[str, list[float]] = {name: [] for name in systems}
    for _ in range(args.repeats):
        for name, run in systems.items():
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            run()
            if device == "cuda":
                torch.cuda.synchronize()
            times[name].append(time.perf_counter() - start)

    base = f"pipeline batch_size={pipe_batch}"
    rows = {}
    for name, samples in times.items():
        median = statistics.median(samples)
        rows[name] = {"paragraphs": sizes[name], "median_s": round(median, 3), "paragraphs_per_s": round(sizes[name] / median, 1),
                      "tokens_per_s": round(n_tokens * sizes[name] / len(paragraphs) / median, 1), "runs_s": [round(t, 3) for t in samples]}
    for name, row in rows.items():
        # the ratio within each interleaved round, so that the machine's drift shows as spread
        ratios = [pipe_s / own_s * sizes[name] / sizes[base] for own_s, pipe_s in zip(times[name], times[base])]
        row["ratio_per_round"] = [round(r, 2) for r in ratios]
        row["speedup_vs_" + base.replace(" ", "_")] = round(row["paragraphs_per_s"] / rows[base]["paragraphs_per_s"], 2)
    report = {
        "device": torch.cuda.get_device_name() if device == "cuda" else f"cpu ({torch.get_num_threads()} threads)",
        "precision": "bf16" if scorer.bf16 else "fp32",
        "articles": len(articles), "paragraphs": len(paragraphs), "tokens": n_tokens,
        "mean_tokens_per_paragraph": round(n_tokens / len(paragraphs), 1), "repeats": args.repeats, "systems": rows,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_cuda_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1) if device == "cuda" else None,
    }
    if args.explain:
        # cost per paragraph of --explain relative to plain scoring (issue floor: at most 3x)
        report["explain_cost_ratio"] = round(rows["analyzer score"]["paragraphs_per_s"] / rows["analyzer score --explain"]["paragraphs_per_s"], 2)
        print(f"--explain costs {report['explain_cost_ratio']}x plain scoring per paragraph")
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"device: {report['device']}; {len(articles)} BBC articles, {len(paragraphs)} paragraphs, "
          f"{report['mean_tokens_per_paragraph']} tokens/paragraph; medians of {args.repeats} interleaved runs")
    print("| system | paragraphs/s | tokens/s | vs pipeline |\n|---|---|---|---|")
    for name, row in rows.items():
        spread = f" (rounds {min(row['ratio_per_round'])}-{max(row['ratio_per_round'])}x)"
        print(f"| {name} | {row['paragraphs_per_s']} | {row['tokens_per_s']} | {list(row.values())[-1]}x{spread} |")
    print(f"peak RSS {report['peak_rss_mb']} MB" + (f", peak CUDA {report['peak_cuda_mb']} MB" if report["peak_cuda_mb"] else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
