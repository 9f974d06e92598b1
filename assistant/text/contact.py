"""Validators for contact data left with a handoff."""

from __future__ import annotations

import re

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
MOBILE_PATTERN = r"^1[3-9]\d{9}$"
LANDLINE_PATTERN = r"^0\d{2,3}-?\d{7,8}$"
EMAIL_PATTERN = r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$"
EMAIL_MAX = 200
_USCC = re.compile(rf"^[{USCC_CHARS}]{{18}}$")
_MOBILE = re.compile(MOBILE_PATTERN)
_LANDLINE = re.compile(LANDLINE_PATTERN)
_EMAIL = re.compile(EMAIL_PATTERN)


def uscc_check_char(first17: str) -> str:
    """The check character of a 统一社会信用代码 (GB 32100-2015) for its first 17 characters."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARS[(31 - total % 31) % 31]


def valid_uscc(code: str) -> bool:
    """True for an 18-character code of the allowed alphabet whose check character is right."""
    code = code.strip().upper()
    return bool(_USCC.match(code)) and uscc_check_char(code[:17]) == code[17]


def valid_phone(value: str) -> bool:
    v = value.replace(" ", "")
    return bool(_MOBILE.match(v) or _LANDLINE.match(v))


def valid_email(value: str) -> bool:
    return bool(_EMAIL.match(value.strip())) and len(value) <= EMAIL_MAX


def contact_rules() -> dict[str, object]:
    """The rules above for the web clients (``GET /api/v1/contact-rules``): the patterns (valid in JavaScript too),
    the USCC alphabet and weights for the check character — so the chat page refuses exactly what the server
    refuses, from one source."""
    return {"mobile": MOBILE_PATTERN, "landline": LANDLINE_PATTERN, "email": EMAIL_PATTERN, "email_max": EMAIL_MAX,
            "uscc_chars": USCC_CHARS, "uscc_weights": list(USCC_WEIGHTS)}
