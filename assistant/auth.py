"""Staff accounts: password hashing, roles, district scope, lockout after repeated failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .db.models import StaffUser
from .errors import AuthError

ROLES = {"admin": "管理员（市局）", "district": "区县/功能区工作人员", "expert": "专家", "viewer": "只读"}
DISTRICTS = ("定海区", "普陀区", "岱山县", "嵊泗县", "新城", "普陀山-朱家尖", "高新区", "市本级")
MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 10


def create_user(session: Session, username: str, password: str, role: str, district: str = "",
                unit: str = "", display_name: str = "") -> StaffUser:
    """Create a staff account (validates role, district and password length)."""
    username = username.strip()
    if not username or len(username) > 50:
        raise AuthError("invalid_username", "用户名应为 1–50 个字符")
    if role not in ROLES:
        raise AuthError("invalid_role", f"角色应为 {'/'.join(ROLES)} 之一")
    if role == "district" and district not in DISTRICTS:
        raise AuthError("invalid_district", f"区县工作人员必须指定辖区：{'、'.join(DISTRICTS)}")
    if district and district not in DISTRICTS:
        raise AuthError("invalid_district", f"辖区应为：{'、'.join(DISTRICTS)}")
    if len(password) < MIN_PASSWORD:
        raise AuthError("weak_password", f"密码至少 {MIN_PASSWORD} 位")
    if session.scalar(select(StaffUser).where(StaffUser.username == username)) is not None:
        raise AuthError("user_exists", f"用户 {username} 已存在")
    user = StaffUser(username=username, password_hash=generate_password_hash(password), role=role,
                     district=district, unit=unit, display_name=display_name or username)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> StaffUser:
    """The user for these credentials; counts failures and locks the account after ``MAX_FAILURES``."""
    now = datetime.now(UTC)
    user = session.scalar(select(StaffUser).where(StaffUser.username == username.strip()))
    if user is None or not user.active:
        raise AuthError("bad_credentials", "用户名或密码错误")
    locked = user.locked_until
    if locked is not None and locked.tzinfo is None:
        locked = locked.replace(tzinfo=UTC)
    if locked is not None and locked > now:
        raise AuthError("locked", f"连续登录失败次数过多，账号已锁定，请 {LOCK_MINUTES} 分钟后再试")
    if not check_password_hash(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
        session.commit()
        raise AuthError("bad_credentials", "用户名或密码错误")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login = now
    session.commit()
    return user
