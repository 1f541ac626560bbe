"""Verification and trust: medical documents, review rounds, real names, payee, reports, and
the audit log of staff actions (record_audit).

Plugs in: its blueprint, the encrypted columns, files and blind index that `flask crypto
rotate` covers, and its audit labels."""
from flask import Flask


def register(app: Flask) -> None:
    from app.core import key_rotation
    from app.core.plugins import register_audit_labels
    from app.review.audit import REVIEW_AUDIT_LABELS
    from app.review.models import CampaignIdentity, Payee
    from app.review.storage import encrypted_files
    from app.review.views import bp

    app.register_blueprint(bp)
    key_rotation.register_encrypted_columns(
        app, "review.identities", CampaignIdentity, "patient_name_enc", "patient_id_enc",
        "organizer_name_enc", "organizer_id_enc")
    key_rotation.register_encrypted_columns(app, "review.payees", Payee, "account_name_enc",
                                            "account_number_enc")
    key_rotation.register_blind_index(app, "review.patient_id_index", CampaignIdentity,
                                      index="patient_id_index", source="patient_id_enc",
                                      purpose="patient-id")
    key_rotation.register_encrypted_files(app, "review.private_documents", encrypted_files)
    register_audit_labels(app, REVIEW_AUDIT_LABELS)
