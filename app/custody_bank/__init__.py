"""The custodian bank (资金监管银行) paid by batch file: the `bank_batch` payout provider, finance's
bank console (batch files out, result files and daily statements in, findings), the stand-in
bank that plays the bank's corporate channel in development, and its `ledger verify` check.

Bank file layouts are data (app/custody_bank/formats/*.json; BANK_BATCH_FORMAT picks one).
It builds on payouts (the provider interface, its reconciliation that settles a payout once the
bank's result is in) and the ledger; nothing of payouts imports it.

Plugs in: the payout provider `bank_batch`, its blueprint, its verify check, its audit labels,
its encrypted columns (payee names and accounts, the batch files) for key rotation."""
from flask import Flask

BANK_AUDIT_LABELS = {
    "bank_batch.build": "生成银行批次文件",
    "bank_batch.result": "导入银行回单",
    "bank_statement.import": "导入监管账户对账单",
}


def register(app: Flask) -> None:
    from app.core import key_rotation
    from app.core.plugins import register_audit_labels, register_audit_words
    from app.custody_bank.models import BankBatch, BankPayoutLine
    from app.custody_bank.provider import BankBatchCustodian
    from app.custody_bank.verify import bank_problems
    from app.custody_bank.views import bp
    from app.ledger.verify import register_check
    from app.payouts.provider import register_payout_provider

    app.register_blueprint(bp)
    register_payout_provider(app, BankBatchCustodian.name, BankBatchCustodian)
    register_check(app, "custody_bank", bank_problems)
    register_audit_labels(app, BANK_AUDIT_LABELS)
    register_audit_words(
        app, targets={"bank_batch": "银行批次", "bank_file_import": "银行文件"},
        fields={"batch_no": "批次号", "lines": "笔数", "total_fen": "合计", "settled": "入账笔数",
                "findings": "待核对项", "date": "日期", "matched": "相符笔数"})
    key_rotation.register_encrypted_columns(app, "custody_bank.payout_lines", BankPayoutLine,
                                            "account_name_enc", "account_number_enc")
    key_rotation.register_encrypted_columns(app, "custody_bank.batch_files", BankBatch,
                                            "file_enc")
