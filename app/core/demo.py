"""Demo data for the embedded default (`python wsgi.py`): added once, through the services.

Staff: admin / xiangzhu-demo-2026 (admin), reviewer / xiangzhu-review-2026 (reviewer),
finance / xiangzhu-finance-2026 (finance). The stand-in knows the demo WeChat users, so a tester
picks 小雨妈妈 on its authorize page to act as the organizer of the live campaign.
"""
from __future__ import annotations

import io
import logging

from PIL import Image, ImageDraw
from sqlalchemy import select

from app.auth.models import StaffAccount, StaffRole, User
from app.extensions import db

log = logging.getLogger(__name__)

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
    from app.campaigns.services import approve_campaign, create_campaign, submit_campaign

    staff = {}
    for username, name, role, password in DEMO_STAFF:
        account = StaffAccount(username=username, display_name=name, role=role)
        account.set_password(password)
        db.session.add(account)
        staff[username] = account
    users = {openid: User(openid=openid, nickname=nickname) for openid, nickname in DEMO_USERS}
    db.session.add_all(users.values())
    db.session.commit()

    live = create_campaign(users["o_demo_xiaoyu_mama"], LIVE_CAMPAIGN,
                           photos=[process_image(_cover((250, 236, 222), (236, 138, 108)))])
    submit_campaign(live, by_user=users["o_demo_xiaoyu_mama"])
    approve_campaign(live, by_staff=staff["reviewer"], reason="诊断证明、医院与收款人已核实")
    waiting = create_campaign(users["o_demo_wang_son"], SUBMITTED_CAMPAIGN,
                              photos=[process_image(_cover((226, 238, 246), (92, 150, 196)))])
    submit_campaign(waiting, by_user=users["o_demo_wang_son"])
    log.info("demo data added: campaign %s live, campaign %s waiting for review",
             live.id, waiting.id)


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
