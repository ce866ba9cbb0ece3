"""Editorial bias and tone analyzer: paragraph sentiment and opinion scores for news, and contrasts of two versions."""

from analyzer.api import Analyzer
from analyzer.records import Document, DocumentScore, ErrorRecord, OpinionScore, Paragraph, ParagraphScore, SentimentScore

__all__ = ["Analyzer", "Document", "DocumentScore", "ErrorRecord", "OpinionScore", "Paragraph", "ParagraphScore", "SentimentScore"]
