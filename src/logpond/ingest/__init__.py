"""Decoders, one module per protocol: bytes in, an event batch and per-record rejections out."""
