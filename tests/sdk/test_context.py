"""The context API: one ContextVar, immutable mappings, scopes, and how context travels."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import logpond.sdk as lp
from logpond.sdk import _context


def test_bind_and_reset_restore_the_previous_context() -> None:
    """``bind_context`` adds fields and ``reset_context`` puts back exactly what was there."""
    first = lp.bind_context(trace_id="t1", tenant_id="a")
    second = lp.bind_context(user_id=7)
    assert dict(lp.get_context()) == {"trace_id": "t1", "tenant_id": "a", "user_id": 7}
    lp.reset_context(second)
    assert dict(lp.get_context()) == {"trace_id": "t1", "tenant_id": "a"}
    lp.reset_context(first)
    assert dict(lp.get_context()) == {}


def test_get_context_is_read_only() -> None:
    """Assigning into the mapping ``get_context`` returns raises ``TypeError``."""
    token = lp.bind_context(trace_id="t1")
    try:
        context = lp.get_context()
        with pytest.raises(TypeError):
            context["trace_id"] = "other"  # type: ignore[index]
    finally:
        lp.reset_context(token)


def test_binding_copies_instead_of_mutating() -> None:
    """A mapping read before a bind does not change when the context is bound again."""
    token = lp.bind_context(trace_id="t1")
    before = lp.get_context()
    inner = lp.bind_context(trace_id="t2")
    assert before["trace_id"] == "t1"
    assert lp.current_trace_id() == "t2"
    lp.reset_context(inner)
    lp.reset_context(token)


def test_context_scope_resets_on_error() -> None:
    """``context_scope`` binds for its block and resets even when the block raises."""
    seen: list[tuple[str | None, str | None]] = []

    def fail() -> None:
        with lp.context_scope(trace_id="t1", tenant_id="acme"):
            seen.append((lp.current_trace_id(), lp.current_tenant_id()))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail()
    assert seen == [("t1", "acme")]
    assert lp.current_trace_id() is None


def test_context_scope_works_with_async_with() -> None:
    """``async with context_scope(...)`` binds in a coroutine and resets after."""

    async def main() -> tuple[str | None, str | None]:
        async with lp.context_scope(trace_id="t-async"):
            inside = lp.current_trace_id()
        return inside, lp.current_trace_id()

    assert asyncio.run(main()) == ("t-async", None)


def test_new_trace_id_is_32_lowercase_hex() -> None:
    """Generated trace ids are 128-bit, lower-case hex, and differ."""
    ids = {lp.new_trace_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 32 and i == i.lower() and int(i, 16) for i in ids)


def test_create_task_children_inherit_and_do_not_leak_back() -> None:
    """A task created under a context sees it; what the task binds stays in the task."""

    async def child() -> str | None:
        seen = lp.current_trace_id()
        lp.bind_context(trace_id="changed-in-child")
        return seen

    async def main() -> tuple[str | None, str | None]:
        with lp.context_scope(trace_id="parent"):
            seen = await asyncio.create_task(child())
            return seen, lp.current_trace_id()

    assert asyncio.run(main()) == ("parent", "parent")


def test_wrap_carries_context_into_a_plain_thread() -> None:
    """A function wrapped with ``wrap`` sees the caller's context on another thread."""
    seen: list[str | None] = []

    def look() -> None:
        seen.append(lp.current_trace_id())

    with lp.context_scope(trace_id="t-wrap"):
        thread = threading.Thread(target=lp.wrap(look))
    thread.start()
    thread.join()
    assert seen == ["t-wrap"]


def test_context_executor_carries_context_for_submit_and_map() -> None:
    """``ContextExecutor`` runs ``submit`` and ``map`` calls in the submitter's context."""
    with ThreadPoolExecutor(2) as pool, lp.context_scope(trace_id="t-pool"):
        executor = lp.ContextExecutor(pool)
        assert executor.submit(lp.current_trace_id).result() == "t-pool"
        assert list(executor.map(lambda _: lp.current_trace_id(), range(4))) == ["t-pool"] * 4


def test_to_thread_and_run_in_executor_carry_context() -> None:
    """``to_thread`` and ``run_in_executor`` carry the context; plain ``loop.run_in_executor`` does not."""

    async def main() -> tuple[str | None, str | None, str | None]:
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(1) as pool, lp.context_scope(trace_id="t-exec"):
            via_to_thread = await lp.to_thread(lp.current_trace_id)
            via_helper = await lp.run_in_executor(loop, pool, lp.current_trace_id)
            plain = await loop.run_in_executor(pool, lp.current_trace_id)
        return via_to_thread, via_helper, plain

    assert asyncio.run(main()) == ("t-exec", "t-exec", None)


def test_storage_is_one_context_var_holding_an_immutable_mapping() -> None:
    """The context lives in one ContextVar whose value is a read-only mapping."""
    token = lp.bind_context(a=1)
    try:
        value = _context._CONTEXT.get()
        assert value is lp.get_context()
        with pytest.raises(TypeError):
            value["a"] = 2  # type: ignore[index]
    finally:
        lp.reset_context(token)
