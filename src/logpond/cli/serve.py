"""``logpond serve``: run the server on the embedded store."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import click

from logpond import __version__
from logpond.server.services import Services
from logpond.server.settings import load_settings

__all__ = ["serve"]


def _banner(services: Services, url: str) -> None:
    settings = services.settings
    click.echo(f"logpond {__version__} listening on {url}  (data: {settings.server.data_dir})")
    root = services.root
    creds_file = settings.server.data_dir / "root-credentials"
    if services.root_generated:
        click.echo(f"Root credentials (shown once; saved with mode 0600 in {creds_file}):")
        click.echo(f"  export LOGPOND_URL={url}")
        click.echo(f"  export LOGPOND_ACCESS_KEY_ID={root.access_key_id}")
        click.echo(f"  export LOGPOND_SECRET_ACCESS_KEY={root.secret_access_key}")
    elif settings.root_access_key_id:
        click.echo(f"Root key: {root.access_key_id} (from LOGPOND_ROOT_ACCESS_KEY_ID)")
    else:
        click.echo(f"Root key: {root.access_key_id} (secret in {creds_file})")
    click.echo("Press Ctrl+C to stop.", err=True)


def _server_class(uvicorn: Any) -> Any:
    """uvicorn's server, ending the live tails when told to stop: their streams never end
    on their own, and shutdown waits for open responses."""

    class Server(uvicorn.Server):  # type: ignore[misc]
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            services = getattr(getattr(self.config.app, "state", None), "services", None)
            if services is not None:
                services.live_tail.close()
            super().handle_exit(sig, frame)

    return Server


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the database lives [env LOGPOND_DATA_DIR; default ./data].",
)
@click.option("--host", help="Interface to listen on [env LOGPOND_HOST; default 127.0.0.1].")
@click.option("--port", type=int, help="Port [env LOGPOND_PORT; default 5647].")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML config file [env LOGPOND_CONFIG].",
)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Serve HTTPS with this certificate (PEM).",
)
@click.option(
    "--tls-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The certificate's private key (PEM).",
)
@click.option("--access-log/--no-access-log", default=False, help="Log every HTTP request.")
@click.option(
    "--forward-port",
    type=int,
    help="Listen for the Fluentd forward protocol on this TCP port (conventionally 24224) "
    "[env LOGPOND_FORWARD_PORT; default off].",
)
@click.option(
    "--syslog-port",
    type=int,
    help="Listen for syslog on this UDP and TCP port (e.g. 5514) [env LOGPOND_SYSLOG_PORT; default off].",
)
def serve(
    data_dir: Path | None,
    host: str | None,
    port: int | None,
    config_file: Path | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    access_log: bool,
    forward_port: int | None,
    syslog_port: int | None,
) -> None:
    """Run logpond: every HTTP surface on one port, the embedded store under --data-dir."""
    import uvicorn  # noqa: PLC0415 (the other commands do not need the server)

    # The writer thread hands the interpreter lock back and forth with the event loop on
    # every DuckDB call; the default 5 ms switch interval makes each hand-over wait.
    sys.setswitchinterval(0.0005)
    # Arrow's default allocator keeps freed memory for reuse; batches come and go, so the
    # system allocator keeps the resident size closer to what is in use.
    import pyarrow  # noqa: PLC0415

    pyarrow.set_memory_pool(pyarrow.system_memory_pool())

    from logpond.server.app import create_app  # noqa: PLC0415

    settings = load_settings(
        config_file,
        overrides={
            "server.data_dir": data_dir,
            "server.host": host,
            "server.port": port,
            "server.tls_cert": tls_cert,
            "server.tls_key": tls_key,
            "forward.port": forward_port,
            "syslog.port": syslog_port,
        },
    )
    server = settings.server
    scheme = "https" if server.tls_cert else "http"
    shown_host = f"[{server.host}]" if ":" in server.host else server.host
    url = f"{scheme}://{shown_host}:{server.port}"
    logging.basicConfig(
        level=server.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(settings, on_ready=lambda services: _banner(services, url))
    config = uvicorn.Config(
        app,
        host=server.host,
        port=server.port,
        ssl_certfile=str(server.tls_cert) if server.tls_cert else None,
        ssl_keyfile=str(server.tls_key) if server.tls_key else None,
        log_level=server.log_level,
        access_log=access_log,
        timeout_graceful_shutdown=30,
        backlog=4096,
        server_header=False,
    )
    _server_class(uvicorn)(config).run()
