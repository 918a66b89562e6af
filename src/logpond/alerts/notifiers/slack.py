"""Slack incoming webhooks: a Block Kit message per notification.

The message names the alarm, the state change, the reason, the value against the threshold,
and links to the logpond search pre-filled with the alarm's metric filters and time window.
The webhook URL is a secret: it is used here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from ._http import post
from .base import state_line, value_line

__all__ = ["SlackNotifier", "slack_message"]

_EMOJI = {"ALARM": ":red_circle:", "OK": ":large_green_circle:", "INSUFFICIENT_DATA": ":white_circle:"}


def slack_message(notification: Mapping[str, Any]) -> dict[str, Any]:
    """The Block Kit body for one notification."""
    state = str(notification.get("state"))
    name = str(notification.get("alarm"))
    test = bool(notification.get("test"))
    title = f"{'[test] ' if test else ''}{state}: {name}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{_EMOJI.get(state, '')} {title}"[:150]}},
    ]
    if notification.get("description"):
        blocks.append(
            {"type": "section", "text": {"type": "plain_text", "text": str(notification["description"])}}
        )
    blocks.append(
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*State*\n{state_line(notification)}"},
                {"type": "mrkdwn", "text": f"*Value*\n{value_line(notification)}"},
                {"type": "mrkdwn", "text": f"*Metric*\n{notification.get('metric', '')}"},
                {"type": "mrkdwn", "text": f"*When*\n{notification.get('timestamp', '')}"},
            ],
        }
    )
    blocks.append(
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*Reason*\n{notification.get('reason', '')}"[:3000]},
        }
    )
    if notification.get("link"):
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open the matching logs"},
                        "url": str(notification["link"]),
                    }
                ],
            }
        )
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"logpond alarm `{name}`"}]})
    return {"text": title, "blocks": blocks}


class SlackNotifier:
    """Posts to one Slack incoming webhook."""

    def __init__(
        self,
        name: str,
        settings: Mapping[str, Any],
        secrets: Mapping[str, str],
        transport: httpx.AsyncBaseTransport,
    ) -> None:
        self.name = name
        self._url = secrets["url"]
        self._transport = transport

    async def send(self, notification: Mapping[str, Any]) -> str:
        body = orjson.dumps(slack_message(notification))
        return await post(self._transport, self._url, body, {"content-type": "application/json"})

    async def close(self) -> None:
        return None
