"""The redaction stage: PII is masked before anything is stored or shown.

Each group has a policy: the one its config entry declares, else one stored for it through
the CloudWatch API (added to the default), else the server's default (``DEFAULT_POLICY``
unless the config says otherwise) — so every group is protected from its first event. A
group in ``audit`` mode keeps its events unchanged and only counts. Findings are counted
per group, identifier type and minute (never the values) and handed to the store in the
background by :meth:`RedactionStage.drain`.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping

import pyarrow as pa
import pyarrow.compute as pc

from logpond.model.clock import Clock
from logpond.redact import DEFAULT_POLICY, Policy, Redactor

__all__ = ["FindingKey", "RedactionStage"]

# (minute in ms, group name, identifier type)
FindingKey = tuple[int, str, str]
MINUTE_MS = 60_000


class RedactionStage:
    """A pipeline stage (``batch -> batch``) that masks PII with each group's policy."""

    def __init__(
        self,
        clock: Clock,
        *,
        default: Policy = DEFAULT_POLICY,
        groups: Mapping[str, Policy] | None = None,
        stored: Mapping[str, Policy] | None = None,
    ) -> None:
        self._clock = clock
        self.default = default
        self._groups = dict(groups or {})
        self._stored = dict(stored or {})
        self._redactors: dict[Policy, Redactor] = {}
        self._findings: Counter[FindingKey] = Counter()
        self._lock = threading.Lock()

    def policy_for(self, group: str) -> Policy:
        """The configured policy of a group, then one stored for it, then the default."""
        configured = self._groups.get(group)
        if configured is not None:
            return configured
        return self._stored.get(group, self.default)

    def set_group_policy(self, group: str, policy: Policy | None) -> None:
        """A group's stored policy changed (CloudWatch PutDataProtectionPolicy): use it now."""
        if policy is None:
            self._stored.pop(group, None)
        else:
            self._stored[group] = policy

    def source(self, group: str) -> str:
        """Where the group's policy comes from: ``config``, ``stored`` or ``default``."""
        if group in self._groups:
            return "config"
        return "stored" if group in self._stored else "default"

    def _redactor(self, policy: Policy) -> Redactor:
        redactor = self._redactors.get(policy)
        if redactor is None:
            redactor = self._redactors.setdefault(policy, Redactor(policy))
        return redactor

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        groups = pc.unique(batch.column("log_group")).to_pylist()
        if len(groups) == 1:
            masked, counts = self._redactor(self.policy_for(groups[0])).redact_batch(batch)
            self._count(groups[0], counts)
            return masked
        parts = []
        for group in groups:
            part = batch.filter(pc.equal(batch.column("log_group"), pa.scalar(group, pa.string())))
            masked, counts = self._redactor(self.policy_for(group)).redact_batch(part)
            self._count(group, counts)
            parts.append(masked)
        # Rows keep their order within a group; across groups order carries no meaning.
        table = pa.Table.from_batches(parts, schema=batch.schema).combine_chunks()
        return table.to_batches()[0]

    def _count(self, group: str, counts: Counter[str]) -> None:
        if not counts:
            return
        minute = self._clock.now_ms() // MINUTE_MS * MINUTE_MS
        with self._lock:
            for identifier, count in counts.items():
                self._findings[(minute, group, identifier)] += count

    def drain(self) -> dict[FindingKey, int]:
        """The findings counted since the last drain."""
        with self._lock:
            findings, self._findings = dict(self._findings), Counter()
        return findings
