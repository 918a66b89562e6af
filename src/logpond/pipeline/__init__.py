"""The ingest pipeline: decode, normalize, validate, redact, apply metric filters, write."""
