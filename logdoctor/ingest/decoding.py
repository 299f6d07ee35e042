"""Text decoding of log content: UTF-16/32 with a byte order mark to UTF-8, a UTF-8 byte order
mark dropped (:func:`to_utf8`)."""

from __future__ import annotations

__all__ = ["UTF8_BOM", "to_utf8", "wide_encoding"]

_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
UTF8_BOM = b"\xef\xbb\xbf"


def wide_encoding(head: bytes) -> str | None:
    """The codec of a UTF-16 or UTF-32 text that starts with its byte order mark, else None."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec
    return None


def to_utf8(data: bytes) -> tuple[bytes, int]:
    """A log's content as UTF-8: UTF-16/32 with a byte order mark is decoded (a code unit that
    does not decode becomes U+FFFD and is counted), a UTF-8 byte order mark dropped.

    Returns the bytes and how many code units did not decode; other content is returned as is.
    """
    codec = wide_encoding(data)
    if codec is None:
        return data.removeprefix(UTF8_BOM), 0
    bom = next(b for b, c in _BOMS if c == codec)
    body = data[len(bom) :]
    try:
        return body.decode(codec).encode("utf-8"), 0
    except UnicodeDecodeError:
        out = body.decode(codec, errors="replace")
        legit = body.count("\ufffd".encode(codec))
        return out.encode("utf-8"), max(out.count("\ufffd") - legit, 0)
