"""The authored news data: invented stories written for the project, labelled twice and blind.

Layout of `models/data/authored/`:
* `stories/<writer>.jsonl`: one line per version of a story (`doc_id`, `story_id`, `version`
  plain | framed | single, `topic`, `register`, `direction`, `paragraphs`): the writer's text
  and intent. The intent is never shown to the labellers and never used as a label.
* `labels/a/*.jsonl`, `labels/b/*.jsonl`: the two blind labellers' files, one line per
  paragraph (`pid`, `opinion`, `sentiment`, `sentences`: one {opinion, sentiment} per sentence
  as `analyzer.sentences` cuts the paragraph).
* `labels/adjudicated.jsonl`: the third read of every field on which they disagree.

Splits are by story (both versions of a minimal pair together), 70/15/15, from a seeded shuffle
of the story ids; the test split is never used for any choice.

`python -m models.authored batches` writes the labelling batches (paragraphs shuffled across
stories, no intent), `disputes` the adjudication batch, `agreement` the kappas.
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from pathlib import Path

from analyzer.records import Document
from analyzer.sentences import sentence_spans
from models.labels import agreement, disagreements, gold, read_adjudications, read_labels

ROOT = Path(__file__).parent / "data" / "authored"
SPLIT_SEED = 13
SPLIT_SHARES = (("train", 0.70), ("dev", 0.15), ("test", 0.15))


@dataclass
class AuthoredParagraph:
    """One labelled paragraph of an authored story, with its gold labels."""

    pid: str
    doc_id: str
    story_id: str
    version: str
    topic: str
    register: str
    text: str
    sentences: list[tuple[int, int]]
    opinion: str
    sentiment: str
    sentence_opinion: list[str]
    sentence_sentiment: list[str]
    split: str


def read_stories(root: Path = ROOT) -> list[dict]:
    docs = []
    for path in sorted((root / "stories").glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            docs.extend(json.loads(line) for line in handle if line.strip())
    return docs


def story_splits(story_ids: list[str]) -> dict[str, str]:
    """story id -> train | dev | test, by a seeded shuffle of the sorted ids."""
    ordered = sorted(set(story_ids))
    random.Random(SPLIT_SEED).shuffle(ordered)
    splits, start = {}, 0
    for number, (name, share) in enumerate(SPLIT_SHARES):
        end = len(ordered) if number == len(SPLIT_SHARES) - 1 else start + round(share * len(ordered))
        splits.update({story: name for story in ordered[start:end]})
        start = end
    return splits


def _units(docs: list[dict]) -> list[dict]:
    return [{"pid": f"{doc['doc_id']}:{n}", "doc": doc, "text": text} for doc in docs for n, text in enumerate(doc["paragraphs"])]


def write_batches(out_dir: Path, n_batches: int, seed: int = 7) -> None:
    """Labelling batches: paragraphs shuffled across stories, sentences numbered, no intent."""
    units = _units(read_stories())
    random.Random(seed).shuffle(units)
    out_dir.mkdir(parents=True, exist_ok=True)
    for batch in range(n_batches):
        with (out_dir / f"batch_{batch}.jsonl").open("w", encoding="utf-8") as handle:
            for unit in units[batch::n_batches]:
                sentences = [unit["text"][s:e] for s, e in sentence_spans(unit["text"])]
                handle.write(json.dumps({"pid": unit["pid"], "text": unit["text"], "sentences": sentences}, ensure_ascii=False) + "\n")
    print(f"{len(units)} paragraphs in {n_batches} batches under {out_dir}")


def _label_slots(root: Path) -> tuple[dict, dict]:
    first = read_labels(sorted((root / "labels" / "a").glob("*.jsonl")), "pid")
    second = read_labels(sorted((root / "labels" / "b").glob("*.jsonl")), "pid")
    return first, second


def write_disputes(out: Path, root: Path = ROOT) -> None:
    """The adjudication batch: each disputed field with the text and both labels (not who gave which)."""
    first, second = _label_slots(root)
    texts = {u["pid"]: u["text"] for u in _units(read_stories(root))}
    with out.open("w", encoding="utf-8") as handle:
        for pid, names in disagreements(first, second).items():
            sentences = [texts[pid][s:e] for s, e in sentence_spans(texts[pid])]
            for name in names:
                a, b = dict(_fields(first[pid]))[name], dict(_fields(second[pid]))[name]
                unit = sentences[int(name[1:].split(".")[0])] if "." in name else None
                handle.write(json.dumps({"key": pid, "field": name, "paragraph": texts[pid], "sentence": unit,
                                         "labels": sorted({a, b})}, ensure_ascii=False) + "\n")


def _fields(record):
    from models.labels import fields

    return fields(record)


def load(root: Path = ROOT) -> list[AuthoredParagraph]:
    """Every labelled paragraph with its gold labels and split."""
    docs = read_stories(root)
    first, second = _label_slots(root)
    adjudicated = read_adjudications(root / "labels" / "adjudicated.jsonl")
    labels = gold(first, second, adjudicated)
    splits = story_splits([d["story_id"] for d in docs])
    paragraphs = []
    for unit in _units(docs):
        doc, gold_labels = unit["doc"], labels[unit["pid"]]
        spans = sentence_spans(unit["text"])
        paragraphs.append(AuthoredParagraph(
            pid=unit["pid"], doc_id=doc["doc_id"], story_id=doc["story_id"], version=doc["version"], topic=doc["topic"],
            register=doc["register"], text=unit["text"], sentences=spans, opinion=gold_labels["opinion"],
            sentiment=gold_labels["sentiment"],
            sentence_opinion=[gold_labels[f"s{n}.opinion"] for n in range(len(spans))],
            sentence_sentiment=[gold_labels[f"s{n}.sentiment"] for n in range(len(spans))],
            split=splits[doc["story_id"]],
        ))
    return paragraphs


def test_pairs(root: Path = ROOT) -> list[tuple[Document, Document]]:
    """(framed, plain) documents of every minimal pair in the test split, paragraphs blank-line separated."""
    docs = read_stories(root)
    splits = story_splits([d["story_id"] for d in docs])
    by_story: dict[str, dict[str, dict]] = {}
    for doc in docs:
        if splits[doc["story_id"]] == "test" and doc["version"] in ("plain", "framed"):
            by_story.setdefault(doc["story_id"], {})[doc["version"]] = doc
    return [tuple(Document(v[name]["doc_id"], "\n\n".join(v[name]["paragraphs"])) for name in ("framed", "plain"))
            for _, v in sorted(by_story.items()) if len(v) == 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["batches", "disputes", "agreement"])
    parser.add_argument("--out", type=Path, default=Path("/tmp/authored-label"))
    parser.add_argument("--batches", type=int, default=4)
    args = parser.parse_args()
    if args.step == "batches":
        write_batches(args.out, args.batches)
    elif args.step == "disputes":
        write_disputes(args.out)
    else:
        print(json.dumps(agreement(*_label_slots(ROOT)), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
