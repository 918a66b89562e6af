"""Domain types and rules: names, retention, limits, the event schema, the error tree.

No I/O happens here; every other package builds on these definitions.
"""

from .errors import (
    AccessDeniedError,
    AuthenticationError,
    InvalidNameError,
    InvalidParameterError,
    LimitExceededError,
    LogpondError,
    MalformedQueryError,
    PayloadTooLargeError,
    ResourceAlreadyExistsError,
    ResourceNotFoundError,
    ServiceUnavailableError,
    UnsupportedMediaTypeError,
)
from .names import LogGroupName, LogStreamName, validate_tags
from .retention import RETENTION_DAYS, expiry_cutoff_ms, parse_retention_days

__all__ = [
    "RETENTION_DAYS",
    "AccessDeniedError",
    "AuthenticationError",
    "InvalidNameError",
    "InvalidParameterError",
    "LimitExceededError",
    "LogGroupName",
    "LogStreamName",
    "LogpondError",
    "MalformedQueryError",
    "PayloadTooLargeError",
    "ResourceAlreadyExistsError",
    "ResourceNotFoundError",
    "ServiceUnavailableError",
    "UnsupportedMediaTypeError",
    "expiry_cutoff_ms",
    "parse_retention_days",
    "validate_tags",
]
