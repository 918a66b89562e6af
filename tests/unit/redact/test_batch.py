"""``redact_batch`` on Arrow event batches: the same result as per-value redaction, faster."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pyarrow as pa
import pytest

from logpond.model.schema import EVENT_SCHEMA
from logpond.redact import DEFAULT_POLICY, RULE_NAMES, Policy, Redactor

from .corpus import event_batch, quality_module
from .test_rules import FALSE_POSITIVES, TRUE_POSITIVES


def corpus_items(seed: int, samples: int) -> list[str | dict[str, Any]]:
    return [s.payload for s in quality_module().generate_corpus(seed, samples)]


@pytest.mark.parametrize(
    "policy",
    [DEFAULT_POLICY, Policy(rules=frozenset(RULE_NAMES)), Policy(mode="audit")],
    ids=["default", "all-rules", "audit"],
)
def test_batch_equals_redacting_each_cell(policy: Policy) -> None:
    """Every cell of the batch equals ``redact_message`` of that cell, and the counts add up."""
    items: list[str | dict[str, Any]] = [
        *corpus_items(seed=11, samples=1500),
        *(text for _, text, _ in TRUE_POSITIVES),
        *FALSE_POSITIVES,
    ]
    batch = event_batch(items)
    redactor = Redactor(policy)
    out, counts = redactor.redact_batch(batch)
    expected: Counter[str] = Counter()
    for name in ("message", "fields"):
        for before, after in zip(batch.column(name).to_pylist(), out.column(name).to_pylist(), strict=True):
            if before is None:
                assert after is None
                continue
            cell, found = redactor.redact_message(before)
            expected.update(found)
            assert after == cell, before
    assert counts == expected
    assert sum(counts.values()) > 0


def test_batch_fields_equal_redact_record() -> None:
    """A redacted ``fields`` object is what ``redact_record`` makes of it, minus the marker."""
    record = {"user_name": "John Doe", "db": {"password": "x"}, "to": "a@b.io", "n": 5}
    out, _ = Redactor().redact_batch(event_batch([{"message": "hi", **record}]))
    expected, _ = Redactor().redact_record(record, mark=False)
    assert json.loads(out.column("fields")[0].as_py()) == expected


def test_batch_leaves_other_columns_and_schema_alone() -> None:
    """Only ``message`` and ``fields`` change; the schema and other columns are kept."""
    items: list[str | dict[str, Any]] = [
        {"message": "mail a@b.io", "trace_id": "a@b.io", "level": "info", "user_name": "Jo Do"},
        "plain a@b.io",
    ]
    batch = event_batch(items)
    out, counts = Redactor().redact_batch(batch)
    assert out.schema == EVENT_SCHEMA
    for name in EVENT_SCHEMA.names:
        if name not in ("message", "fields"):
            assert out.column(name) == batch.column(name)
    assert out.column("message").to_pylist() == ["mail a***@***.io", "plain a***@***.io"]
    assert counts == {"email": 2, "name": 1}


def test_clean_batch_comes_back_as_is() -> None:
    """A batch with nothing to mask is returned as the same object."""
    batch = event_batch(["GET /healthz 200", {"message": "ok", "status": 200}])
    out, counts = Redactor().redact_batch(batch)
    assert out is batch
    assert not counts


def test_batch_with_nulls_and_no_rows() -> None:
    """Null cells stay null, and an empty batch comes back empty."""
    batch = event_batch([{"status": 1}, {"message": "a@b.io"}])
    out, counts = Redactor().redact_batch(batch)
    assert out.column("message").to_pylist() == [None, "a***@***.io"]
    assert out.column("fields").to_pylist() == ['{"status":1}', None]
    assert counts == {"email": 1}
    empty = pa.RecordBatch.from_pylist([], schema=EVENT_SCHEMA)
    assert Redactor().redact_batch(empty) == (empty, Counter())


def test_audit_batch_is_unchanged_but_counted() -> None:
    """In audit mode the batch comes back unchanged with the findings counted."""
    batch = event_batch(["a@b.io", {"message": "x", "password": "p"}])
    out, counts = Redactor(Policy(mode="audit")).redact_batch(batch)
    assert out is batch
    assert counts == {"email": 1, "secret": 1}


def test_custom_regex_outside_re2_falls_back_to_python() -> None:
    """A custom regex RE2 cannot read (a lookbehind) still applies to every row."""
    policy = Policy.from_dict({"custom": [{"name": "Ref", "regex": r"(?<=ref:)\d{4}"}]})
    batch = event_batch(["order ref:1234 ok", {"message": "x", "note": "ref:9876"}])
    out, counts = Redactor(policy).redact_batch(batch)
    assert out.column("message")[0].as_py() == "order ref:[REDACTED:Ref] ok"
    assert json.loads(out.column("fields")[1].as_py()) == {"note": "ref:[REDACTED:Ref]"}
    assert counts == {"Ref": 2}


def test_custom_regex_matching_escaped_characters_in_fields() -> None:
    """A custom regex that needs a quote finds it in a JSON field, where it is escaped."""
    policy = Policy.from_dict({"custom": [{"name": "Quoted", "regex": r'id="\d+"'}]})
    batch = event_batch([{"message": "x", "html": '<a id="42">'}])
    out, counts = Redactor(policy).redact_batch(batch)
    assert json.loads(out.column("fields")[0].as_py()) == {"html": "<a [REDACTED:Quoted]>"}
    assert counts == {"Quoted": 1}


def test_json_message_with_null_fields_is_walked() -> None:
    """A JSON record sent as plain text (fields null) is redacted key by key."""
    batch = event_batch(['{"customer_name":"Jane Roe","card":"4111111111111111"}'])
    out, counts = Redactor().redact_batch(batch)
    assert json.loads(out.column("message")[0].as_py()) == {
        "customer_name": "Jane R***",
        "card": "**** **** **** 1111",
    }
    assert counts == {"name": 1, "card": 1}


def test_escaped_text_in_fields_is_still_found() -> None:
    """PII written with JSON escapes in ``fields`` reaches the Python path and is masked."""
    fields = '{"note":"mail john\\u0040acme.com","k\\u0065y":"v"}'
    batch = pa.RecordBatch.from_pylist(
        [{"log_group": "g", "log_stream": "s", "timestamp": 1, "message": "m", "fields": fields}],
        schema=EVENT_SCHEMA,
    )
    out, counts = Redactor().redact_batch(batch)
    assert json.loads(out.column("fields")[0].as_py())["note"] == "mail j***@***.com"
    assert counts == {"email": 1}
