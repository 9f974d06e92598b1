"""Property-based fuzzing of the public API and pages (Hypothesis), shared by ``tests/channels/test_api_fuzz.py``
(bounded, derandomised) and ``tests/fuzz_api_long.py`` (≥ 10 000 inputs).

Properties, for every generated request:

* never a 5xx;
* a JSON error response carries ``error_code`` and a Chinese ``message``;
* ``POST /api/v1/ask`` answering 200 stored exactly one new question (and a non-200 stored none);
* an HTML page never echoes a generated markup payload verbatim, nor carries more active tags than the plain page.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import strategies as st
from sqlalchemy import func, select

from assistant.app import create_app
from assistant.config import Settings
from assistant.db.models import Question

CJK = re.compile(r"[\u4e00-\u9fff]")
ACTIVE = ("<script", "<img", "<svg", "<iframe", "<a ", "href=\"javascript:", "src=\"javascript:")

# -- strategies ----------------------------------------------------------------------------------------------------
SPECIAL = [
    "排污许可证能用几年", "排污許可證能用幾年？", "ＡＢＣ１２３　全角！", "🌊🐟♻️🏭", "\x00", "a\x00b", "\u202e\u200b\ufeff",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "javascript:alert(1)", "</textarea><svg onload=1>",
    "{{7*7}}", "${7*7}", "' OR 1=1 --", "%00", "%2e%2e%2f", "../../etc/passwd", "..\\..\\win.ini", "\r\n\t",
    "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"), "𠀀𪚥", "null", "true", "-1", "1e309",
]
PAYLOAD = "<script>alert('x')</script>"
texts = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    st.sampled_from(SPECIAL),
    st.builds(lambda a, b: a + b, st.sampled_from(SPECIAL), st.text(max_size=20)),
    st.builds(lambda c, n: c * n, st.sampled_from(["问", "ａ", "x", "🌊", "\x00", "<"]), st.integers(0, 12_000)),
)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=-2**70, max_value=2**70),
                         st.floats(allow_nan=True, allow_infinity=True), texts)
json_values = st.recursive(json_scalars, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                                st.dictionaries(texts, kids, max_size=4)),
                           max_leaves=8)
ints = st.one_of(st.integers(-5, 10**6), st.integers(min_value=-2**70, max_value=2**70), json_values)
bools = st.one_of(st.booleans(), json_values)


def _obj(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict with any subset of ``fields`` (each with a plausible or a wrong value) plus random extra keys."""
    return st.builds(lambda chosen, extra: {**extra, **chosen},
                     st.fixed_dictionaries({}, optional=fields), st.dictionaries(texts, json_values, max_size=3))


channels = st.one_of(st.sampled_from(["widget", "chat", "api", "wechat", ""]), json_values)
ask_bodies = _obj({"question": st.one_of(texts, json_values), "session": st.one_of(texts, json_values),
                   "district": st.one_of(texts, json_values), "enterprise": st.one_of(texts, json_values),
                   "channel": channels})
strs = st.one_of(texts, st.just(""))
ask_good = st.builds(lambda q, rest: {**rest, "question": q}, texts,
                     _obj({"session": strs, "district": strs, "enterprise": strs,
                           "channel": st.sampled_from(["widget", "chat", "api"])}))
feedback_good = st.fixed_dictionaries({"question_id": st.just("$ID"), "token": st.just("$TOKEN"),
                                       "helpful": st.booleans()}, optional={"reason": strs})
handoff_good = st.one_of(
    st.fixed_dictionaries({"question": texts, "consent": st.booleans()}, optional={
        "contact": st.fixed_dictionaries({}, optional={"name": strs, "company": strs, "phone": st.sampled_from(
            ["13800138000", "0580-2021234", "123"]), "email": st.sampled_from(["a@b.cn", "x"])})}),
    st.fixed_dictionaries({"question_id": st.just("$ID"), "token": st.just("$TOKEN")}, optional={"question": texts}))
feedback_bodies = _obj({"question_id": ints, "token": st.one_of(texts, json_values), "helpful": bools,
                        "reason": st.one_of(texts, json_values)})
contacts = st.one_of(json_values, _obj({k: st.one_of(texts, json_values, st.sampled_from(
    ["91110000802100433B", "13800138000", "0580-2021234", "a@b.cn"])) for k in
    ("name", "company", "uscc", "phone", "email")}))
handoff_bodies = _obj({"question_id": ints, "token": st.one_of(texts, json_values), "question": texts,
                       "consent": bools, "contact": contacts, "session": texts, "district": texts,
                       "channel": channels})
CONTENT_TYPES = ["application/json", "application/json; charset=gbk", "text/plain", "application/x-www-form-urlencoded",
                 "multipart/form-data; boundary=x", "application/xml", "", "application/json; charset=utf-16"]
raw_bodies = st.one_of(st.binary(max_size=300), texts.map(lambda t: t.encode("utf-8", "surrogatepass")),
                       st.sampled_from([b"", b"null", b"[]", b"\"q\"", b"{", b"{\"question\": }", b"1" * 40_000,
                                        b"\xff\xfe{\x00}", b"{\"question\":\"\\ud800\"}", b"NaN",
                                        b"{\"question\": \"" + b"x" * 300_000 + b"\"}"]))
# a body: ("json", value) sent as JSON, or ("raw", bytes, content type)
bodies_for = {
    "ask": st.one_of(ask_good.map(lambda b: ("json", b)), ask_good.map(lambda b: ("json", b)), ask_bodies.map(lambda b: ("json", b)), json_values.map(lambda b: ("json", b)),
                     st.tuples(st.just("raw"), raw_bodies, st.sampled_from(CONTENT_TYPES))),
    "feedback": st.one_of(feedback_good.map(lambda b: ("json", b)), feedback_bodies.map(lambda b: ("json", b)),
                          st.tuples(st.just("raw"), raw_bodies, st.sampled_from(CONTENT_TYPES))),
    "handoff": st.one_of(handoff_good.map(lambda b: ("json", b)), handoff_bodies.map(lambda b: ("json", b)),
                         st.tuples(st.just("raw"), raw_bodies, st.sampled_from(CONTENT_TYPES))),
}
tokens = st.one_of(st.integers(0, 10**6).map(lambda i: f"$TOKEN{i}"), texts, st.sampled_from(["..", "../../etc/passwd", "%2e%2e%2f%2e%2e", "%00", "a/b", "x" * 65,
                                           "x" * 64, "😀", "?a=1", "#frag"]))
queries = st.one_of(
    st.dictionaries(st.sampled_from(["title", "color", "greeting", "next", "q", "x", ""]), texts, max_size=4),
    st.dictionaries(texts, texts, max_size=3),
    texts.map(lambda t: {"title": PAYLOAD + t, "greeting": PAYLOAD, "next": "javascript:alert(1)//" + t}),
)
raw_queries = texts.map(lambda t: quote(t, safe="=&%+"))
PAGES = ["/widget/frame", "/chat", "/console/login"]
DOC_TITLES = ["排污许可管理条例", "危险废物转移管理办法", "不存在的条例"]
doc_idents = st.one_of(texts, st.builds(lambda t, k: f"{t}#{k}", st.sampled_from(DOC_TITLES), texts),
                       st.sampled_from(["../../etc/passwd", "%2e%2e/%2e%2e/", "排污许可管理条例%23第三条",
                                        "排污许可管理条例#" + PAYLOAD, PAYLOAD]))


# -- the app under test ------------------------------------------------------------------------------------------
def fuzz_app(settings: Settings) -> Flask:
    """The app on ``settings`` with rate limits raised (each request also comes from its own client address)."""
    s = settings.evolve(ratelimit_ask="1000000/minute", ratelimit_write="1000000/minute")
    app = create_app(s)
    app.config["TESTING"] = True
    return app


def question_count(app: Flask) -> int:
    with app.extensions["assistant"].Session() as s:
        return int(s.scalar(select(func.count()).select_from(Question)) or 0)


class Checker:
    """Sends generated requests and asserts the properties; counts statuses per endpoint."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.counts: Counter[tuple[str, int]] = Counter()
        self._n = 0
        self._baseline: dict[str, dict[str, int]] = {}
        self.issued: list[tuple[int, str]] = []  # (question_id, token) of answered questions, for feedback/handoff

    def _environ(self) -> dict[str, str]:
        self._n += 1
        return {"REMOTE_ADDR": f"10.{(self._n >> 16) & 255}.{(self._n >> 8) & 255}.{self._n & 255}"}

    def _check_common(self, endpoint: str, r: Any) -> None:
        self.counts[(endpoint, r.status_code)] += 1
        assert r.status_code < 500, f"{endpoint}: {r.status_code} {r.get_data(as_text=True)[:300]}"
        if r.is_json and r.status_code >= 400:
            body = r.get_json()
            assert isinstance(body, dict) and body.get("error_code"), body
            assert isinstance(body.get("message"), str) and CJK.search(body["message"]), body

    def post(self, endpoint: str, body: tuple[Any, ...]) -> Any:
        path = f"/api/v1/{endpoint}"
        if body[0] == "json" and isinstance(body[1], dict) and body[1].get("token") == "$TOKEN":
            qid, token = self.issued[self._n % len(self.issued)] if self.issued else (1, "missing")
            body = ("json", {**body[1], "question_id": qid, "token": token})
        if body[0] == "json":
            try:
                data = json.dumps(body[1], ensure_ascii=False)
            except ValueError:  # e.g. a lone surrogate: send what a sloppy client would
                data = json.dumps(body[1])
            raw, ctype = data.encode("utf-8", "surrogatepass"), "application/json"
        else:
            raw, ctype = body[1], body[2]
        before = question_count(self.app) if endpoint == "ask" else 0
        r = self.client.post(path, data=raw, content_type=ctype or None, environ_base=self._environ())
        self._check_common(endpoint, r)
        if endpoint == "ask":
            after = question_count(self.app)
            assert after - before == (1 if r.status_code == 200 else 0), (r.status_code, before, after)
            if r.status_code == 200:
                out = r.get_json()
                assert out["question_id"] and out["token"] and out["decision"]
                self.issued.append((out["question_id"], out["token"]))
        return r

    def question(self, token: str, encode: bool) -> Any:
        if token.startswith("$TOKEN") and token[6:].isdigit() and self.issued:  # one of the issued tokens
            token = self.issued[int(token[6:]) % len(self.issued)][1]
        path = "/api/v1/questions/" + (quote(token, safe="") if encode else quote(token, safe="/%?#"))
        r = self.client.get(path, environ_base=self._environ())
        self._check_common("questions", r)
        return r

    def _active(self, html: str) -> dict[str, int]:
        low = html.lower()
        return {t: low.count(t) for t in ACTIVE}

    def _check_html(self, endpoint: str, r: Any, values: list[str], baseline_path: str | None) -> None:
        if not r.mimetype == "text/html":
            return
        html = r.get_data(as_text=True)
        for v in values:
            if "<" in v and len(v) >= 3:
                assert v not in html, f"{endpoint}: payload echoed verbatim: {v[:80]!r}"
        if baseline_path is not None and r.status_code == 200:
            if baseline_path not in self._baseline:
                self._baseline[baseline_path] = self._active(self.client.get(baseline_path).get_data(as_text=True))
            for tag, n in self._active(html).items():
                assert n <= self._baseline[baseline_path][tag], f"{endpoint}: extra {tag} in the page"

    def page(self, path: str, query: dict[str, str] | str) -> Any:
        r = self.client.get(path, query_string=query, environ_base=self._environ())
        self._check_common(path, r)
        values = list(query.values()) + list(query.keys()) if isinstance(query, dict) else [query]
        self._check_html(path, r, values, path)
        return r

    def doc(self, ident: str, encode: bool) -> Any:
        r = self.client.get("/doc/" + (quote(ident, safe="") if encode else quote(ident, safe="/%")),
                            environ_base=self._environ())
        self._check_common("/doc", r)
        self._check_html("/doc", r, [ident, ident.partition("#")[2]], None)
        if r.status_code == 200:
            html = r.get_data(as_text=True)
            assert PAYLOAD not in html
        return r


# endpoint name -> (strategy of one input, how to send it)
def properties(checker: Checker) -> dict[str, tuple[st.SearchStrategy[Any], Callable[[Any], Any]]]:
    return {
        "ask": (bodies_for["ask"], lambda b: checker.post("ask", b)),
        "feedback": (bodies_for["feedback"], lambda b: checker.post("feedback", b)),
        "handoff": (bodies_for["handoff"], lambda b: checker.post("handoff", b)),
        "questions": (st.tuples(tokens, st.booleans()), lambda a: checker.question(*a)),
        "pages": (st.tuples(st.sampled_from(PAGES), st.one_of(queries, raw_queries)), lambda a: checker.page(*a)),
        "doc": (st.tuples(doc_idents, st.booleans()), lambda a: checker.doc(*a)),
    }
