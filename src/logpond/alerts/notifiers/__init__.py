"""Notification channels: Slack incoming webhooks, generic signed webhooks, SMTP email.

Each kind is a module with one notifier class, found through ``CHANNEL_KINDS`` and imported
when a channel of that kind is first used.
"""

from .base import CHANNEL_KINDS, DeliveryError, Notifier, notifier_class

__all__ = ["CHANNEL_KINDS", "DeliveryError", "Notifier", "notifier_class"]
