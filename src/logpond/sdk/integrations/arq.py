"""arq: the carrier travels as the reserved keyword argument ``_logpond``.

::

    await enqueue_job(redis, "charge", order_id)           # publisher

    @traced                                                  # worker function
    async def charge(ctx, order_id): ...

``traced`` binds the carrier (plus ``job_id``, ``job_name`` and ``retry`` from arq's
``job_try``) around the function and removes the keyword before calling it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ._jobs import carrier, job_scope

__all__ = ["CARRIER_KWARG", "enqueue_job", "traced"]

CARRIER_KWARG = "_logpond"
R = TypeVar("R")


async def enqueue_job(redis: Any, function: str, *args: Any, **kwargs: Any) -> Any:
    """``redis.enqueue_job`` (an ``ArqRedis``) with the current ids as ``_logpond``."""
    kwargs[CARRIER_KWARG] = carrier()
    return await redis.enqueue_job(function, *args, **kwargs)


def traced(fn: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    """Run an arq job function in the trace its publisher sent."""

    @functools.wraps(fn)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> R:
        source = kwargs.pop(CARRIER_KWARG, None)
        job_try = int(ctx.get("job_try", 1) or 1)
        with job_scope(
            source if isinstance(source, dict) else None,
            retry=job_try - 1,
            job_id=ctx.get("job_id"),
            job_name=fn.__name__,
        ):
            return await fn(ctx, *args, **kwargs)

    return run
