"""The HTTP client the client commands share: where the server is, who we are, and how an
error becomes one clear line."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import click
import httpx

__all__ = ["Client", "ClientError", "with_client"]

DEFAULT_URL = "http://127.0.0.1:5647"


class ClientError(click.ClickException):
    """A failed call, reported as one line ("error: ...") and exit status 1."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.message, err=True)


@dataclass
class Client:
    """A logpond server and the credentials to call it with."""

    url: str
    access_key_id: str | None
    secret_access_key: str | None
    verify: bool | ssl.SSLContext = True
    timeout: float = 60.0

    def _http(self) -> httpx.Client:
        headers = {"user-agent": "logpond-cli"}
        if self.access_key_id and self.secret_access_key:
            headers["authorization"] = f"Bearer {self.access_key_id}:{self.secret_access_key}"
        return httpx.Client(
            base_url=self.url.rstrip("/"), headers=headers, verify=self.verify, timeout=self.timeout
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the API; returns the decoded JSON body (``None`` for 204)."""
        try:
            with self._http() as http:
                response = http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ClientError(f"error: cannot reach logpond at {self.url}: {exc}") from None
        return self.result(response)

    def session(self) -> httpx.Client:
        """A client to reuse for many calls (``logpond ingest``)."""
        return self._http()

    @staticmethod
    def result(response: httpx.Response) -> Any:
        if response.status_code == 204:
            return None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_success:
            return body
        if isinstance(body, dict) and "message" in body:
            details = {k: v for k, v in body.items() if k not in ("error", "message")}
            extra = "".join(f" {k}={v}" for k, v in details.items() if not isinstance(v, list | dict))
            raise ClientError(f"error: {body['message']} ({body.get('error', response.status_code)}){extra}")
        raise ClientError(f"error: HTTP {response.status_code} from {response.request.url}")


def with_client(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the server flags (aws CLI style, with environment fallbacks) and pass
    it a ready ``Client`` as its first argument."""

    @functools.wraps(command)
    def wrapper(
        url: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        ca_file: str | None,
        **kwargs: Any,
    ) -> Any:
        if not access_key_id or not secret_access_key:
            raise ClientError(
                "error: no credentials; set LOGPOND_ACCESS_KEY_ID and LOGPOND_SECRET_ACCESS_KEY "
                "(a new server prints its root key and saves it in <data dir>/root-credentials)"
            )
        verify: bool | ssl.SSLContext = True
        if ca_file:
            verify = ssl.create_default_context(cafile=ca_file)
        return command(Client(url, access_key_id, secret_access_key, verify=verify), **kwargs)

    func: Any = wrapper
    func = click.option(
        "--ca-file",
        type=click.Path(exists=True, dir_okay=False),
        envvar="LOGPOND_CA_FILE",
        help="CA bundle to verify an HTTPS server with.",
    )(func)
    func = click.option(
        "--secret-access-key",
        envvar="LOGPOND_SECRET_ACCESS_KEY",
        show_envvar=True,
        help="Secret of the API key.",
    )(func)
    func = click.option(
        "--access-key-id", envvar="LOGPOND_ACCESS_KEY_ID", show_envvar=True, help="API key id."
    )(func)
    func = click.option(
        "--url",
        envvar="LOGPOND_URL",
        default=DEFAULT_URL,
        show_default=True,
        show_envvar=True,
        help="The logpond server.",
    )(func)
    return func  # type: ignore[no-any-return]
