"""One POST, with the outcome described without the URL (a webhook URL is a secret)."""

from __future__ import annotations

import httpx

from .base import DeliveryError

__all__ = ["post"]


async def post(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]) -> str:
    """POST ``body``; 2xx is success, 429 and 5xx are worth retrying, other codes are not."""
    try:
        response = await client.post(url, content=body, headers=headers)
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
