"""Principals, API keys, IAM-style policies and the one ``authorize`` decision."""
