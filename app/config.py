"""Configuration read from the environment.

Three shapes: `ProductionConfig` (gunicorn and `python worker.py`; refuses to start without a
SECRET_KEY), `EmbeddedConfig` (`python wsgi.py`: SQLite in instance/, jobs in-process, the WeChat
stand-in) and `TestConfig` (built by tests/conftest.py).
"""
import functools
import os
import secrets
from pathlib import Path

REAL_WECHAT_API_BASE = "https://api.weixin.qq.com/"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


BASE_DIR = Path(__file__).resolve().parent.parent
# The embedded default's SQLite database, uploads and marker (app/embedded.py). The tests run
# `python wsgi.py` and flask commands in a temporary one, never in the checkout's instance/.
INSTANCE_DIR = Path(_env("XIANGZHU_INSTANCE_DIR") or BASE_DIR / "instance")


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in (_env(name) or "").split(",") if item.strip()]


def _env_pairs(name: str) -> dict[str, str]:
    """NAME=a=1,b=2 → {"a": "1", "b": "2"}."""
    return dict(item.split("=", 1) for item in _env_list(name) if "=" in item)


def _database_url() -> str:
    return _env("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'xiangzhu.db'}"


class Config:
    SECRET_KEY = _env("SECRET_KEY")
    # Earlier keys, still accepted for session cookies while SECRET_KEY is being rotated.
    SECRET_KEY_FALLBACKS = _env_list("SECRET_KEY_FALLBACKS")
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # A streaming replica for anonymous visitors' public reads (app/core/replica.py); unset: none.
    DATABASE_REPLICA_URL = _env("DATABASE_REPLICA_URL")
    REDIS_URL = _env("REDIS_URL")
    # None means "the built-in stand-in" once create_app has started or been told about one.
    WECHAT_API_BASE = _env("WECHAT_API_BASE")
    WECHAT_APPID = _env("WECHAT_APPID")
    WECHAT_SECRET = _env("WECHAT_SECRET")
    WECHAT_MCH_ID = _env("WECHAT_MCH_ID")
    WECHAT_API_KEY = _env("WECHAT_API_KEY")
    # The merchant's API certificate and key (PEM files): WeChat Pay v2 refunds need them.
    WECHAT_MCH_CERT = _env("WECHAT_MCH_CERT")
    WECHAT_MCH_KEY = _env("WECHAT_MCH_KEY")
    # WeChat Pay's API for new orders: v3 (APIv3, JSON, RSA; the current one) or v2 (legacy).
    # Notices and refunds of older orders still go through the API that made them.
    WECHAT_PAY_API = _env("WECHAT_PAY_API", "v3")
    # APIv3: the merchant's API private key (PEM file, apiclient_key.pem) and its certificate's
    # serial number, the APIv3 key (32 characters), and how we verify WeChat: its platform
    # public key (PEM file) with its id (PUB_KEY_ID_…), or else platform certificates, kept in
    # WECHAT_PAY_CERT_DIR and downloaded from /v3/certificates when missing.
    WECHAT_PAY_V3_PRIVATE_KEY = _env("WECHAT_PAY_V3_PRIVATE_KEY")
    WECHAT_PAY_V3_CERT_SERIAL = _env("WECHAT_PAY_V3_CERT_SERIAL")
    WECHAT_PAY_APIV3_KEY = _env("WECHAT_PAY_APIV3_KEY")
    WECHAT_PAY_PUBLIC_KEY = _env("WECHAT_PAY_PUBLIC_KEY")
    WECHAT_PAY_PUBLIC_KEY_ID = _env("WECHAT_PAY_PUBLIC_KEY_ID")
    WECHAT_PAY_CERT_DIR = _env("WECHAT_PAY_CERT_DIR")
    # The same keys as PEM text instead of files: set by the wiring for the stand-in only.
    WECHAT_PAY_V3_PRIVATE_KEY_PEM: str | None = None
    WECHAT_PAY_PUBLIC_KEY_PEM: str | None = None
    # Which custodian pays out withdrawals and other bank payouts (payouts/provider.py):
    # bank_batch, the custodian bank paid by batch file (app/custody_bank), or standin, the
    # in-process stand-in that pays at once (tests). Production refuses to start with standin.
    PAYOUT_PROVIDER = _env("PAYOUT_PROVIDER", "bank_batch")
    # The bank's file layout, a file of app/custody_bank/formats/ (xiangzhu_csv, gbk_pipe).
    BANK_BATCH_FORMAT = _env("BANK_BATCH_FORMAT", "xiangzhu_csv")
    # Four eyes (app/payouts/withdrawal_decisions.py): from this amount in fen a withdrawal needs
    # a second finance person's countersignature before it is released.
    PAYOUT_SECOND_APPROVAL_FEN = int(_env("PAYOUT_SECOND_APPROVAL_FEN", "5000000"))
    # 追加目标 (app/review/target_raise.py): the highest target a live campaign may ask for, in
    # fen (公约 2.0: ¥500,000 for one request); an admin lifts it for one campaign with a reason.
    CAMPAIGN_TARGET_CAP_FEN = int(_env("CAMPAIGN_TARGET_CAP_FEN", "50000000"))
    # 商家转账 to people (app/payouts/transfers.py): on/off, the approved transfer scene with its
    # 用户收款感知 text, and the per-person daily limit (20,000 yuan: docs in WECHAT.md); above it
    # a payout to a person goes by bank.
    WECHAT_TRANSFERS = _env("WECHAT_TRANSFERS", "1") not in ("0", "false", "no")
    WECHAT_TRANSFER_SCENE_ID = _env("WECHAT_TRANSFER_SCENE_ID", "1000")
    WECHAT_TRANSFER_RECV_PERCEPTION = _env("WECHAT_TRANSFER_RECV_PERCEPTION", "现金奖励")
    WECHAT_TRANSFER_DAILY_LIMIT_FEN = int(_env("WECHAT_TRANSFER_DAILY_LIMIT_FEN", "2000000"))
    # WeChat Pay refunds a payment up to this many days after it was paid (APIv3: a year); the
    # plan's paybacks refund within it and send the rest by 商家转账 (mutual_aid/paybacks.py).
    WECHAT_REFUND_WINDOW_DAYS = int(_env("WECHAT_REFUND_WINDOW_DAYS", "365"))
    # The template id of each WeChat template message we send, as the 公众平台 gave it when
    # the 类目模板 was added: "transfer_waiting=…,transfer_received=…" (docs/DEPLOYMENT.md).
    WECHAT_TEMPLATE_IDS = _env_pairs("WECHAT_TEMPLATE_IDS")
    DATA_ENCRYPTION_KEY = _env("DATA_ENCRYPTION_KEY")
    # Keys the blind index of ID numbers (duplicate checks); never rotates (app/core/crypto.py).
    BLIND_INDEX_KEY = _env("BLIND_INDEX_KEY")
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    # WeChat Pay's fee on each order, in basis points (60 = its standard merchant rate of 0.6%;
    # 0 for a fee-free merchant). Defaults to the standard rate everywhere, the stand-in included,
    # so a page never shows less than WeChat would take and the fee path always runs.
    PAYMENT_CHANNEL_FEE_BP = int(_env("PAYMENT_CHANNEL_FEE_BP", "60"))
    UPLOAD_DIR = _env("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    MAX_CONTENT_LENGTH = 40 * 1024 * 1024
    MAX_IMAGE_BYTES = 10 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = None
    RATELIMIT_STORAGE_URI = _env("REDIS_URL", "memory://")
    # Redis down must not take pages or payments down: limits count in memory per process
    # until Redis answers again (flask-limiter checks back), and any other storage error lets
    # the request through rather than failing it.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}
    RATELIMIT_HEADERS_ENABLED = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    STAFF_MAX_FAILED_LOGINS = 5
    STAFF_LOCK_MINUTES = 15
    EMBEDDED = False
    TESTING = False
    LOG_LEVEL = _env("LOG_LEVEL", "INFO")
    LOG_FORMAT = _env("LOG_FORMAT", "text")    # json, logfmt or text (app/core/logging.py)
    # How many proxies in front of us set each X-Forwarded-* header (werkzeug's ProxyFix);
    # 0 trusts none. Only count proxies that overwrite or append to the header.
    PROXY_FIX_X_FOR = _env_int("PROXY_FIX_X_FOR", 0)
    PROXY_FIX_X_PROTO = _env_int("PROXY_FIX_X_PROTO", 0)
    PROXY_FIX_X_HOST = _env_int("PROXY_FIX_X_HOST", 0)
    PROXY_FIX_X_PORT = _env_int("PROXY_FIX_X_PORT", 0)
    PROXY_FIX_X_PREFIX = _env_int("PROXY_FIX_X_PREFIX", 0)
    # The public ledger log (docs/transparency.md): its origin line (= the signing key's name),
    # the Ed25519 signer key (`flask transparency keygen`), the key of the keyed references that
    # stand for a source in a leaf (never rotates: leaves are re-encoded and checked with it),
    # the witnesses whose cosignatures are accepted (verifier keys, whitespace-separated) and
    # how often the integrator runs. Embedded and tests use fixed development keys.
    TRANSPARENCY_ORIGIN = _env("TRANSPARENCY_ORIGIN")
    TRANSPARENCY_SIGNING_KEY = _env("TRANSPARENCY_SIGNING_KEY")
    TRANSPARENCY_REF_KEY = _env("TRANSPARENCY_REF_KEY")
    TRANSPARENCY_WITNESSES = _env("TRANSPARENCY_WITNESSES", "")
    TRANSPARENCY_INTEGRATE_SECONDS = _env_int("TRANSPARENCY_INTEGRATE_SECONDS", 10)


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    LOG_FORMAT = _env("LOG_FORMAT", "json")
    # Production runs behind exactly one nginx (docs/DEPLOYMENT.md), which sets both headers.
    PROXY_FIX_X_FOR = _env_int("PROXY_FIX_X_FOR", 1)
    PROXY_FIX_X_PROTO = _env_int("PROXY_FIX_X_PROTO", 1)

    @classmethod
    def check(cls) -> None:
        if not cls.SECRET_KEY:
            raise RuntimeError(
                "SECRET_KEY is not set. Production refuses to start without one; "
                "run `python wsgi.py` for the embedded development default, after which flask "
                "commands run on its instance/ database (README.md, Commands on the embedded "
                "default)."
            )
        if not cls.DATA_ENCRYPTION_KEY:
            raise RuntimeError(
                "DATA_ENCRYPTION_KEY is not set. Production refuses to start without the key that "
                "encrypts ID numbers and names (see app/core/crypto.py for how to make one)."
            )
        if cls.PAYOUT_PROVIDER == "standin":
            raise RuntimeError(
                "PAYOUT_PROVIDER=standin: the stand-in custodian moves no money. Production pays "
                "out through the custodian bank (PAYOUT_PROVIDER=bank_batch, BANK_BATCH_FORMAT; "
                "README.md, Configuration)."
            )
        if cls.WECHAT_PAY_API not in ("v3", "v2"):
            raise RuntimeError(f"WECHAT_PAY_API={cls.WECHAT_PAY_API!r}: use v3 or v2.")
        v3_keys = (cls.WECHAT_PAY_V3_PRIVATE_KEY, cls.WECHAT_PAY_V3_CERT_SERIAL,
                   cls.WECHAT_PAY_APIV3_KEY)
        if cls.WECHAT_MCH_ID and cls.WECHAT_PAY_API == "v3" and not all(v3_keys):
            raise RuntimeError(
                "WECHAT_PAY_API is v3 but WECHAT_PAY_V3_PRIVATE_KEY / WECHAT_PAY_V3_CERT_SERIAL / "
                "WECHAT_PAY_APIV3_KEY are not all set (README.md, Configuration)."
            )
        if bool(cls.WECHAT_PAY_PUBLIC_KEY) != bool(cls.WECHAT_PAY_PUBLIC_KEY_ID):
            raise RuntimeError(
                "Set WECHAT_PAY_PUBLIC_KEY and WECHAT_PAY_PUBLIC_KEY_ID together (微信支付公钥 "
                "mode), or neither (platform certificates)."
            )
        if (cls.WECHAT_MCH_ID and cls.WECHAT_PAY_API == "v2"
                and not (cls.WECHAT_MCH_CERT and cls.WECHAT_MCH_KEY)):
            raise RuntimeError(
                "WECHAT_MCH_ID is set but WECHAT_MCH_CERT / WECHAT_MCH_KEY are not: WeChat Pay "
                "refunds (termination refunds to donors) need the merchant's API certificate."
            )
        if not cls.BLIND_INDEX_KEY or len(cls.BLIND_INDEX_KEY) < 32:
            raise RuntimeError(
                "BLIND_INDEX_KEY is not set (or shorter than 32 characters). Production refuses to "
                "start without the key that indexes ID numbers for duplicate checks. New "
                "deployment: python -c \"import secrets; print(secrets.token_urlsafe(32))\"; "
                "existing data: set it to the first key of your current DATA_ENCRYPTION_KEY so "
                "stored indexes keep matching (docs/DEPLOYMENT.md, Rotation)."
            )
        if not (cls.TRANSPARENCY_ORIGIN and cls.TRANSPARENCY_SIGNING_KEY
                and cls.TRANSPARENCY_REF_KEY and len(cls.TRANSPARENCY_REF_KEY) >= 32):
            raise RuntimeError(
                "TRANSPARENCY_ORIGIN, TRANSPARENCY_SIGNING_KEY and TRANSPARENCY_REF_KEY (32 "
                "characters or more) must be set: the public ledger log signs its checkpoints "
                "and keys its references with them. `flask transparency keygen --name ORIGIN` "
                "makes a signing key (docs/transparency.md)."
            )


class EmbeddedConfig(Config):
    EMBEDDED = True
    SECRET_KEY = _env("SECRET_KEY", "embedded-development-only-secret")
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'xiangzhu.db'}"
    REDIS_URL = _env("REDIS_URL")
    PORT = _env_int("PORT", 5000)
    STANDIN_PORT = _env_int("STANDIN_PORT", 5001)
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL", f"http://127.0.0.1:{PORT}")
    # Where `python wsgi.py` serves the stand-in, unless real WeChat is configured; flask commands
    # reach it there while it runs (its orders and tokens live in that process's memory).
    WECHAT_API_BASE = _env("WECHAT_API_BASE") or (
        None if Config.WECHAT_APPID else f"http://127.0.0.1:{STANDIN_PORT}/")
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


@functools.lru_cache(maxsize=1)
def standin_v3_credentials() -> dict[str, str]:
    """The merchant's APIv3 keys for the stand-in: an RSA key pair made once per process (RSA
    generation is slow) and handed to both the app and the stand-in."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "WECHAT_PAY_V3_PRIVATE_KEY_PEM": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode(),
        "WECHAT_PAY_V3_PUBLIC_KEY_PEM": key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        "WECHAT_PAY_V3_CERT_SERIAL": secrets.token_hex(20).upper(),
        "WECHAT_PAY_APIV3_KEY": "standinAPIv3key0123456789abcdefX",
    }
