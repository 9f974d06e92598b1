"""Headers, CORS and rate limits per audience.

* Every response: ``X-Content-Type-Options``, ``Referrer-Policy``, a strict CSP with a per-request nonce, and
  ``frame-ancestors 'none'`` / ``X-Frame-Options: DENY`` — except the widget frame, which may be framed only by the
  configured origins (and this host).
* The public API allows cross-origin calls only from the configured origins (flask-cors).
* Rate limits per client address (Flask-Limiter; memory storage embedded, Redis in production).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, Response, g, request
from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from .config import Settings

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
#: CSRF protection of the form-based pages (the console, the public consultation forms); initialised by the
#: console, enforced by each blueprint that serves forms
csrf = CSRFProtect()
FRAMEABLE_ENDPOINTS = {"web.widget_frame"}


def csp_nonce() -> str:
    if not hasattr(g, "csp_nonce"):
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


def init_security(app: Flask, settings: Settings) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = settings.web.ratelimit_storage
    app.config["RATELIMIT_STRATEGY"] = "moving-window"
    limiter.init_app(app)
    CORS(app, resources={r"/api/*": {"origins": list(settings.web.allowed_origins)}}, supports_credentials=False,
         methods=["GET", "POST", "OPTIONS"], allow_headers=["Content-Type"], max_age=600)
    ancestors = " ".join(["'self'", *settings.web.allowed_origins])

    @app.after_request
    def _headers(resp: Response) -> Response:
        nonce = csp_nonce()
        frameable = request.endpoint in FRAMEABLE_ENDPOINTS
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        resp.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        resp.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        fa = ancestors if frameable else "'none'"
        if not frameable:
            resp.headers["X-Frame-Options"] = "DENY"
        # the demo page stands for a partner's page: the widget loader injects its own styles there
        style = "'self' 'unsafe-inline'" if request.endpoint == "web.demo" else f"'self' 'nonce-{nonce}'"
        resp.headers["Content-Security-Policy"] = (
            f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src {style}; "
            f"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            f"form-action 'self'; frame-ancestors {fa}")
        if request.path == "/widget.js":
            # the loader runs on partner pages: it must be fetchable cross-origin
            resp.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
            resp.headers["Access-Control-Allow-Origin"] = "*"
        return resp


def client_error_handler(e: Any) -> tuple[dict[str, str], int]:
    return {"error_code": "rate_limited", "message": "请求过于频繁，请稍后再试。"}, 429
