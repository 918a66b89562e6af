"""Inbound id rules (which header wins, what is valid) and carriers for jobs and calls."""

from __future__ import annotations

import re

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

import logpond.sdk as lp
from logpond.sdk import propagation
from logpond.sdk.propagation import extract, host_matches, inject, resolve_inbound
from logpond.sdk.testing import InternalErrors

VALID_TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
ALB = "Self=1-67891234-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678;Sampled=1"
HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    ("headers", "trace_id", "source"),
    [
        ({"x-request-id": "abc-123-def-456"}, "abc-123-def-456", "x-request-id"),
        ({"X-Request-ID": "ABC-123", "traceparent": VALID_TP}, "ABC-123", "x-request-id"),
        ({"x-request-id": "has space", "traceparent": VALID_TP}, TRACE, "traceparent"),
        ({"x-request-id": "a" * 129, "traceparent": VALID_TP}, TRACE, "traceparent"),
        ({"x-request-id": "a" * 128}, "a" * 128, "x-request-id"),
        ({"x-request-id": "req:1.2_3-4"}, "req:1.2_3-4", "x-request-id"),
        ({"traceparent": VALID_TP}, TRACE, "traceparent"),
        ({"traceparent": VALID_TP.upper()}, None, "generated"),
        ({"traceparent": "00-" + "0" * 32 + "-00f067aa0ba902b7-01"}, None, "generated"),
        ({"traceparent": "00-" + TRACE + "-" + "0" * 16 + "-01"}, None, "generated"),
        ({"traceparent": "ff-" + TRACE + "-00f067aa0ba902b7-01"}, None, "generated"),
        ({"traceparent": VALID_TP + "-extra"}, None, "generated"),
        ({"traceparent": "01-" + TRACE + "-00f067aa0ba902b7-01-future"}, TRACE, "traceparent"),
        ({"traceparent": "garbage"}, None, "generated"),
        ({"x-amzn-trace-id": "Root=1-5759e988-bd862e3fe1be46a994272793"},
         "5759e988bd862e3fe1be46a994272793", "x-amzn-trace-id"),
        ({"x-amzn-trace-id": ALB}, "67891233abcdef012345678912345678", "x-amzn-trace-id"),
        ({"x-amzn-trace-id": "Root=nonsense"}, None, "generated"),
        ({"traceparent": VALID_TP, "x-amzn-trace-id": ALB}, TRACE, "traceparent"),
        ({}, None, "generated"),
    ],
)  # fmt: skip
def test_inbound_trace_id_rules(
    headers: dict[str, str], trace_id: str | None, source: str, sdk_errors: InternalErrors
) -> None:
    """X-Request-ID, then traceparent, then X-Amzn-Trace-Id Root, then a new 32-hex id."""
    sdk_errors.allow("invalid_inbound_id")
    ids = resolve_inbound(headers)
    assert ids.source == source
    if trace_id is None:
        assert HEX32.fullmatch(ids.trace_id)
    else:
        assert ids.trace_id == trace_id


def test_open_telemetry_span_comes_before_amazon_header() -> None:
    """With an active OpenTelemetry span and no W3C header, the span's trace id is used."""
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("request") as span:
        ids = resolve_inbound({"x-amzn-trace-id": ALB})
        context = span.get_span_context()
    assert ids.source == "otel"
    assert ids.trace_id == f"{context.trace_id:032x}"
    assert ids.span_id == f"{context.span_id:016x}"
    assert trace.get_current_span().get_span_context().is_valid is False


def test_invalid_ids_are_not_echoed_and_warned_once_a_minute(
    sdk_errors: InternalErrors, capfd: pytest.CaptureFixture[str]
) -> None:
    """An invalid X-Request-ID is ignored (a new id is echoed) with one stderr warning a minute."""
    sdk_errors.allow("invalid_inbound_id")
    first = resolve_inbound({"x-request-id": "<script>"})
    second = resolve_inbound({"x-request-id": "also bad"})
    assert first.response_id == first.trace_id != "<script>"
    assert second.request_id is None
    warnings = [line for line in capfd.readouterr().err.splitlines() if "invalid inbound id" in line]
    assert len(warnings) == 1
    assert sdk_errors.kinds().count("invalid_inbound_id") == 2


def test_tenant_header_is_validated_and_configurable(sdk_errors: InternalErrors) -> None:
    """The tenant comes from the configured header when valid, else stays null."""
    sdk_errors.allow("invalid_inbound_id")
    assert resolve_inbound({"x-tenant-id": "tenant_acme"}).tenant_id == "tenant_acme"
    assert resolve_inbound({"x-tenant-id": "bad tenant"}).tenant_id is None
    assert resolve_inbound({"x-org": "org-1"}, tenant_header="X-Org").tenant_id == "org-1"


def test_untrusted_inbound_ids_are_ignored() -> None:
    """``trust_inbound_ids=False`` ignores every inbound id header, the tenant included."""
    ids = resolve_inbound(
        {"x-request-id": "client-id", "traceparent": VALID_TP, "x-tenant-id": "t", "x-amzn-trace-id": ALB},
        trust_inbound_ids=False,
    )
    assert ids.source == "generated"
    assert ids.tenant_id is None
    assert ids.request_id is None


def test_inject_writes_request_id_traceparent_and_tenant() -> None:
    """``inject`` writes X-Request-ID, a fresh traceparent for 32-hex ids, and the tenant."""
    with lp.context_scope(trace_id=TRACE, tenant_id="acme"):
        first = inject({})
        second = inject({})
    assert first["X-Request-ID"] == TRACE
    assert first["X-Tenant-ID"] == "acme"
    assert re.fullmatch(rf"00-{TRACE}-[0-9a-f]{{16}}-01", first["traceparent"])
    assert first["traceparent"] != second["traceparent"]


def test_inject_skips_traceparent_for_other_ids_and_keeps_existing_headers() -> None:
    """No traceparent for a non-hex id; headers already in the carrier are kept."""
    with lp.context_scope(trace_id="abc-123", tenant_id="acme"):
        carrier = inject({"x-request-id": "mine"}, tenant=False)
    assert carrier == {"x-request-id": "mine"}


def test_inject_outside_a_trace_writes_nothing() -> None:
    """Without a current trace the carrier is left empty."""
    assert inject({}) == {}


def test_extract_reads_back_what_inject_wrote() -> None:
    """``extract(inject(...))`` gives the trace and tenant ids back."""
    with lp.context_scope(trace_id=TRACE, tenant_id="acme"):
        carrier = inject({})
    assert extract(carrier) == {"trace_id": TRACE, "tenant_id": "acme"}
    assert extract({"traceparent": VALID_TP}) == {"trace_id": TRACE}
    assert extract({}) == {}


@pytest.mark.parametrize(
    ("host", "patterns", "expected"),
    [("api.internal", None, True), ("api.internal", (), False), ("api.internal", ("*.internal",), True),
     ("api.internal:8443", ("*.internal",), True), ("evil.com", ("*.internal",), False),
     ("127.0.0.1:5000", ("127.0.0.1:5000",), True)],
)  # fmt: skip
def test_host_patterns(host: str, patterns: tuple[str, ...] | None, expected: bool) -> None:
    """Host patterns match names with or without a port; None matches every host."""
    assert host_matches(host, patterns) is expected


def test_traceparent_parser_rejects_bad_shapes() -> None:
    """Only lower-case, well-formed traceparents parse."""
    assert propagation.parse_traceparent(VALID_TP) == (TRACE, "00f067aa0ba902b7")
    for bad in ("", "00-xyz", VALID_TP.replace("-01", "-1"), " " * 3):
        assert propagation.parse_traceparent(bad) is None
