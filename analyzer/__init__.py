"""Editorial bias and tone analyzer: paragraph sentiment and opinion scores for news, and contrasts of two versions.

`Analyzer` is imported on first use, so that `import analyzer` (and `analyzer --help`) does not
load torch; `__version__` is read from the installed package's metadata on first use too.
"""

from analyzer.records import Document, DocumentScore, ErrorRecord, OpinionScore, Paragraph, ParagraphScore, SentimentScore

DISTRIBUTION = "editorial-tone-analyzer"

__all__ = ["Analyzer", "Document", "DocumentScore", "ErrorRecord", "OpinionScore", "Paragraph", "ParagraphScore", "SentimentScore",
           "__version__"]


def package_version() -> str:
    """The installed distribution's version; a source checkout that was never installed reads its pyproject.toml."""
    from importlib import metadata
    from pathlib import Path

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        import tomllib

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        if pyproject.is_file():
            return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
        return "0+unknown"


def __getattr__(name: str):
    if name == "Analyzer":
        from analyzer.api import Analyzer

        return Analyzer
    if name == "__version__":
        return package_version()
    raise AttributeError(f"module 'analyzer' has no attribute {name!r}")
