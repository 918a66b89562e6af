"""The ASGI application: one module of routes per API surface, no business logic."""
