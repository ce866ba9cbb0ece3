"""Evaluation harness (`python -m eval`) and benchmarks: the model's quality, measured and gated in CI."""
