"""The Ray Data engine: the three stages as a Ray Data pipeline, for corpora beyond one machine.

`analyzer score --engine ray INPUT... --output OUT` (the `ray` extra) runs

    read_binary_files -> flat_map(sources: JSONL lines, files) -> map_batches(prepare) on CPU tasks
    -> map_batches(forward) on model actors (a GPU each when the cluster has GPUs)
    -> map_batches(finish: records, aggregates, JSONL text) -> OUT

connecting to the cluster at RAY_ADDRESS when it is set and starting a local Ray otherwise.
The stage functions are the local engine's (`analyzer.engine.CpuStages`, `ToneScorer.forward_arrays`),
so the records are the local engine's: the same fields, documents in input order (Ray's
`preserve_order`), and scores that agree to 4 decimals (a last digit can differ where a paragraph
was batched with other paragraphs). `OUT` ending in `.jsonl` is one ordered file written by the
driver; otherwise it is a folder of JSONL shards written by the workers (`part-<first
document>.jsonl`, through pyarrow's filesystems, so `s3://...` works) and a `manifest.json`
naming them in order. Inputs are local paths or URIs Ray can read.
"""

from __future__ import annotations

import json
import os
import pickle
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from analyzer.engine import CpuStages, Options
from analyzer.prepare import TokenArrays
from analyzer.reading import FOLDER_SUFFIXES, read_sources, sources_in
from analyzer.records import ErrorRecord
from analyzer.writers import Serialized, Writer

DOCUMENTS_PER_BATCH = 32  # prepare and finish batches (as the local engine's windows)
FORWARD_DOCUMENTS = 64  # documents per forward batch on a model actor
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class RaySettings:
    """What every stage needs to rebuild the model's parts inside a Ray worker."""

    model_dir: str | None
    device: str
    precision: str
    batch_size: int | None
    explain: bool
    options: Options


@lru_cache(maxsize=2)
def _scorer(settings: RaySettings):
    from analyzer.inference import ToneScorer

    return ToneScorer(model_dir=settings.model_dir, device=settings.device, batch_size=settings.batch_size,
                      precision=settings.precision)


@lru_cache(maxsize=2)
def _cpu_stages(settings: RaySettings) -> CpuStages:
    """The tokenizer and postprocessor, loaded once per Ray worker process."""
    from analyzer.postprocess import Postprocessor

    scorer = _scorer(RaySettings(settings.model_dir, "cpu", settings.precision, settings.batch_size, False, settings.options))
    return CpuStages(scorer.tokenizer, Postprocessor(scorer.config))


def _sources(row: dict[str, Any], order: dict[str, int], max_bytes: int) -> list[dict[str, Any]]:
    """One file's rows: a pickled Source (or ErrorRecord) each, with the key that orders the output."""
    name = _input_name(row["path"], order)
    return [{"key": f"{order.get(name, 0):06d}-{n:09d}", "item": pickle.dumps(item)}
            for n, item in enumerate(sources_in(name, row["bytes"], max_bytes))]


def _input_name(path: str, order: dict[str, int]) -> str:
    """Ray reports paths as absolute paths or without their URI scheme; give back the name that was listed."""
    if path in order:
        return path
    return next((name for name in order if name.split("://", 1)[-1] == path or os.path.abspath(name) == path), path)


def _prepare(batch: dict[str, np.ndarray], settings: RaySettings) -> dict[str, list]:
    """prepare per document: the pickled window of one document and its token arrays."""
    stages = _cpu_stages(settings)
    windows, tokens = [], []
    for item in batch["item"]:
        window = stages.prepare([pickle.loads(item)], settings.options)
        windows.append(pickle.dumps(window))
        tokens.append(pickle.dumps(window.tokens()))
    return {"key": list(batch["key"]), "window": windows, "tokens": tokens}


class _Forward:
    """A model actor: the forward stage over the token arrays of a batch of documents."""

    def __init__(self, settings: RaySettings):
        self.settings = settings
        self.scorer = _scorer(settings)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
        tokens = [pickle.loads(t) for t in batch["tokens"]]
        logits = self.scorer.forward_arrays(TokenArrays.concat(tokens), self.settings.explain)
        parts = logits.slices([t.n_texts for t in tokens])
        return {"key": list(batch["key"]), "window": list(batch["window"]), "logits": [pickle.dumps(p) for p in parts]}


def _finish(batch: dict[str, np.ndarray], settings: RaySettings) -> dict[str, list]:
    """finish per document: its output rows as JSONL text."""
    stages = _cpu_stages(settings)
    outputs: list[Serialized] = []
    for window, logits in zip(batch["window"], batch["logits"]):
        outputs += stages.finish(pickle.loads(window), pickle.loads(logits), settings.options)
    return {"key": list(batch["key"]), "doc_id": [o.doc_id for o in outputs], "error": [o.error or "" for o in outputs],
            "rows": [o.n_rows for o in outputs], "paragraphs": [o.n_paragraphs for o in outputs], "text": [o.text for o in outputs]}


def _write_shard(batch: dict[str, np.ndarray], folder: str) -> dict[str, list]:
    """Write one batch's text as a JSONL shard (a worker writes it: local folder or object storage)."""
    import pyarrow.fs

    name = f"part-{batch['key'][0]}.jsonl"
    filesystem, root = pyarrow.fs.FileSystem.from_uri(folder if "://" in folder else os.path.abspath(folder))
    with filesystem.open_output_stream(f"{root}/{name}") as stream:
        stream.write("".join(batch["text"]).encode("utf-8"))
    return {"shard": [name], "documents": [len(batch["text"])], "errors": [int(sum(bool(e) for e in batch["error"]))]}


def _inputs(paths: Sequence[str], max_bytes: int, notes: Callable[[str], None]) -> tuple[list[str], list[ErrorRecord]]:
    """The files to read, in input order: local folders walked as the local engine walks them,
    object-storage folders listed (recursively, sorted, the same suffixes) with pyarrow."""
    files, errors = [], []
    for path in paths:
        if "://" in path:
            files += _listed(path)
            continue
        for item in read_sources([path], max_bytes=max_bytes, notes=notes):
            if isinstance(item, ErrorRecord):
                errors.append(item)
            elif item.name not in files:
                files.append(item.name)
    return files, errors


def _listed(uri: str) -> list[str]:
    import pyarrow.fs

    filesystem, root = pyarrow.fs.FileSystem.from_uri(uri)
    info = filesystem.get_file_info(root)
    if info.type != pyarrow.fs.FileType.Directory:
        return [uri]
    scheme = uri.split("://", 1)[0]
    found = filesystem.get_file_info(pyarrow.fs.FileSelector(root, recursive=True))
    return sorted(f"{scheme}://{f.path}" for f in found if f.type == pyarrow.fs.FileType.File
                  and not os.path.basename(f.path).startswith(".") and f.path.lower().endswith(FOLDER_SUFFIXES))


def run_ray(paths: Sequence[str], output: str, settings: RaySettings, max_bytes: int,
            notes: Callable[[str], None] = lambda note: None) -> tuple[int, int]:
    """Score `paths` into `output` with Ray Data; returns (documents, error records)."""
    import ray

    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), include_dashboard=False, log_to_driver=False,
                 logging_level="ERROR", configure_logging=False)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    files, errors = _inputs(paths, max_bytes, notes)
    for error in errors:  # a folder that cannot be listed: no file to give Ray
        notes(f"{error.doc_id}: {error.error}")
    order = {name: n for n, name in enumerate(files)}
    gpus = int(ray.cluster_resources().get("GPU", 0))
    dataset = (ray.data.read_binary_files(files, include_paths=True)
               .flat_map(_sources, fn_kwargs={"order": order, "max_bytes": max_bytes})
               .map_batches(_prepare, batch_size=DOCUMENTS_PER_BATCH, fn_kwargs={"settings": settings})
               .map_batches(_Forward, batch_size=FORWARD_DOCUMENTS, fn_constructor_kwargs={"settings": settings},
                            concurrency=max(gpus, 1), num_gpus=1 if gpus else 0)
               .map_batches(_finish, batch_size=DOCUMENTS_PER_BATCH, fn_kwargs={"settings": settings}))
    if output.endswith(".jsonl"):
        return _write_file(dataset, Path(output), settings.options)
    return _write_folder(dataset, output)


def _write_file(dataset, output: Path, options: Options) -> tuple[int, int]:
    """One ordered JSONL file, written by the driver as the records stream in."""
    from analyzer.output import Output

    target = Output(output)
    writer = Writer(target.stream, "jsonl", options.level)
    documents = failures = 0
    for row in dataset.iter_rows():
        writer.write(Serialized(row["doc_id"], row["error"] or None, None, row["paragraphs"], row["rows"], row["text"]))
        documents += 1
        failures += bool(row["error"])
    writer.close()
    target.commit()
    return documents, failures


def _write_folder(dataset, folder: str) -> tuple[int, int]:
    """JSONL shards written by the workers, and a manifest naming them in order."""
    import pyarrow.fs

    filesystem, root = pyarrow.fs.FileSystem.from_uri(folder if "://" in folder else os.path.abspath(folder))
    filesystem.create_dir(root, recursive=True)
    shards = dataset.map_batches(_write_shard, batch_size=DOCUMENTS_PER_BATCH * 16, fn_kwargs={"folder": folder}).take_all()
    shards.sort(key=lambda row: row["shard"])
    manifest = {"shards": [row["shard"] for row in shards], "documents": int(sum(row["documents"] for row in shards)),
                "errors": int(sum(row["errors"] for row in shards))}
    with filesystem.open_output_stream(f"{root}/{MANIFEST}") as stream:
        stream.write((json.dumps(manifest, indent=1) + "\n").encode("utf-8"))
    return manifest["documents"], manifest["errors"]
