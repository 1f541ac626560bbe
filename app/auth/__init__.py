"""Sign-in: WeChat OAuth for patients and donors, passwords and roles for staff."""
from app.auth.decorators import configure_login_manager
from app.extensions import login_manager

configure_login_manager(login_manager)
