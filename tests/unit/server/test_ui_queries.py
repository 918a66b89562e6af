"""Which part of a query decides what matches: the base of histograms and top values."""

from __future__ import annotations

import pytest

from logpond.query import parse_query
from logpond.server.routes.ui_queries import bin_seconds, matching_part


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("fields @message | sort @timestamp desc | limit 5", "fields @message"),
        ('filter level = "error" | stats count(*) by tenant_id | filter x > 1', 'filter level = "error"'),
        ('filter message like "a|b" | display @message', 'filter message like "a|b"'),
        (
            "parse @message 'took * ms' as ms | filter ms > 5 | dedup ms",
            'parse @message "took * ms" as ms | filter ms > 5',
        ),
        ("stats count(*)", ""),
        (
            "SOURCE logGroups(namePrefix: ['/q']) | filter a = 1",
            'SOURCE logGroups(namePrefix: ["/q"]) | filter a = 1',
        ),
    ],
)
def test_matching_part_keeps_what_decides_matches(query: str, expected: str) -> None:
    """Filters, parses and fields stay (up to stats, dedup or pattern); sort, limit and display go."""
    assert matching_part(parse_query(query)) == expected


def test_bin_width_gives_at_most_the_asked_bars() -> None:
    """The smallest usual width that fits the range into the number of bars."""
    assert bin_seconds(3_600_000, 80) == 60
    assert bin_seconds(60_000, 80) == 1
    assert bin_seconds(86_400_000, 80) == 1800
    assert bin_seconds(10**13, 80) == 604800
