"""Messages whose handler died (a killed or restarted worker) before their answer reached the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from ...db.models import Question
from ...errors import QuestionError
from ...questions import answer_from_dict
from .dialogue import CHANNEL, Outcome
from .format import format_answer
from .protocol import Inbound

if TYPE_CHECKING:
    from .service import WechatChannel

RESEND_TEXT = "抱歉，您刚才发送的消息因系统故障未能处理，请重新发送您的问题。给您带来不便，敬请谅解。"


def recover_deferred(ch: WechatChannel, older_than: float = 120.0, limit: int = 200) -> dict[str, int]:
    """A message still ``processing`` or ``deferred`` after ``older_than`` seconds is claimed (compare-and-set, so
    two cron runs never both take it) and finished from what was stored: the stored answer of its question, else
    the stored question answered again, else — the text never reached the database — a notice asking the user to
    send it again. The result goes out through the outbox like any deferred answer. Returns counts."""
    cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
    counts = {"answered": 0, "reanswered": 0, "asked_to_resend": 0, "skipped": 0}
    for row in ch.inbox.stalled(cutoff, limit):
        if not ch.inbox.take_over(row, cutoff):
            continue  # finished or claimed by someone else meanwhile
        account = ch.accounts.get(row.account)
        if account is None or not row.msg_key.startswith("msg:") or row.msg_type not in ("text", "voice"):
            ch.inbox.mark(row.id, "abandoned")  # events and media: nothing to answer later
            counts["skipped"] += 1
            continue
        inbound = Inbound(msg_type=row.msg_type, event="", source=row.openid, target="", create_time=0,
                          msg_id=row.msg_key[4:])
        cmid = ch.dialogue.client_msg_id(account, inbound)
        with ch.sessions() as s:
            q = s.scalar(select(Question).where(Question.channel == CHANNEL, Question.client_msg_id == cmid))
            text, result = (q.text, q.result) if q is not None else ("", None)
        if q is not None and result:
            outcome = Outcome(format_answer(answer_from_dict(result), text, ch.base_url()), q.id)
            counts["answered"] += 1
        elif q is not None:
            try:
                out = ch.dialogue.questions.ask(text, channel=CHANNEL, session_id=row.openid, client_msg_id=cmid)
                outcome = Outcome(format_answer(out.answer, text, ch.base_url()), out.question_id)
            except QuestionError as exc:
                outcome = Outcome(exc.message, q.id)
            counts["reanswered"] += 1
        else:
            outcome = Outcome(RESEND_TEXT)
            counts["asked_to_resend"] += 1
        ch.outbox.deliver_later(account, inbound, outcome, claimed=("recovering",))
    return counts
