"""TCP and UDP listeners beside the HTTP port: Fluentd forward and syslog. Off unless configured.

Neither protocol carries logpond credentials, so each listener acts as one principal: the
API key named by its ``access_key_id`` setting (its policy is enforced by the pipeline as
for any request), or else a listener principal that may write, and create, only the groups
matching its ``groups`` setting.
"""

from __future__ import annotations

from typing import Protocol

from logpond.auth.policy import Principal, compile_policy
from logpond.server.services import Services
from logpond.server.settings import ListenerAuthConfig

__all__ = ["Listener", "listener_principal", "start_listeners"]


class Listener(Protocol):
    port: int | None

    async def close(self) -> None: ...


async def start_listeners(svc: Services) -> list[Listener]:
    """Start the listeners the settings turn on (a port set); the caller closes them."""
    from .forward import ForwardListener  # noqa: PLC0415 (they import this module)
    from .syslog import SyslogListener  # noqa: PLC0415

    started: list[Listener] = []
    try:
        if svc.settings.forward.port is not None:
            forward = ForwardListener(svc)
            await forward.start()
            started.append(forward)
        if svc.settings.syslog.port is not None:
            syslog = SyslogListener(svc)
            await syslog.start()
            started.append(syslog)
    except BaseException:
        for listener in started:
            await listener.close()
        raise
    return started


def listener_principal(svc: Services, name: str, config: ListenerAuthConfig) -> Principal:
    """The principal a listener writes as, read again for every batch (keys can be revoked)."""
    if config.access_key_id:
        _secret, principal = svc.keyring.secret_for(config.access_key_id)
        return principal
    return Principal(
        f"listener:{name}",
        compile_policy(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["logs:PutLogEvents", "logs:CreateLogStream", "logs:CreateLogGroup"],
                        "Resource": [f"arn:aws:logs:*:*:log-group:{config.groups}"],
                    }
                ],
            }
        ),
    )
