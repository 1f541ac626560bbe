"""下载我的数据: everything kept of one person, as JSON, and nothing of anyone else. Their own
identifiers are theirs to see in full (openid, unionid, the real names they gave)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from app.auth import legal
from app.auth.models import User
from app.campaigns.models import Campaign
from app.campaigns.trust import Attestation, CampaignUpdate
from app.core import crypto
from app.donations.models import Donation
from app.extensions import db
from app.models_base import as_utc
from app.mutual_aid.models import Membership
from app.notices.models import Notice
from app.pledges.models import Pledge
from app.review.models import CampaignDocument
from app.review.reports import Report
from app.review.services import identity_of, payee_of
from app.sharing.models import ShareLink

FORMAT = "xiangzhu-personal-data/1"


def _when(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    return as_utc(value).isoformat() if isinstance(value, datetime) else value.isoformat()


def _all(query) -> list:
    return list(db.session.scalars(query))


def export_of(user: User) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "profile": {"id": user.id, "nickname": user.nickname, "avatar_url": user.avatar_url,
                    "created_at": _when(user.created_at)},
        "identities": [{"kind": "wechat", "openid": user.openid, "unionid": user.unionid}],
        "campaigns": [_campaign(c) for c in _all(
            select(Campaign).where(Campaign.organizer_id == user.id).order_by(Campaign.id))],
        "donations": [_donation(d) for d in _all(
            select(Donation).where(Donation.user_id == user.id).order_by(Donation.id))],
        "pledges": [_pledge(p) for p in _all(
            select(Pledge).where(Pledge.user_id == user.id).order_by(Pledge.id))],
        "attestations": [{"campaign_id": a.campaign_id, "relation": a.relation,
                          "statement": a.statement, "created_at": _when(a.created_at)}
                         for a in _all(select(Attestation).where(Attestation.user_id == user.id)
                                       .order_by(Attestation.id))],
        "reports": [{"campaign_id": r.campaign_id, "category": r.category, "details": r.details,
                     "status": r.status.value, "outcome": r.outcome,
                     "created_at": _when(r.created_at)}
                    for r in _all(select(Report).where(Report.reporter_id == user.id)
                                  .order_by(Report.id))],
        "share_links": [{"campaign_id": s.campaign_id, "token": s.token,
                         "created_at": _when(s.created_at)}
                        for s in _all(select(ShareLink).where(ShareLink.sharer_user_id == user.id)
                                      .order_by(ShareLink.id))],
        "mutual_aid_memberships": [
            {"plan_id": m.plan_id, "relation": m.relation, "name": crypto.decrypt(m.name_enc),
             "id_number": crypto.decrypt(m.id_enc), "status": m.status.value,
             "joined_at": _when(m.joined_at),
             "ended_at": _when(m.ended_at)}
            for m in _all(select(Membership).where(Membership.user_id == user.id)
                          .order_by(Membership.id))],
        "notices": [{"title": n.title, "body": n.body, "url": n.url,
                     "created_at": _when(n.created_at), "read_at": _when(n.read_at)}
                    for n in _all(select(Notice).where(Notice.user_id == user.id)
                                  .order_by(Notice.id))],
        "consents": {
            "accepted": [{"document": a.document, "version": a.version, "via": a.via,
                          "accepted_at": _when(a.accepted_at)}
                         for a in legal.acceptances_of(user.id)],
            "withdrawn": sorted(legal.withdrawn_purposes(user.id)),
        },
    }


def _campaign(campaign: Campaign) -> dict[str, Any]:
    identity = identity_of(campaign.id)
    payee = payee_of(campaign.id)
    return {
        "id": campaign.id, "status": campaign.status.value, "title": campaign.title,
        "patient_name": campaign.patient_name, "relation": campaign.relation,
        "diagnosis": campaign.diagnosis, "hospital": campaign.hospital,
        "target_fen": campaign.target_fen, "raised_fen": campaign.raised_fen,
        "story": campaign.story, "created_at": _when(campaign.created_at),
        "real_names": identity.revealed() if identity else None,
        "payee": {"kind": payee.kind.value, "account_name": payee.account_name,
                  "bank_name": payee.bank_name, "account_last4": payee.account_last4}
        if payee else None,
        "documents": [{"kind": d.kind.value, "status": d.status.value,
                       "uploaded_at": _when(d.created_at)}
                      for d in _all(select(CampaignDocument)
                                    .where(CampaignDocument.campaign_id == campaign.id,
                                           CampaignDocument.removed_at.is_(None))
                                    .order_by(CampaignDocument.id))],
        "updates": [{"body": u.body, "created_at": _when(u.created_at)}
                    for u in _all(select(CampaignUpdate).where(CampaignUpdate.campaign_id ==
                                                               campaign.id)
                                  .order_by(CampaignUpdate.id))],
    }


def _donation(donation: Donation) -> dict[str, Any]:
    return {"id": donation.id, "campaign_id": donation.campaign_id,
            "amount_fen": donation.amount_fen, "blessing": donation.blessing,
            "anonymous": donation.anonymous, "paid_at": _when(donation.paid_at),
            "created_at": _when(donation.created_at)}


def _pledge(pledge: Pledge) -> dict[str, Any]:
    return {"id": pledge.id, "campaign_id": pledge.campaign_id, "total_fen": pledge.total_fen,
            "repaid_fen": pledge.repaid_fen, "schedule": pledge.schedule.value,
            "destination": pledge.destination.value, "words": pledge.words,
            "status": pledge.status.value, "created_at": _when(pledge.created_at),
            "instalments": [{"seq": i.seq, "due_on": _when(i.due_on), "amount_fen": i.amount_fen,
                             "paid_fen": i.paid_fen} for i in pledge.instalments]}
