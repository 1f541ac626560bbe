"""Verification and trust: medical documents, review rounds, real names, payee, reports, and
the audit log of staff actions (record_audit)."""
