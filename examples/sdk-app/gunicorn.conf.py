"""gunicorn with logpond: every line is one JSON record, none twice.

``gunicorn -c gunicorn.conf.py -k uvicorn.workers.UvicornWorker qualisys.api:app``
(or any WSGI app). The master configures the SDK once; workers inherit it through fork.
"""

import logpond.sdk

logpond.sdk.init()  # LOGPOND_SERVICE, LOGPOND_ENVIRONMENT, LOGPOND_ENDPOINT...

accesslog = None  # the SDK's "HTTP Request" record is the access log
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"logpond": {"class": "logpond.sdk.LogpondHandler"}},
    "root": {"level": "INFO", "handlers": ["logpond"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
    },
}
