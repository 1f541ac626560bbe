"""The mutual-aid plan (互助计划) and the donor funnel into it. `register(app)` adds its public
and staff blueprints and listens for paid donations (a funnel step); the commands are in
`app.mutual_aid.commands.mutual_aid_cli`."""
from flask import Flask


def register(app: Flask) -> None:
    from app.mutual_aid.funnel import connect_donation_signal
    from app.mutual_aid.staff_views import bp as staff_bp
    from app.mutual_aid.views import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(staff_bp)
    connect_donation_signal()
