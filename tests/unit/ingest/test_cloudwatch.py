"""PutLogEvents batch rules in the decoder, with a fixed clock."""

from __future__ import annotations

from typing import Any

import pytest

from logpond.ingest.cloudwatch import decode_put_log_events
from logpond.model.errors import InvalidParameterError

NOW = 1_800_000_000_000
HOUR, DAY = 3_600_000, 86_400_000


def decode(events: Any, retention: int | None = None) -> Any:
    return decode_put_log_events(events, log_group="/g", log_stream="s", now_ms=NOW, retention_days=retention)


def test_json_messages_keep_their_text_and_promote_ids() -> None:
    """A JSON message is stored verbatim; trace and tenant ids fill their columns, level does not."""
    text = '{"level":"ERROR","trace_id":"t1","tenant_id":"acme","n":1}'
    batch = decode(
        [{"timestamp": NOW, "message": text}, {"timestamp": NOW, "message": "plain"}]
    ).decoded.batch
    rows = batch.to_pylist()
    assert [r["message"] for r in rows] == [text, "plain"]
    assert (rows[0]["trace_id"], rows[0]["tenant_id"], rows[0]["level"], rows[0]["fields"]) == (
        "t1",
        "acme",
        None,
        None,
    )


def test_rejections_form_a_prefix_and_a_suffix() -> None:
    """Too old, expired and too new events are dropped and reported by exclusive end indexes."""
    result = decode(
        [
            {"timestamp": NOW - 20 * DAY, "message": "old"},
            {"timestamp": NOW - 3 * DAY, "message": "expired"},
            {"timestamp": NOW, "message": "kept"},
            {"timestamp": NOW + 2 * HOUR + 1, "message": "new"},
        ],
        retention=1,
    )
    assert result.rejected.to_dict() == {
        "tooOldLogEventEndIndex": 1,
        "expiredLogEventEndIndex": 2,
        "tooNewLogEventStartIndex": 3,
    }
    assert result.decoded.batch.column("message").to_pylist() == ["kept"]
    assert result.decoded.lines.to_pylist() == [3]
    assert decode([{"timestamp": NOW, "message": "x"}]).rejected.to_dict() is None


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([], "greater than or equal to 1"),
        ([{"timestamp": NOW, "message": "x"}] * 10_001, "less than or equal to 10000"),
        ([{"timestamp": NOW, "message": ""}], "greater than or equal to 1"),
        ([{"timestamp": NOW, "message": "x" * (1_048_576 - 25)}], "Log event too large"),
        ([{"timestamp": NOW, "message": "x" * 600_000}] * 2, "Upload too large"),
        ([{"timestamp": NOW, "message": "b"}, {"timestamp": NOW - 1, "message": "a"}], "chronological order"),
        ([{"timestamp": NOW - 25 * HOUR, "message": "a"}, {"timestamp": NOW, "message": "b"}], "24 hours"),
        ([{"timestamp": "soon", "message": "a"}], "timestamp"),
        ([{"timestamp": NOW}], "message"),
    ],
)
def test_whole_batch_refusals(events: Any, message: str) -> None:
    """Each batch rule fails the whole batch with CloudWatch's wording."""
    with pytest.raises(InvalidParameterError, match=message):
        decode(events)


def test_multibyte_sizes_count_utf8_bytes() -> None:
    """Sizes are UTF-8 bytes plus 26, not characters."""
    fits = "é" * ((1_048_576 - 26) // 2)
    decode([{"timestamp": NOW, "message": fits}])
    with pytest.raises(InvalidParameterError, match="too large"):
        decode([{"timestamp": NOW, "message": fits + "é"}])
