"""The Ray Data engine (issue #11): on a local Ray with 2 CPUs, 200 BBC articles give the local
engine's records, in order, as one JSONL file and as shards named in a manifest."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from analyzer.engine import Options
from models.packages import bbc_articles

pytestmark = pytest.mark.slow  # a local Ray and 200 articles scored twice: `make test-slow` (CI runs it)

ray = pytest.importorskip("ray", reason="the ray extra is not installed")

from analyzer.ray_engine import MANIFEST, RaySettings, run_ray  # noqa: E402


def _close(a, b, path=""):
    """Same keys, strings and order; numbers equal to 4 decimals (a last digit may differ by batching)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            _close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for n, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{path}[{n}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert abs(a - b) <= 1.0001e-4, (path, a, b)
    else:
        assert a == b, (path, a, b)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ray")
    (folder / "in").mkdir()
    path = folder / "in" / "bbc.jsonl"
    lines = [json.dumps({"id": name, "text": text}) for name, text in bbc_articles(200)]
    lines.insert(10, "{not json")  # an error record keeps its place
    path.write_text("\n".join(lines) + "\n")
    local = folder / "local.jsonl"
    result = subprocess.run([sys.executable, "-m", "analyzer", "score", str(path), "--level", "paragraph", "--precision", "fp32",
                             "-q", "-o", str(local)])
    assert result.returncode == 1  # the one broken line
    return path, [json.loads(line) for line in local.read_text().splitlines()]


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


# fp32: there a paragraph's scores hardly depend on what it is batched with (bf16 moves them by up to ~2e-3)
SETTINGS = RaySettings(None, "cpu", "fp32", None, False, Options(True, "jsonl", "paragraph"))


def test_ray_file_output_equals_the_local_engine(corpus, local_ray, tmp_path):
    path, local = corpus
    out = tmp_path / "ray.jsonl"
    documents, failures = run_ray([str(path)], str(out), SETTINGS, 20 * 2**20)
    assert (documents, failures) == (201, 1)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == len(local) > 1000
    for ray_record, local_record in zip(records, local):
        _close(ray_record, local_record)


def test_ray_shards_and_manifest_hold_the_same_records(corpus, local_ray, tmp_path):
    """Input as a folder URI (listed through pyarrow's filesystems, as object storage is)."""
    path, local = corpus
    folder = tmp_path / "shards"
    run_ray([f"file://{path.parent}"], str(folder), SETTINGS, 20 * 2**20)
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["documents"] == 201 and manifest["errors"] == 1 and len(manifest["shards"]) >= 1
    records = [json.loads(line) for shard in manifest["shards"] for line in (folder / shard).read_text().splitlines()]
    assert len(records) == len(local)
    for record in records:  # the broken line's record is named by its file as given: here the URI
        record["doc_id"] = record["doc_id"].removeprefix("file://")
    for ray_record, local_record in zip(records, local):
        _close(ray_record, local_record)


def test_ray_engine_usage_errors_exit_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "analyzer", "score", str(tmp_path), "--engine", "ray"], capture_output=True, text=True)
    assert result.returncode == 2 and "--output" in result.stderr and "Traceback" not in result.stderr
