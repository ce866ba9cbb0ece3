"""Writers for scored records: JSONL, JSON, CSV (streaming) and a rich terminal table.

Each writer takes records one at a time, so output streams as documents are scored.
"""

from __future__ import annotations

import csv
import json
from typing import Any, Iterable, TextIO

from rich.console import Console
from rich.table import Table

from analyzer.records import DocumentScore, ErrorRecord

Record = DocumentScore | ErrorRecord

PARAGRAPH_COLUMNS = ["doc_id", "index", "kind", "text", "sentiment", "p_negative", "p_neutral", "p_positive",
                     "sentiment_score", "opinion", "opinion_prob", "tone", "model", "error"]
DOCUMENT_COLUMNS = ["doc_id", "n_paragraphs", "n_body", "opinion_share", "mean_opinion_prob", "mean_sentiment_score",
                    "tone_negative", "tone_neutral", "tone_positive", "model", "error"]


def rows(record: Record, level: str, with_paragraphs: bool = False) -> list[dict[str, Any]]:
    """The output records of one document: one per paragraph, or one for the document."""
    if isinstance(record, ErrorRecord):
        return [record.to_dict()]
    if level == "paragraph":
        return [p.to_dict() for p in record.paragraphs]
    return [record.to_dict(with_paragraphs=with_paragraphs)]


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """A nested output record as one CSV row."""
    if "error" in row:
        return {"doc_id": row["doc_id"], "error": row["error"]}
    if "sentiment" in row:
        probs = row["sentiment"]["probs"]
        return {**{k: row[k] for k in ("doc_id", "index", "kind", "text", "model")},
                "sentiment": row["sentiment"]["label"], "p_negative": probs["negative"], "p_neutral": probs["neutral"],
                "p_positive": probs["positive"], "sentiment_score": row["sentiment"]["score"],
                "opinion": row["opinion"]["label"], "opinion_prob": row["opinion"]["prob"], "tone": row["tone"]["label"]}
    tones = row["tone_distribution"]
    return {**{k: row[k] for k in ("doc_id", "n_paragraphs", "n_body", "opinion_share", "mean_opinion_prob", "mean_sentiment_score", "model")},
            **{f"tone_{label}": share for label, share in tones.items()}}


class Writer:
    """Writes records in one format; `close()` finishes the output (closing bracket, table)."""

    def __init__(self, stream: TextIO, fmt: str, level: str):
        self.stream, self.fmt, self.level = stream, fmt, level
        self.count = 0
        self._csv = csv.DictWriter(stream, PARAGRAPH_COLUMNS if level == "paragraph" else DOCUMENT_COLUMNS) if fmt == "csv" else None
        self._table_rows: list[dict[str, Any]] = []
        if self._csv:
            self._csv.writeheader()

    def write(self, record: Record) -> None:
        for row in rows(record, self.level, with_paragraphs=self.fmt == "json"):
            if self.fmt == "jsonl":
                self.stream.write(json.dumps(row, ensure_ascii=False) + "\n")
            elif self.fmt == "json":
                self.stream.write(("[\n" if self.count == 0 else ",\n") + json.dumps(row, ensure_ascii=False, indent=1))
            elif self.fmt == "csv":
                self._csv.writerow(_flat(row))
            else:
                self._table_rows.append(row)
            self.count += 1
        self.stream.flush()

    def close(self) -> None:
        if self.fmt == "json":
            self.stream.write("[]\n" if self.count == 0 else "\n]\n")
        elif self.fmt == "table":
            render_table(self._table_rows, self.level, Console(file=self.stream, width=None if self.stream.isatty() else 160))
        self.stream.flush()


def _colour(value: float | None, high: str = "red") -> str:
    if value is None:
        return "-"
    return f"[{high}]{value:.2f}[/]" if value >= 0.5 else f"{value:.2f}"


def render_table(table_rows: Iterable[dict[str, Any]], level: str, console: Console) -> None:
    """A readable terminal table: one row per paragraph or per document."""
    table = Table(show_lines=False, header_style="bold")
    if level == "paragraph":
        for column in ("doc", "#", "kind", "text", "sentiment", "score", "opinion", "P(op)", "tone"):
            table.add_column(column, overflow="fold", max_width=60 if column == "text" else None)
        for row in table_rows:
            if "error" in row:
                table.add_row(row["doc_id"], "", "[red]error[/]", row["error"], "", "", "", "", "")
                continue
            dim = "" if row["kind"] == "body" else "[dim]"
            table.add_row(row["doc_id"], str(row["index"]), row["kind"], f"{dim}{row['text'][:120]}", row["sentiment"]["label"],
                          f"{row['sentiment']['score']:+.2f}", row["opinion"]["label"], _colour(row["opinion"]["prob"]), row["tone"]["label"])
    else:
        for column in ("doc", "body ¶", "opinion share", "mean P(op)", "mean sentiment", "tone neg/neu/pos"):
            table.add_column(column)
        for row in table_rows:
            if "error" in row:
                table.add_row(row["doc_id"], "[red]error[/]", row["error"], "", "", "")
                continue
            tones = row["tone_distribution"]
            sentiment = row["mean_sentiment_score"]
            table.add_row(row["doc_id"], str(row["n_body"]), _colour(row["opinion_share"]), _colour(row["mean_opinion_prob"]),
                          "-" if sentiment is None else f"{sentiment:+.2f}",
                          f"{tones['negative']:.2f} / {tones['neutral']:.2f} / {tones['positive']:.2f}")
    console.print(table)
