"""app/core/idcard.py (GB 11643) and app/core/crypto.py (Fernet, blind index).

The ID-card functions are pure: given `today`, they never read the clock, so the dates here are
data and cannot expire (test_an_explicit_today_leaves_the_clock_out proves it)."""
from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from app import create_app
from app.config import ProductionConfig
from app.core import crypto, idcard


REFERENCE_DAY = date(2026, 1, 1)   # the day the pure functions are told it is


@pytest.mark.parametrize("years_ahead", [0, 30, 400])
def test_an_explicit_today_leaves_the_clock_out(years_ahead):
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(days=365 * years_ahead),
                             tick=False):
        assert idcard.parse("11010519491231002X", today=REFERENCE_DAY).birth_date == \
            date(1949, 12, 31)
        with pytest.raises(idcard.IdCardError, match="出生日期"):
            idcard.parse("110105209912310021", today=REFERENCE_DAY)


def test_the_standard_example_is_valid_and_decoded():
    card = idcard.parse("11010519491231002X", today=REFERENCE_DAY)
    assert card.birth_date == date(1949, 12, 31)
    assert card.male is False and card.sex_label == "女"
    assert card.region == "110105"
    assert card.age_on(date(2026, 12, 30)) == 76 and card.age_on(date(2026, 12, 31)) == 77
    assert card.masked == "1101**********002X"


@pytest.mark.parametrize("text, message", [
    ("11010519491231002", "18 位"),
    ("1101051949123100XX", "格式"),
    ("99010519491231002X", "地区码"),
    ("110105194902300021", "出生日期"),
    ("110105194912310021", "校验位"),
    ("110105209912310021", "出生日期"),
])
def test_invalid_numbers_say_why(text, message):
    with pytest.raises(idcard.IdCardError, match=message):
        idcard.parse(text, today=REFERENCE_DAY)


def test_people_type_spaces_full_width_and_lower_case_x():
    assert idcard.parse(" １１０１０５ 19491231002x ", today=REFERENCE_DAY).number == \
        "11010519491231002X"


@given(st.dates(min_value=date(1900, 1, 1), max_value=REFERENCE_DAY - timedelta(days=1)),
       st.integers(0, 999))
def test_made_numbers_validate_and_any_single_digit_change_is_caught(birth, sequence):
    number = idcard.make_number("440305", birth, sequence)
    assert idcard.parse(number, today=REFERENCE_DAY).birth_date == birth
    changed = number[:16] + str((int(number[16]) + 1) % 10) + number[17]
    assert not idcard.is_valid(changed, today=REFERENCE_DAY)


def test_age_counts_full_years_and_leap_birthdays():
    assert idcard.age_on(date(2000, 2, 29), date(2025, 2, 28)) == 24
    assert idcard.age_on(date(2000, 2, 29), date(2025, 3, 1)) == 25


def test_encryption_round_trips_and_hides_the_value(app):
    with app.app_context():
        token = crypto.encrypt("110105194912310021")
        assert "1949" not in token and crypto.decrypt(token) == "110105194912310021"
        assert crypto.encrypt("张三") != crypto.encrypt("张三")   # random IV each time
        assert crypto.blind_index("x", "id") == crypto.blind_index("x", "id")
        assert crypto.blind_index("x", "id") != crypto.blind_index("x", "name")
        assert crypto.decrypt_bytes(crypto.encrypt_bytes(b"\x00jpeg")) == b"\x00jpeg"


def test_a_configured_key_is_used_and_keys_rotate(app):
    old, new = crypto.Fernet.generate_key().decode(), crypto.Fernet.generate_key().decode()
    with app.app_context():
        app.config["DATA_ENCRYPTION_KEY"] = old
        token = crypto.encrypt("秘密")
        app.config["DATA_ENCRYPTION_KEY"] = f"{new},{old}"
        assert crypto.decrypt(token) == "秘密"
        app.config["DATA_ENCRYPTION_KEY"] = new
        with pytest.raises(crypto.CryptoError):
            crypto.decrypt(token)
        app.config["DATA_ENCRYPTION_KEY"] = None


def test_without_a_key_only_development_and_tests_fall_back(app, monkeypatch):
    with app.app_context():
        monkeypatch.setitem(app.config, "TESTING", False)
        monkeypatch.setitem(app.config, "EMBEDDED", False)
        with pytest.raises(crypto.CryptoError, match="DATA_ENCRYPTION_KEY"):
            crypto.encrypt("x")


def test_production_refuses_to_start_without_the_key(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "set")
    monkeypatch.setattr(ProductionConfig, "DATA_ENCRYPTION_KEY", None)
    with pytest.raises(RuntimeError, match="DATA_ENCRYPTION_KEY"):
        create_app(ProductionConfig)
