"""What 我的筹款 shows of verification: missing and rejected documents with the reviewer's
reasons, the real names, the payee, and the submit button. One query per kind for all of an
organizer's campaigns (registered with app.campaigns.dashboard)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from flask import url_for
from sqlalchemy import select

from app.campaigns.dashboard import DashboardItem
from app.campaigns.models import Campaign, CampaignStatus
from app.extensions import db
from app.review.models import CampaignDocument, CampaignIdentity, DocumentStatus, IdentityStatus, Payee
from app.review.services import PAYEE_STATUSES, required_kinds

S = CampaignStatus
BEFORE_LIVE = frozenset({S.draft, S.rejected, S.submitted})


def dashboard_items(campaigns: Sequence[Campaign]) -> dict[int, list[DashboardItem]]:
    ids = [c.id for c in campaigns]
    early = [c.id for c in campaigns if c.status in BEFORE_LIVE]
    documents: dict[int, list[CampaignDocument]] = defaultdict(list)
    identities: dict[int, IdentityStatus] = {}
    if early:
        for document in db.session.scalars(select(CampaignDocument).where(
                CampaignDocument.campaign_id.in_(early), CampaignDocument.removed_at.is_(None))
                .order_by(CampaignDocument.id)):
            documents[document.campaign_id].append(document)
        identities = dict(db.session.execute(
            select(CampaignIdentity.campaign_id, CampaignIdentity.status)
            .where(CampaignIdentity.campaign_id.in_(early))).all())
    payees = {payee.campaign_id: payee for payee in db.session.scalars(
        select(Payee).where(Payee.campaign_id.in_(ids)))}
    items: dict[int, list[DashboardItem]] = {}
    for campaign in campaigns:
        found: list[DashboardItem] = []
        if campaign.status in BEFORE_LIVE:
            found += _verification(campaign, documents[campaign.id],
                                   identities.get(campaign.id))
        if campaign.status in PAYEE_STATUSES:
            found += _payee(campaign, payees.get(campaign.id))
        items[campaign.id] = found
    return items


def _verification(campaign: Campaign, documents: list[CampaignDocument],
                  identity: IdentityStatus | None) -> list[DashboardItem]:
    page = url_for("review.documents", campaign_id=campaign.id)
    found = [DashboardItem("action", "证明材料与实名", page, order=20)]
    editable = campaign.is_editable
    usable = {d.kind for d in documents if d.status != DocumentStatus.rejected}
    for document in documents:
        if document.status == DocumentStatus.rejected:
            reasons = tuple(document.reason_labels) + ((document.note,) if document.note else ())
            found.append(DashboardItem("review", f"{document.kind.label}：未通过",
                                       _at(page, f"kind-{document.kind.value}"),
                                       details=reasons, tone="warn", order=10))
    pending = sum(1 for d in documents if d.status == DocumentStatus.pending)
    if pending and campaign.status == S.submitted:
        found.append(DashboardItem("review", "证明材料", value=f"{pending} 份待审核", order=20))
    if editable:
        for kind in required_kinds(campaign):
            if kind not in usable:
                again = any(d.kind == kind for d in documents)
                found.append(DashboardItem("todo", f"上传{kind.label}",
                                           _at(page, f"kind-{kind.value}"), tone="warn",
                                           value="需重新上传" if again else "未上传", order=20))
        if identity is None:
            found.append(DashboardItem("todo", "填写患者和发起人的实名信息", _at(page, "identity"),
                                       tone="warn", order=25))
        elif identity == IdentityStatus.rejected:
            found.append(DashboardItem("todo", "实名信息未通过，请核对后重新填写",
                                       _at(page, "identity"), tone="warn", order=25))
        found.append(DashboardItem("action", "提交审核", url_for(
            "review.submit_from_campaign", campaign_id=campaign.id), post=True, order=90))
    return found


def _at(page: str, anchor: str) -> str:
    return f"{page}#{anchor}"


def _payee(campaign: Campaign, payee: Payee | None) -> list[DashboardItem]:
    page = url_for("review.documents", campaign_id=campaign.id, _anchor="payee")
    if payee is None:
        return [DashboardItem("todo", "填写收款人（推荐医院对公账户），核实后才能提现", page,
                              tone="warn", order=40)]
    if payee.status == IdentityStatus.rejected:
        return [DashboardItem("todo", "收款人未通过核实，请修改", page, tone="warn",
                              details=(payee.note,) if payee.note else (), order=40)]
    if payee.status == IdentityStatus.pending:
        return [DashboardItem("review", "收款人", value="待财务核实", order=40)]
    return [DashboardItem("review", "收款人", value="已核实", tone="ok", order=40)]
