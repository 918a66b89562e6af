"""``logpond ingest FILE|-``: send a log file to a group, in compressed 1 MiB batches."""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from typing import BinaryIO

import click

from .client import Client, with_client

__all__ = ["ingest"]

BATCH_BYTES = 1 << 20


def _batches(source: BinaryIO, limit: int) -> Iterator[tuple[bytes, int, int]]:
    """Whole lines grouped into bodies of about ``limit`` bytes: (body, first line, lines)."""
    lines: list[bytes] = []
    size = 0
    first = 1
    for number, line in enumerate(source, start=1):
        lines.append(line)
        size += len(line)
        if size >= limit:
            yield b"".join(lines), first, len(lines)
            lines, size, first = [], 0, number + 1
    if lines:
        yield b"".join(lines), first, len(lines)


@click.command()
@click.argument("file", type=click.File("rb"))
@click.option("--group", "-g", required=True, help="Log group to write to.")
@click.option("--stream", "-s", default="default", show_default=True, help="Log stream.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["ndjson", "text"]),
    default="ndjson",
    show_default=True,
    help="ndjson: JSON records (other lines kept as text); text: one message per line.",
)
@with_client
def ingest(client: Client, file: BinaryIO, group: str, stream: str, fmt: str) -> None:
    """Send FILE (or - for standard input) to a log group."""
    content_type = "text/plain" if fmt == "text" else "application/x-ndjson"
    total_bytes = _size(file)
    accepted = rejected = 0
    shown = 0
    show_progress = total_bytes is not None and total_bytes > 4 * BATCH_BYTES and sys.stderr.isatty()
    with (
        client.session() as http,
        click.progressbar(
            length=total_bytes or 0,
            label="ingesting",
            file=sys.stderr,
            hidden=not show_progress,
        ) as bar,
    ):
        for body, first, _count in _batches(file, BATCH_BYTES):
            response = http.post(
                "/api/v1/ingest",
                params={"group": group, "stream": stream},
                content=gzip.compress(body, compresslevel=1),
                headers={"content-type": content_type, "content-encoding": "gzip"},
            )
            result = Client.result(response)
            accepted += result["accepted"]
            rejected += result.get("rejected_count", len(result["rejected"]))
            for item in result["rejected"]:
                if shown < 20:
                    line = first + item["line"] - 1
                    click.echo(f"line {line}: rejected: {item['reason']}", err=True)
                    shown += 1
            bar.update(len(body))
    click.echo(f"ingested {accepted} events into {group} ({rejected} rejected)")
    if rejected and not accepted:
        sys.exit(1)


def _size(file: BinaryIO) -> int | None:
    try:
        position = file.tell()
        file.seek(0, 2)
        size = file.tell()
        file.seek(position)
    except (OSError, ValueError):
        return None
    return size
