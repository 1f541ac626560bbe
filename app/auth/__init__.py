"""Sign-in: WeChat OAuth for patients and donors, passwords and roles for staff.

Plugs in: the login manager's user loader, the /auth blueprint, `flask staff`, the staff
accounts' audit labels, the 用户协议 / 隐私政策 pages and their template helpers (legal.py:
acceptances by version, withdrawals of consent to optional processing)."""
from flask import Flask

STAFF_AUDIT_LABELS = {
    "staff.create": "创建员工账号",
    "staff.role": "修改员工角色",
    "staff.deactivate": "停用员工账号",
    "staff.activate": "启用员工账号",
    "staff.password": "重设员工密码",
}


def register(app: Flask) -> None:
    from app.auth.commands import staff_cli
    from app.auth.legal_views import bp as legal_bp
    from app.auth.decorators import configure_login_manager
    from app.auth.views import bp
    from app.auth.models import StaffRole
    from app.core.enums import labels_of
    from app.core.plugins import register_audit_labels, register_audit_words
    from app.extensions import login_manager

    configure_login_manager(login_manager)
    app.register_blueprint(bp, url_prefix="/auth")
    app.register_blueprint(legal_bp)
    app.cli.add_command(staff_cli)
    register_audit_labels(app, STAFF_AUDIT_LABELS)
    register_audit_words(
        app, targets={"staff": "员工账号"},
        fields={"role": "角色", "active": "启用", "username": "用户名", "display_name": "显示名",
                "password": "密码"},
        values={"staff.role": labels_of(StaffRole)})
