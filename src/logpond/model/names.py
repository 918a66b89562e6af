"""Log group and stream names and tags, as validated types (CloudWatch Logs rules)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from .errors import InvalidNameError, InvalidParameterError, LimitExceededError
from .limits import (
    MAX_GROUP_NAME_CHARS,
    MAX_STREAM_NAME_CHARS,
    MAX_TAG_KEY_CHARS,
    MAX_TAG_VALUE_CHARS,
    MAX_TAGS_PER_GROUP,
)

__all__ = ["LogGroupName", "LogStreamName", "validate_tags"]

_GROUP_NAME_RE = re.compile(r"[._\-/#A-Za-z0-9]+")
_TAG_RE = re.compile(r"[\w\s.:/=+\-@]*", re.UNICODE)


class LogGroupName(str):
    """A log group name: 1-512 characters of ``[.-_/#A-Za-z0-9]``, not starting with ``aws/``."""

    __slots__ = ()

    def __new__(cls, value: str) -> LogGroupName:
        if isinstance(value, LogGroupName):
            return value
        if not isinstance(value, str) or not value:
            raise InvalidNameError("log group name must not be empty")
        if len(value) > MAX_GROUP_NAME_CHARS:
            raise InvalidNameError("log group name is too long", length=len(value), max=MAX_GROUP_NAME_CHARS)
        if not _GROUP_NAME_RE.fullmatch(value):
            raise InvalidNameError(
                "log group name may only contain letters, digits and . - _ / #",
                log_group=value,
            )
        if value.startswith("aws/"):
            raise InvalidNameError("log group names starting with aws/ are reserved", log_group=value)
        return super().__new__(cls, value)


class LogStreamName(str):
    """A log stream name: 1-512 characters, none of them ``:`` or ``*``."""

    __slots__ = ()

    def __new__(cls, value: str) -> LogStreamName:
        if isinstance(value, LogStreamName):
            return value
        if not isinstance(value, str) or not value:
            raise InvalidNameError("log stream name must not be empty")
        if len(value) > MAX_STREAM_NAME_CHARS:
            raise InvalidNameError(
                "log stream name is too long", length=len(value), max=MAX_STREAM_NAME_CHARS
            )
        if ":" in value or "*" in value:
            raise InvalidNameError("log stream name must not contain : or *", log_stream=value)
        return super().__new__(cls, value)


def validate_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """Check tag count, key and value rules; return the tags as a plain dict."""
    if not isinstance(tags, Mapping):
        raise InvalidParameterError("tags must be an object of string keys and values")
    if len(tags) > MAX_TAGS_PER_GROUP:
        raise LimitExceededError("too many tags", count=len(tags), max=MAX_TAGS_PER_GROUP)
    out: dict[str, str] = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidParameterError("tag keys and values must be strings", key=str(key))
        if not 1 <= len(key) <= MAX_TAG_KEY_CHARS or not _TAG_RE.fullmatch(key):
            raise InvalidParameterError("invalid tag key", key=key)
        if key.startswith("aws:"):
            raise InvalidParameterError("tag keys starting with aws: are reserved", key=key)
        if len(value) > MAX_TAG_VALUE_CHARS or not _TAG_RE.fullmatch(value):
            raise InvalidParameterError("invalid tag value", key=key)
        out[key] = value
    return out
