"""One POST, with the outcome described without the URL (a webhook URL is a secret).

Requests go straight to an ``httpx`` transport rather than through a client: the client
logs every request's URL at INFO level, and these URLs must not reach any log.
"""

from __future__ import annotations

import httpx

from .base import DeliveryError

__all__ = ["TIMEOUT_SECONDS", "post"]

TIMEOUT_SECONDS = 10.0
_TIMEOUTS = {
    "connect": TIMEOUT_SECONDS,
    "read": TIMEOUT_SECONDS,
    "write": TIMEOUT_SECONDS,
    "pool": TIMEOUT_SECONDS,
}


async def post(transport: httpx.AsyncBaseTransport, url: str, body: bytes, headers: dict[str, str]) -> str:
    """POST ``body``; 2xx is success, 429 and 5xx are worth retrying, other codes are not."""
    request = httpx.Request("POST", url, content=body, headers=headers, extensions={"timeout": _TIMEOUTS})
    try:
        response = await transport.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
    except httpx.TimeoutException:
        raise DeliveryError("timed out") from None
    except httpx.ConnectError:
        raise DeliveryError("connection failed") from None
    except httpx.HTTPError as exc:
        raise DeliveryError(f"request failed ({type(exc).__name__})") from None
    status = response.status_code
    if 200 <= status < 300:
        return f"HTTP {status}"
    raise DeliveryError(f"HTTP {status}", retry=status == 429 or status >= 500)
