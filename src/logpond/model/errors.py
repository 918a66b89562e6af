"""The error tree every layer raises; the server renders it once per API surface.

::

    LogpondError                        500  InternalFailure
    ├── InvalidParameterError           400  InvalidParameterException
    │   ├── InvalidNameError            400  InvalidParameterException
    │   └── MalformedQueryError         400  MalformedQueryException
    ├── AuthenticationError             401  UnrecognizedClientException
    ├── AccessDeniedError               403  AccessDeniedException
    ├── ResourceNotFoundError           404  ResourceNotFoundException
    ├── ResourceAlreadyExistsError      409  ResourceAlreadyExistsException
    ├── PayloadTooLargeError            413  PayloadTooLargeException
    ├── UnsupportedMediaTypeError       415  UnsupportedMediaTypeException
    ├── LimitExceededError              429  LimitExceededException
    ├── QueryCancelledError             409  QueryCancelledException
    └── ServiceUnavailableError         503  ServiceUnavailableException

``code`` is the machine-readable name (CloudWatch's where one exists), ``status`` the HTTP
status of the native API, ``details`` the data behind the message. Messages are short and
lowercase; the data goes in ``details``.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AccessDeniedError",
    "AuthenticationError",
    "InvalidNameError",
    "InvalidParameterError",
    "LimitExceededError",
    "LogpondError",
    "MalformedQueryError",
    "PayloadTooLargeError",
    "QueryCancelledError",
    "ResourceAlreadyExistsError",
    "ResourceNotFoundError",
    "ServiceUnavailableError",
    "UnsupportedMediaTypeError",
]


class LogpondError(Exception):
    """Root of every error logpond raises on purpose."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "InternalFailure"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    def to_dict(self) -> dict[str, Any]:
        """The native API error body: code, message and the details."""
        return {"error": self.code, "message": self.message, **self.details}


class InvalidParameterError(LogpondError):
    """A request parameter is missing, malformed or out of range."""

    status = 400
    code = "InvalidParameterException"


class InvalidNameError(InvalidParameterError):
    """A log group or stream name breaks the naming rules."""


class MalformedQueryError(InvalidParameterError):
    """A query or filter pattern does not parse; carries where and what was expected."""

    code = "MalformedQueryException"

    def __init__(
        self,
        message: str,
        *,
        line: int,
        column: int,
        offset: int,
        end_offset: int | None = None,
        snippet: str = "",
        **details: Any,
    ) -> None:
        super().__init__(
            message,
            line=line,
            column=column,
            offset=offset,
            end_offset=offset if end_offset is None else end_offset,
            snippet=snippet,
            **details,
        )
        self.line = line
        self.column = column
        self.offset = offset
        self.end_offset = offset if end_offset is None else end_offset
        self.snippet = snippet

    def __str__(self) -> str:
        return f"{self.message} at line {self.line}, column {self.column}"


class AuthenticationError(LogpondError):
    """No credential, an unknown key, or a wrong secret."""

    status = 401
    code = "UnrecognizedClientException"


class AccessDeniedError(LogpondError):
    """The credential is valid but its policy does not allow the action on the resource."""

    status = 403
    code = "AccessDeniedException"


class ResourceNotFoundError(LogpondError):
    """The log group, stream, key or other resource does not exist."""

    status = 404
    code = "ResourceNotFoundException"


class ResourceAlreadyExistsError(LogpondError):
    """Creating something that already exists."""

    status = 409
    code = "ResourceAlreadyExistsException"


class PayloadTooLargeError(LogpondError):
    """A request body, decompressed body or record is larger than its limit."""

    status = 413
    code = "PayloadTooLargeException"


class UnsupportedMediaTypeError(LogpondError):
    """A body in a content type or encoding the endpoint does not read."""

    status = 415
    code = "UnsupportedMediaTypeException"


class LimitExceededError(LogpondError):
    """A quota is exhausted (too many tags, too many concurrent queries, ...)."""

    status = 429
    code = "LimitExceededException"


class QueryCancelledError(LogpondError):
    """A query was stopped (cancelled, or over its time limit) before it finished."""

    status = 409
    code = "QueryCancelledException"


class ServiceUnavailableError(LogpondError):
    """The server cannot take the request now (shutting down, writer overloaded); retry later."""

    status = 503
    code = "ServiceUnavailableException"

    def __init__(self, message: str, *, retry_after: int = 1, **details: Any) -> None:
        super().__init__(message, retry_after=retry_after, **details)
        self.retry_after = retry_after
