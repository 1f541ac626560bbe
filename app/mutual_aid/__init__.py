"""The mutual-aid plan (互助计划) and the donor funnel into it.

Plugs in: its public and staff blueprints, claim payouts (the claimant's payee page and
finance's console; claims paid to WeChat 零钱 as a purpose of payouts' 商家转账, to bank accounts
reconciled with money out; the encrypted payee columns), `flask mutual-aid`, the payables of share batches
and top-ups, wallet refunds as a purpose of payouts' 商家转账, its `ledger verify` check, the
encrypted member columns and claim documents with their blind index, the labels of its actions in the platform's audit log, the funnel steps
that the donor's pages announce (funnel_step) and that each paid donation brings
(donation_paid), and the plan's calendar and funnel flush as periodic jobs. There is no
wallet: paybacks to members are a purpose of payouts' 商家转账 (with the old wallet refunds'
transfers still in flight) and a handler of WeChat refund notices; a round's share due is told
by the 缴费提醒 template message. Each computed round's inputs are a leaf of the public ledger
log (transparency_leaves.py)."""
from flask import Flask


def register(app: Flask) -> None:
    from app.core import key_rotation
    from app.core.plugins import (register_audit_labels, register_audit_words,
                                  register_periodic_jobs)
    from app.ledger.verify import register_check
    from app.mutual_aid.audit import MUTUAL_AID_AUDIT_LABELS, MUTUAL_AID_AUDIT_TARGETS
    from app.mutual_aid.commands import mutual_aid_cli
    from app.mutual_aid.documents import encrypted_files
    from app.mutual_aid.funnel import connect_donation_signal
    from app.mutual_aid.hooks import connect_funnel_steps
    from app.mutual_aid.models import Membership
    from app.mutual_aid.staff_views import bp as staff_bp
    from app.mutual_aid.tasks import PERIODIC_JOBS
    from app.mutual_aid.verify import mutual_aid_problems
    from app.mutual_aid.views import bp as public_bp
    from app.mutual_aid import paybacks
    from app.mutual_aid.payback_refunds import on_refund_notice
    from app.mutual_aid.reminders import MESSAGE_TEMPLATES
    from app.mutual_aid.shares import ShareBatchPayable, TopUpPayable
    from app.payments.payables import register_payable
    from app.payments.refunds import register_refund_handler
    from app.payouts.transfers import TransferPurpose, register_transfer_purpose
    from app.wechat.messages import register_message_template
    from app.mutual_aid import claim_payout_views, claim_payouts
    from app.mutual_aid.payout_models import ClaimPayee
    from app.payouts.tasks import register_reconciler
    from app.mutual_aid.transparency_leaves import LEAF_SOURCE
    from app.transparency.sources import register_leaf_source

    app.register_blueprint(public_bp)
    app.register_blueprint(staff_bp)
    app.cli.add_command(mutual_aid_cli)
    register_payable(app, ShareBatchPayable())
    register_payable(app, TopUpPayable())
    register_check(app, "mutual_aid", mutual_aid_problems)
    # No real name is sent: the money is the payer's, and the membership's name may be a
    # family member's; paybacks go in parts below ¥2,000, where WeChat needs it.
    register_transfer_purpose(app, TransferPurpose(paybacks.PURPOSE, paybacks.LABEL,
                                                   paybacks.on_transfer_settled))
    register_transfer_purpose(app, TransferPurpose(paybacks.OLD_WALLET_PURPOSE, paybacks.LABEL,
                                                   paybacks.on_old_wallet_transfer))
    register_refund_handler(app, paybacks.PREFIX, on_refund_notice)
    for template in MESSAGE_TEMPLATES:
        register_message_template(app, template)
    # A claim to the claimant's WeChat 零钱, in the member's real name when it is theirs.
    register_transfer_purpose(app, TransferPurpose(
        claim_payouts.TRANSFER_PURPOSE, "互助金", claim_payouts.on_transfer_settled,
        claim_payouts.real_name_for_transfer))
    register_reconciler(app, "claim_payouts", claim_payouts.reconcile)
    app.register_blueprint(claim_payout_views.member_bp)
    app.register_blueprint(claim_payout_views.staff_bp)
    key_rotation.register_encrypted_columns(app, "mutual_aid.claim_payees", ClaimPayee,
                                            "account_name_enc", "account_number_enc")
    key_rotation.register_encrypted_columns(app, "mutual_aid.memberships", Membership,
                                            "name_enc", "id_enc")
    key_rotation.register_blind_index(app, "mutual_aid.membership_id_index", Membership,
                                      index="id_index", source="id_enc", purpose="id_number")
    key_rotation.register_encrypted_files(app, "mutual_aid.claim_documents", encrypted_files)
    register_audit_labels(app, MUTUAL_AID_AUDIT_LABELS)
    register_audit_words(app, targets=MUTUAL_AID_AUDIT_TARGETS)
    connect_donation_signal(app)
    connect_funnel_steps(app)
    register_periodic_jobs(app, *PERIODIC_JOBS)
    register_leaf_source(app, LEAF_SOURCE)   # each round's inputs in the public ledger log
