"""The ingest pipeline: decoded batch -> checks -> stages -> writer -> after-commit hooks.

Every protocol's decoded batch goes through :meth:`IngestPipeline.ingest`: the groups are
authorized (and created when the caller may), expired rows are refused one by one, the
registered stages run over the whole batch (redaction, metric filters), the writer commits,
and hooks such as live tail see the committed batch. Nothing here speaks a protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from logpond.auth.policy import Arns, Principal, authorize, is_allowed
from logpond.ingest.base import Decoded, Rejection
from logpond.model.clock import Clock
from logpond.model.errors import ResourceNotFoundError
from logpond.model.limits import MAX_REJECTIONS_REPORTED
from logpond.model.names import LogGroupName
from logpond.model.retention import expiry_cutoff_ms
from logpond.store.base import AppendResult, Store

__all__ = ["BatchStage", "CommitHook", "IngestPipeline", "IngestResult"]

# A stage takes a batch and returns the batch to store (same rows, maybe changed values).
BatchStage = Callable[[pa.RecordBatch], pa.RecordBatch]
# A hook sees each committed batch (live tail fan-out, ...); it must not block.
CommitHook = Callable[[pa.RecordBatch, AppendResult], None]


@dataclass(slots=True)
class IngestResult:
    """What happened to one request's records."""

    accepted: int
    rejected: list[Rejection] = field(default_factory=list)
    rejected_count: int = 0
    first_seq: int | None = None
    last_seq: int | None = None

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {
            "accepted": self.accepted,
            "rejected": [{"line": r.line, "reason": r.reason} for r in self.rejected],
        }
        if self.rejected_count > len(self.rejected):
            body["rejected_count"] = self.rejected_count
        return body


@dataclass
class IngestPipeline:
    """See the module docstring."""

    store: Store
    clock: Clock
    arns: Arns
    default_retention_days: int | None = None
    stages: list[BatchStage] = field(default_factory=list)
    hooks: list[CommitHook] = field(default_factory=list)

    async def ingest(
        self,
        decoded: Decoded,
        principal: Principal,
        *,
        create_streams: bool = True,
        to_thread: Callable[..., Awaitable[object]] = asyncio.to_thread,
    ) -> IngestResult:
        """Store a decoded request for a principal; returns accepted and rejected records."""
        batch, lines = decoded.batch, decoded.lines
        rejections = list(decoded.rejections)
        if batch.num_rows:
            groups = pc.unique(batch.column("log_group")).to_pylist()
            for name in groups:
                await self._authorize_group(name, principal, to_thread)
            batch, lines = self._drop_expired(batch, lines, groups, rejections)
        for stage in self.stages:
            if batch.num_rows:
                batch = stage(batch)
        result = AppendResult(0)
        if batch.num_rows:
            result = await asyncio.wrap_future(self.store.append(batch, create_streams=create_streams))
            for hook in self.hooks:
                hook(batch, result)
        rejections.sort(key=lambda r: r.line)
        return IngestResult(
            accepted=result.accepted,
            rejected=rejections[:MAX_REJECTIONS_REPORTED],
            rejected_count=len(rejections),
            first_seq=result.first_seq,
            last_seq=result.last_seq,
        )

    async def _authorize_group(
        self, name: str, principal: Principal, to_thread: Callable[..., Awaitable[object]]
    ) -> None:
        arn = self.arns.group(name)
        authorize(principal, "logs:PutLogEvents", arn)
        if self.store.find_group(name) is not None:
            return
        if not is_allowed(principal, "logs:CreateLogGroup", arn):
            raise ResourceNotFoundError(
                "log group not found, and this key may not create log groups", log_group=name
            )
        await to_thread(
            lambda: self.store.create_group(
                LogGroupName(name), retention_days=self.default_retention_days, exist_ok=True
            )
        )

    def _drop_expired(
        self,
        batch: pa.RecordBatch,
        lines: pa.Array,
        groups: Sequence[str],
        rejections: list[Rejection],
    ) -> tuple[pa.RecordBatch, pa.Array]:
        """Refuse rows older than their group's retention: they could never be read."""
        now = self.clock.now_ms()
        expired: pa.Array | None = None
        for name in groups:
            group = self.store.find_group(name)
            cutoff = None if group is None else expiry_cutoff_ms(group.retention_days, now)
            if cutoff is None:
                continue
            # Scalars are typed: pyarrow's type inference for a bare Python value is slow.
            mask = pc.and_(
                pc.equal(batch.column("log_group"), pa.scalar(name, pa.string())),
                pc.less(batch.column("timestamp"), pa.scalar(cutoff, pa.int64())),
            )
            expired = mask if expired is None else pc.or_(expired, mask)
        if expired is None or not pc.any(expired).as_py():
            return batch, lines
        for line in pc.filter(lines, expired).to_pylist():
            rejections.append(Rejection(line, "timestamp is older than the log group's retention"))
        keep = pc.invert(expired)
        return batch.filter(keep), pc.filter(lines, keep)
