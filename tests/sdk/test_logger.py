"""``init`` and ``get_logger``: configuration, environment fallbacks, levels, binding."""

from __future__ import annotations

import logging
import os

import pytest

import logpond.sdk as lp
from logpond.model.errors import InvalidParameterError
from logpond.sdk import _runtime
from logpond.sdk._config import default_log_stream
from logpond.sdk.formatter import LogpondHandler
from logpond.sdk.testing import CapturedRecords

from .helpers import init_capture, json_lines, run_python


def test_second_init_reconfigures_with_one_handler_and_one_line_per_call(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Two ``init`` calls leave one logpond handler on root and one line per log call."""
    lp.init("svc", "test", output="stdout")
    lp.init("svc2", "prod", output="stdout")
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, LogpondHandler)]
    assert len(handlers) == 1
    logging.getLogger("a").warning("once")
    lp.get_logger("b").warning("twice")
    lines = json_lines(capfd.readouterr().out)
    assert [(r["message"], r["service"]) for r in lines] == [("once", "svc2"), ("twice", "svc2")]


def test_settings_fall_back_on_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each ``init`` argument not given is read from its ``LOGPOND_*`` variable."""
    monkeypatch.setenv("LOGPOND_SERVICE", "env-svc")
    monkeypatch.setenv("LOGPOND_ENVIRONMENT", "staging")
    monkeypatch.setenv("LOGPOND_ENDPOINT", "http://127.0.0.1:9/")
    monkeypatch.setenv("LOGPOND_API_KEY", "LPKEY:secret")
    monkeypatch.setenv("LOGPOND_LEVEL", "debug")
    config = lp.init()
    assert (config.service, config.environment) == ("env-svc", "staging")
    assert config.endpoint == "http://127.0.0.1:9"
    assert config.api_key == "LPKEY:secret"
    assert config.level == logging.DEBUG
    assert config.outputs == ("logpond",)
    assert config.log_group == "/env-svc/staging"
    assert logging.getLogger().level == logging.DEBUG


def test_arguments_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """An argument given to ``init`` overrides its environment variable."""
    monkeypatch.setenv("LOGPOND_SERVICE", "env-svc")
    monkeypatch.setenv("LOGPOND_LEVEL", "debug")
    config = lp.init("arg-svc", level="WARNING", output="stdout")
    assert config.service == "arg-svc"
    assert config.level == logging.WARNING


def test_log_group_and_stream_defaults_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    """The group defaults to ``/<service>/<environment>``; the stream to pod name and pid."""
    monkeypatch.setenv("POD_NAME", "api-7d9f")
    config = lp.init("qualisys api", "production", output="stdout")
    assert config.log_group == "/qualisys-api/production"
    assert default_log_stream() == f"api-7d9f-{os.getpid()}"
    config = lp.init("api", "production", log_group="/qualisys/production/api", output="stdout")
    assert config.log_group == "/qualisys/production/api"


@pytest.mark.parametrize(
    "settings",
    [{"log_group": "bad group!"}, {"log_group": "aws/x"}, {"endpoint": "ftp://x"},
     {"api_key": "no-colon"}, {"level": "LOUD"}, {"output": "kafka"},
     {"output": "logpond"}, {"max_queue_records": 0}, {"log_stream": "a:b"}],
)  # fmt: skip
def test_bad_settings_fail_at_init(settings: dict[str, object]) -> None:
    """An invalid setting raises ``InvalidParameterError`` from ``init``."""
    with pytest.raises(InvalidParameterError):
        lp.init("svc", "test", **settings)  # type: ignore[arg-type]


def test_bind_returns_a_new_logger_and_leaves_the_original(records: CapturedRecords) -> None:
    """``bind`` adds fields to a new logger; the original logs without them."""
    init_capture()
    base = lp.get_logger("orders")
    bound = base.bind(order_id=42)
    bound.info("bound")
    base.info("plain")
    first, second = records.records
    assert first["order_id"] == 42
    assert "order_id" not in second
    assert dict(bound.bound) == {"order_id": 42}
    assert dict(base.bound) == {}


def test_percent_args_and_call_fields(records: CapturedRecords) -> None:
    """``msg % args`` is applied, and call fields override bound ones."""
    init_capture()
    lp.get_logger("x").bind(a=1).info("%s items for %s", 3, "acme", a=2)
    (record,) = records.records
    assert record["message"] == "3 items for acme"
    assert record["a"] == 2


def test_calls_below_the_level_write_nothing(records: CapturedRecords) -> None:
    """A debug call with level INFO writes no record, through either logger."""
    init_capture(level="INFO")
    lp.get_logger("x").debug("hidden")
    logging.getLogger("x").debug("hidden")
    lp.get_logger("x").info("shown")
    assert [r["message"] for r in records.records] == ["shown"]


def test_stdlib_logger_levels_apply_to_the_native_logger(records: CapturedRecords) -> None:
    """Setting a stdlib logger's level changes what the logpond logger of that name writes."""
    init_capture(level="INFO")
    logging.getLogger("noisy").setLevel(logging.ERROR)
    try:
        lp.get_logger("noisy").warning("dropped")
        lp.get_logger("noisy").error("kept")
    finally:
        logging.getLogger("noisy").setLevel(logging.NOTSET)
    assert [r["message"] for r in records.records] == ["kept"]


def test_all_level_methods(records: CapturedRecords) -> None:
    """Each level method writes its level name."""
    init_capture(level="DEBUG")
    log = lp.get_logger("x")
    log.debug("d")
    log.info("i")
    log.warning("w")
    log.error("e")
    log.critical("c")
    log.log(logging.INFO, "l")
    assert [r["level"] for r in records.records] == [
        "debug", "info", "warning", "error", "critical", "info",
    ]  # fmt: skip


def test_without_init_records_go_to_stderr_at_warning_and_up() -> None:
    """Before ``init`` the SDK writes WARNING and above as JSON to stderr and nothing to stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGPOND_")}
    env["LOGPOND_ENDPOINT"] = "http://127.0.0.1:9"
    done = run_python(
        """
        import logpond.sdk as lp
        log = lp.get_logger("x")
        log.info("quiet")
        log.warning("loud", n=1)
        """,
        env=env,
    )
    assert done.returncode == 0
    assert done.stdout == ""
    records = json_lines(done.stderr)
    assert [(r["message"], r["n"]) for r in records] == [("loud", 1)]


def test_disabled_writes_nothing(monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    """``LOGPOND_DISABLED=1`` makes ``init`` install nothing and write nothing."""
    monkeypatch.setenv("LOGPOND_DISABLED", "1")
    config = lp.init("svc", "test", output="stdout")
    lp.get_logger("x").warning("nothing")
    logging.getLogger("x").warning("nothing either")
    assert config.disabled
    assert not any(isinstance(h, LogpondHandler) for h in logging.getLogger().handlers)
    out = capfd.readouterr()
    assert "nothing" not in out.out


def test_flush_and_shutdown_are_idempotent() -> None:
    """``flush`` and ``shutdown`` can be called repeatedly, before and after each other."""
    lp.init("svc", "test", output="stdout")
    assert lp.flush(1.0)
    assert lp.flush(1.0)
    assert lp.shutdown(1.0)
    assert lp.shutdown(1.0)
    assert lp.flush(1.0)
    assert _runtime.current().closed


def test_level_applies_without_the_root_handler(records: CapturedRecords) -> None:
    """With ``capture_stdlib=False`` the configured level still governs ``get_logger`` loggers."""
    init_capture(capture_stdlib=False, level="INFO")
    lp.get_logger("x").info("kept")
    lp.get_logger("x").debug("dropped")
    assert [r["message"] for r in records.records] == ["kept"]
    assert not any(isinstance(h, LogpondHandler) for h in logging.getLogger().handlers)
