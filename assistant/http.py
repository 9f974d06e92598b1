"""What the web layers share about answering a request: whether the client wants JSON, and the JSON body of an
error. Used by the public API, the public consultation pages, the console and the app's own error handlers."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from .errors import AppError

#: paths answered in JSON whatever the Accept header says (the API and the probes)
JSON_PATHS = ("/api/", "/healthz", "/readyz")


def wants_json(json_paths: tuple[str, ...] = ()) -> bool:
    """True for XHR requests, for requests under ``json_paths``, and when the client prefers JSON over HTML."""
    if json_paths and request.path.startswith(json_paths):
        return True
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_json(e: AppError) -> Any:
    """``({"error_code", "message"}, status)`` for an AppError."""
    return jsonify(e.to_json()), e.status


__all__ = ["JSON_PATHS", "error_json", "wants_json"]
