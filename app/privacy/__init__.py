"""个人信息 (PIPL arts. 44–47): a person downloads their own data, withdraws consent to optional
processing, and deletes their account — what the law lets us erase is erased or anonymised,
what financial and review records must keep stays, linked to the anonymised account.

Plugs in: the /me/privacy pages, its audit label, and the daily job that erases a campaign's
medical documents five years after it ended (retention.py), as the 隐私政策 says. Its own
package because it reads every feature's rows of a person; nothing imports it."""
from flask import Flask


def register(app: Flask) -> None:
    from app.core.plugins import (register_audit_labels, register_audit_words,
                                  register_periodic_jobs)
    from app.privacy.tasks import PERIODIC_JOBS
    from app.privacy.views import bp

    app.register_blueprint(bp)
    register_periodic_jobs(app, *PERIODIC_JOBS)
    register_audit_labels(app, {"user.delete": "用户注销账号"})
    register_audit_words(app, targets={"user": "用户"}, fields={"deleted": "已注销"})
