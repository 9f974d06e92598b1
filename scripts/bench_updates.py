"""How long "who needs to know" takes on a large question log (政策速递, console → a change).

Builds a temporary database (SQLite, or ``--database-url`` for PostgreSQL: a new schema is not made, use an empty
database) with ``--questions`` answered questions spread over two years, each citing three articles of the
fixture regulations (``--hit-share`` of them citing the changed article), records one change of one article and
times :func:`assistant.updates.audience.who_needs_to_know` (the console page's work) and the sending of the notices.

    .venv/bin/python scripts/bench_updates.py [--questions 100000] [--hit-share 0.002] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from assistant.db.migrate import upgrade
from assistant.db.models import Document, PolicyChange, Question
from assistant.db.session import make_engine, make_sessionmaker
from assistant.domain import Actor
from assistant.updates.audience import who_needs_to_know
from assistant.updates.notices import send

TITLES = ["排污许可管理条例", "中华人民共和国大气污染防治法", "中华人民共和国水污染防治法", "中华人民共和国固体废物污染环境防治法"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=100_000)
    ap.add_argument("--hit-share", type=float, default=0.002, help="share of questions answered with the article")
    ap.add_argument("--database-url", default="")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{tmp.name}/bench.db"
    engine = make_engine(url)
    upgrade(engine)
    Session = make_sessionmaker(engine)
    rnd = random.Random(7)
    now = datetime.now(UTC)
    changed = f"{TITLES[0]}#14"
    with Session() as s:
        doc = Document(title=TITLES[0], kind="行政法规")
        s.add(doc)
        s.flush()
        t0 = time.perf_counter()
        rows = []
        for i in range(args.questions):
            cites = [f"{rnd.choice(TITLES)}#{rnd.randint(1, 120)}" for _ in range(3)]
            if rnd.random() < args.hit_share:
                cites[0] = changed
            elif changed in cites:
                cites = [c for c in cites if c != changed] or [f"{TITLES[1]}#1"]
            result: dict[str, object] = {"decision": "answer", "citations": [{"id": c, "parts": [{"id": c}]} for c in cites],
                      "curated": None, "meta": {}}
            rows.append({"token": secrets.token_urlsafe(12), "text": f"问题{i}：排污许可证有效期", "normalized": "",
                         "channel": "chat", "session_id": f"s{i}", "asked_at": now - timedelta(days=rnd.randint(0, 720)),
                         "decision": "answer", "result": result, "top_id": cites[0]})
            if len(rows) == 5000:
                s.execute(insert(Question), rows)
                rows = []
        if rows:
            s.execute(insert(Question), rows)
        change = PolicyChange(document_id=doc.id, kind="修订", title=TITLES[0], old_title=TITLES[0],
                              old_label="2021-03-01", new_label="2026-11-01", counts={"changed": 1}, diff=[],
                              touched=[changed], topics=[])
        s.add(change)
        s.commit()
        fill = time.perf_counter() - t0
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            people = who_needs_to_know(s, change)
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        counts = send(s, Actor("bench", "admin"), change.id, "https://example.cn")
        sent = time.perf_counter() - t0
    engine.dispose()
    print(json.dumps({"database": url.split(":", 1)[0], "questions": args.questions, "askers_found": len(people),
                      "fill_s": round(fill, 1), "who_needs_to_know_s": [round(t, 3) for t in times],
                      "send_s": round(sent, 3), "sent": counts}, ensure_ascii=False))


if __name__ == "__main__":
    main()
