"""What the demo's live campaign has lived through by the time a newcomer opens it: friends and
strangers who gave (with their blessings), people who vouch for the family, two updates and the
first withdrawal paid to the hospital and published in its 资金公示.

Everything goes through the services and the outside world's protocols: each donation is
ordered at the WeChat stand-in, paid there, and settled by querying the order (as a notice that
never came would be); the withdrawal is approved by a reviewer, released by finance and paid by
the custodian bank's batch file, the stand-in bank answering (or at once by the stand-in
custodian when PAYOUT_PROVIDER=standin). The ledger is therefore the one a real run would keep.
"""
from __future__ import annotations

import logging
import secrets

import requests
from flask import current_app

from app.auth.models import StaffAccount, User
from app.campaigns.models import Campaign
from app.demo_pictures import avatar_jpeg, paper_jpeg
from app.extensions import db

log = logging.getLogger(__name__)

# (nickname — "" for someone who never showed WeChat their name —, yuan, blessing, anonymous)
DONORS = [
    ("热心的张老师", 200, "小雨加油！老师和同学们都在等你回来上学。", False),
    ("阿杰", 50, "一点心意，早日康复", False),
    ("小雨的舅舅", 5000, "孩子别怕，舅舅一家永远在你身后。", False),
    ("", 20, "", False),
    ("晴天", 100, "愿小天使平平安安长大", False),
    ("李阿姨", 500, "我们小区的邻居都在为小雨祈福", False),
    ("", 30, "加油", True),
    ("大熊", 66, "六六大顺，顺顺利利", False),
    ("北京儿童医院的一位家长", 200, "我们家孩子也在这里治好了，相信医生，一定会好的！", False),
    ("王建军", 1000, "同事一场，尽一份力", False),
    ("", 10, "", False),
    ("Cherry", 88, "小雨宝贝要勇敢哦", False),
    ("老周", 300, "", False),
    ("小雨妈妈的大学同学", 2000, "丽丽，有我们在，一起扛过去。", False),
    ("", 50, "好人一生平安", True),
    ("陈医生", 500, "规范治疗，预后很好，家长放宽心。", False),
    ("向日葵", 20, "转发了，希望更多人看到", False),
    ("", 100, "", False),
    ("刘奶奶", 200, "孩子快点好起来，奶奶给你包饺子", False),
    ("一年级二班家委会", 3000, "全班同学的心意，盼小雨早日回到教室！", False),
    ("小马", 30, "", False),
    ("", 200, "愿世间再无病痛", True),
    ("赵叔叔", 1000, "挺住，一切都会好起来的", False),
    ("路过的陌生人", 10, "虽然不多，但是一份心意", False),
    ("", 66, "", False),
    ("吴女士", 500, "作为母亲感同身受，祝小雨早日康复", False),
    ("程序员小黄", 128, "bug 会修好的，病也会好的！", False),
    ("", 20, "加油加油", False),
    ("张爷爷", 600, "小雨画的画真好看，等你好了教爷爷画画", False),
    ("林小姐", 300, "", False),
    ("", 1000, "为孩子祈福", True),
    ("小雨爸爸的工友", 800, "兄弟们凑的，不多，给孩子买点营养品", False),
    ("月亮", 52, "小雨是最勇敢的小朋友", False),
    ("", 100, "", False),
    ("社区志愿者", 200, "社区会持续关注，有需要随时说", False),
    ("孙老师", 500, "小雨，美术课的画笔给你留着呢", False),
]
AVATAR_DONORS = {"热心的张老师", "阿杰", "晴天", "大熊", "Cherry", "向日葵", "月亮", "程序员小黄",
                 "林小姐", "孙老师", "吴女士", "陈医生"}
ATTESTERS = [
    ("小雨的舅舅", "relative", "我是小雨的舅舅，孩子确诊的时候我陪着去的北京儿童医院，情况属实，恳请大家帮帮她。"),
    ("孙老师", "colleague", "我是小雨的美术老师，孩子很乖很爱画画，家里确实困难，情况属实。"),
    ("李阿姨", "neighbour", "我们是楼上楼下的邻居，小雨一家人都很朴实，生病的事大家都知道。"),
    ("陈医生", "medical", "我是血液科的医生，急性淋巴细胞白血病规范化疗治愈率高，费用确实需要二三十万。"),
    ("小雨妈妈的大学同学", "friend", "我和小雨妈妈是大学同学，认识十几年了，她家情况属实。"),
    ("热心的张老师", "classmate", "我是小雨幼儿园的老师，孩子们都很想她，情况属实。"),
]
FIRST_UPDATE = ("小雨这周开始了第一阶段的诱导化疗。第一次打针她哭了，后来自己说“我不怕，"
                "我想快点回学校”。\n\n谢谢每一位帮助和转发的朋友，我们每天都在看大家的祝福，"
                "念给小雨听。")
WITHDRAWAL_FEN = 12_000_00
WITHDRAWAL_PURPOSE = "支付第一阶段化疗费用"
SECOND_UPDATE = ("第一笔善款 ¥12,000 已由监管银行直接付到北京儿童医院的对公账户，"
                 "用于第一阶段化疗，医院的收据已经在资金公示里。\n\n小雨的血象在慢慢好转，"
                 "医生说反应比预想的好。谢谢大家，我们会继续公示每一笔费用。")


def tell_story(campaign: Campaign, organizer: User, staff: dict[str, StaffAccount],
               demo_users: list[User]) -> None:
    """Only with the WeChat stand-in: real WeChat would take real money for each donation.
    Demo users a tester can sign in as (热心的张老师, 阿杰) give their own lines of DONORS."""
    if not current_app.config.get("WECHAT_STANDIN"):
        log.info("real WeChat configured: the demo campaign starts without donations")
        return
    from app.campaigns import trust
    from app.campaigns.photos import process_image

    givers = _givers({user.nickname: user for user in demo_users})
    by_name = {user.nickname: user for user in givers}
    first_part = len(DONORS) * 2 // 3
    for user, entry in zip(givers[:first_part], DONORS[:first_part]):
        _donate(campaign.id, user, entry)
    for nickname, relation, statement in ATTESTERS:
        trust.attest(campaign.id, by_name[nickname], relation, statement)
    trust.post_update(campaign.id, organizer, FIRST_UPDATE,
                      [process_image(paper_jpeg("化疗日记 · 第一周"))])
    _withdraw(campaign.id, organizer, staff)
    trust.post_update(campaign.id, organizer, SECOND_UPDATE)
    for user, entry in zip(givers[first_part:], DONORS[first_part:]):
        _donate(campaign.id, user, entry)


def _givers(known: dict[str, User]) -> list[User]:
    """One WeChat user per line of DONORS; the nameless ones keep WeChat's 微信用户."""
    from app.campaigns.photos import process_image, store_image

    givers = []
    for index, (nickname, *_rest) in enumerate(DONORS):
        user = known.get(nickname) or User(openid=f"o_demo_giver_{index:02d}",
                                           nickname=nickname or "微信用户")
        if nickname in AVATAR_DONORS:
            key = store_image(process_image(avatar_jpeg(index)))
            user.avatar_url = f"/photos/{key}.jpg"
        db.session.add(user)
        givers.append(user)
    db.session.commit()
    return givers


def _donate(campaign_id: int, user: User, entry) -> None:
    from app.donations.services import start_donation
    from app.payments.services import settle_by_query

    _nickname, yuan, blessing, anonymous = entry
    payment = start_donation(campaign_id=campaign_id, user=user, amount_fen=yuan * 100,
                             blessing=blessing, anonymous=anonymous,
                             form_key=secrets.token_urlsafe(16), trade_type="NATIVE",
                             client_ip="127.0.0.1")
    base = current_app.config["WECHAT_API_BASE"]
    requests.post(f"{base}standin/pay/{payment.out_trade_no}/pay", timeout=10).raise_for_status()
    outcome = settle_by_query(payment.id)
    if outcome != "paid":
        raise RuntimeError(f"demo donation {payment.out_trade_no} not paid: {outcome}")


def _withdraw(campaign_id: int, organizer: User, staff: dict[str, StaffAccount]) -> None:
    """The first withdrawal, to the hospital: asked, approved, released, paid, receipted."""
    from app.core.uploads import check_bytes
    from app.payouts import documents, withdrawal_decisions, withdrawals

    withdrawal = withdrawals.request_withdrawal(
        campaign_id, organizer, WITHDRAWAL_FEN, WITHDRAWAL_PURPOSE,
        invoices=[check_bytes(paper_jpeg("住院费用预交单 ¥12,000"))])
    withdrawal_decisions.approve_withdrawal(withdrawal.id, staff["reviewer"],
                                            "预交单与诊断、医院一致")
    withdrawal_decisions.release_withdrawal(withdrawal.id, staff["finance"])
    withdrawals.execute(withdrawal.id)   # the transfer job's work (with Redis, a worker's)
    if current_app.config.get("PAYOUT_PROVIDER") == "bank_batch":
        _bank_pays(staff["finance"])
    documents.decide_document(
        documents.upload_receipts(withdrawal.id, organizer,
                                  [check_bytes(paper_jpeg("北京儿童医院 收据 ¥12,000"))])[0].id,
        staff["finance"], True)


def _bank_pays(finance: StaffAccount) -> None:
    """Finance builds the batch file; the stand-in bank pays it; its result file settles it."""
    from app.custody_bank import batches, standin_bank

    from app.payouts.tasks import reconcile_money_out

    batch = batches.build_batch(finance)
    result = standin_bank.process_batch(batches.default_format(), batch.file_bytes)
    batches.import_result(result, finance)
    reconcile_money_out(0)   # the settling job import_result queued (with Redis, a worker's)
