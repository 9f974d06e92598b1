"""``assistant …`` commands: ingest, index, ask, eval, serve, db, user, wechat, backup, agenda, consult."""

from . import admin, consult, data  # noqa: F401  (each module adds its commands to ``main``)
from .base import main

__all__ = ["main"]
