"""Editorial bias and tone analyzer: paragraph sentiment and opinion scores for news, and contrasts of two versions.

`Analyzer` is imported on first use, so that `import analyzer` (and `analyzer --help`) does not
load torch.
"""

from analyzer.records import Document, DocumentScore, ErrorRecord, OpinionScore, Paragraph, ParagraphScore, SentimentScore

__all__ = ["Analyzer", "Document", "DocumentScore", "ErrorRecord", "OpinionScore", "Paragraph", "ParagraphScore", "SentimentScore"]


def __getattr__(name: str):
    if name == "Analyzer":
        from analyzer.api import Analyzer

        return Analyzer
    raise AttributeError(f"module 'analyzer' has no attribute {name!r}")
