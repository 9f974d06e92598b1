"""Conversation context: a follow-up that cannot stand alone ("那罚多少？", "个体户也要吗？") is searched together with
the question before it; a new topic ("另外问一下，…") is searched on its own.

The rule is explainable (measured on the dev dialogues of ``../shared/eval`` and the team's own conversations,
README): a turn that announces a new topic stands alone; one that opens with a word pointing back (那/要是/这个 …)
follows on; a short turn follows on when the earlier question makes the articles found more certain; a long
self-contained question is its own topic. The search text is what the previous turn carries and the follow-up: a
previous turn read in context carries its whole search text (the conversation so far), and a turn that asks nothing
("厂里已经隔了一间小屋专门放这些东西") carries the situation told before it as well — enterprises on WeChat tell their
case in several messages and ask in the last one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import timedelta

from ..ingest.limits import is_table
from ..search.index import document_of
from ..search.letter import analyse, is_long
from ..search.retriever import Hit, SearchResult
from ..text.normalize import normalize
from ..text.synonyms import default_synonyms
from ..text.tokenize import Tokenizer
from .sources import is_reply

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
#: a follow-up read with its earlier question: the documents of the first this-many passages found (not mailbox
#: replies) are the conversation's topic, and inside them the follow-up's own words rank the articles as well
TOPIC_PASSAGES = 5
#: the two rankings are merged by reciprocal rank, 1 / (MERGE_K + rank), ties to the ranking with context
MERGE_K = 10
#: what a turn hands on to the next is cut to its last this-many characters (at a sentence start; 100–300 measured
#: the same on the dev and team conversations — the shorter, the less an old topic lingers in a long chat)
MAX_CARRY_CHARS = 200
#: a turn that asks something: a question mark or a question word ("吗", "怎么", "多久", "要不要", "啥" …)
#: — not "…弄哪去了" (something lost, told), "啥…都" ("啥资质都没有") or a negated 什么 ("也没签什么合同": "any")
_ASKS = re.compile(r"[？?]|吗|呢|吧[。！!.]*$|(?:(?<!没)(?<!没.)(?<!不.)(?:什么|啥)|谁|哪[里儿个些家])(?![^，。,；;]{0,6}[都也]|去了)|"
                   r"为什么|怎么|怎样|"
                   r"如何|多少|多久|多长|多大|多远|几(?:[点时年天个月次号周岁]|多)|哪(?![里儿]?去了)|是否|能否|可否|要否|有无|要不要|"
                   r"是不是|有没有|会不会|能不能|可不可以|该不该|需不需要|用不用|算不算|行不行|对不对|咋|干嘛|干吗|"
                   # a request in a letter's words, without a question mark ("请问…", "想咨询一下…")
                   r"请问|请教|请告知|请解答|请指导|请指教|想了解|想咨询|咨询一下|想问|求助|麻烦告知")
#: a message about the asker's own enterprise ("我们…", "我司…", "厂里…", "我是…")
_SELF = re.compile(r"我们|我司|我厂|我公司|本公司|本厂|我单位|本单位|我是|我在|我家|咱们|厂里|公司里|店里|船上|单位里")
#: a turn that only acknowledges ("好的", "谢谢", "明白了"): it changes nothing in the conversation
_COURTESY = re.compile(r"^(?:好的?|好吧|嗯+|哦+|噢+|ok|okay|收到|知道了|明白了?|了解了?|懂了|行|可以|谢谢(?:您|你|了)?|"
                       r"感谢|多谢|辛苦了?|麻烦了|好嘞|好滴|谢了)(?:[,，、\s]*(?:好的?|谢谢(?:您|你|了)?|感谢|多谢|"
                       r"明白了?|知道了|收到|辛苦了?|了解了?))*[。！!~～.…]*$", re.IGNORECASE)


#: a short question after a letter that names this many things the conversation never mentioned is a new question
NEW_SUBJECTS = 2
#: nouns any question may use without changing its subject
_GENERIC = frozenset("要求 规定 问题 情况 部门 时间 时候 期限 手续 材料 资料 流程 程序 标准 文件 企业 公司 单位 我们 "
                     "环保 环境 工作日 费用 方面 地方 东西 事情 办法 处罚 内容 办证".split())


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
    #: what it hands on to a follow-up (:func:`carried`; "": its question, or its search text when that is short)
    carries: str = ""
    #: the user's messages that text holds, oldest first (:func:`carried_turns`; (): only its question)
    turns: tuple[str, ...] = ()
    #: its answer only took note of the situation told and invited the question, promising to read it with what was
    #: told (``meta.tells``, :data:`~assistant.answer.answerer.TELLS_TEXT`)
    told: bool = False
    #: the curated entry its answer offered as "您是不是想问" and the user did not take ("": none) — a long letter's
    #: best entry is offered, not shown
    offered: str = ""
    #: the curated entries the conversation's earlier answers showed or offered, as far as it was read in context
    #: (``meta.entries``): "要是拉到上海去呢" is not given the management-plan answer of two turns back again
    given: tuple[str, ...] = ()

    @property
    def entries(self) -> frozenset[str]:
        """The curated entries the previous answer — and the conversation's earlier ones — showed or offered."""
        return frozenset(e for e in (self.curated, self.offered, *self.given) if e)

    def read_with(self) -> tuple[str, ...]:
        """The user's messages a follow-up read with this turn is read with, oldest first (shown with the answer)."""
        return self.turns or (self.question,)

    def repeated_by(self, question: str) -> bool:
        """``question`` is this one asked again (a retry): it gets the same answer."""
        return normalize(question).strip("？?。！! ") == normalize(self.question).strip("？?。！! ")


#: a turn asking for the penalty ("那罚多少？", "不备案会被罚吗", "我们这边会被怎么处理", "会有什么后果")
_ASKS_PENALTY = re.compile(r"罚|后果|被[^，。,？?]{0,4}处理")


def asks_penalty(question: str) -> bool:
    """The turn asks for the penalty or the consequences of what was told."""
    return bool(_ASKS_PENALTY.search(normalize(question)))


def own_words(question: str, searched: str) -> tuple[str, bool]:
    """What a follow-up read in context (``searched``: the text searched with the conversation) is ranked by inside
    its topic's documents (:func:`follow_up_result`), and whether only penalty articles are ranked: its own words —
    they say what is asked now ("员工培训方面有啥要求？"); for a question on the penalty, the case told with it, among
    the penalty articles. "我们这边会被怎么处理" names no violation: its own words ranked 水污染防治法 articles on
    sewage treatment (处理) first, while the case (waste oil sold to an unlicensed collector) names the penalty article
    that applies (固体废物污染环境防治法第一百一十二条; measured on the design conversations, README)."""
    return (searched, True) if asks_penalty(question) else (question, False)


def opens_new_topic(question: str) -> bool:
    """The turn announces another question ("另外问下，…")."""
    return bool(_SWITCH.match(normalize(question).strip()))


def asks(question: str) -> bool:
    """The turn asks something (a question mark or a question word), rather than telling the situation."""
    return bool(_ASKS.search(normalize(question)))


def tells_situation(question: str) -> bool:
    """The message tells the enterprise's own situation and asks nothing ("我是沈家门的渔船老大", "厂里已经隔了一间
    小屋…"): part of a case told in several messages, not a question of its own (a bare keyword query is not)."""
    return not asks(question) and not only_courtesy(question) and bool(_SELF.search(normalize(question)))


def only_courtesy(question: str) -> bool:
    """The turn only acknowledges or thanks ("好的", "谢谢", "明白了，谢谢")."""
    return bool(_COURTESY.match(normalize(question).strip()))


def carried(question: str, searched: str, earlier: Earlier | None) -> str:
    """What a turn hands on to the next one: its search text (with the conversation when it was read in context);
    for a turn that asks nothing — the situation told in several messages — the earlier turn's context as well,
    unless it announces a new topic. Cut to :data:`MAX_CARRY_CHARS` (its end, from a sentence
    start)."""
    text = searched
    if earlier is not None and not opens_new_topic(question) and not asks(question):
        before = _sentence(earlier.carries or _previous(earlier))
        if not searched.startswith(before):
            text = before + question.strip()
    if len(text) > MAX_CARRY_CHARS:
        cut = text[-MAX_CARRY_CHARS:]
        starts = [m.end() for m in re.finditer(r"[。！？!?；;]", cut)]
        text = cut[starts[0]:] if starts and starts[0] < len(cut) else cut
    return text


def carried_turns(question: str, carried_text: str, earlier: Earlier | None) -> tuple[str, ...]:
    """The user's messages ``carried_text`` (:func:`carried`) holds, oldest first: the earlier turn's and this one."""
    candidates = ((*earlier.read_with(),) if earlier is not None else ()) + (question,)
    kept = tuple(t for t in candidates if t.strip() and t.strip() in carried_text)
    return kept or (question,)


def _previous(earlier: Earlier) -> str:
    """The text of ``earlier`` a follow-up is read with (before :attr:`Earlier.carries` was recorded: its question,
    or its search text when the question was itself a short follow-up)."""
    return earlier.query if len(normalize(earlier.question)) < MIN_TOPIC_CHARS else earlier.question


def asks_after_telling(question: str, earlier: Earlier) -> bool:
    """The turn asks, and the message before it asked nothing ("厂里已经隔了一间小屋专门放这些东西 上了锁" →
    "门口和桶上要贴啥吗"): the case was told to be asked about, so the question is read with it even when the
    search read with the case is less certain than the question's own words (which say little)."""
    return asks(question) and told_case(earlier)


def gist(turn: str) -> str:
    """How the context line names an earlier message: a long letter by its question sentences in the writer's own
    words ("请问…是否…？"), not by its greeting and background ("您好，我们是沈家门一家…"); else the message itself."""
    norm = normalize(turn)
    parts = analyse(turn, norm)
    if not parts.is_long:
        return turn.strip()
    qs = [s for s in parts.questions if not s.quoted] or parts.questions
    if not qs:
        return turn.strip()
    same = len(norm) == len(turn)  # normalisation maps character to character: the writer's own characters
    return "".join((turn[s.start:s.end] if same else norm[s.start:s.end]).strip() for s in qs[:2])


def not_in(question: str, text: str) -> tuple[list[str], list[str]]:
    """The things the turn names — its nouns, :data:`_GENERIC` left out — and those of them ``text`` never mentions:
    none of their two-character pieces, nor those of their full forms (危废 → 危险废物), occurs in ``text`` (with its
    abbreviations' full forms)."""
    syn = default_synonyms()
    told = normalize(text)
    told += " " + " ".join(syn.expansions(told))
    named = [w for w in Tokenizer.default().nouns(normalize(question)) if w not in _GENERIC]
    return named, [w for w in named if not any(f[i:i + 2] in told for f in (w, *syn.expansions(w))
                                               for i in range(len(f) - 1))]


def names_nothing(question: str) -> bool:
    """The turn names no thing at all — no noun beyond the words any question uses ("我们这边会被怎么处理", "那要多久？",
    "需要什么材料"): it can only be about what was said before, never a question of its own (on every design
    conversation, 38 last turns name nothing, all follow-ups; README)."""
    return not not_in(question, "")[0]


def new_subjects(question: str, earlier: Earlier) -> list[str]:
    """The things the turn names that the conversation's messages never mentioned (:func:`not_in`)."""
    return not_in(question, " ".join(earlier.read_with()))[1]


def asks_about_something_else(question: str, earlier: Earlier) -> bool:
    """A short question after a letter that asked (not a case told to be asked about) that names
    :data:`NEW_SUBJECTS` or more things the conversation never mentioned ("饭店的油烟净化器必须装吗" after a letter
    on a fish-meal plant's discharge permit): a new question. A letter tells the whole case, so a follow-up to it
    names what the letter named, or nothing ("审批一般要多少个工作日？"); the letter's rich text would make any search
    read with it look more certain (measured on the conversations that open with a letter, README)."""
    return not told_case(earlier) and any(is_long(normalize(t)) for t in earlier.read_with()) and \
        len(new_subjects(question, earlier)) >= NEW_SUBJECTS


def told_case(earlier: Earlier) -> bool:
    """The previous message told the case and asked nothing, or its answer invited the question: what follows is the
    case's question."""
    return earlier.told or not (asks(earlier.question) or only_courtesy(earlier.question))


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

    A turn that announces a new topic stands alone, and so does a long one; one that points back, or follows an
    answer that invited the question (:attr:`Earlier.told`), uses the earlier question; a short turn uses it when it
    names nothing (:func:`names_nothing`), asks after a message that told the case (:func:`asks_after_telling`) or
    when ``context_helps(question, with_context)`` — in the service: the articles found with the earlier question
    are more certain than those found for the turn alone ("排污许可证能用几年" after an unrelated question is its own
    topic, "超标了一般罚多少钱？" after a noise question is not). A short turn after a letter that names other things
    than the conversation did is a new question (:func:`asks_about_something_else`)."""
    q = normalize(question).strip()
    if earlier is None or not q or opens_new_topic(question):
        return question, None
    combined = _sentence(earlier.carries or _previous(earlier)) + question.strip()
    if not points_back(question) and asks_about_something_else(question, earlier):
        return question, None
    if earlier.told or points_back(question) or (len(q) <= MAX_FOLLOWUP_CHARS and (
            names_nothing(question) or asks_after_telling(question, earlier) or context_helps(question, combined))):
        return combined, earlier
    return question, None


def own_topic(alone: SearchResult, earlier: Earlier, answer_threshold: float) -> bool:
    """The turn's own words find its articles confidently, in documents the conversation has not been about: a new
    question asked in full, not a follow-up ("船厂用的X射线探伤机要办什么证" after a letter on a discharge permit,
    where the letter's rich text would make any search read with it look more certain). Confident = the articles
    found for the turn alone reach the answer threshold; off the topic = none of the documents of their first
    :data:`TOPIC_PASSAGES` passages (mailbox replies left out) is one the previous answer showed. The curated
    entries' confidence is not used: a bare follow-up ("员工培训方面有啥要求？", "是按月报还是按季报？") often
    matches some entry confidently (measured on conversations that open with a letter, README)."""
    if not earlier.documents or alone.passages.confidence < answer_threshold:
        return False
    hits = [h for h in alone.passages.hits if alone.shows(h)]
    replies = {h.item.id for h in hits if is_reply(h.item.kind)}
    return bool(hits) and not topic_documents([h.item.id for h in hits], replies) & set(earlier.documents)


def continues_topic(result: SearchResult, earlier: Earlier) -> bool:
    """A follow-up whose best article (not a mailbox reply, not repealed) is in a document the previous answer
    showed: the conversation stays on that law, so its articles are worth showing for reference even when the
    confidence — fitted on questions asked on their own, which say more than "那罚多少？" — is low."""
    for h in result.passages.hits:
        if is_reply(h.item.kind) or not result.shows(h):
            continue
        return document_of(h.item.id) in earlier.documents
    return False


def topic_documents(ids: list[str], replies: Collection[str] = ()) -> frozenset[str]:
    """The documents of the first :data:`TOPIC_PASSAGES` passage ids (``replies``: ids of mailbox replies, skipped)."""
    return frozenset(document_of(i) for i in [i for i in ids if i not in replies][:TOPIC_PASSAGES])


def merge_rankings(with_context: list[str], own_words: list[str]) -> list[tuple[str, float]]:
    """The two rankings of a follow-up merged by reciprocal rank: what the conversation is about (the follow-up read
    with its earlier question) and what is asked now (the follow-up's own words, ranked inside the topic's
    documents). "员工培训方面有啥要求？" after "评估完了预案报给谁？" finds the law on emergency plans with its earlier
    question, and the article on training with its own words (measured on the dev dialogues, README)."""
    score: dict[str, float] = {}
    for ranking in (with_context, own_words):
        for r, i in enumerate(ranking):
            score[i] = score.get(i, 0.0) + 1.0 / (MERGE_K + r)
    return sorted(score.items(), key=lambda kv: -kv[1])  # stable: ties keep the order with context


def follow_up_result(combined: SearchResult, own_words: Callable[[frozenset[str]], SearchResult]) -> SearchResult:
    """``combined`` (a follow-up searched with its earlier question) with its passages reordered by
    :func:`merge_rankings` against ``own_words(topic)``: the follow-up alone, searched inside the topic's documents.
    The decision features and confidence stay those of ``combined``; a hit's score becomes the merged score. A
    question for a limit value whose best passage is a limit table or row keeps its order (rows first); one that
    found none first ("浓度比标准低一半以上的话能少交点吗？" on the tax) is merged like any other."""
    hits = [h for h in combined.passages.hits if combined.shows(h)]
    if not hits or combined.limit and is_table(hits[0].item.id.rpartition("#")[2]):
        return combined
    replies = {h.item.id for h in hits if is_reply(h.item.kind)}
    topic = topic_documents([h.item.id for h in hits], replies)
    if not topic:
        return combined
    alone = own_words(topic)
    by_id: dict[str, Hit] = {h.item.id: h for h in alone.passages.hits}
    by_id.update({h.item.id: h for h in combined.passages.hits})
    merged = merge_rankings([h.item.id for h in combined.passages.hits], [h.item.id for h in alone.passages.hits])
    k = len(combined.passages.hits)
    new = [Hit(by_id[i].item, sc, by_id[i].bm25, by_id[i].dense, r + 1) for r, (i, sc) in enumerate(merged[:k])]
    top = next((h.item.id for h in alone.passages.hits if not is_reply(h.item.kind) and alone.shows(h)), "")
    return replace(combined, passages=replace(combined.passages, hits=new), asked_top=top)
