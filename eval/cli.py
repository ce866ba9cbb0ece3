"""`python -m eval`: parse the options, run the harness, print the summary, exit by the gate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from eval.harness import DEFAULT_OUT, EvalOptions, run
from eval.tasks import SEEDS_DIR

EXIT_OK, EXIT_GATE_FAILED, EXIT_ERROR = 0, 1, 2


def parse_args(argv: Sequence[str] | None = None) -> EvalOptions:
    parser = argparse.ArgumentParser(
        prog="python -m eval",
        description="Score held-out data with the analyzer and baselines, write eval/out/, apply the CI gate.",
    )
    parser.add_argument("--model-dir", type=Path, default=None, help="model folder (default: the shipped analyzer/model_files/tone-v2)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: eval/out/)")
    parser.add_argument("--data-dir", type=Path, default=None, help="CheckThat! 2023 English folder (train_en.tsv, dev_en.tsv)")
    parser.add_argument("--seeds-dir", type=Path, default=SEEDS_DIR, help=f"seed pair folder, 000 = editorialized, 001 = plain (default {SEEDS_DIR})")
    parser.add_argument("--no-gate", action="store_true", help="report only; always exit 0 when the run succeeds")
    parser.add_argument("--limit", type=int, default=None, help="score a seeded random subset of N examples per data set")
    parser.add_argument("--seed", type=int, default=0, help="seed of the --limit subsample (default 0)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="device for the model")
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"), help="encoder arithmetic (default: the product's)")
    parser.add_argument("--baselines-only", action="store_true", help="skip the model (no gate); for working without one")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit <= 0:
        parser.error("--limit must be a positive number")
    return EvalOptions(
        model_dir=args.model_dir,
        out_dir=args.out,
        data_dir=args.data_dir,
        gate=not args.no_gate,
        limit=args.limit,
        seed=args.seed,
        device=args.device,
        precision=args.precision,
        with_model=not args.baselines_only,
        seeds_dir=args.seeds_dir,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    try:
        result = run(options)
    except (FileNotFoundError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(result.summary)
    print(f"wrote {', '.join(str(path) for path in result.files)}")
    if result.gate is None:
        return EXIT_OK
    # The summary on stdout already lists the gate's findings; repeat failures on stderr for CI logs.
    for message in result.gate.failures:
        print(message, file=sys.stderr)
    return EXIT_GATE_FAILED if result.gate.failures else EXIT_OK
