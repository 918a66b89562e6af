"""The SDK's public names, and what importing it pulls in."""

from __future__ import annotations

import json

import logpond.sdk

from .helpers import run_python as _run

EXPECTED = {
    "ContextExecutor", "Logger", "LogpondFormatter", "LogpondHandler", "SDKConfig",
    "bind_context", "context_scope", "current_tenant_id", "current_trace_id", "extract",
    "flush", "get_context", "get_logger", "init", "inject", "new_trace_id", "reset_context",
    "run_in_executor", "shutdown", "to_thread", "wrap",
}  # fmt: skip

SERVER_SIDE = ("fastapi", "starlette", "uvicorn", "duckdb", "pyarrow", "numpy", "sqlglot",
               "pydantic", "logpond.server", "logpond.store", "logpond.query", "logpond.ingest",
               "logpond.pipeline", "logpond.cli", "logpond.auth")  # fmt: skip
OPTIONAL = ("orjson", "httpx", "requests", "structlog", "loguru", "celery", "opentelemetry")


def run_python(code: str) -> str:
    done = _run(code)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_all_lists_exactly_the_public_names() -> None:
    """``logpond.sdk.__all__`` is the documented public API and every name in it exists."""
    assert set(logpond.sdk.__all__) == EXPECTED
    for name in logpond.sdk.__all__:
        assert getattr(logpond.sdk, name) is not None


def test_import_and_logging_load_no_server_code_and_no_optional_library() -> None:
    """Importing the SDK, configuring it and logging loads no server module and no extra."""
    out = run_python(
        """
        import json, sys
        import logpond.sdk as lp
        loaded_at_import = sorted(sys.modules)
        lp.init("svc", "test", output="stdout")
        lp.get_logger("x").info("hello", a=1)
        print(json.dumps({"import": loaded_at_import, "after": sorted(sys.modules)}))
        """
    )
    modules = json.loads(out.strip().splitlines()[-1])
    for name in modules["after"]:
        assert not name.startswith(SERVER_SIDE), name
    for name in modules["import"]:
        assert not name.startswith(OPTIONAL), name


def test_sdk_works_with_the_standard_library_alone() -> None:
    """With every non-stdlib package unimportable, the SDK still configures, logs and ships."""
    out = run_python(
        """
        import sys
        allowed = set(sys.stdlib_module_names) | {"logpond", "_distutils_hack"}

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] not in allowed:
                    raise ImportError(f"blocked {name}")
                return None

        sys.meta_path.insert(0, Block())
        import logpond.sdk as lp
        lp.init("svc", "test", output="stdout")
        with lp.context_scope(trace_id="t-1", tenant_id="acme"):
            lp.get_logger("x").info("mail john.doe@acme.com", n=1)
        """
    )
    record = json.loads(out.strip().splitlines()[-1])
    assert record["trace_id"] == "t-1"
    assert record["message"] == "mail j***@***.com"
    assert record["redacted"] == ["email"]


def test_integrations_load_by_name_and_explain_what_is_missing() -> None:
    """``integrations.load`` imports by name, suggests close names, and names the extra to install."""
    out = run_python(
        """
        import sys
        from logpond.sdk.integrations import load

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "structlog":
                    raise ImportError("blocked", name=name)
                return None

        print(load("wsgi").__name__)
        try:
            load("celry")
        except Exception as exc:
            print(exc)
        sys.meta_path.insert(0, Block())
        try:
            load("structlog")
        except ImportError as exc:
            print(exc)
        """
    )
    lines = out.strip().splitlines()
    assert lines[0] == "logpond.sdk.integrations.wsgi"
    assert "did you mean 'celery'" in lines[1]
    assert "pip install 'logpond[sdk-structlog]'" in lines[2]
