"""Admins manage staff accounts. One business action, one transaction, one audit row each."""
from __future__ import annotations

from sqlalchemy import select

from app.auth.models import StaffAccount, StaffRole
from app.auth.services import MIN_PASSWORD_LENGTH, normalize_username
from app.extensions import db
from app.core.audit import record_audit


class StaffAdminError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def all_staff() -> list[StaffAccount]:
    return list(db.session.scalars(select(StaffAccount).order_by(StaffAccount.active.desc(),
                                                                 StaffAccount.id)))


def create_account(admin: StaffAccount, username: str, display_name: str, role: str,
                   password: str) -> StaffAccount:
    _admin(admin)
    username = normalize_username(username)
    display_name = (display_name or "").strip()
    if not username or not display_name:
        raise StaffAdminError("用户名和姓名不能为空")
    if db.session.scalar(select(StaffAccount.id).where(StaffAccount.username == username)):
        raise StaffAdminError(f"用户名 {username} 已存在")
    _check_password(password)
    staff = StaffAccount(username=username, display_name=display_name, role=_role(role),
                         active=True, failed_logins=0)
    staff.set_password(password)
    db.session.add(staff)
    db.session.flush()
    record_audit(admin, "staff.create", "staff", staff.id, before=None,
                 after={"username": username, "display_name": display_name,
                        "role": staff.role, "active": True})
    db.session.commit()
    return staff


def change_role(admin: StaffAccount, staff_id: int, role: str, reason: str = "") -> StaffAccount:
    _admin(admin)
    staff = _target(staff_id)
    new_role = _role(role)
    if staff.id == admin.id and new_role != StaffRole.admin:
        raise StaffAdminError("不能取消自己的管理员角色")
    before = {"role": staff.role}
    staff.role = new_role
    record_audit(admin, "staff.role", "staff", staff.id, before=before,
                 after={"role": new_role}, reason=reason)
    db.session.commit()
    return staff


def set_active(admin: StaffAccount, staff_id: int, active: bool,
               reason: str = "") -> StaffAccount:
    _admin(admin)
    staff = _target(staff_id)
    if staff.id == admin.id and not active:
        raise StaffAdminError("不能停用自己的账号")
    before = {"active": staff.active}
    staff.active = active
    if active:
        staff.failed_logins, staff.locked_until = 0, None
    record_audit(admin, "staff.activate" if active else "staff.deactivate", "staff", staff.id,
                 before=before, after={"active": active}, reason=reason)
    db.session.commit()
    return staff


def reset_password(admin: StaffAccount, staff_id: int, password: str) -> StaffAccount:
    _admin(admin)
    staff = _target(staff_id)
    _check_password(password)
    staff.set_password(password)
    staff.failed_logins, staff.locked_until = 0, None
    # The password itself never goes into the log.
    record_audit(admin, "staff.password", "staff", staff.id, before=None,
                 after={"password": "已重设"})
    db.session.commit()
    return staff


def _admin(admin: StaffAccount) -> None:
    if not isinstance(admin, StaffAccount) or not admin.active or admin.role != StaffRole.admin:
        raise StaffAdminError("只有管理员可以管理员工账号")


def _target(staff_id: int) -> StaffAccount:
    staff = db.session.get(StaffAccount, staff_id)
    if staff is None:
        raise StaffAdminError("员工账号不存在")
    return staff


def _role(role: str) -> StaffRole:
    try:
        return StaffRole(role)
    except ValueError:
        raise StaffAdminError("角色不正确") from None


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise StaffAdminError(f"密码至少 {MIN_PASSWORD_LENGTH} 位")
