"""Sign-in: WeChat OAuth for patients and donors, passwords and roles for staff.

Plugs in: the login manager's user loader, the /auth blueprint, `flask staff`, the staff
accounts' audit labels."""
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
    from app.auth.decorators import configure_login_manager
    from app.auth.views import bp
    from app.core.plugins import register_audit_labels
    from app.extensions import login_manager

    configure_login_manager(login_manager)
    app.register_blueprint(bp, url_prefix="/auth")
    app.cli.add_command(staff_cli)
    register_audit_labels(app, STAFF_AUDIT_LABELS)
