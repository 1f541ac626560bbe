"""Test data: factory_boy factories for users, staff accounts and campaigns. Each object is
committed as it is made (sqlalchemy_session_persistence="commit"), so requests see it."""
from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from app.auth.models import StaffAccount, StaffRole, User
from app.campaigns.models import Campaign, CampaignStatus
from app.extensions import db


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    openid = factory.Sequence(lambda n: f"o_test_user_{n:06d}")
    nickname = factory.Sequence(lambda n: f"测试用户{n}")


class StaffFactory(BaseFactory):
    class Meta:
        model = StaffAccount

    username = factory.Sequence(lambda n: f"staff{n}")
    display_name = factory.Sequence(lambda n: f"审核员{n}")
    role = StaffRole.reviewer
    password_hash = factory.LazyFunction(lambda: "")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or "correct horse battery")
        if create:
            db.session.commit()


class CampaignFactory(BaseFactory):
    class Meta:
        model = Campaign

    organizer = factory.SubFactory(UserFactory)
    status = CampaignStatus.draft
    title = factory.Sequence(lambda n: f"救救我的孩子{n}")
    patient_name = "王小明"
    relation = "parent"
    diagnosis = "急性淋巴细胞白血病"
    hospital = "北京儿童医院"
    target_fen = 300_000_00
    story = "孩子今年六岁，确诊白血病。\n\n恳请好心人帮帮我们。"
