"""The WSGI middleware on a real thread-pool HTTP server, with Flask and Django apps."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from django.core.asgi import get_asgi_application  # type: ignore[import-untyped]
from django.core.wsgi import get_wsgi_application  # type: ignore[import-untyped]
from django.test import Client  # type: ignore[import-untyped]
from flask import Flask, Response, jsonify

import logpond.sdk as lp
from logpond.sdk.integrations import flask as lp_flask
from logpond.sdk.integrations.asgi import LogpondMiddleware
from logpond.sdk.integrations.wsgi import LogpondWSGIMiddleware
from logpond.sdk.testing import CapturedRecords

from . import django_app
from .helpers import init_capture
from .servers import serve_asgi, serve_wsgi

log = lp.get_logger("app")


def make_flask() -> Flask:
    app = Flask("wsgi-test")

    @app.get("/items/<int:n>")
    def item(n: int) -> Any:
        log.info("handling", n=n)
        return jsonify(trace_id=lp.current_trace_id(), tenant_id=lp.current_tenant_id())

    @app.get("/leak/<int:n>")
    def leak(n: int) -> Any:
        before = dict(lp.get_context())
        lp.bind_context(leaked=n)  # never reset: must not survive the request
        return jsonify(before={k: v for k, v in before.items() if k == "leaked"})

    @app.get("/boom")
    def boom() -> Any:
        raise RuntimeError("flask kaput")

    @app.get("/stream")
    def stream() -> Response:
        def chunks() -> Iterator[str]:
            for i in range(3):
                log.info("chunk", i=i)
                yield "x"

        return Response(chunks())

    lp_flask.init_app(app)
    return app


def http_records(records: CapturedRecords) -> list[dict[str, Any]]:
    return records.where(message="HTTP Request")


def test_a_thousand_requests_on_a_thread_pool_keep_their_own_ids(records: CapturedRecords) -> None:
    """1,000 requests with distinct ids over 16 server threads: every record matches its request."""
    init_capture()
    with serve_wsgi(make_flask(), threads=16) as url, httpx.Client(base_url=url, timeout=60) as client:

        def call(i: int) -> httpx.Response:
            return client.get(
                f"/items/{i}", headers={"X-Request-ID": f"req-{i}", "X-Tenant-ID": f"t-{i % 5}"}
            )

        with ThreadPoolExecutor(32) as pool:
            responses = list(pool.map(call, range(1000)))
    for i, response in enumerate(responses):
        assert response.headers["x-request-id"] == f"req-{i}"
        assert response.json() == {"trace_id": f"req-{i}", "tenant_id": f"t-{i % 5}"}
    for record in records.where(logger="app"):
        assert (record["trace_id"], record["tenant_id"]) == (f"req-{record['n']}", f"t-{record['n'] % 5}")
    access = http_records(records)
    assert len(access) == 1000
    assert all(r["trace_id"] == "req-" + r["path"].rsplit("/", 1)[1] for r in access)


def test_context_does_not_leak_to_the_next_request_on_the_same_thread(records: CapturedRecords) -> None:
    """With one server thread, what request N bound is not visible to request N+1."""
    init_capture()
    with serve_wsgi(make_flask(), threads=1) as url, httpx.Client(base_url=url) as client:
        answers = [client.get(f"/leak/{n}").json() for n in range(3)]
        client.get("/items/9", headers={"X-Request-ID": "after-leak"})
    assert answers == [{"before": {}}] * 3
    record = records.find(logger="app")
    assert record["trace_id"] == "after-leak"
    assert "leaked" not in record


def test_flask_500_carries_the_request_id(records: CapturedRecords) -> None:
    """Flask's 500 for an unhandled exception has X-Request-ID; Flask's error log has the trace id."""
    init_capture()
    with serve_wsgi(make_flask()) as url, httpx.Client(base_url=url) as client:
        response = client.get("/boom", headers={"X-Request-ID": "req-boom"})
    assert (response.status_code, response.headers["x-request-id"]) == (500, "req-boom")
    (access,) = http_records(records)
    assert (access["status"], access["level"]) == (500, "error")
    flask_error = records.find(level="error", logger="wsgi-test")
    assert flask_error["trace_id"] == "req-boom"
    assert flask_error["error"]["message"] == "flask kaput"


def test_streamed_chunks_run_in_the_request_context(records: CapturedRecords) -> None:
    """Chunks the server pulls after the app returned still log with the request's ids."""
    init_capture()
    with serve_wsgi(make_flask()) as url, httpx.Client(base_url=url) as client:
        assert client.get("/stream", headers={"X-Request-ID": "req-stream"}).text == "xxx"
    assert [r["trace_id"] for r in records.where(message="chunk")] == ["req-stream"] * 3
    assert len(http_records(records)) == 1


class ClosingBody:
    """A response iterable with ``close()`` that logs (as file wrappers and generators do)."""

    def __iter__(self) -> Iterator[bytes]:
        yield b"body"

    def close(self) -> None:
        log.info("closed")


def test_close_runs_in_the_request_context_and_the_record_is_emitted_once(records: CapturedRecords) -> None:
    """``close()`` runs in the request context, and exactly one access record is written."""
    init_capture()

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return ClosingBody()

    with serve_wsgi(LogpondWSGIMiddleware(app)) as url, httpx.Client(base_url=url) as client:
        client.get("/", headers={"X-Request-ID": "req-close"})
    assert records.find(message="closed")["trace_id"] == "req-close"
    assert len(http_records(records)) == 1


def test_raw_wsgi_exception_becomes_a_tagged_500(records: CapturedRecords) -> None:
    """An exception before ``start_response`` becomes the middleware's 500 with X-Request-ID."""
    init_capture()

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        raise KeyError("missing")

    with serve_wsgi(LogpondWSGIMiddleware(app)) as url, httpx.Client(base_url=url) as client:
        response = client.get("/", headers={"X-Request-ID": "req-raw"})
    assert (response.status_code, response.headers["x-request-id"]) == (500, "req-raw")
    assert http_records(records)[0]["error"]["name"] == "KeyError"


def test_django_behind_the_wsgi_wrapper(records: CapturedRecords) -> None:
    """A Django WSGI application wrapped by the middleware keeps ids per request, 500s included."""
    django_app.setup()
    init_capture()
    application = LogpondWSGIMiddleware(get_wsgi_application())
    with serve_wsgi(application) as url, httpx.Client(base_url=url) as client:
        ok = client.get("/items/5", headers={"X-Request-ID": "dj-1", "X-Tenant-ID": "acme"})
        boom = client.get("/boom", headers={"X-Request-ID": "dj-2"})
    assert ok.json() == {"trace_id": "dj-1", "tenant_id": "acme"}
    assert (boom.status_code, boom.headers["x-request-id"]) == (500, "dj-2")
    assert records.find(message="django view")["trace_id"] == "dj-1"
    django_error = records.find(logger="django.request")
    assert django_error["trace_id"] == "dj-2"


def test_django_middleware_class(records: CapturedRecords) -> None:
    """``LogpondDjangoMiddleware`` binds the context, tags responses and writes the access record."""
    django_app.setup()
    init_capture()
    client = Client(raise_request_exception=False)
    ok = client.get("/items/7", headers={"X-Request-ID": "dj-mw", "X-Tenant-ID": "acme"})
    boom = client.get("/boom", headers={"X-Request-ID": "dj-mw-boom"})
    assert ok.json() == {"trace_id": "dj-mw", "tenant_id": "acme"}
    assert ok.headers["X-Request-ID"] == "dj-mw"
    assert (boom.status_code, boom.headers["X-Request-ID"]) == (500, "dj-mw-boom")
    first, second = records.where(message="HTTP Request", logger="logpond.http.django")
    assert (first["path"], first["status"], first["trace_id"]) == ("/items/7", 200, "dj-mw")
    assert (second["status"], second["level"], second["error"]["name"]) == (500, "error", "RuntimeError")


def test_django_asgi_behind_the_asgi_wrapper(records: CapturedRecords) -> None:
    """Django's ASGI application wrapped by the ASGI middleware: sync views and the async middleware path."""
    django_app.setup()
    init_capture()
    application = LogpondMiddleware(get_asgi_application())
    with serve_asgi(application, lifespan="off") as url, httpx.Client(base_url=url) as client:
        ok = client.get("/items/8", headers={"X-Request-ID": "dj-asgi", "X-Tenant-ID": "acme"})
    assert ok.json() == {"trace_id": "dj-asgi", "tenant_id": "acme"}
    assert ok.headers["x-request-id"] == "dj-asgi"
    assert records.find(message="django view")["trace_id"] == "dj-asgi"
    assert len(records.where(message="HTTP Request", logger="logpond.http")) == 1
    inner = records.find(message="HTTP Request", logger="logpond.http.django")
    assert (inner["trace_id"], inner["status"]) == ("dj-asgi", 200)
