"""Conversation context: a follow-up that cannot stand alone ("那罚多少？", "个体户也要吗？") is searched together with
the question before it; a new topic ("另外问一下，…") is searched on its own.

The rule is explainable (measured on the dev dialogues of ``../shared/eval``, README): a turn that announces a new
topic stands alone; one that opens with a word pointing back (那/要是/这个 …) follows on; a short turn follows on
when the earlier question makes the articles found more certain; a long self-contained question is its own topic. The search text is the previous question and the follow-up; a previous question that was itself a short
follow-up brings its own context along.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from ..search.retriever import SearchResult
from ..text.normalize import normalize
from .sources import document_of, is_reply

#: context is kept this long after the conversation's last question, and never crosses conversations
IDLE = timedelta(minutes=30)
#: a follow-up longer than this (normalised characters) is read as a new question unless it points back
MAX_FOLLOWUP_CHARS = 30
#: a previous question shorter than this was itself a follow-up: its own search text carries the topic
MIN_TOPIC_CHARS = 10
#: "another question": the turn opens a new topic ("另外问下，…", "换个话题，…", "对了，…", "还有，…")
_SWITCH = re.compile(r"^(?:另外|另有|另一|此外|对了|顺便|换个|换一个|再问|再咨询|再请教|还想|想再|还有[,，、:：\s]|"
                     r"还有[个一件]|问个|问一个|咨询个|咨询一个|请教个|请教一个|其他|其它|别的|我还有|我们还有|"
                     r"新问题|另外一个)")
#: words that point back to what was said before
_BACK = re.compile(r"^(?:那|那么|要是|如果|假如|假设|这个|这种|这样|这些|这|上述|上面|刚才|它|其|还要|还需|还得|也)")
_END = "？?。！!"


@dataclass(frozen=True)
class Earlier:
    """The conversation's previous question: the user's words and the text that was searched for it."""

    question: str
    query: str
    #: the documents its answer showed — cited, or offered under a curated answer as 其他可能相关的条文 (regulations,
    #: standards; not mailbox replies): the conversation's topic
    documents: tuple[str, ...] = ()
    #: the curated entry its answer showed ("": none)
    curated: str = ""

    def repeated_by(self, question: str) -> bool:
        """``question`` is this one asked again (a retry): it gets the same answer."""
        return normalize(question).strip("？?。！! ") == normalize(self.question).strip("？?。！! ")


def opens_new_topic(question: str) -> bool:
    """The turn announces another question ("另外问下，…")."""
    return bool(_SWITCH.match(normalize(question).strip()))


def points_back(question: str) -> bool:
    """The turn opens with a word that refers to what was said before ("那…", "要是…", "这个…")."""
    return bool(_BACK.match(normalize(question).strip()))


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text[-1:] in _END else text + "。"


def search_text(question: str, earlier: Earlier | None,
                context_helps: Callable[[str, str], bool] = lambda _alone, _with: True
                ) -> tuple[str, Earlier | None]:
    """What to search for ``question``, and the earlier question it uses (None: the question stands alone).

    A turn that announces a new topic stands alone, and so does a long one; one that points back uses the earlier
    question; a short turn uses it when ``context_helps(question, with_context)`` — in the service: the articles
    found with the earlier question are more certain than those found for the turn alone ("排污许可证能用几年"
    after an unrelated question is its own topic, "超标了一般罚多少钱？" after a noise question is not)."""
    q = normalize(question).strip()
    if earlier is None or not q or opens_new_topic(question):
        return question, None
    prev = earlier.query if len(normalize(earlier.question)) < MIN_TOPIC_CHARS else earlier.question
    combined = _sentence(prev) + question.strip()
    if points_back(question) or (len(q) <= MAX_FOLLOWUP_CHARS and context_helps(question, combined)):
        return combined, earlier
    return question, None


def continues_topic(result: SearchResult, earlier: Earlier) -> bool:
    """A follow-up whose best article (not a mailbox reply, not repealed) is in a document the previous answer
    showed: the conversation stays on that law, so its articles are worth showing for reference even when the
    confidence — fitted on questions asked on their own, which say more than "那罚多少？" — is low."""
    for h in result.passages.hits:
        if is_reply(h.item.kind) or not result.shows(h):
            continue
        return document_of(h.item.id) in earlier.documents
    return False
