"""Routing rules and the shared shipper-record rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from logpond.ingest.base import EventColumns
from logpond.ingest.records import add_shipped, normalize_level, sniff_level, unflatten
from logpond.ingest.routing import Router, RouteRule
from logpond.model.errors import InvalidParameterError
from logpond.server.settings import load_settings

ROUTES_EXAMPLE = Path(__file__).parents[3] / "deploy" / "fluent-bit" / "logpond-routes.yaml"


def test_first_applicable_rule_wins_and_missing_fields_skip_a_rule() -> None:
    """A rule whose template names a missing field (no fallback) is skipped for the next."""
    router = Router(
        [
            RouteRule.build(protocols=["es"], group="/{team}/{kubernetes.labels.app}"),
            RouteRule.build(
                match={"kubernetes.namespace_name": "shop*"}, group="/shop/{x|misc}", stream="{host}"
            ),
        ]
    )
    record = {"kubernetes": {"namespace_name": "shop-eu", "labels": {"app": "web"}}, "host": "n1"}
    assert router.route("es", record, "idx", "s") == ("/shop/misc", "n1")
    assert router.route("es", {**record, "team": "pay"}, "idx", "s") == ("/pay/web", "s")
    assert router.route("loki", {"kubernetes.namespace_name": "other"}, "job", "s") == ("job", "s")


def test_names_are_made_valid() -> None:
    """Characters a group may not hold become _, a stream loses : and *."""
    assert Router().route("loki", {}, "a b:c", '{host="x:1"}') == ("a_b_c", '{host="x_1"}')


def test_bad_rules_are_refused() -> None:
    """Unknown protocols and rules without templates are configuration errors."""
    with pytest.raises(InvalidParameterError):
        RouteRule.build(protocols=["gelf"], group="/g")
    with pytest.raises(InvalidParameterError):
        RouteRule.build(match={"a": "b"})


def test_deploy_routes_example_loads_and_routes() -> None:
    """The routes shipped with the Fluent Bit DaemonSet give the Qualisys groups."""
    settings = load_settings(ROUTES_EXAMPLE, environ={})
    router = Router([RouteRule.build(**rule.model_dump()) for rule in settings.ingest.routes])
    record = {
        "kubernetes": {"container_name": "qualisys-worker", "pod_name": "w-1"},
        "environment": "staging",
    }
    assert router.route("forward", record, "kube.x", "s") == ("/qualisys/staging/worker", "w-1")


@pytest.mark.parametrize(
    ("value", "key", "level"),
    [("WARNING", "level", "warn"), ("Information", "level", "info"), ("3", "PRIORITY", "error"),
     (6, "priority", "info"), (50, "level", "error"), (40, "levelno", "error"), ("E", "level", "error")],
)  # fmt: skip
def test_levels_are_normalized(value: object, key: str, level: str) -> None:
    """Level words and numbers map to the six levels, numbers by the key they came in."""
    assert normalize_level(value, key) == level


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("W0123 10:15:31.000001       1 reflector.go:539] failed to list", "warn"),
        ('time="x" level=error msg="ExecSync failed"', "error"),
        ('{"level":"debug","msg":"x"}', "debug"),
        ("ERROR: disk full", "error"),
        ("Traceback (most recent call last):", "error"),
        ("panic: runtime error: index out of range", "fatal"),
        ("GET /healthz 200", None),
    ],
)
def test_levels_are_sniffed_from_lines(line: str, level: str | None) -> None:
    """klog letters, logfmt and JSON levels, leading words, tracebacks and panics."""
    assert sniff_level(line) == level


def test_shipped_record_spellings_are_promoted() -> None:
    """syslog-ng's MESSAGE/PRIORITY/PROGRAM and ECS nesting fill the columns."""
    columns = EventColumns()
    add_shipped(
        columns, 1, "g", "s",
        {"MESSAGE": "m", "PRIORITY": "err", "PROGRAM": "sshd", "@timestamp": "2024-01-23T10:15:30Z",
         "trace": {"id": "4BF92F3577B34DA6A3CE929D0E0E4736"}},
        0,
    )  # fmt: skip
    (row,) = columns.build([]).batch.to_pylist()
    assert (row["message"], row["level"], row["service"], row["timestamp"]) == (
        "m",
        "error",
        "sshd",
        1706004930000,
    )
    assert row["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert (
        row["fields"]
        == '{"PRIORITY":"err","PROGRAM":"sshd","trace":{"id":"4BF92F3577B34DA6A3CE929D0E0E4736"}}'
    )


def test_unflatten_keeps_clashing_keys_flat() -> None:
    """Dotted keys nest unless a scalar already holds the name."""
    assert unflatten({"k8s.pod.name": "p", "k8s.pod.uid": "u", "service": "x", "service.name": "y"}) == {
        "k8s": {"pod": {"name": "p", "uid": "u"}},
        "service": "x",
        "service.name": "y",
    }
