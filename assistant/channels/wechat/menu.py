"""The account's custom menu (``corpus/wechat_menu.json``), filled in and checked against WeChat's limits."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from ...config import Settings
from .accounts import ConfigError
from .format import utf8_len

log = logging.getLogger(__name__)


MENU_FILE = "wechat_menu.json"


# -- menu ------------------------------------------------------------------------------------------------------
def load_menu(settings: Settings, path: Path | None = None) -> dict[str, Any]:
    """``corpus/wechat_menu.json`` with ``{public_base_url}`` filled in, validated against WeChat's limits."""
    p = path or (settings.corpus.corpus_dir / MENU_FILE)
    text = p.read_text(encoding="utf-8").replace("{public_base_url}", (settings.web.public_base_url or "").rstrip("/"))
    menu = json.loads(text)
    problems = check_menu(menu)
    if problems:
        raise ConfigError("菜单定义不符合微信要求：" + "；".join(problems))
    return dict(menu)


def check_menu(menu: Any) -> list[str]:
    """WeChat's menu rules: 1–3 buttons, each 1–5 sub-buttons; names ≤16/60 bytes; click keys, https view URLs."""
    problems: list[str] = []
    buttons = menu.get("button") if isinstance(menu, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        return ["一级菜单应为 1–3 个"]

    def leaf(b: dict[str, Any], where: str) -> None:
        t = b.get("type")
        if t == "click":
            key = b.get("key") or ""
            if not key or utf8_len(key) > 128:
                problems.append(f"{where}：click 菜单需要 key（≤128 字节）")
        elif t == "view":
            url = b.get("url") or ""
            if not re.match(r"^https?://[^/\s]+", url) or utf8_len(url) > 1024:
                problems.append(f"{where}：view 菜单需要完整网址（设置 ASSISTANT_PUBLIC_BASE_URL）")
        else:
            problems.append(f"{where}：不支持的菜单类型 {t!r}")

    for i, b in enumerate(buttons, 1):
        if not isinstance(b, dict):
            problems.append(f"第{i}个菜单格式不对")
            continue
        name = str(b.get("name") or "")
        if not name or utf8_len(name) > 16:
            problems.append(f"一级菜单“{name}”名称应为 1–16 字节（最多 5 个汉字）")
        subs = b.get("sub_button")
        if subs:
            if not isinstance(subs, list) or len(subs) > 5:
                problems.append(f"“{name}”的二级菜单应为 1–5 个")
                continue
            for s in subs:
                sname = str(s.get("name") or "") if isinstance(s, dict) else ""
                if not sname or utf8_len(sname) > 60:
                    problems.append(f"二级菜单“{sname}”名称应为 1–60 字节")
                if isinstance(s, dict):
                    leaf(s, f"二级菜单“{sname}”")
        else:
            leaf(b, f"一级菜单“{name}”")
    return problems
