"""Alerting from logs: metric filters applied at ingest, per-minute metrics, alarms with
metric math, the evaluator, and notifications to Slack, webhooks and email.

See ``docs/alerts.md``. The server builds one :class:`Alerting` (``service.py``); the parts:
``metric_filters`` (ingest side), ``statistics`` and ``math`` (values), ``alarms``
(definitions and the state rule), ``evaluator``, ``channels``, ``delivery`` and
``notifiers/<kind>.py``.
"""

from .alarms import ALARM, INSUFFICIENT_DATA, OK, AlarmSpec, compile_alarm, decide, definition_from_native
from .config import AlertsConfig
from .math import parse_expression
from .metric_filters import MetricFilterHook, compile_metric_filter, metric_filter_from_native
from .notifiers.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from .service import Alerting

__all__ = [
    "ALARM",
    "INSUFFICIENT_DATA",
    "OK",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "AlarmSpec",
    "Alerting",
    "AlertsConfig",
    "MetricFilterHook",
    "compile_alarm",
    "compile_metric_filter",
    "decide",
    "definition_from_native",
    "metric_filter_from_native",
    "parse_expression",
    "sign",
]
