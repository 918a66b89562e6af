"""The CloudWatch side of alerting through boto3, as Terraform and scripts use it: a metric
filter made with the ``logs`` client counts events shipped with PutLogEvents, and the
``cloudwatch`` client (the ``monitoring`` service, JSON 1.0) lists the metric, reads it
with metric math, and manages an alarm on it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config

from ..cloudwatch.conftest import _no_aws_environment  # noqa: F401 (autouse: no AWS settings leak in)
from .conftest import MINUTE, AlertServer, AlertServers
from .test_alarms_e2e import minute_of

GROUP = "/cw/metrics"
NAMESPACE = "Test/App"


def client(server: AlertServer, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.server.url,
        region_name="us-east-1",
        aws_access_key_id=server.server.access_key_id,
        aws_secret_access_key=server.server.secret_access_key,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def test_metric_filter_alarm_and_metric_math_through_boto3(alert_servers: AlertServers) -> None:
    server = alert_servers.start({"alerts": {"settle_seconds": 1}})
    logs, cloudwatch = client(server, "logs"), client(server, "cloudwatch")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="api-1")
    logs.put_metric_filter(
        logGroupName=GROUP,
        filterName="http-5xx",
        filterPattern="{ $.status >= 500 }",
        metricTransformations=[{"metricName": "Http5xx", "metricNamespace": NAMESPACE, "metricValue": "1"}],
    )
    minute = minute_of(server)
    statuses = [503, 200, 500, 502, 200]
    logs.put_log_events(
        logGroupName=GROUP,
        logStreamName="api-1",
        logEvents=[
            {"timestamp": minute + 1_000 + i, "message": f'{{"status": {status}, "path": "/v1/items"}}'}
            for i, status in enumerate(statuses)
        ],
    )

    listed = cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]
    assert [(m["Namespace"], m["MetricName"]) for m in listed] == [(NAMESPACE, "Http5xx")]

    cloudwatch.put_metric_alarm(
        AlarmName="cw-5xx",
        Namespace=NAMESPACE,
        MetricName="Http5xx",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=2,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    server.move_to(minute + MINUTE + 1_100)
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=["cw-5xx"])["MetricAlarms"]
    assert (alarm["StateValue"], alarm["Threshold"], alarm["MetricName"]) == ("ALARM", 2.0, "Http5xx")
    assert alarm["AlarmArn"].endswith(":alarm:cw-5xx")

    start = datetime.fromtimestamp(minute / 1000, UTC)
    end = datetime.fromtimestamp((minute + MINUTE) / 1000, UTC)
    data = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m1",
                "MetricStat": {
                    "Metric": {"Namespace": NAMESPACE, "MetricName": "Http5xx"},
                    "Period": 60,
                    "Stat": "Sum",
                },
                "ReturnData": False,
            },
            {"Id": "pct", "Expression": "m1 / 5 * 100", "Label": "share of requests"},
        ],
        StartTime=start,
        EndTime=end,
    )["MetricDataResults"]
    assert [(r["Id"], r["Label"], r["Values"]) for r in data] == [("pct", "share of requests", [60.0])]

    history = cloudwatch.describe_alarm_history(AlarmName="cw-5xx", HistoryItemType="StateUpdate")
    summaries = [item["HistorySummary"] for item in history["AlarmHistoryItems"]]
    assert summaries == ["Alarm updated from INSUFFICIENT_DATA to ALARM"]

    cloudwatch.delete_alarms(AlarmNames=["cw-5xx"])
    assert cloudwatch.describe_alarms(AlarmNames=["cw-5xx"])["MetricAlarms"] == []
    with pytest.raises(cloudwatch.exceptions.ResourceNotFound):
        cloudwatch.delete_alarms(AlarmNames=["cw-5xx"])
