"""The configured SDK: one pipeline per process (build, redact, serialize, write or queue).

``init`` builds a :class:`Pipeline` from the settings and swaps it in; every logger, the
stdlib handler and the integrations hand their events to :func:`current`. Before ``init``
a default pipeline writes WARNING and above as JSON to stderr and never touches the network.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from types import FrameType
from typing import Any, Protocol

from . import _diagnostics
from ._config import (
    DEFAULT_MAX_SCAN_CHARS,
    NOT_GIVEN,
    SDKConfig,
    default_log_stream,
    load_config,
)
from ._context import _CONTEXT
from ._record import DEFAULT_MAX_RECORD_BYTES, DEFAULT_MAX_STACK_CHARS, RecordBuilder, cap_size, dumps
from ._redaction import Redact, build_redaction
from ._shipper import HTTPTransport, Shipper, ShipperSettings, Transport, exporting

__all__ = [
    "Output",
    "Pipeline",
    "ShippingOutput",
    "StreamOutput",
    "current",
    "flush",
    "init",
    "shutdown",
]

_WARNING = logging.WARNING
_local = threading.local()


class Output(Protocol):
    """Where serialized records go: a stream, the shipper, a test capture."""

    def write(self, line: bytes, levelno: int) -> None: ...

    def flush(self, timeout: float) -> bool: ...

    def shutdown(self, timeout: float) -> bool: ...


_streams: weakref.WeakSet[StreamOutput] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """A lock held by another thread at fork time would stay locked in the child: renew them."""
    for output in list(_streams):
        output._lock = threading.RLock()


os.register_at_fork(after_in_child=_after_fork_in_child)


class StreamOutput:
    """JSON Lines on stdout or stderr: one ``write`` (and flush) per record, under a lock."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.RLock()  # re-entrant: shutdown() may run in a signal handler
        _streams.add(self)

    def _stream(self) -> Any:
        return sys.stdout if self.name == "stdout" else sys.stderr

    def write(self, line: bytes, levelno: int) -> None:
        text = line.decode("utf-8", "replace") + "\n"
        stream = self._stream()
        if stream is None:
            return
        with self._lock:
            try:
                stream.write(text)
            except UnicodeEncodeError:  # a stream that is not UTF-8: escape instead
                stream.write(text.encode("ascii", "backslashreplace").decode("ascii"))
            stream.flush()

    def flush(self, timeout: float) -> bool:
        stream = self._stream()
        if stream is not None:
            with self._lock:
                stream.flush()
        return True

    def shutdown(self, timeout: float) -> bool:
        return self.flush(timeout)


class ShippingOutput:
    """Records to logpond's ingest API through a :class:`~logpond.sdk._shipper.Shipper`.

    After shutdown a record cannot be shipped any more: it is counted (``after_shutdown``)
    and written to stderr instead, unless the pipeline already writes to stdout or stderr.
    """

    def __init__(self, shipper: Shipper, fallback: bool) -> None:
        self.shipper = shipper
        self._fallback = StreamOutput("stderr") if fallback else None

    def write(self, line: bytes, levelno: int) -> None:
        if not self.shipper.enqueue(line, levelno) and self.shipper.closed and self._fallback:
            self._fallback.write(line, levelno)

    def flush(self, timeout: float) -> bool:
        return self.shipper.flush(timeout)

    def shutdown(self, timeout: float) -> bool:
        return self.shipper.shutdown(timeout)


class Pipeline:
    """Everything one configuration decided, compiled once; ``emit`` is the hot path."""

    def __init__(
        self,
        config: SDKConfig,
        outputs: Sequence[Output],
        redact: Redact | None,
        *,
        floor: int = 0,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        max_stack_chars: int = DEFAULT_MAX_STACK_CHARS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.outputs: tuple[Output, ...] = (*outputs, *_captures)
        self.redact = redact
        self.floor = floor  # records below this level are ignored (WARNING before init)
        self.max_record_bytes = max_record_bytes
        self.builder = RecordBuilder(config.service, config.environment, max_stack_chars)
        self.clock = clock
        self.closed = False
        self.dropped: Counter[str] = Counter()
        self._stderr = StreamOutput("stderr")

    @property
    def shipper(self) -> Shipper | None:
        for output in self.outputs:
            if isinstance(output, ShippingOutput):
                return output.shipper
        return None

    def render(
        self,
        levelno: int,
        message: str,
        logger: str,
        fields: Mapping[str, Any] | None,
        error: BaseException | None,
        context: Mapping[str, Any] | None = None,
        created: float | None = None,
    ) -> bytes:
        """One record, built, redacted and serialized (at most ``max_record_bytes``)."""
        head, body = self.builder.build(
            self.clock() if created is None else created,
            levelno,
            message,
            logger,
            _CONTEXT.get() if context is None else context,
            fields,
            error,
        )
        redact = self.redact
        if redact is not None:
            try:
                body = redact(body)
            except Exception as exc:  # fail closed: nothing unredacted leaves the process
                _diagnostics.report("redaction", "redaction failed; fields withheld", exc)
                body = {"message": "[REDACTED:redaction_error]", "redacted": ["redaction_error"]}
        head.update(body)
        line = dumps(head)
        if len(line) > self.max_record_bytes:
            line = cap_size(head, line, self.max_record_bytes)
        return line

    def emit(
        self,
        levelno: int,
        message: str,
        logger: str,
        fields: Mapping[str, Any] | None = None,
        error: BaseException | None = None,
        context: Mapping[str, Any] | None = None,
        created: float | None = None,
    ) -> None:
        """Build, redact, serialize and write one record; never raises, never waits on I/O."""
        if levelno < self.floor:
            return
        state = _local
        if getattr(state, "emitting", False):  # a handler logging from inside emit
            self.dropped["reentrant"] += 1
            return
        state.emitting = True
        try:
            internal = logger.startswith("logpond.sdk") or exporting()
            if internal and levelno < _WARNING:
                return
            line = self.render(levelno, message, logger, fields, error, context, created)
            if internal:  # the SDK's own records, and records logged while exporting
                self._stderr.write(line, levelno)
                return
            for output in self.outputs:
                output.write(line, levelno)
        except Exception as exc:
            _diagnostics.report("emit", "a record could not be written", exc)
        finally:
            state.emitting = False

    def flush(self, timeout: float) -> bool:
        """Flush every output within ``timeout`` seconds in all."""
        if self.closed:
            return True
        deadline = time.monotonic() + timeout
        ok = True
        for output in self.outputs:
            try:
                ok = output.flush(max(0.0, deadline - time.monotonic())) and ok
            except Exception as exc:
                _diagnostics.report("flush", "flushing an output failed", exc)
                ok = False
        return ok

    def shutdown(self, timeout: float) -> bool:
        """Flush and stop every output within ``timeout``; later records are counted and kept local."""
        if self.closed:
            return True
        deadline = time.monotonic() + timeout
        ok = True
        for output in self.outputs:
            try:
                ok = output.shutdown(max(0.0, deadline - time.monotonic())) and ok
            except Exception as exc:
                _diagnostics.report("shutdown", "stopping an output failed", exc)
                ok = False
        self.closed = True
        return ok


# --- the process-wide pipeline ----------------------------------------------------------------

_lock = threading.RLock()


def _default_pipeline() -> Pipeline:
    try:
        config = load_config(None, None, output=("stderr",))
    except Exception:  # a bad LOGPOND_* variable must not break the import; init will say
        config = SDKConfig(service="unknown_service", environment="development")
    return Pipeline(config, [StreamOutput("stderr")], None, floor=_WARNING)


_captures: list[Output] = []  # logpond.sdk.testing captures: part of every pipeline
_pipeline: Pipeline = _default_pipeline()
_configured = False


def add_capture(output: Output) -> None:
    """Add ``output`` to the current pipeline and every later one (testing helpers)."""
    with _lock:
        _captures.append(output)
        _pipeline.outputs = (*_pipeline.outputs, output)


def remove_capture(output: Output) -> None:
    with _lock:
        if output in _captures:
            _captures.remove(output)
        _pipeline.outputs = tuple(o for o in _pipeline.outputs if o is not output)


def current() -> Pipeline:
    """The pipeline records go through now."""
    return _pipeline


def configured() -> bool:
    """True once ``init`` has run (and until ``shutdown``)."""
    return _configured


def _outputs(config: SDKConfig, previous: Pipeline, transport: Transport | None) -> list[Output]:
    outputs: list[Output] = []
    for name in config.outputs:
        if name in ("stdout", "stderr"):
            outputs.append(StreamOutput(name))
            continue
        old = previous.shipper
        if (
            old is not None
            and not old.closed
            and transport is None
            and previous.config.shipping_key() == config.shipping_key()
        ):
            shipper = old
        else:
            assert config.endpoint is not None  # checked by load_config
            stream: str | Callable[[], str] = config.log_stream or default_log_stream
            shipper = Shipper(
                transport or HTTPTransport(config.endpoint),
                config.log_group,
                stream,
                api_key=config.api_key,
                identity={"service": config.service, "environment": config.environment},
                settings=ShipperSettings(
                    max_queue_records=config.max_queue_records,
                    max_queue_bytes=config.max_queue_bytes,
                    max_batch_records=config.max_batch_records,
                    max_batch_bytes=config.max_batch_bytes,
                    flush_interval=config.flush_interval,
                    retry_budget=config.retry_budget,
                    spool_dir=config.spool_dir,
                    spool_max_bytes=config.spool_max_bytes,
                ),
            )
        fallback = not ({"stdout", "stderr"} & set(config.outputs))
        outputs.append(ShippingOutput(shipper, fallback))
    return outputs


def init(
    service: str | None = None,
    environment: str | None = None,
    *,
    endpoint: str | None = None,
    api_key: str | None = None,
    level: str | int | None = None,
    output: str | Sequence[str] | None = None,
    redaction: Any = NOT_GIVEN,
    redaction_veto: Callable[[str, str], bool] | None = None,
    max_scan_chars: int | None = None,
    log_group: str | None = None,
    log_stream: str | None = None,
    transport: Transport | None = None,
    **settings: Any,
) -> SDKConfig:
    """Configure the SDK (see ``logpond.sdk.init``); returns the settings it decided."""
    global _pipeline, _configured  # noqa: PLW0603 - the one process-wide configuration
    config = load_config(
        service,
        environment,
        endpoint=endpoint,
        api_key=api_key,
        level=level,
        output=output,
        log_group=log_group,
        log_stream=log_stream,
        **settings,
    )
    if redaction is NOT_GIVEN:
        redaction = os.environ.get("LOGPOND_REDACTION") or True

    redact = build_redaction(redaction, redaction_veto, max_scan_chars or DEFAULT_MAX_SCAN_CHARS)
    with _lock:
        previous = _pipeline
        outputs: list[Output] = [] if config.disabled else _outputs(config, previous, transport)
        pipeline = Pipeline(config, outputs, redact)
        _pipeline = pipeline
        _configured = True
        old_shipper = previous.shipper
        if old_shipper is not None and old_shipper is not pipeline.shipper:
            old_shipper.shutdown(config.flush_timeout)
        from .formatter import install_root_handler, remove_root_handlers  # noqa: PLC0415

        if config.capture_stdlib and not config.disabled:
            install_root_handler(config.level)
        else:
            remove_root_handlers()
            logging.getLogger().setLevel(config.level)  # get_logger() levels follow the root
        if config.install_signal_handlers:
            _install_signal_handlers()
    return config


def flush(timeout: float = 5.0) -> bool:
    """True when every record queued before the call was acknowledged or definitively dropped."""
    try:
        return _pipeline.flush(timeout)
    except Exception as exc:
        _diagnostics.report("flush", "flush failed", exc)
        return False


def shutdown(timeout: float | None = None) -> bool:
    """Flush and stop shipping (within ``timeout``, default ``shutdown_timeout``); idempotent."""
    global _configured  # noqa: PLW0603
    try:
        pipeline = _pipeline
        wait = pipeline.config.shutdown_timeout if timeout is None else timeout
        ok = pipeline.shutdown(wait)
        _configured = False
        return ok
    except Exception as exc:
        _diagnostics.report("shutdown", "shutdown failed", exc)
        return False


def _reset_for_tests() -> None:
    """Shut down quickly and go back to the state before ``init`` (tests only)."""
    global _pipeline, _configured  # noqa: PLW0603
    with _lock:
        _pipeline.shutdown(1.0)
        from .formatter import remove_root_handlers  # noqa: PLC0415

        remove_root_handlers()
        _pipeline = _default_pipeline()
        _configured = False


atexit.register(shutdown)


# --- signals ----------------------------------------------------------------------------------

_SignalHandler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None
_previous_handlers: dict[int, _SignalHandler] = {}


def _on_signal(signum: int, frame: FrameType | None) -> None:
    shutdown()
    previous = _previous_handlers.get(signum, signal.SIG_DFL)
    if callable(previous):
        previous(signum, frame)
        return
    if previous == signal.SIG_IGN:
        return
    signal.signal(signum, signal.SIG_DFL)  # the default action: let the signal end us
    signal.raise_signal(signum)


def _install_signal_handlers() -> None:
    if threading.current_thread() is not threading.main_thread():
        _diagnostics.report("signals", "signal handlers can only be installed from the main thread")
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        existing = signal.getsignal(signum)
        if existing is _on_signal:
            continue
        _previous_handlers[signum] = existing
        signal.signal(signum, _on_signal)
