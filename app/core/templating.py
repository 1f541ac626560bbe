"""Template filters and globals shared by every page."""
from datetime import datetime

from flask import Flask, current_app

from app.core import pii
from app.core.chinatime import CHINA
from app.models_base import as_utc, format_yuan, utcnow


def mask_name(name: str | None) -> str:
    """张三丰 → 张**; a single character stays as it is behind a star."""
    if not name:
        return "匿名"
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str | None) -> str:
    if not phone or len(phone) < 7:
        return "***"
    return phone[:3] + "****" + phone[-4:]


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Stored UTC, shown in China time (UTC+8, no daylight saving)."""
    if value is None:
        return ""
    return as_utc(value).astimezone(CHINA).strftime(fmt)


def relative_time(value: datetime | None) -> str:
    """刚刚, 5分钟前, 3小时前, 2天前; past a month, the date."""
    if value is None:
        return ""
    seconds = max(0, (utcnow() - as_utc(value)).total_seconds())
    if seconds < 60:
        return "刚刚"
    if seconds < 3600:
        return f"{int(seconds // 60)}分钟前"
    if seconds < 86400:
        return f"{int(seconds // 3600)}小时前"
    if seconds < 30 * 86400:
        return f"{int(seconds // 86400)}天前"
    return local_time(value, "%Y-%m-%d")


def days_left(ends_at: datetime | None) -> int:
    if ends_at is None:
        return 0
    seconds = (as_utc(ends_at) - utcnow()).total_seconds()
    return max(0, int((seconds + 86399) // 86400))


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["yuan"] = format_yuan
    app.jinja_env.filters["mask_name"] = mask_name
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["pii_masked"] = pii.mask
    app.jinja_env.filters["pii_warning"] = pii.warning
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["relative_time"] = relative_time
    app.jinja_env.globals["days_left"] = days_left

    @app.context_processor
    def wechat_standin_banner():
        return {"wechat_standin": current_app.config.get("WECHAT_STANDIN", False)}
