"""我的捐款: the signed-in donor's donations, each one's 捐款凭证 (page and PDF), and a statement
of a date range (CSV and PDF). Every page reads only the donor's own donations."""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from app.auth.decorators import organizer_required
from app.donations import documents, mine
from app.donations.ledger_receipt import ledger_receipt

bp = Blueprint("my_donations", __name__)


def _own(donation_id: int) -> mine.MyDonation:
    donation = mine.my_donation(current_user.id, donation_id)
    if donation is None:
        abort(404)
    return donation


def _list_page(error: str | None = None, status: int = 200):
    return render_template("donations/mine.html", donations=mine.my_donations(current_user.id),
                           donor=mine.donor_name(current_user), error=error,
                           notice=mine.NOT_A_CHARITABLE_GIFT, form=request.args), status


@bp.get("/me/donations")
@organizer_required
def index():
    return _list_page()


@bp.get("/me/donations/<id:donation_id>/certificate")
@organizer_required
def certificate(donation_id: int):
    donation = _own(donation_id)
    donor = mine.donor_name(current_user)
    return render_template("donations/certificate.html", donation=donation, donor=donor,
                           lines=documents.certificate_lines(donation, donor),
                           notice=mine.NOT_A_CHARITABLE_GIFT,
                           receipt=ledger_receipt(donation.id, donation.out_trade_no))


@bp.get("/me/donations/<id:donation_id>/ledger-receipt")
@organizer_required
def ledger_receipt_block(donation_id: int):
    """The 公开账本凭证 block alone, which a page showing it pending asks for again."""
    donation = _own(donation_id)
    block = render_template("donations/_ledger_receipt.html",
                            receipt=ledger_receipt(donation.id, donation.out_trade_no))
    return block, 200, {"Cache-Control": "private, no-store"}


@bp.get("/me/donations/<id:donation_id>/certificate.pdf")
@organizer_required
def certificate_pdf(donation_id: int):
    donation = _own(donation_id)
    body = documents.certificate_pdf(donation, mine.donor_name(current_user),
                                     ledger_receipt(donation.id, donation.out_trade_no))
    return _download(body, "application/pdf", f"juankuan-pingzheng-{donation.id}.pdf")


@bp.get("/me/donations/statement")
@organizer_required
def statement():
    kind = request.args.get("format", "pdf")
    if kind not in ("pdf", "csv"):
        return _list_page("请选择 PDF 或 CSV 格式", 422)
    try:
        first, last = mine.parse_range(request.args.get("from"), request.args.get("to"))
    except mine.StatementRangeError as error:
        return _list_page(error.message, 422)
    rows = mine.donations_between(current_user.id, first, last)
    donor = mine.donor_name(current_user)
    name = f"juankuan-mingxi-{first.isoformat()}-{last.isoformat()}.{kind}"
    if kind == "csv":
        return _download(documents.statement_csv(rows, donor, first, last),
                         "text/csv; charset=utf-8", name)
    return _download(documents.statement_pdf(rows, donor, first, last), "application/pdf", name)


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
