"""Access tokens of the outbound API kept in the database, so that every worker shares one token per account."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from ...db.models import WechatToken
from ...service import AssistantService

log = logging.getLogger(__name__)


# -- outbound --------------------------------------------------------------------------------------------------
class DbTokenStore:
    """Access tokens in ``wechat_tokens``, shared by all processes; expired a minute early."""

    def __init__(self, svc: AssistantService) -> None:
        self.svc = svc

    def get(self, key: str) -> str | None:
        with self.svc.Session() as s:
            row = s.get(WechatToken, key)
            if row is None or not row.value:
                return None
            exp = row.expires_at
            if exp is not None:
                if exp.tzinfo is None:
                    exp = exp.replace(tzinfo=UTC)
                if exp - timedelta(seconds=60) <= datetime.now(UTC):
                    return None
            return row.value

    def set(self, key: str, value: str, ttl: int | None) -> None:
        exp = datetime.now(UTC) + timedelta(seconds=ttl) if ttl else None
        with self.svc.Session() as s:
            row = s.get(WechatToken, key)
            if row is None:
                s.add(WechatToken(key=key, value=value, expires_at=exp))
            else:
                row.value, row.expires_at = value, exp
            try:
                s.commit()
            except IntegrityError:  # another process stored one at the same moment: theirs is as good
                s.rollback()

    def delete(self, key: str) -> None:
        with self.svc.Session() as s:
            row = s.get(WechatToken, key)
            if row is not None:
                s.delete(row)
                s.commit()
