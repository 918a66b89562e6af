"""Routes, one module per API surface."""
