"""Group and stream names, tags and retention follow CloudWatch's rules."""

from __future__ import annotations

import pytest

from logpond.model.errors import InvalidNameError, InvalidParameterError, LimitExceededError
from logpond.model.names import LogGroupName, LogStreamName, validate_tags
from logpond.model.retention import RETENTION_DAYS, expiry_cutoff_ms, parse_retention_days


@pytest.mark.parametrize("name", ["/qualisys/staging/api", "a", "A.b-c_d/e#f9", "x" * 512, "/aws/lambda/fn"])
def test_valid_group_names(name: str) -> None:
    """Names of 1-512 characters from the allowed set are accepted."""
    assert LogGroupName(name) == name


@pytest.mark.parametrize("name", ["", "x" * 513, "has space", "semi;colon", "ünïcode", "aws/reserved", "a:b"])
def test_invalid_group_names(name: str) -> None:
    """Empty, too long, reserved or out-of-set names are refused."""
    with pytest.raises(InvalidNameError):
        LogGroupName(name)


@pytest.mark.parametrize("name", ["pod-1", "i-0abc/2026/01/24", "with space", "ü", "x" * 512])
def test_valid_stream_names(name: str) -> None:
    """Stream names may hold anything but : and *, up to 512 characters."""
    assert LogStreamName(name) == name


@pytest.mark.parametrize("name", ["", "a:b", "a*b", "x" * 513])
def test_invalid_stream_names(name: str) -> None:
    """Empty, too long, or with : or * is refused."""
    with pytest.raises(InvalidNameError):
        LogStreamName(name)


def test_tags() -> None:
    """Up to 50 tags with keys of 1-128 and values of 0-256 allowed characters."""
    assert validate_tags({"Environment": "production", "empty": ""}) == {
        "Environment": "production",
        "empty": "",
    }
    with pytest.raises(LimitExceededError):
        validate_tags({str(i): "v" for i in range(51)})
    for bad in ({"": "v"}, {"k" * 129: "v"}, {"k": "v" * 257}, {"aws:x": "v"}, {"k": "<b>"}):
        with pytest.raises(InvalidParameterError):
            validate_tags(bad)


def test_retention_values() -> None:
    """Only CloudWatch's retention values are accepted; none means never expire."""
    assert [parse_retention_days(d) for d in (1, "30", None, "never")] == [1, 30, None, None]
    assert len(RETENTION_DAYS) == 22 and RETENTION_DAYS[-1] == 3653
    for bad in (0, 2, 31, 10_000, "x", 1.5, True):
        with pytest.raises(InvalidParameterError):
            parse_retention_days(bad)
    assert expiry_cutoff_ms(None, 10**12) is None
    assert expiry_cutoff_ms(1, 10**12) == 10**12 - 86_400_000
