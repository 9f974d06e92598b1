"""Reply formatting within WeChat's 2048-byte limit, account configuration, the migration."""

from __future__ import annotations

import json
import time
from urllib.parse import quote, urlencode

import pytest
from sqlalchemy import inspect
from wechat_support import AES_KEY, OPENID, make_env, sample, signed_query, wx_settings

from assistant.answer.compose import Answer, Citation
from assistant.answer.decide import Decision
from assistant.channels.wechat.accounts import ConfigError, load_accounts
from assistant.channels.wechat.format import format_answer, truncate_bytes
from assistant.channels.wechat.protocol import reply_content, text_reply
from assistant.config import Settings
from assistant.db.migrate import downgrade, upgrade
from assistant.db.session import make_engine


def _cit(i: int, status: str = "现行有效") -> Citation:
    return Citation(id=f"排污许可管理条例#{i}", title="排污许可管理条例", article=i, status=status, kind="行政法规",
                    snippet="排污许可证有效期为5年。" * 3, highlights=[])


def _answer(text: str, decision: Decision = Decision.ANSWER, curated: bool = True) -> Answer:
    cur = {"id": "x", "question": "排污许可证的有效期是几年？", "answer": text} if curated else None
    return Answer(question="q", decision=decision, confidence=0.9, mode="hybrid", curated=cur,
                  citations=[_cit(14), _cit(15, "已废止"), _cit(16), _cit(17)], related=[])


def test_truncate_bytes_on_character_boundary() -> None:
    s = "排污" * 2000
    out = truncate_bytes(s, 2048)
    assert len(out.encode("utf-8")) <= 2048 and out.endswith("…")
    assert out[:-1] == s[: len(out) - 1]  # whole characters only
    assert truncate_bytes("abc", 10) == "abc"
    mixed = "a排" * 1000
    for limit in range(2040, 2049):
        assert len(truncate_bytes(mixed, limit).encode("utf-8")) <= limit


def test_long_answer_fits_and_keeps_citations_and_link() -> None:
    q = "排污许可证能用几年" * 30
    text = format_answer(_answer("很长的答复。" * 2000), q, "https://zixun.example.cn")
    assert len(text.encode("utf-8")) <= 2048
    assert "《排污许可管理条例》第十四条" in text and "第十五条（已废止）" in text
    assert "第十七条" not in text  # at most three labels
    # a question too long for the link (it would be cut into another question): the curated answer's own question,
    # which gives the same answer, or — an article answer — the first article's page
    assert "完整答复：https://zixun.example.cn/chat?q=" + quote("排污许可证的有效期是几年？", safe="") in text
    assert "…" in text
    articles = format_answer(_answer("", Decision.CAUTION, curated=False), q, "https://zixun.example.cn")
    assert "完整答复" not in articles and "条文原文：https://zixun.example.cn/doc/" in articles
    short = format_answer(_answer("很长的答复。" * 2000), "排污许可证能用几年", "https://zixun.example.cn")
    assert len(short.encode("utf-8")) <= 2048 and "完整答复：https://zixun.example.cn/chat?q=" in short
    # the passive reply XML carries it unchanged
    xml = text_reply(OPENID, "gh_1", text, 1)
    assert reply_content(xml) == text


def test_top_article_when_no_curated_answer_and_caution_notice() -> None:
    text = format_answer(_answer("", Decision.CAUTION, curated=False), "排污许可证", "https://x.cn/")
    assert text.startswith("（以下内容与您的问题相关度一般")
    assert "《排污许可管理条例》第十四条：排污许可证有效期为5年" in text and "https://x.cn/chat?q=" in text


def test_a_letter_is_told_what_it_is_shown_and_that_staff_have_it() -> None:
    """A long letter shown articles for reference: no claim of low relevance, the card's first article named before
    its sentence (the 依据 line lists them all), the hand-over to staff said, and no link that would ask a cut
    letter — the first article's page instead."""
    letter = ("您好！我们是普陀区一家水产冷冻加工厂，三年前领取了排污许可证，最近在整理台账时发现许可证的有效期好像快到了，"
              "但是不清楚具体到期以后要怎么处理。请问排污许可证到期之前需要提前多久申请延续？如果来不及办理会不会影响正常生产？"
              "谢谢！")
    assert len(letter) > 100
    card = _cit(14)
    card.more = [_cit(33), _cit(22)]
    card.answer_sentence = "排污许可证有效期届满，排污单位需要继续排放污染物的，应当于排污许可证有效期届满60日前向审批部门提出申请。"
    ans = Answer(question=letter, decision=Decision.CAUTION, confidence=0.97, mode="hybrid", curated=None,
                 citations=[card], related=[], meta={"queued": True})
    text = format_answer(ans, letter, "https://x.cn")
    assert text.startswith("（以下为按您来信检索到的相关规定，仅供参考") and "相关度一般" not in text
    assert "《排污许可管理条例》第十四条：排污许可证有效期届满" in text
    assert "依据：《排污许可管理条例》第十四条、第三十三条、第二十二条" in text
    assert "您的问题已同时转交工作人员" in text
    assert "完整答复" not in text and "条文原文：https://x.cn/doc/" in text and "chat?q=" not in text
    short = format_answer(Answer(question="排污许可证", decision=Decision.CAUTION, confidence=0.5, mode="hybrid",
                                 curated=None, citations=[_cit(14)], related=[]), "排污许可证", "https://x.cn")
    assert short.startswith("（以下内容与您的问题相关度一般") and "转交工作人员" not in short


def test_a_follow_up_read_with_a_letter_says_so_not_that_it_is_barely_relevant() -> None:
    letter = "您好，我们是沈家门一家做鱼干的加工厂，废水预处理后纳管。" * 4 + "请问废水还要交环保税吗？"
    ans = Answer(question="是按月报还是按季报？", decision=Decision.CAUTION, confidence=0.96, mode="hybrid",
                 curated=None, citations=[_cit(14)], related=[],
                 meta={"context": {"used": True, "turn": letter, "turns": [letter]}, "searched": letter + "是按月报还是按季报？"})
    text = format_answer(ans, "是按月报还是按季报？", "https://x.cn")
    assert "（以下为结合您前面的消息检索到的相关规定，仅供参考" in text and "相关度一般" not in text


def test_a_follow_up_read_in_context_never_links_its_bare_words() -> None:
    """"那要多久能办下来" asked on /chat alone is another question (a refusal): a follow-up answered in the context of
    its conversation links the curated question that gives the same answer, or the first article's page."""
    ctx = {"context": {"used": True, "turn": "船厂用的X射线探伤机要办什么证", "turns": ["船厂用的X射线探伤机要办什么证"]}}
    articles = Answer(question="那要多久能办下来", decision=Decision.ANSWER, confidence=0.8, mode="hybrid", curated=None,
                      citations=[_cit(14)], related=[], meta=ctx)
    text = format_answer(articles, "那要多久能办下来", "https://x.cn")
    assert "chat?q=" not in text and "条文原文：https://x.cn/doc/" in text
    curated = _answer("答复。")
    curated.meta = ctx
    text = format_answer(curated, "那有效期呢", "https://x.cn")
    assert "完整答复：https://x.cn/chat?q=" + quote("排污许可证的有效期是几年？", safe="") in text
    assert quote("那有效期呢", safe="") not in text
    # asked on its own, the question is its own link as before
    assert "完整答复：https://x.cn/chat?q=" + quote("那有效期呢", safe="") in format_answer(_answer("答复。"), "那有效期呢",
                                                                                   "https://x.cn")


def test_only_the_curated_answers_own_citations_and_replies_named_apart() -> None:
    """Issue #15: the hits a curated answer does not cite stay out of 依据; a ministry reply is named by its topic,
    on a line of its own, never with the mailbox's record id."""
    reply = Citation(id="部长信箱·关于排污证延续的回复（mee-141）#1", title="部长信箱·关于排污证延续的回复（mee-141）",
                     article=None, status="现行有效", kind="官方答复", snippet="来信：……", highlights=[])
    ans = Answer(question="q", decision=Decision.ANSWER, confidence=0.9, mode="hybrid",
                 curated={"id": "x", "question": "排污许可证的有效期是几年？", "answer": "五年。"},
                 citations=[_cit(14), reply], related=[], related_articles=[_cit(30)])
    text = format_answer(ans, "排污许可证能用几年", "https://x.cn")
    assert "依据：《排污许可管理条例》第十四条\n部长信箱答复：关于排污证延续的回复\n" in text
    assert "mee-141" not in text and "第三十条" not in text


def test_a_limit_row_is_sent_as_column_value_lines() -> None:
    """A cited limit-table row reads on a phone as its table's caption and unit, then one "column：value" per line;
    a standard read from a scan says its numbers may be misread (team-written example values)."""
    row = Citation(id="GB 1-2000 示例标准#表2·3", title="GB 1-2000 示例标准", article=None, status="现行有效",
                   kind="标准", snippet="GB 1-2000 表2 …", highlights=[], part="表2 第3行",
                   limit={"table": "表2", "caption": "GB 1-2000 表2 新污染源排放限值", "unit": "mg/m3",
                          "cells": [["污染物", "甲苯"], ["排放速率·二级", "3.1 5.2"], ["", "注①"]]}, ocr=True)
    ans = Answer(question="q", decision=Decision.ANSWER, confidence=0.9, mode="hybrid", curated=None,
                 citations=[row], related=[])
    text = format_answer(ans, "新建企业甲苯排放限值", "https://x.cn")
    assert text.startswith("【GB 1-2000 表2 新污染源排放限值】（单位：mg/m3）\n污染物：甲苯\n排放速率·二级：3.1 5.2\n注①\n")
    assert "扫描件识别，数字可能有误" in text and "依据：《GB 1-2000 示例标准》表2 第3行" in text


def test_a_waste_category_is_sent_as_its_heading_then_its_rows() -> None:
    """"HW08包括哪些废物": the category's heading and count, then one row per line, as many as fit; the card's title
    says the category (search/lookup.py)."""
    cat = "国家危险废物名录（2021年版）"
    rows = [Citation(id=f"{cat}#row-900-2{i:02d}-08", title=cat, article=None, status="现行有效", kind="名录",
                     snippet=f"900-2{i:02d}-08 废物之{i}（危险特性：T，I）", highlights=[], part=f"废物代码900-2{i:02d}-08")
            for i in range(10, 18)]
    card = rows[0]
    card.more.extend(rows[1:])
    card.answer_sentence = "HW08 废矿物油与含矿物油废物：本类列出8个废物代码，见下"
    ans = Answer(question="q", decision=Decision.ANSWER, confidence=0.99, mode="hybrid", curated=None,
                 citations=[card], related=[])
    text = format_answer(ans, "HW08包括哪些废物", "https://x.cn")
    assert text.startswith(f"《{cat}》HW08 废矿物油与含矿物油废物：本类列出8个废物代码，见下\n900-210-08 废物之10（危险特性：T，I）\n")
    assert "900-217-08 废物之17" in text and f"依据：《{cat}》HW08类8个废物代码" in text


def test_reply_xml_survives_cdata_terminator() -> None:
    xml = text_reply(OPENID, "gh_1", "a]]>b", 1)
    assert reply_content(xml) == "a]]>b"


def test_accounts_configuration(settings: Settings) -> None:
    assert load_accounts(settings) == {}
    s = settings.evolve(wechat_token="t", wechat_accounts=json.dumps(
        {"putuo": {"token": "pt", "appid": "wxp", "encoding_aes_key": AES_KEY, "mode": "safe"}}))
    accs = load_accounts(s)
    assert set(accs) == {"default", "putuo"}
    assert accs["default"].mode == "plain" and accs["putuo"].mode == "safe" and accs["putuo"].crypto is not None
    assert load_accounts(settings.evolve(wechat_token="t", wechat_encoding_aes_key=AES_KEY,
                                 wechat_appid="wx1"))["default"].mode == "compat"
    bad = [
        settings.evolve(wechat_accounts="{not json"),
        settings.evolve(wechat_accounts="[1]"),
        settings.evolve(wechat_accounts=json.dumps({"a b": {"token": "x"}})),
        settings.evolve(wechat_accounts=json.dumps({"x": {"appid": "wx"}})),
        settings.evolve(wechat_token="t", wechat_encoding_aes_key="short", wechat_appid="wx"),
        settings.evolve(wechat_token="t", wechat_encoding_aes_key=AES_KEY),  # no AppID
        settings.evolve(wechat_token="t", wechat_mode="safe"),  # no key
        settings.evolve(wechat_token="t", wechat_mode="strict"),
    ]
    for b in bad:
        with pytest.raises(ConfigError):
            load_accounts(b)


def test_second_account_has_its_own_token(settings: Settings) -> None:
    s = wx_settings(settings, wechat_accounts=json.dumps({"putuo": {"token": "putuo-token"}}))
    gen = make_env(s)
    env = next(gen)
    try:
        xml = sample("subscribe.xml", FromUserName=OPENID, CreateTime=int(time.time()))
        assert env.post(xml, account="putuo").status_code == 403  # signed with default's token
        r = env.post(xml, account="putuo", query=signed_query(token="putuo-token"))
        assert r.status_code == 200 and "欢迎关注" in reply_content(r.get_data(as_text=True))
        q = signed_query(token="putuo-token", echostr="ok")
        assert env.client.get(f"/wechat/putuo?{urlencode(q)}").get_data(as_text=True) == "ok"
    finally:
        gen.close()


def test_bad_configuration_fails_at_startup(settings: Settings) -> None:
    from assistant.app import create_app

    with pytest.raises(ConfigError):
        create_app(settings.evolve(wechat_accounts="{oops"), start=False)


def test_migration_creates_and_drops_wechat_tables(db_url: str) -> None:
    eng = make_engine(db_url)
    try:
        upgrade(eng)
        names = set(inspect(eng).get_table_names())
        assert {"wechat_messages", "wechat_users", "wechat_tokens"} <= names
        uniques = {u["name"] for u in inspect(eng).get_unique_constraints("wechat_messages")}
        assert "uq_wechat_messages_account_key" in uniques
        downgrade(eng, "0003")
        assert not {"wechat_messages", "wechat_users", "wechat_tokens"} & set(inspect(eng).get_table_names())
        upgrade(eng)
    finally:
        eng.dispose()
