"""The example application: an API (``qualisys.api``) and a Celery worker (``qualisys.worker``)."""
