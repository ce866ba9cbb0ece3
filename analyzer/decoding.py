"""Bytes -> a document's text: which encoding decoded them, when bytes are not text, and what
an HTML page's article text is.

The order, most certain first:
1. a byte order mark decides (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE);
2. NUL bytes anywhere else mean binary data (text in UTF-16 without a BOM is refused too);
3. UTF-8;
4. otherwise a legacy encoding, one a web browser would decode: `charset_normalizer` says which
   are plausible, and cp1252 wins whenever it is one of them (the analyzer reads English news,
   which Windows and old web pages write in cp1252, a superset of Latin-1's printable
   characters). Bytes with more valid non-ASCII UTF-8 characters than invalid bytes are damaged
   UTF-8, not a legacy text: they stay an error naming the first bad byte.
Detection never turns binary data into text: no plausible encoding, or a decoded text of which
more than 1% is control characters, is refused. (A few random bytes can still look like two
Chinese characters; a random file of a few hundred bytes or more does not.)
"""

from __future__ import annotations

import codecs
import re

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString, Tag

UTF8 = "utf-8"
LEGACY_DEFAULT = "cp1252"
BINARY = "binary data (contains NUL bytes)"
NOT_TEXT = "binary data (no plausible text encoding)"

# UTF-32 LE's mark begins with UTF-16 LE's: it is checked first.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, UTF8), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
# The legacy encodings a web browser decodes (WHATWG Encoding Standard), by Python codec name,
# plus Latin-1 for cp1252 text with a byte cp1252 leaves undefined. Others (EBCDIC, DOS code
# pages, UTF-16 without a BOM) are what detection "finds" in random bytes, not what people write.
_LEGACY = (
    "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258", "cp874",
    "iso8859_2", "iso8859_3", "iso8859_4", "iso8859_5", "iso8859_6", "iso8859_7", "iso8859_8", "iso8859_10",
    "iso8859_13", "iso8859_14", "iso8859_15", "iso8859_16", "koi8_r", "koi8_u", "mac_roman", "mac_cyrillic",
    "cp866", "gbk", "gb18030", "big5", "big5hkscs", "euc_jp", "iso2022_jp", "shift_jis", "cp932", "euc_kr",
    "cp949", "latin_1",
)
_BEYOND_ASCII = re.compile("[^\x00-\x7f\ufffd]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # tab, newlines, \v and \f are text
_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_CONTROL_SHARE = 0.01

# HTML that is never article text, and page furniture that is dropped unless it belongs to an
# <article> (an article's own <header> holds its headline).
_HTML_DROPPED = {"head", "script", "style", "noscript", "template", "svg", "iframe", "nav", "aside", "form", "button"}
_HTML_FURNITURE = {"header", "footer"}
# Elements whose content is a paragraph of its own (or a container of paragraphs).
_HTML_BLOCKS = {
    "html", "body", "main", "article", "section", "header", "footer", "div", "p", "blockquote", "pre",
    "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "table", "tr", "td", "th",
    "figure", "figcaption", "address", "br", "hr",
}


class NotText(ValueError):
    """Why some bytes (or a string) cannot be a document's text; the message is one line."""


def bom_encoding(data: bytes) -> str | None:
    """The encoding a byte order mark at the start of `data` names, if there is one."""
    return next((encoding for bom, encoding in _BOMS if data.startswith(bom)), None)


def decode(data: bytes) -> tuple[str, str]:
    """The text of `data` (without a BOM) and the name of the codec that decoded it."""
    encoding = bom_encoding(data)
    if encoding is not None:
        try:
            text = data.decode(encoding).removeprefix("\ufeff")  # UTF-8 keeps its BOM as a character
        except UnicodeDecodeError as error:
            raise NotText(f"not {encoding.upper()} text ({error.reason} at position {error.start})") from None
        if "\x00" in text:
            raise NotText(BINARY)
        return text, encoding
    if b"\x00" in data:
        raise NotText(BINARY)
    try:
        return data.decode(UTF8), UTF8
    except UnicodeDecodeError as error:
        if _mostly_utf8(data):
            raise NotText(f"not UTF-8 text (invalid byte 0x{data[error.start]:02x} at position {error.start})") from None
    return _decode_legacy(data)


def _mostly_utf8(data: bytes) -> bool:
    """More valid non-ASCII UTF-8 characters than invalid bytes: UTF-8 with damage, not a legacy text."""
    text = data.decode(UTF8, "replace")
    return len(_BEYOND_ASCII.findall(text)) > text.count("\ufffd")


def check_text(text: str) -> str:
    """`text` if it is valid Unicode: JSON escapes can make lone surrogates, which no output encodes."""
    surrogate = _SURROGATE.search(text)
    if surrogate:
        raise NotText(f"not valid Unicode (lone surrogate U+{ord(surrogate.group()):04X})")
    return text


def _decode_legacy(data: bytes) -> tuple[str, str]:
    import charset_normalizer  # only for the rare file that is not UTF-8: keeps `import analyzer` light

    matches = charset_normalizer.from_bytes(data, cp_isolation=list(_LEGACY))
    best = matches.best()
    if best is None:
        raise NotText(NOT_TEXT)
    plausible = any(LEGACY_DEFAULT in match.could_be_from_charset for match in matches)
    for encoding in ([LEGACY_DEFAULT] if plausible else []) + [best.encoding]:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if len(_CONTROL.findall(text)) <= _MAX_CONTROL_SHARE * len(text):
            return text, encoding
    raise NotText(NOT_TEXT)


def html_to_text(markup: str) -> str:
    """The readable text of an HTML page: one block element per paragraph, blank-line separated."""
    blocks: list[str] = []
    _collect_blocks(BeautifulSoup(markup, "html.parser"), blocks)
    return "\n\n".join(blocks)


def _collect_blocks(root: Tag, blocks: list[str]) -> None:
    """Walk the tree depth first with a stack (a page may nest deeper than Python recursion goes);
    text gathers in `inline` until a block element starts or ends."""
    inline: list[str] = []
    flush = object()  # marks where a block element ends
    stack: list[tuple[object, bool]] = [(root, False)]  # (node, inside an <article>)
    while stack:
        node, in_article = stack.pop()
        if node is flush:
            _flush(inline, blocks)
        elif isinstance(node, Tag):
            if node.name in _HTML_DROPPED or (node.name in _HTML_FURNITURE and not in_article):
                continue
            if node.name in _HTML_BLOCKS:
                _flush(inline, blocks)
                stack.append((flush, in_article))
            in_article = in_article or node.name == "article"
            stack += [(child, in_article) for child in reversed(node.contents)]
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            inline.append(str(node))
    _flush(inline, blocks)


def _flush(inline: list[str], blocks: list[str]) -> None:
    text = " ".join("".join(inline).split())
    if text:
        blocks.append(text)
    inline.clear()
