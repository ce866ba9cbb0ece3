"""Shared fixtures: the real shipped model (loaded once per session) and the seed articles."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO.parent / "shared" / "seeds"
SEED_EDITORIAL = SEEDS / "000_a88b574ac107b0a8.txt"
SEED_PLAIN = SEEDS / "001_16602f8ba67b567c.txt"


@pytest.fixture(scope="session")
def analyzer():
    from analyzer import Analyzer

    return Analyzer(device="cpu")
