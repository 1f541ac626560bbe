"""失信名单 (公约 2.0): organizers and patients staff have listed, by the blind index of their ID
number, so a new WeChat account with the same ID is caught; the listed cannot launch again, and
the review console shows staff the person's listing and 诺言 record on their next attempt.

Plugs in: the staff page (/staff/blacklist), the launch check campaigns runs on create and
submit, the review console's panel (template global `launch_history`), audit labels and words.
Its own package because it reads review (ID numbers) and pledges (broken 诺言), which build on
campaigns; nothing imports it."""
from flask import Flask

BLACKLIST_AUDIT_LABELS = {
    "blacklist.add": "列入失信名单",
    "blacklist.remove": "移出失信名单",
}


def register(app: Flask) -> None:
    from app.blacklist.models import ListedRole
    from app.blacklist.services import refuse_listed
    from app.blacklist.views import bp
    from app.campaigns.launch_checks import register_launch_check
    from app.core.enums import labels_of
    from app.core.plugins import register_audit_labels, register_audit_words

    app.register_blueprint(bp)
    register_launch_check(app, refuse_listed)
    register_audit_labels(app, BLACKLIST_AUDIT_LABELS)
    register_audit_words(
        app, targets={"blacklist": "失信名单"},
        fields={"role": "身份", "id_masked": "身份证号", "user_id": "用户", "campaign_id": "筹款"},
        values={"blacklist.role": labels_of(ListedRole)})
