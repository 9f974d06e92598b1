"""What the assistant says on WeChat: the fixed texts, and answers fitted into WeChat's 2 048-byte passive reply (the head of the answer, its sources, a link to the full answer)."""

from __future__ import annotations

import logging
from datetime import date
from urllib.parse import quote

from ...answer.compose import ABSTAIN_TEXT, Answer, Citation
from ...answer.decide import Decision, caution_kind
from ...answer.sentences import category_heading
from ...answer.sources import is_reply
from ...domain import cn_date
from ...text.normalize import normalize

log = logging.getLogger(__name__)


#: WeChat's limit for a passive (and customer-service) text reply, in UTF-8 bytes
MAX_REPLY_BYTES = 2048
#: at most this many characters of the answer itself: WeChat replies stay short, the link has the rest
MAX_HEAD_CHARS = 500

WELCOME = ("您好，欢迎关注舟山市生态环境局！我是环保咨询助手，可以直接发送文字（或语音）咨询环评、排污许可、"
           "危险废物、环保税、噪声和船舶污染防治等问题，例如：“排污许可证有效期几年？”")
NON_TEXT = "目前只能回答文字或语音问题，请直接发送您要咨询的内容，例如：“排污许可证有效期几年？”"
VOICE_UNRECOGNIZED = "抱歉，没能识别这段语音，请改用文字发送您的问题。"
ERROR_TEXT = "抱歉，系统暂时繁忙，您的问题已记录，请稍后再试，或点击菜单“转人工”留言。"
HANDOFF_PROMPT = ("好的，请直接发送您要咨询的问题（一条消息），我们将转交工作人员人工答复；答复后会通过本公众号通知您，"
                  "也可在菜单“我的问题”中查看。发送“取消”可退出。")
HANDOFF_DONE = ("您的问题已转交工作人员，答复后将通过本公众号通知您（若超过 48 小时未收到，请在菜单“我的问题”中查看）。"
                "问题编号：{qid}")
SUGGESTION_HINT = "（回复“1”查看）"
#: under an answer read with the conversation: "0" asks the same words on their own (dialogue.py)
ALONE_HINT = "如不是接着上一个问题问的，回复“0”单独提问。"
#: the caution notices in short, by :func:`~assistant.answer.decide.caution_kind`
CAUTION = {"letter": "（以下为按您来信检索到的相关规定，仅供参考，请结合原文核实）\n",
           "context": "（以下为结合您前面的消息检索到的相关规定，仅供参考，请结合原文核实）\n",
           "plain": "（以下内容与您的问题相关度一般，请结合原文核实）\n"}
QUEUED_LINE = "您的问题已同时转交工作人员，答复后将通过本公众号通知您。"
#: the question carried by the "完整答复" link at most (the reply's 2 048 bytes)
MAX_LINK_CHARS = 100
BIND_USAGE = "绑定企业请发送：绑定 企业名称 统一社会信用代码\n例如：绑定 舟山某某化工有限公司 91330900XXXXXXXXXX"




# -- text formatting -------------------------------------------------------------------------------------------
def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def truncate_bytes(text: str, limit: int, ellipsis: str = "…") -> str:
    """``text`` cut on a character boundary so that it (with ``ellipsis`` when cut) fits in ``limit`` bytes."""
    if utf8_len(text) <= limit:
        return text
    room = limit - utf8_len(ellipsis)
    if room <= 0:
        return ""
    cut = text.encode("utf-8")[:room].decode("utf-8", "ignore")
    return cut + ellipsis


def fit_reply(head: str, tail: str, limit: int = MAX_REPLY_BYTES) -> str:
    """``head`` (shortened when needed) followed by ``tail`` (kept whole when it fits) within ``limit`` bytes."""
    if len(head) > MAX_HEAD_CHARS:
        head = head[:MAX_HEAD_CHARS] + "…"
    sep = "\n\n" if head and tail else ""
    room = limit - utf8_len(tail) - utf8_len(sep)
    if room < 60:  # the tail alone is too long: cut everything
        return truncate_bytes(head + sep + tail, limit)
    return truncate_bytes(head, room) + sep + tail


def chat_link(base_url: str, question: str) -> str:
    q = question.strip()[:MAX_LINK_CHARS]
    return f"{base_url.rstrip('/')}/chat?q={quote(q, safe='')}"


def context_line(ans: Answer) -> str:
    """"结合您上一个问题：…" when the answer used the conversation's earlier question, "结合您前面的消息：… / …" when it
    used several of the user's messages (else "")."""
    ctx = ans.meta.get("context") or {}
    if not ctx.get("used"):
        return ""
    turns = [str(t) for t in ctx.get("turns") or [] if isinstance(t, str) and t.strip()]
    shown = ctx.get("shown")  # how each message is named: a long letter by its question sentences
    if isinstance(shown, list) and len(shown) == len(turns) and all(isinstance(t, str) and t.strip() for t in shown):
        turns = [str(t) for t in shown]
    if len(turns) > 1:  # a case told in several messages: each of them, shortened
        per = max(12, 40 // len(turns))
        return "（结合您前面的消息：" + " / ".join(t[:per] + ("…" if len(t) > per else "") for t in turns) + "）\n"
    turn = turns[0] if turns else str(ctx.get("turn") or "")
    return f"（结合您上一个问题：{turn[:30]}{'…' if len(turn) > 30 else ''}）\n"


def limit_text(card: Citation) -> str:
    """A cited limit-table row as lines a phone shows well: the table's caption and unit, then column：value."""
    lim = card.limit or {}
    unit = f"（单位：{lim.get('unit')}）" if lim.get("unit") else ""
    cells = "\n".join(f"{name}：{value}" if name else str(value) for name, value in lim.get("cells") or [])
    note = "\n（本标准文本由扫描件识别，数字可能有误，请以正式文本为准）" if card.ocr else ""
    return f"【{lim.get('caption') or card.label}】{unit}\n{cells}{note}"


def format_answer(ans: Answer, question: str, base_url: str, limit: int = MAX_REPLY_BYTES) -> str:
    """The assistant's answer as a WeChat text: short answer, cited article labels, link to the full answer."""
    if ans.meta.get("courtesy"):  # "好的，谢谢" — the polite reply alone
        return fit_reply(ans.notice, "", limit)
    in_context = bool((ans.meta.get("context") or {}).get("used"))
    if (ans.meta.get("tells") or ans.meta.get("noted")) and ans.notice:  # the case told so far: the question invited
        head = ans.notice
    elif ans.decision is Decision.ABSTAIN:
        head = ABSTAIN_TEXT + "工作人员答复后将通过本公众号通知您，也可在菜单“我的问题”中查看。"
    elif ans.curated:
        head = f"【{ans.curated['question']}】\n{ans.curated['answer']}".strip()
    elif ans.citations and ans.citations[0].limit:
        head = limit_text(ans.citations[0])
    elif ans.citations and len(ans.citations[0].passages) > 1 and category_heading(ans.citations[0].answer_sentence):
        top = ans.citations[0]  # a waste category asked for: its heading and count, then its rows, as many as fit
        head = "\n".join([f"《{top.title}》{top.answer_sentence}", *(p.snippet for p in top.passages)])
    elif ans.citations:
        top = ans.citations[0]  # the sentence is its first article's: that article's label (依据 below lists all)
        head = f"{top.part_dict()['label']}：{top.answer_sentence or top.snippet}"
    else:
        head = ABSTAIN_TEXT
    if ans.decision is Decision.CAUTION:
        searched = normalize(str(ans.meta.get("searched") or question))
        head = CAUTION[caution_kind(searched, question if in_context else "")] + head
    if any(c.status == "已废止" for c in ans.citations):
        head += "\n注意：部分引用的文件已废止，仅供对照。"
    head = context_line(ans) + head
    tail_lines = []
    # a curated answer's own citations only (compose keeps other hits apart); ministry replies on a line of their own
    shown = ans.citations[:3]
    labels = [c.label + ("" if c.status == "现行有效" else f"（{c.status}）") for c in shown if not is_reply(c.kind)]
    replies = [c.title for c in shown if is_reply(c.kind)]  # the topic, never the mailbox record id
    if labels:
        tail_lines.append("依据：" + "；".join(labels))
    if replies:
        tail_lines.append("部长信箱答复：" + "；".join(replies))
    sug = ans.suggestion or {}
    if sug.get("question"):  # no buttons on WeChat: the suggestion is taken by replying "1" (dialogue.py)
        tail_lines.append(f"您是不是想问：{sug['question']}{SUGGESTION_HINT}")
    if ans.meta.get("queued"):  # a letter or a follow-up shown for reference is with staff too (questions.py)
        tail_lines.append(QUEUED_LINE)
    if in_context:
        tail_lines.append(ALONE_HINT)
    if not in_context and len(question.strip()) <= MAX_LINK_CHARS or not (ans.curated or ans.citations):
        tail_lines.append("完整答复：" + chat_link(base_url, question))
    elif ans.curated and ans.curated.get("question"):  # the curated question asked on its own gives this answer
        tail_lines.append("完整答复：" + chat_link(base_url, str(ans.curated["question"])))
    else:
        # a letter cut to fit the link, or a follow-up without its conversation ("那要多久能办下来"), would be another
        # question: the first article's page instead
        tail_lines.append("条文原文：" + base_url.rstrip("/") + ans.citations[0].url)
    return fit_reply(head, "\n".join(tail_lines), limit)


def welcome_text(base_url: str, day: date, day_of_month: int = 10) -> str:
    """The subscribe reply; ``day`` is the next consultation day (``consult.schedule.next_day``)."""
    return (f"{WELCOME}\n\n菜单“我的问题”可查看您咨询过的问题和工作人员的答复；发送“绑定 企业名称 统一社会信用代码”"
            f"可把咨询记录关联到企业；发送“订阅 危废”等可在相关法规、标准变化时收到政策速递。\n\n下一次企业环保咨询日：{cn_date(day)}（每月{day_of_month}日，"
            f"遇节假日顺延）。\n网页版：{base_url.rstrip('/')}/chat")


def register_day_text(base_url: str, day: date, day_of_month: int = 10) -> str:
    return (f"企业环保咨询日为每月{day_of_month}日（遇节假日顺延），下一次：{cn_date(day)}。\n"
            f"线上报名功能即将开通，开通后可在 {base_url.rstrip('/')}/chat 页面报名；"
            "在此之前，您可以直接在公众号提问，或点击菜单“转人工”留言。")
