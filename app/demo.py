"""Demo data for the embedded default (`python wsgi.py`): added once, through the services.

Staff: admin / xiangzhu-demo-2026 (admin), reviewer / xiangzhu-review-2026 (reviewer),
finance / xiangzhu-finance-2026 (finance). The stand-in knows the demo WeChat users, so a tester
picks 小雨妈妈 on its authorize page to act as the organizer of the live campaign, or 热心的张老师
or 阿杰 to see their own donations there. The live campaign's story (donations, attestations,
updates, a paid withdrawal) is app/demo_story.py; its pictures are drawn by app/demo_pictures.py.
"""
from __future__ import annotations

import io
import logging
from datetime import date

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from app.config import BASE_DIR
from app.auth.models import StaffAccount, StaffRole, User
from app.extensions import db

log = logging.getLogger(__name__)

FONT_PATH = BASE_DIR / "static" / "fonts" / "wqy-microhei.ttc"

DEMO_STAFF = [
    ("admin", "管理员", StaffRole.admin, "xiangzhu-demo-2026"),
    ("reviewer", "审核员小李", StaffRole.reviewer, "xiangzhu-review-2026"),
    ("finance", "财务小周", StaffRole.finance, "xiangzhu-finance-2026"),
]
DEMO_USERS = [
    ("o_demo_xiaoyu_mama", "小雨妈妈"),
    ("o_demo_wang_son", "王建国的儿子"),
    ("o_demo_donor_1", "热心的张老师"),
    ("o_demo_donor_2", "阿杰"),
]

LIVE_CAMPAIGN = {
    "title": "救救我六岁的女儿小雨，她还想上学",
    "patient_name": "李小雨", "relation": "parent",
    "diagnosis": "急性淋巴细胞白血病", "hospital": "北京儿童医院",
    "target_fen": 300_000_00, "duration_days": 30,
    "story": ("小雨今年六岁，是个爱画画的小姑娘。上个月她总说腿疼、发烧不退，"
              "在北京儿童医院确诊为急性淋巴细胞白血病。\n\n"
              "医生说规范化疗的治愈率很高，但前后需要三十万元左右。我们是普通的打工家庭，"
              "已经拿出了全部积蓄，也向亲戚借了钱，还差很多。\n\n"
              "恳请大家帮帮小雨，每一份转发和帮助我们都会记在心里。筹到的钱会直接用于治疗，"
              "每一笔支出都会在这里公示。"),
    "house": "none", "car": "none", "savings": "lt10k",
    "has_medical_insurance": True, "has_commercial_insurance": False,
    "disclosure_note": "家中唯一收入来自父亲打工，月收入约四千元。",
}
SUBMITTED_CAMPAIGN = {
    "title": "父亲突发脑出血，恳请好心人帮帮我们",
    "patient_name": "王建国", "relation": "child",
    "diagnosis": "高血压性脑出血", "hospital": "郑州大学第一附属医院",
    "target_fen": 200_000_00, "duration_days": 30,
    "story": ("我的父亲王建国今年五十八岁，一周前在工地上突发脑出血，"
              "紧急手术后仍在重症监护室。\n\n"
              "ICU 每天的费用在八千元左右，后续还需要康复治疗。家里已经借遍了亲友，"
              "实在没有办法才来求助，谢谢每一位好心人。"),
    "house": "one", "car": "none", "savings": "10k_50k",
    "has_medical_insurance": True, "has_commercial_insurance": False,
    "disclosure_note": "",
}


def seed_demo_data() -> None:
    if db.session.scalar(select(StaffAccount.id).limit(1)) is not None:
        return
    from app.campaigns.photos import process_image
    from app.campaigns.services import create_campaign
    from app.demo_pictures import cover_jpeg
    from app.demo_story import tell_story
    from app.mutual_aid.services import seed_demo_plan
    from app.review import decisions

    staff = {}
    for username, name, role, password in DEMO_STAFF:
        account = StaffAccount(username=username, display_name=name, role=role)
        account.set_password(password)
        db.session.add(account)
        staff[username] = account
    users = {openid: User(openid=openid, nickname=nickname) for openid, nickname in DEMO_USERS}
    db.session.add_all(users.values())
    db.session.commit()

    organizer = users["o_demo_xiaoyu_mama"]
    live = create_campaign(organizer, LIVE_CAMPAIGN, photos=[process_image(cover_jpeg())])
    _submit_with_documents(live, organizer, patient_birth=date(2020, 5, 1),
                           organizer_name="张丽", organizer_birth=date(1991, 3, 12))
    for document in _documents(live.id):
        decisions.decide_document(document.id, staff["reviewer"], approve=True)
    decisions.verify_identity(live.id, staff["reviewer"], ok=True, note="与身份证件一致")
    decisions.verify_payee(live.id, staff["finance"], ok=True, note="北京儿童医院对公账户")
    decisions.approve_review(live.id, staff["reviewer"], note="诊断证明、医院与收款人已核实")
    tell_story(live, organizer, staff, list(users.values()))

    son = users["o_demo_wang_son"]
    waiting = create_campaign(son, SUBMITTED_CAMPAIGN,
                              photos=[process_image(_cover((226, 238, 246), (92, 150, 196)))])
    _submit_with_documents(waiting, son, patient_birth=date(1968, 8, 20),
                           organizer_name="王磊", organizer_birth=date(1994, 10, 2))
    seed_demo_plan()
    log.info("demo data added: campaign %s live, campaign %s waiting for review",
             live.id, waiting.id)


def _submit_with_documents(campaign, organizer: User, *, patient_birth: date,
                           organizer_name: str, organizer_birth: date) -> None:
    """Sample documents (drawn, clearly marked 示例), real names and a hospital payee."""
    from app.core.idcard import make_number
    from app.review import services as review
    from app.core.uploads import check_bytes

    for kind in review.required_kinds(campaign):
        review.upload_documents(campaign, organizer, kind,
                                [check_bytes(_sample_document(kind.label, campaign.patient_name))])
    review.save_identity(campaign, organizer, patient_name=campaign.patient_name,
                         patient_id=make_number("110105", patient_birth, 123),
                         organizer_name=organizer_name,
                         organizer_id=make_number("110105", organizer_birth, 456))
    review.save_payee(campaign, organizer, kind="hospital", account_name=campaign.hospital,
                      bank_name="中国工商银行北京分行", account_number="0200001509026412345")
    review.submit_for_review(campaign, organizer, accept_legal=True)  # the demo organizer ticks 同意


def _documents(campaign_id: int):
    from app.review.services import current_documents

    return current_documents(campaign_id)


def _sample_document(label: str, patient: str) -> bytes:
    """A plain sheet standing in for a scanned document: ruled lines and a stamp-like circle;
    the patient's name on it keeps each campaign's sheets distinct files (the review console
    flags one file used by two campaigns)."""
    image = Image.new("RGB", (900, 1200), (252, 252, 248))
    draw = ImageDraw.Draw(image)
    draw.rectangle([60, 60, 840, 160], outline=(60, 60, 60), width=3)
    for y in range(220, 1080, 48):
        draw.line([90, y, 810, y], fill=(200, 200, 200), width=2)
    draw.ellipse([600, 900, 800, 1100], outline=(200, 40, 40), width=8)
    font = ImageFont.truetype(str(FONT_PATH), 44)
    draw.text((90, 82), f"示例材料 · {label}", font=font, fill=(60, 60, 60))
    draw.text((90, 190), f"患者：{patient}", font=font, fill=(90, 90, 90))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def register_demo_users_with_standin(standin_wsgi) -> None:
    """Let the stand-in's authorize page offer the demo users by name."""
    from app.wechat_standin.app import state_of
    from app.wechat_standin.state import TestUser

    state = state_of(standin_wsgi)
    with state.lock:
        for openid, nickname in DEMO_USERS:
            state.users.setdefault(openid, TestUser(openid=openid, nickname=nickname))


def _cover(background: tuple[int, int, int], accent: tuple[int, int, int]) -> bytes:
    """A calm illustrated cover (no faces, no text) so the demo needs no stock photos."""
    image = Image.new("RGB", (1200, 800), background)
    draw = ImageDraw.Draw(image)
    for step in range(12):
        shade = tuple(min(255, c + step * 3) for c in background)
        draw.rectangle([0, step * 66, 1200, step * 66 + 66], fill=shade)
    draw.ellipse([470, 220, 730, 480], fill=accent)
    draw.polygon([(420, 470), (600, 700), (780, 470)], fill=accent)
    draw.ellipse([160, 120, 260, 220], fill=(255, 255, 255))
    draw.ellipse([940, 560, 1060, 680], fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
