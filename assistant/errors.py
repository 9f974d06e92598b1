"""One error model for the service: every error a user or an operator is meant to read is an :class:`AppError`
with a stable ``code`` (the JSON ``error_code``), a message in Chinese and the HTTP status it is answered with.

The subclasses say where an error comes from (a question, a staff workflow, a login, a backup, the public API);
they share the shape, the status table and the JSON body, so the web layers answer them all the same way
(``channels/http.py``) and the CLI maps them to one exit code (``cli.py``). This module sits at the bottom of the
stack: it imports nothing of the package.
"""

from __future__ import annotations

from typing import Any

#: the HTTP status of an error code, where it is not the class's default (400)
STATUS_BY_CODE: dict[str, int] = {
    "login_required": 401,
    "forbidden": 403,
    "not_found": 404,
    "question_not_found": 404,
    "followup_not_found": 404,
    "conflict": 409,
    "followup_used": 409,
    "followup_expired": 410,
    "payload_too_large": 413,
    "rate_limited": 429,
}

#: the CLI's exit code for an AppError (as for bad usage: the input or the state is wrong, not the program)
EXIT_CODE = 2


class AppError(Exception):
    """An error with a stable code, a Chinese message and an HTTP status."""

    #: the status when neither the caller nor :data:`STATUS_BY_CODE` names one
    status: int = 400

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status if status is not None else STATUS_BY_CODE.get(code, type(self).status)

    def to_json(self) -> dict[str, Any]:
        """The body every JSON endpoint answers an error with."""
        return {"error_code": self.code, "message": self.message}


class ApiError(AppError):
    """Bad input to the public API (JSON shape, fields, sizes)."""


class QuestionError(AppError):
    """A question that cannot be accepted (empty, too long) or found."""


class WorkflowError(AppError):
    """A staff or enterprise workflow step that is not allowed now (queue, curation, consultation day)."""


class AuthError(AppError):
    """A login or account that is refused."""


class BackupError(AppError):
    """A backup that cannot be written or restored."""


def status_for(code: str, default: int = 400) -> int:
    """The HTTP status of an error code (for errors that are not raised, e.g. a guard's refusal)."""
    return STATUS_BY_CODE.get(code, default)


__all__ = ["EXIT_CODE", "STATUS_BY_CODE", "ApiError", "AppError", "AuthError", "BackupError", "QuestionError",
           "WorkflowError", "status_for"]
