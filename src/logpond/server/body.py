"""Reading a request body within its limit, undoing gzip/deflate/zstd on the way.

The limit applies to the body as received and again after decompression, so a small
compressed body cannot expand into more than ``limit`` bytes (a "zip bomb" is refused
with 413 after reading at most ``limit + 1`` bytes of output).
"""

from __future__ import annotations

import zlib

from starlette.requests import Request

from logpond.model.errors import (
    InvalidParameterError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)

__all__ = ["decompress", "read_body", "read_raw_body"]


async def read_body(request: Request, limit: int, encoding: str | None = None) -> bytes:
    """The request body, decompressed per ``Content-Encoding`` (or ``encoding`` when given),
    at most ``limit`` bytes."""
    body = await read_raw_body(request, limit)
    if encoding is None:
        encoding = request.headers.get("content-encoding", "")
    return decompress(body, encoding, limit)


async def read_raw_body(request: Request, limit: int) -> bytes:
    """The request body as sent (still compressed), at most ``limit`` bytes: what a
    signature covers."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError("request body is too large", bytes=int(declared), limit=limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError("request body is too large", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """Undo one ``Content-Encoding``; the output may not exceed ``limit`` bytes."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip"):
        return _inflate(body, 16 + zlib.MAX_WBITS, limit)
    if encoding == "deflate":
        # RFC 9110 says zlib-wrapped; some clients send raw deflate. Tell them apart.
        wrapped = len(body) >= 2 and (body[0] & 0x0F) == 8 and int.from_bytes(body[:2]) % 31 == 0
        return _inflate(body, zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS, limit)
    if encoding == "zstd":
        return _unzstd(body, limit)
    if encoding in ("snappy", "x-snappy-framed"):
        return _unsnappy(body, limit)
    raise UnsupportedMediaTypeError("unsupported content encoding", encoding=encoding)


def _inflate(body: bytes, wbits: int, limit: int) -> bytes:
    out: list[bytes] = []
    size = 0
    data = body
    while data:
        inflater = zlib.decompressobj(wbits)
        try:
            chunk = inflater.decompress(data, limit + 1 - size)
        except zlib.error as exc:
            raise InvalidParameterError("body is not valid compressed data", reason=str(exc)) from None
        size += len(chunk)
        out.append(chunk)
        if size > limit or inflater.unconsumed_tail:
            raise PayloadTooLargeError("decompressed body is too large", limit=limit)
        if not inflater.eof:
            raise InvalidParameterError("compressed body is truncated")
        # gzip allows several members back to back; raw and zlib streams end here.
        data = inflater.unused_data if wbits > zlib.MAX_WBITS else b""
    return b"".join(out)


def _unzstd(body: bytes, limit: int) -> bytes:
    try:
        import zstandard  # noqa: PLC0415 (optional; only zstd bodies need it)
    except ImportError:
        raise UnsupportedMediaTypeError("zstd bodies need the zstandard package") from None
    reader = zstandard.ZstdDecompressor().stream_reader(body, read_across_frames=True)
    out: list[bytes] = []
    size = 0
    try:
        while chunk := reader.read(min(1 << 20, limit + 1 - size)):
            size += len(chunk)
            out.append(chunk)
            if size > limit:
                raise PayloadTooLargeError("decompressed body is too large", limit=limit)
    except zstandard.ZstdError as exc:
        raise InvalidParameterError("body is not valid zstd data", reason=str(exc)) from None
    return b"".join(out)


def _unsnappy(body: bytes, limit: int) -> bytes:
    """Snappy as Fluent Bit sends it: the framed format, or a raw block."""
    try:
        import cramjam  # noqa: PLC0415 (optional; only snappy bodies need it)
    except ImportError:
        raise UnsupportedMediaTypeError("snappy bodies need the cramjam package") from None
    framed = body.startswith(b"\xff\x06\x00\x00sNaPpY")
    try:
        out = bytes(cramjam.snappy.decompress(body) if framed else cramjam.snappy.decompress_raw(body))
    except cramjam.DecompressionError as exc:
        raise InvalidParameterError("body is not valid snappy data", reason=str(exc)) from None
    if len(out) > limit:
        raise PayloadTooLargeError("decompressed body is too large", limit=limit)
    return out
