"""Configuration read from the environment.

Three shapes: `ProductionConfig` (gunicorn and `python worker.py`; refuses to start without a
SECRET_KEY), `EmbeddedConfig` (`python wsgi.py`: SQLite in instance/, jobs in-process, the WeChat
stand-in) and `TestConfig` (built by tests/conftest.py).
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"

REAL_WECHAT_API_BASE = "https://api.weixin.qq.com/"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _database_url() -> str:
    return _env("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'xiangzhu.db'}"


class Config:
    SECRET_KEY = _env("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    REDIS_URL = _env("REDIS_URL")
    # None means "the built-in stand-in" once create_app has started or been told about one.
    WECHAT_API_BASE = _env("WECHAT_API_BASE")
    WECHAT_APPID = _env("WECHAT_APPID")
    WECHAT_SECRET = _env("WECHAT_SECRET")
    WECHAT_MCH_ID = _env("WECHAT_MCH_ID")
    WECHAT_API_KEY = _env("WECHAT_API_KEY")
    DATA_ENCRYPTION_KEY = _env("DATA_ENCRYPTION_KEY")
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    UPLOAD_DIR = _env("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    MAX_CONTENT_LENGTH = 40 * 1024 * 1024
    MAX_IMAGE_BYTES = 10 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = None
    RATELIMIT_STORAGE_URI = _env("REDIS_URL", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    STAFF_MAX_FAILED_LOGINS = 5
    STAFF_LOCK_MINUTES = 15
    EMBEDDED = False
    TESTING = False


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True

    @classmethod
    def check(cls) -> None:
        if not cls.SECRET_KEY:
            raise RuntimeError(
                "SECRET_KEY is not set. Production refuses to start without one; "
                "run `python wsgi.py` for the embedded development default."
            )
        if not cls.DATA_ENCRYPTION_KEY:
            raise RuntimeError(
                "DATA_ENCRYPTION_KEY is not set. Production refuses to start without the key that "
                "encrypts ID numbers and names (see app/core/crypto.py for how to make one)."
            )


class EmbeddedConfig(Config):
    EMBEDDED = True
    SECRET_KEY = _env("SECRET_KEY", "embedded-development-only-secret")
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'xiangzhu.db'}"
    REDIS_URL = _env("REDIS_URL")
    STANDIN_PORT = int(_env("STANDIN_PORT", "5001"))
    # Compressed version of WeChat's resend schedule, seconds.
    STANDIN_RESEND_SCHEDULE = (2, 2, 5, 10, 30, 60)

    @classmethod
    def check(cls) -> None:
        return None


def standin_credentials() -> dict[str, str]:
    """Credentials the app and the stand-in share when no real ones are configured."""
    return {
        "WECHAT_APPID": "wxstandin00000001",
        "WECHAT_SECRET": "standin-app-secret",
        "WECHAT_MCH_ID": "1900000109",
        "WECHAT_API_KEY": "standinapikey0123456789abcdefABC",
    }
