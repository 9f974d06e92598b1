"""Play WeChat's servers against a running assistant: sign (and in 安全模式 encrypt) a message, post it to
``/wechat/<account>`` and print the reply.

    .venv/bin/python scripts/wechat_simulator.py --url http://127.0.0.1:8000/wechat/default --token TOKEN "排污证能用几年"
    .venv/bin/python scripts/wechat_simulator.py --url … --token TOKEN --event subscribe
    .venv/bin/python scripts/wechat_simulator.py --url … --token TOKEN --event CLICK --key MY_QUESTIONS
    .venv/bin/python scripts/wechat_simulator.py --url … --token TOKEN --aes-key KEY --appid wx… "排污证能用几年"

``--verify`` sends the GET server verification instead. ``--repeat 3`` posts the same message three times (as
WeChat's retries do) and says whether the replies were identical. Only talks to the URL given (use a local one).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

from assistant.channels.wechat.protocol import AccountCrypto, reply_content, sign


def _cdata(v: str) -> str:
    return "<![CDATA[" + v.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_xml(args: argparse.Namespace, now: int) -> str:
    """The message as WeChat's documentation shows it."""
    head = (f"<xml>\n  <ToUserName>{_cdata(args.to_user)}</ToUserName>\n"
            f"  <FromUserName>{_cdata(args.openid)}</FromUserName>\n  <CreateTime>{now}</CreateTime>\n")
    if args.event:
        ev = args.event
        key = f"\n  <EventKey>{_cdata(args.key)}</EventKey>" if args.key else ""
        return f"{head}  <MsgType>{_cdata('event')}</MsgType>\n  <Event>{_cdata(ev)}</Event>{key}\n</xml>"
    msg_id = args.msg_id or str(int(time.time() * 1000) * 1000 + secrets.randbelow(1000))
    if args.voice:
        return (f"{head}  <MsgType>{_cdata('voice')}</MsgType>\n  <MediaId>{_cdata('media_id')}</MediaId>\n"
                f"  <Format>{_cdata('amr')}</Format>\n  <Recognition>{_cdata(args.text)}</Recognition>\n"
                f"  <MsgId>{msg_id}</MsgId>\n</xml>")
    return (f"{head}  <MsgType>{_cdata('text')}</MsgType>\n  <Content>{_cdata(args.text)}</Content>\n"
            f"  <MsgId>{msg_id}</MsgId>\n</xml>")


def _http(req: urllib.request.Request, timeout: float) -> tuple[int, bytes, float]:
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - a URL the user gave
            return resp.status, resp.read(), time.perf_counter() - t0
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("text", nargs="?", default="", help="the text message (or the voice Recognition)")
    ap.add_argument("--url", required=True, help="e.g. http://127.0.0.1:8000/wechat/default")
    ap.add_argument("--token", required=True, help="the account's Token (WECHAT_TOKEN)")
    ap.add_argument("--aes-key", default="", help="EncodingAESKey: send in 安全模式 (encrypt_type=aes)")
    ap.add_argument("--appid", default="", help="AppID (needed with --aes-key)")
    ap.add_argument("--event", default="", help="send an event instead: subscribe, unsubscribe, CLICK, VIEW")
    ap.add_argument("--key", default="", help="EventKey (CLICK: MY_QUESTIONS, REGISTER_DAY, HANDOFF)")
    ap.add_argument("--voice", action="store_true", help="send the text as a voice message's Recognition")
    ap.add_argument("--openid", default="oSimulatorUser0001", help="FromUserName")
    ap.add_argument("--to-user", default="gh_simulator", help="ToUserName (the account's original id)")
    ap.add_argument("--msg-id", default="", help="MsgId (default: a new one)")
    ap.add_argument("--repeat", type=int, default=1, help="post the same message N times (WeChat retries)")
    ap.add_argument("--verify", action="store_true", help="GET server verification (echostr) instead")
    ap.add_argument("--raw", action="store_true", help="print the raw reply XML too")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds (WeChat waits 5)")
    args = ap.parse_args(argv)
    if not (args.text or args.event or args.verify):
        ap.error("give a message text, --event or --verify")
    if args.aes_key and not args.appid:
        ap.error("--aes-key needs --appid")

    now = int(time.time())
    nonce = str(secrets.randbelow(10**9))
    query = {"signature": sign(args.token, str(now), nonce), "timestamp": str(now), "nonce": nonce}
    if args.verify:
        echostr = str(secrets.randbelow(10**18))
        status, body, dt = _http(urllib.request.Request(f"{args.url}?{urlencode({**query, 'echostr': echostr})}"),
                                 args.timeout)
        ok = status == 200 and body.decode("utf-8", "replace") == echostr
        print(f"GET verification: HTTP {status} in {dt * 1000:.0f} ms, echostr {'echoed' if ok else 'NOT echoed'}")
        return 0 if ok else 1

    xml = build_xml(args, now)
    crypto = AccountCrypto(args.token, args.aes_key, args.appid) if args.aes_key else None
    if crypto is not None:
        data, msg_signature = crypto.encrypt_request(xml, args.to_user, str(now), nonce)
        query.update(openid=args.openid, encrypt_type="aes", msg_signature=msg_signature)
    else:
        data = xml
        query.update(openid=args.openid)
    url = f"{args.url}?{urlencode(query)}"
    bodies: list[bytes] = []
    for i in range(max(1, args.repeat)):
        req = urllib.request.Request(url, data=data.encode("utf-8"), method="POST",
                                     headers={"Content-Type": "text/xml; charset=utf-8"})
        status, body, dt = _http(req, args.timeout)
        bodies.append(body)
        label = f" (attempt {i + 1})" if args.repeat > 1 else ""
        print(f"HTTP {status} in {dt * 1000:.0f} ms, {len(body)} bytes{label}")
        if status != 200:
            print(body.decode("utf-8", "replace"))
            return 1
    body = bodies[0]
    text = body.decode("utf-8", "replace")
    if args.repeat > 1:
        print("replies identical:", all(b == body for b in bodies))
    if text == "success":
        print("reply: success (acknowledged; any answer comes later through the customer-service API)")
        return 0
    if crypto is not None:
        if args.raw:
            print(text)
        text = crypto.decrypt_reply(text)
        print("(encrypted reply: signature checked and decrypted)")
    if args.raw:
        print(text)
    content = reply_content(text)
    print(f"reply ({len(content.encode('utf-8'))} bytes UTF-8):")
    print(content)
    return 0


if __name__ == "__main__":
    sys.exit(main())
