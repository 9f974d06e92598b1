"""gunicorn settings for production: ``gunicorn -c gunicorn.conf.py 'assistant.app:create_app()'``.

Every worker loads its own index after the fork (``preload_app = False``: no faiss/torch state shared across a
fork); a curated answer published in one worker reaches the others through ``index_state`` within ~1 s.
Environment: ``WEB_CONCURRENCY`` (workers, 2 per core), ``GUNICORN_THREADS`` (2), ``GUNICORN_BIND`` (127.0.0.1:8000),
``GUNICORN_TIMEOUT`` (60), ``GUNICORN_GRACEFUL_TIMEOUT`` (30), ``GUNICORN_KEEPALIVE`` (5), ``GUNICORN_LOGLEVEL`` (info).
"""

import os

# one OpenMP thread per worker process: the workers already occupy the cores, and the e5 engine's threads of two
# workers spinning against each other cost CPU without shortening a request (measured in README, Production)
os.environ.setdefault("OMP_NUM_THREADS", "1")

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# two single-process workers per core, two threads each: measured on 2 cores at 50 req/s (README, Production):
# 2×4 p95 54 ms, 2×2 50 ms, 3×2 30 ms, 4×2 33 ms, 4×1 24 ms (but one slow request — a WeChat reply waiting its
# 5 s budget, an export — then blocks a whole worker); 4×2 keeps a second thread for those. ~400 MiB per worker.
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
preload_app = False
# the first start of a worker may ingest + build BM25 (≈20 s) before it answers; requests themselves are short
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# seconds an idle keep-alive connection stays with its worker; 0 closes after each response (see README)
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))  # 0: workers are not recycled
max_requests_jitter = 50 if max_requests else 0
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
accesslog = "-"  # stdout
errorlog = "-"  # stderr
# structured key=value access log (one line per request; no query strings, which may carry tokens)
access_log_format = ('ts=%(t)s remote=%(h)s method=%(m)s path="%(U)s" status=%(s)s bytes=%(B)s '
                     'duration_ms=%(M)s pid=%(p)s ua="%(a)s"')
# the application's own log lines (index reloads and repairs, database outages, WeChat delivery, vector builds) in
# the same key=value shape, on stderr (journald); the message is quoted so a line stays one record
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "kv": {"format": "ts=%(asctime)s level=%(levelname)s logger=%(name)s pid=%(process)d msg=%(message)r"},
        "plain": {"format": "%(message)s"},  # the access line is already key=value (access_log_format)
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "kv", "stream": "ext://sys.stderr"},
        "access": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stdout"},
    },
    "root": {"level": os.environ.get("ASSISTANT_LOGLEVEL", "INFO"), "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
        "jieba": {"level": "WARNING"},
        "bm25s": {"level": "WARNING"},
    },
}
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "zhoushan-env-assistant"


def on_starting(server):  # type: ignore[no-untyped-def]
    """Migrate the database and ingest the bundled corpus once, in a child of the master, before any worker starts
    (two workers migrating or ingesting the same empty database at once would collide). The master itself never
    imports the assistant, so nothing heavy is inherited through the fork."""
    import subprocess
    import sys

    code = ("from assistant.service import AssistantService\n"
            "svc = AssistantService()\nsvc.migrate()\nsvc.ensure_corpus()\nsvc.engine.dispose()\n")
    subprocess.run([sys.executable, "-c", code], check=True)
