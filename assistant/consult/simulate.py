"""A month of simulated traffic from the real petitions file, for tests, demos and screenshots.

Every petition of ``taidi_env_petitions_unanswered.jsonl`` (542 real complaints, many posted several times by
different people) becomes one question asked in the given month by a made-up enterprise of a fixed pool, through a
channel, in a district — deterministically (seeded). The questions go through the same intake as production
(stored once, clustered into queue items). Nothing here is used by the running service.
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ..db.models import Handoff, Question
from ..queue.intake import enqueue
from ..text.normalize import normalize

if TYPE_CHECKING:
    from ..service import AssistantService

PLACES = ("定海", "普陀", "岱山", "嵊泗", "新城", "沈家门", "六横", "金塘", "白泉", "高亭")
TRADES = ("水产品加工", "船舶修造", "石化仓储", "机械制造", "食品", "涂装", "海运", "建材", "印染", "医药")
DISTRICTS = ("定海区", "普陀区", "岱山县", "嵊泗县", "新城", "")
CHANNELS = ("widget", "chat", "wechat", "wechat", "api")


def company(i: int) -> str:
    return f"舟山{PLACES[i % len(PLACES)]}{TRADES[(i // len(PLACES)) % len(TRADES)]}有限公司{i // 100 or ''}"


@dataclass
class SimulatedMonth:
    questions: int
    petition_ids: dict[int, str]  # question id → petition id


def load_petitions(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def simulate(svc: AssistantService, petitions: Path, month_start: datetime, days: int = 30, enterprises: int = 150,
             limit: int | None = None, seed: int = 2026, handoff_share: float = 0.3) -> SimulatedMonth:
    """Ask every petition title once, spread over ``days`` from ``month_start``, straight into the queue."""
    rng = random.Random(seed)
    rows = load_petitions(petitions)[:limit]
    span = timedelta(days=days).total_seconds()
    ids: dict[int, str] = {}
    with svc.Session() as s:
        for n, p in enumerate(rows):
            h = int(hashlib.sha256(p["id"].encode()).hexdigest(), 16)
            ent = company(h % enterprises)
            channel = CHANNELS[h % len(CHANNELS)]
            district = DISTRICTS[(h // 7) % len(DISTRICTS)]
            at = month_start.astimezone(UTC) + timedelta(seconds=span * (n + rng.random()) / max(1, len(rows)))
            text = str(p.get("title") or "").strip()
            q = Question(token=secrets.token_urlsafe(24), text=text, normalized=normalize(text), channel=channel,
                         session_id=f"sim-{h % 10_000_000}" if channel == "wechat" else f"web-{h % 99991}",
                         district=district, enterprise=ent, asked_at=at, decision="abstain")
            s.add(q)
            s.flush()
            if rng.random() < handoff_share:
                s.add(Handoff(question_id=q.id, name=f"联系人{h % 1000}", company=ent,
                              phone=f"13{h % 1_000_000_000:09d}", consent=True, created_at=at))
            item = enqueue(s, q, "abstain", svc.clusterer)
            # queue items carry the time of their questions, not the time of the simulation
            if item.count == 1:
                item.first_asked = at
            item.last_asked = at
            ids[q.id] = p["id"]
        s.commit()
    return SimulatedMonth(len(rows), ids)
