"""The one module that talks to wechatpy: inbound parsing, signatures, AES (安全模式) envelopes, replies, and the
outbound customer-service/menu API client.

Everything else in the WeChat channel works with the small types defined here (:class:`Inbound`,
:class:`AccountCrypto`, :class:`Outbound`), so the SDK can be replaced without touching the workflow.

* Signatures are computed with wechatpy's signer and compared with :func:`hmac.compare_digest` (wechatpy itself
  compares with ``!=``), so the AES envelope is checked here before wechatpy decrypts it.
* Inbound XML is refused before parsing when it declares a DOCTYPE or entities; any parse problem is a
  :class:`MalformedMessage` (the blueprint answers 400 without details).
* The outbound client fetches and caches access tokens in a shared :class:`TokenStore` (the database), refreshes
  them when WeChat says they are invalid (wechatpy's ``auto_retry``), and retries transient failures with
  exponential backoff. :class:`DisabledOutbound` (tests, offline deployments) sends nothing and records what it
  would have sent.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, WeChatClientException
from wechatpy.replies import TextReply
from wechatpy.session import SessionStorage
from wechatpy.utils import WeChatSigner, random_string

log = logging.getLogger(__name__)

SUCCESS = "success"
_FORBIDDEN_XML = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_AES_KEY = re.compile(r"^[A-Za-z0-9+/]{43}$")


class WechatError(Exception):
    """Base class of the adapter's errors."""


class MalformedMessage(WechatError):
    """The body is not a WeChat message (bad XML, missing fields, undecryptable envelope)."""


class SignatureError(WechatError):
    """The signature (or the AppID inside an encrypted message) does not match the account."""


class OutboundError(WechatError):
    """The outbound API refused or failed; ``retryable`` says whether trying again later may help."""

    def __init__(self, message: str, code: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


# -- signatures ------------------------------------------------------------------------------------------------
def sign(*parts: str) -> str:
    """WeChat's SHA-1 signature: the parts sorted, concatenated, hashed (hex)."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def signature_ok(given: str | None, *parts: str) -> bool:
    """Constant-time comparison of ``given`` with the signature of ``parts``."""
    if not given:
        return False
    return hmac.compare_digest(sign(*parts).encode("ascii"), given.strip().lower().encode("utf-8"))


# -- inbound messages ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Inbound:
    """A parsed message or event (only what the channel uses; ``raw`` keeps every field as text)."""

    msg_type: str  # text | image | voice | video | shortvideo | location | link | event | …
    event: str  # subscribe | unsubscribe | click | view | scan | … ("" for messages)
    source: str  # FromUserName: the user's openid
    target: str  # ToUserName: the account's original id (gh_…)
    create_time: int
    msg_id: str  # "" for events
    content: str = ""
    recognition: str = ""
    event_key: str = ""
    raw: dict[str, str] = field(default_factory=dict)

    @property
    def dedup_key(self) -> str:
        """The key WeChat's retries share: MsgId for messages, FromUserName+CreateTime for events."""
        if self.msg_id:
            return f"msg:{self.msg_id}"
        return f"evt:{self.source}:{self.create_time}:{self.event}"


def _check_xml(data: bytes) -> None:
    if not data.strip():
        raise MalformedMessage("empty body")
    if _FORBIDDEN_XML.search(data):
        raise MalformedMessage("DOCTYPE/ENTITY not allowed")


def _xml_dict(data: bytes) -> dict[str, Any]:
    _check_xml(data)
    try:
        doc = xmltodict.parse(data, disable_entities=True)
    except Exception as exc:  # expat errors, encoding errors: all "not a message"
        raise MalformedMessage(f"invalid XML: {type(exc).__name__}") from None
    root = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(root, dict):
        raise MalformedMessage("root element <xml> missing")
    return root


def parse(data: bytes | str) -> Inbound:
    """Parse a plaintext message (as WeChat sends it, or as decrypted from an envelope)."""
    raw_bytes = data.encode("utf-8") if isinstance(data, str) else data
    root = _xml_dict(raw_bytes)
    flat: dict[str, str] = {}
    for k, v in root.items():
        if v is None:
            flat[k] = ""
        elif isinstance(v, str):
            flat[k] = v
    for required in ("ToUserName", "FromUserName", "CreateTime", "MsgType"):
        if not flat.get(required):
            raise MalformedMessage(f"{required} missing")
    if not flat["CreateTime"].strip().isdigit():
        raise MalformedMessage("CreateTime is not a number")
    msg_id = flat.get("MsgId", "").strip()
    if msg_id and not msg_id.isdigit():
        raise MalformedMessage("MsgId is not a number")
    try:
        parsed = parse_message(raw_bytes.decode("utf-8"))
    except Exception as exc:
        raise MalformedMessage(f"unparseable message: {type(exc).__name__}") from None
    msg_type = flat["MsgType"].strip().lower()
    event = str(getattr(parsed, "event", "") or "").lower() if msg_type == "event" else ""
    return Inbound(msg_type=msg_type, event=event, source=flat["FromUserName"].strip(),
                   target=flat["ToUserName"].strip(), create_time=int(flat["CreateTime"].strip()), msg_id=msg_id,
                   content=flat.get("Content", ""), recognition=flat.get("Recognition", ""),
                   event_key=flat.get("EventKey", ""), raw=flat)


# -- 安全模式 / 兼容模式 -----------------------------------------------------------------------------------------
def valid_aes_key(key: str) -> bool:
    """An EncodingAESKey: 43 characters of base64 that decode (with one '=') to 32 bytes."""
    if not _AES_KEY.match(key or ""):
        return False
    try:
        return len(base64.b64decode(key + "=")) == 32
    except (binascii.Error, ValueError):
        return False


@dataclass(frozen=True)
class AccountCrypto:
    """Token, EncodingAESKey and AppID of an account in 安全模式/兼容模式."""

    token: str
    aes_key: str
    appid: str

    def _key(self) -> bytes:
        return base64.b64decode(self.aes_key + "=")

    def decrypt(self, body: bytes, msg_signature: str | None, timestamp: str, nonce: str) -> str:
        """Check ``msg_signature`` over the envelope's Encrypt and return the plaintext XML."""
        root = _xml_dict(body)
        encrypted = root.get("Encrypt")
        if not isinstance(encrypted, str) or not encrypted.strip():
            raise MalformedMessage("Encrypt missing")
        encrypted = encrypted.strip()
        if not signature_ok(msg_signature, self.token, timestamp, nonce, encrypted):
            raise SignatureError("msg_signature mismatch")
        try:
            text = PrpCrypto(self._key()).decrypt(encrypted, self.appid)
        except InvalidAppIdException:
            raise SignatureError("AppID mismatch") from None
        except Exception as exc:  # bad base64, bad padding, bad length
            raise MalformedMessage(f"cannot decrypt: {type(exc).__name__}") from None
        return str(text)

    def encrypt_reply(self, xml: str, nonce: str, timestamp: str | None = None) -> str:
        """The encrypted reply envelope (Encrypt, MsgSignature, TimeStamp, Nonce)."""
        crypto = WeChatCrypto(self.token, self.aes_key, self.appid)
        return str(crypto.encrypt_message(xml, nonce, timestamp or str(int(time.time()))))

    # what WeChat does: used by tests and scripts/wechat_simulator.py
    def encrypt_payload(self, xml: str, timestamp: str, nonce: str) -> tuple[str, str]:
        """Encrypt a plaintext message as WeChat's servers do: (the Encrypt value, msg_signature)."""
        encrypted = PrpCrypto(self._key()).encrypt(xml, self.appid).decode("ascii")
        return encrypted, sign(self.token, timestamp, nonce, encrypted)

    def encrypt_request(self, xml: str, to_user: str, timestamp: str, nonce: str) -> tuple[str, str]:
        """The envelope WeChat posts in 安全模式 (``<xml><ToUserName/><Encrypt/></xml>``) and its msg_signature."""
        encrypted, msg_signature = self.encrypt_payload(xml, timestamp, nonce)
        body = (f"<xml>\n  <ToUserName><![CDATA[{to_user}]]></ToUserName>\n"
                f"  <Encrypt><![CDATA[{encrypted}]]></Encrypt>\n</xml>")
        return body, msg_signature

    def decrypt_reply(self, envelope: str | bytes) -> str:
        """Check and decrypt a reply envelope as WeChat's servers do."""
        data = envelope.encode("utf-8") if isinstance(envelope, str) else envelope
        root = _xml_dict(data)
        return self.decrypt(data, str(root.get("MsgSignature") or ""), str(root.get("TimeStamp") or ""),
                            str(root.get("Nonce") or ""))


def new_nonce() -> str:
    return str(random_string(10))


# -- replies ---------------------------------------------------------------------------------------------------
def _cdata_safe(text: str) -> str:
    return text.replace("]]>", "]]]]><![CDATA[>")


def text_reply(to_user: str, from_user: str, content: str, create_time: int | None = None) -> str:
    """A passive text reply (XML)."""
    reply = TextReply(source=_cdata_safe(from_user), target=_cdata_safe(to_user), content=_cdata_safe(content),
                      time=int(create_time if create_time is not None else time.time()))
    return str(reply.render())


def reply_content(xml: str) -> str:
    """The Content of a text reply (tests, simulator)."""
    root = _xml_dict(xml.encode("utf-8"))
    return str(root.get("Content") or "")


# -- outbound API ----------------------------------------------------------------------------------------------
class TokenStore(Protocol):
    """Shared access-token cache (the database in production)."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, ttl: int | None) -> None: ...

    def delete(self, key: str) -> None: ...


class _Storage(SessionStorage):  # type: ignore[misc]
    def __init__(self, store: TokenStore) -> None:
        self.store = store

    def get(self, key: str, default: Any = None) -> Any:
        v = self.store.get(key)
        return default if v is None else v

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        if value is None:
            return
        self.store.set(key, str(value), ttl)

    def delete(self, key: str) -> None:
        self.store.delete(key)


class Outbound(Protocol):
    """What the channel needs from WeChat's API."""

    enabled: bool

    def send_text(self, openid: str, text: str) -> None: ...

    def create_menu(self, menu: dict[str, Any]) -> None: ...


@dataclass
class DisabledOutbound:
    """Offline/tests: nothing leaves the machine; every message is recorded (and logged)."""

    account: str = "default"
    enabled: bool = False
    sent: list[dict[str, Any]] = field(default_factory=list)

    def send_text(self, openid: str, text: str) -> None:
        self.sent.append({"kind": "text", "openid": openid, "text": text})
        log.info("wechat outbound disabled (%s): would send %d chars to %s", self.account, len(text), openid)

    def create_menu(self, menu: dict[str, Any]) -> None:
        self.sent.append({"kind": "menu", "menu": menu})
        log.info("wechat outbound disabled (%s): would push the menu", self.account)


#: errors worth retrying: system busy, HTTP/network failures (errcode None)
RETRYABLE_CODES = {-1, None}
#: errors of the recipient: 45015 reply window (48 h) passed, 43004 unsubscribed, 40003 bad openid
PERMANENT_CODES = {45015, 43004, 40003, 45047}


class WechatApiOutbound:
    """The real client: customer-service text messages and menu creation through wechatpy's ``WeChatClient``."""

    enabled = True

    def __init__(self, appid: str, secret: str, store: TokenStore, *, timeout: float = 10.0, retries: int = 3,
                 backoff: float = 0.5, sleep: Callable[[float], None] = time.sleep, http: Any = None) -> None:
        from wechatpy import WeChatClient

        self.client = WeChatClient(appid, secret, session=_Storage(store), timeout=timeout)
        if http is not None:  # tests: a fake transport
            self.client._http = http
        self.retries = max(1, retries)
        self.backoff = backoff
        self.sleep = sleep

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        delay = self.backoff
        for attempt in range(1, self.retries + 1):
            try:
                return fn()
            except WeChatClientException as exc:
                code = exc.errcode
                retryable = code in RETRYABLE_CODES
                err = OutboundError(f"{what}: WeChat error {code} {exc.errmsg}", code, retryable)
            except requests.RequestException as exc:
                err = OutboundError(f"{what}: {type(exc).__name__}", None, True)
            if not err.retryable or attempt == self.retries:
                raise err
            log.warning("%s failed (attempt %d/%d): %s; retrying in %.1fs", what, attempt, self.retries, err, delay)
            self.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def send_text(self, openid: str, text: str) -> None:
        self._call("send_text", lambda: self.client.message.send_text(openid, text))

    def create_menu(self, menu: dict[str, Any]) -> None:
        self._call("create_menu", lambda: self.client.menu.create(menu))


__all__ = ["SUCCESS", "AccountCrypto", "DisabledOutbound", "Inbound", "MalformedMessage", "Outbound",
           "OutboundError", "SignatureError", "TokenStore", "WechatApiOutbound", "WechatError", "new_nonce", "parse",
           "reply_content", "sign", "signature_ok", "text_reply", "valid_aes_key"]
