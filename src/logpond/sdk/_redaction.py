"""The seam between the SDK and ``logpond.redact``: the same rules and masks as the server.

``build_redaction`` turns ``init``'s ``redaction`` setting into one function that masks the
caller's part of a record (message, context extras, fields, error) and marks it with
``redacted: [<types>]``. The policy is checked and compiled here, at ``init``: an invalid
custom regex fails then, never at log time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from logpond.model.errors import InvalidParameterError
from logpond.redact import DEFAULT_POLICY, Policy, Redactor

__all__ = ["Redact", "build_redaction"]

Redact = Callable[[dict[str, Any]], dict[str, Any]]

_OFF = {"0", "false", "no", "off", "none", "disabled"}
_ON = {"1", "true", "yes", "on", "default", "enabled"}


def _policy(setting: Any) -> Policy | Redactor | None:
    if setting is None or setting is False:
        return None
    if setting is True:
        return DEFAULT_POLICY
    if isinstance(setting, Policy | Redactor):
        return setting
    if isinstance(setting, str):
        text = setting.strip().lower()
        if text in _OFF:
            return None
        if text in _ON:
            return DEFAULT_POLICY
        raise InvalidParameterError("redaction must be on, off, a Policy or a mapping", value=setting)
    if isinstance(setting, Mapping):
        return Policy.from_dict(setting)
    raise InvalidParameterError(
        "redaction must be True, False, a Policy, a Redactor or a mapping", value=repr(setting)
    )


def build_redaction(
    setting: Any,
    veto: Callable[[str, str], bool] | None,
    max_scan_chars: int,
) -> Redact | None:
    """The redaction function for ``setting`` (None when redaction is off).

    A policy that does not bound its scan gets ``max_scan_chars``: a string is scanned only
    in its first characters, so one huge field cannot make a logging call slow.
    """
    chosen = _policy(setting)
    if chosen is None:
        return None
    if isinstance(chosen, Redactor):
        if veto is not None:
            raise InvalidParameterError("pass the veto to your Redactor, or pass a Policy")
        redactor = chosen
    else:
        if chosen.max_scan_chars is None:
            chosen = dataclasses.replace(chosen, max_scan_chars=max_scan_chars)
        redactor = Redactor(chosen, veto=veto)
    redact_record = redactor.redact_record

    def redact(body: dict[str, Any]) -> dict[str, Any]:
        return redact_record(body, mark=True)[0]

    return redact
