"""The CloudWatch Logs JSON 1.1 protocol: reading members with the service model's
constraints, CloudWatch's error codes and messages, group names, identifiers and ARNs,
paging tokens, and the table of operations.

Validation messages follow AWS's convention: ``1 validation error detected: Value 'x' at
'logGroupName' failed to satisfy constraint: Member must ...``. botocore checks required
members, types and minimums before sending; the server checks the rest (maximums,
patterns, enums), and everything again for clients that do not validate.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.responses import Response

from logpond.ingest.cloudwatch import validation_error as validation
from logpond.model.errors import (
    InvalidParameterError,
    LogpondError,
    ResourceAlreadyExistsError,
    ResourceNotFoundError,
)
from logpond.store.base import decode_token as decode_store_token
from logpond.store.base import encode_token

from ...access import Access
from ...services import Services

__all__ = [
    "OPERATIONS",
    "TARGET_PREFIX",
    "Call",
    "InvalidOperationError",
    "Operation",
    "SerializationError",
    "TooManyTagsError",
    "UnknownOperationError",
    "ValidationError",
    "decode_token",
    "encode_token",
    "in_thread",
    "operation",
    "validation",
]

T = TypeVar("T")

TARGET_PREFIX = "Logs_20140328."

GROUP_NAME_RE = re.compile(r"[\.\-_/#A-Za-z0-9]+")
GROUP_IDENTIFIER_RE = re.compile(r"[\w#+=/:,.@-]*")
STREAM_NAME_RE = re.compile(r"[^:*]*")
ARN_RE = re.compile(r"arn:aws[\w-]*:logs:([^:]*):([^:]*):log-group:([^:]+)(:\*)?")
LOG_GROUP_CLASSES = ("STANDARD", "INFREQUENT_ACCESS", "DELIVERY")


class SerializationError(InvalidParameterError):
    """The body is not a JSON object, or a member has the wrong JSON type."""

    code = "SerializationException"


class UnknownOperationError(InvalidParameterError):
    """``X-Amz-Target`` names no operation of the service."""

    code = "UnknownOperationException"


class ValidationError(InvalidParameterError):
    """CloudWatch's ValidationException (e.g. deleting a protected log group)."""

    code = "ValidationException"


class InvalidOperationError(InvalidParameterError):
    """The operation is not valid on this resource in its current state."""

    code = "InvalidOperationException"


class TooManyTagsError(InvalidParameterError):
    """More than 50 tags would be on the resource."""

    code = "TooManyTagsException"


@dataclass(slots=True)
class Call:
    """One CloudWatch request: its members, who asks, and the server's parts."""

    body: dict[str, Any]
    access: Access
    svc: Services
    request_id: str

    # Members

    def string(
        self,
        name: str,
        *,
        required: bool = False,
        min_len: int = 1,
        max_len: int | None = None,
        pattern: re.Pattern[str] | None = None,
        pattern_text: str = "",
        enum: tuple[str, ...] | None = None,
    ) -> str | None:
        value = self.body.get(name)
        if value is None:
            if required:
                raise validation("null", name, "not be null")
            return None
        if not isinstance(value, str):
            raise SerializationError(f"STRING_VALUE can not be converted to a {type(value).__name__}")
        if len(value) < min_len:
            raise validation(value, name, f"have length greater than or equal to {min_len}")
        if max_len is not None and len(value) > max_len:
            raise validation(value, name, f"have length less than or equal to {max_len}")
        if pattern is not None and not pattern.fullmatch(value):
            raise validation(
                value, name, f"satisfy regular expression pattern: {pattern_text or pattern.pattern}"
            )
        if enum is not None and value not in enum:
            raise validation(value, name, f"satisfy enum value set: [{', '.join(enum)}]")
        return value

    def required_string(self, name: str, **constraints: Any) -> str:
        value = self.string(name, required=True, **constraints)
        assert value is not None
        return value

    def integer(
        self, name: str, *, required: bool = False, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        value = self.body.get(name)
        if value is None:
            if required:
                raise validation("null", name, "not be null")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise SerializationError(f"NUMBER_VALUE can not be converted from {value!r}")
        if minimum is not None and value < minimum:
            raise validation(value, name, f"have value greater than or equal to {minimum}")
        if maximum is not None and value > maximum:
            raise validation(value, name, f"have value less than or equal to {maximum}")
        return value

    def boolean(self, name: str) -> bool | None:
        value = self.body.get(name)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise SerializationError(f"BOOLEAN_VALUE can not be converted from {value!r}")
        return value

    def strings(
        self,
        name: str,
        *,
        required: bool = False,
        min_items: int = 0,
        max_items: int | None = None,
        item_max: int | None = None,
        item_pattern: re.Pattern[str] | None = None,
    ) -> list[str] | None:
        value = self.body.get(name)
        if value is None:
            if required:
                raise validation("null", name, "not be null")
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SerializationError(f"{name} must be a list of strings")
        if len(value) < min_items:
            raise validation(value, name, f"have length greater than or equal to {min_items}")
        if max_items is not None and len(value) > max_items:
            raise validation(value, name, f"have length less than or equal to {max_items}")
        for index, item in enumerate(value, start=1):
            if not item:
                raise validation(item, f"{name}.{index}.member", "have length greater than or equal to 1")
            if item_max is not None and len(item) > item_max:
                raise validation(
                    item, f"{name}.{index}.member", f"have length less than or equal to {item_max}"
                )
            if item_pattern is not None and not item_pattern.fullmatch(item):
                raise validation(
                    item,
                    f"{name}.{index}.member",
                    f"satisfy regular expression pattern: {item_pattern.pattern}",
                )
        return list(value)

    def mapping(self, name: str, *, required: bool = False) -> dict[str, Any] | None:
        value = self.body.get(name)
        if value is None:
            if required:
                raise validation("null", name, "not be null")
            return None
        if not isinstance(value, dict):
            raise SerializationError(f"{name} must be an object")
        return value

    # Log groups

    def group_name(self, name: str = "logGroupName", *, required: bool = True) -> str | None:
        return self.string(
            name, required=required, max_len=512, pattern=GROUP_NAME_RE, pattern_text=r"[\.\-_/#A-Za-z0-9]+"
        )

    def required_group_name(self, name: str = "logGroupName") -> str:
        value = self.group_name(name)
        assert value is not None
        return value

    def group(
        self, *, name_member: str = "logGroupName", identifier_member: str = "logGroupIdentifier"
    ) -> str:
        """The group named by exactly one of a name member and an identifier member."""
        name = self.group_name(name_member, required=False)
        identifier = self.string(identifier_member, max_len=2048, pattern=GROUP_IDENTIFIER_RE)
        if (name is None) == (identifier is None):
            raise InvalidParameterError(
                f"Exactly one of {name_member} or {identifier_member} must be provided."
            )
        return name if name is not None else self.identifier_to_name(identifier or "")

    def identifier_to_name(self, identifier: str) -> str:
        """A log group name from a name or an ARN (of this account; any region)."""
        if not identifier.startswith("arn:"):
            return identifier
        match = ARN_RE.fullmatch(identifier)
        if match is None:
            raise InvalidParameterError(f"Invalid log group identifier: {identifier}")
        _, account, name, _ = match.groups()
        if account != self.svc.settings.auth.account_id:
            raise ResourceNotFoundError("The specified log group does not exist.")
        return name

    def existing_group(self, name: str) -> Any:
        """The stored group, or CloudWatch's not-found error."""
        group = self.svc.store.find_group(name)
        if group is None:
            raise ResourceNotFoundError("The specified log group does not exist.")
        return group

    def existing_stream(self, group: str, stream: str) -> None:
        """Raise CloudWatch's not-found error unless the stream exists (an in-memory lookup)."""
        try:
            self.svc.store.get_stream(group, stream)
        except ResourceNotFoundError:
            raise ResourceNotFoundError("The specified log stream does not exist.") from None

    def group_arn(self, name: str) -> str:
        return self.access.arns.group(name)

    def stream_name(self, name: str = "logStreamName", *, required: bool = True) -> str | None:
        return self.string(name, required=required, max_len=512, pattern=STREAM_NAME_RE)

    def required_stream_name(self, name: str = "logStreamName") -> str:
        value = self.stream_name(name)
        assert value is not None
        return value


def decode_token(token: str | None, name: str = "nextToken") -> Any:
    """The value inside a paging token we made; anything else is CloudWatch's invalid-token error."""
    if token is None:
        return None
    try:
        return decode_store_token(token)
    except InvalidParameterError:
        raise InvalidParameterError(f"The specified {name} is invalid.") from None


Handler = Callable[[Call], Awaitable[Mapping[str, Any] | Response]]


@dataclass(frozen=True, slots=True)
class Operation:
    """An operation: its handler and the IAM action a caller needs."""

    name: str
    handler: Handler

    @property
    def action(self) -> str:
        return "logs:" + self.name


OPERATIONS: dict[str, Operation] = {}


def operation(name: str) -> Callable[[Handler], Handler]:
    """Register a handler for ``Logs_20140328.<name>``."""

    def register(handler: Handler) -> Handler:
        if name in OPERATIONS:
            raise LogpondError("operation registered twice", operation=name)
        OPERATIONS[name] = Operation(name, handler)
        return handler

    return register


_NOT_FOUND = {
    "log_stream": "The specified log stream does not exist.",
    "log_group": "The specified log group does not exist.",
}
_EXISTS = {
    "log_stream": "The specified log stream already exists",
    "log_group": "The specified log group already exists",
}


async def in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking store call off the event loop, with CloudWatch's wording of its errors."""
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except ResourceNotFoundError as exc:
        for key, text in _NOT_FOUND.items():
            if key in exc.details:
                raise ResourceNotFoundError(text) from None
        raise
    except ResourceAlreadyExistsError as exc:
        for key, text in _EXISTS.items():
            if key in exc.details:
                raise ResourceAlreadyExistsError(text) from None
        raise
