"""The small markup set curated answers may carry, sanitised on save (nh3 = the Ammonia HTML sanitiser).

Stored curated answers are safe HTML fragments: plain text (escaped) plus ``p br b strong em ul ol li a[href]``.
Channels that need text (CLI, WeChat) use :func:`to_text`; the web uses :func:`to_html`.
"""

from __future__ import annotations

import html
import re

import nh3

ALLOWED_TAGS = {"p", "br", "b", "strong", "em", "ul", "ol", "li", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https"}
_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(p|li)>|<br\s*/?>", re.I)


def sanitize(markup: str) -> str:
    """Keep only the allowlisted tags/attributes; everything else is escaped or dropped (scripts, handlers…)."""
    return nh3.clean(markup, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer", strip_comments=True)


def to_html(stored: str) -> str:
    """HTML for the web: sanitised again (defence in depth), line breaks kept."""
    return sanitize(stored).strip().replace("\n", "<br>")


def to_text(stored: str) -> str:
    """Plain text for text channels."""
    t = _BLOCK_END.sub("\n", stored)
    t = _TAG.sub("", t)
    return html.unescape(t).strip()
