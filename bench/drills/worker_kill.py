"""Drill 1: a worker SIGKILLed mid-poster and mid-refund — each job completes, exactly once.

    python bench/drills/worker_kill.py           # --json

A private cluster and Redis, the WeChat stand-in (thread) and gunicorn (for the refund notices
WeChat sends back), one `python worker.py posters` and one `python worker.py payments`, and
`python worker.py --cron`. To be mid-job for sure, the outside world is slow, legitimately:
the sharer's avatar host answers after 3 s, and the stand-in's refund API answers 3 s after it
has made the refund (the worst moment: WeChat refunded, we have not recorded it).

1. A poster is requested (`request_share_poster`); once the avatar host has the request,
   the posters worker is SIGKILLed.
2. A campaign with three paid donations is terminated (`terminate_campaign`: its hook
   enqueues the refund plan, which enqueues one refund job per donation); once the stand-in
   has the first refund request, the payments worker is SIGKILLed.
3. Fresh workers start at once (as a supervisor would). The drill waits for the poster file
   and for every refund to be settled, and reports how long each took, how many times the
   poster job and each refund ran or reached WeChat, refunds made at WeChat per
   out_refund_no, ledger refund postings per refund, and `flask ledger verify`.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.drills.common import (PrivatePostgres, acknowledged, app_env, drill_app,  # noqa: E402
                                 kill, ledger_verify, seed_orders, signed_notice, start_redis,
                                 start_standin, start_web, start_worker, stop, use_env,
                                 wait_until)
from bench.harness import free_port  # noqa: E402

SLOW_SECONDS = 3.0


class SlowAvatars(BaseHTTPRequestHandler):
    """The sharer's avatar host: answers, slowly."""

    hits: list[float] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        from PIL import Image
        import io

        SlowAvatars.hits.append(time.monotonic())
        time.sleep(SLOW_SECONDS)
        out = io.BytesIO()
        Image.new("RGB", (132, 132), (220, 120, 90)).save(out, "JPEG")
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(out.getvalue())))
        self.end_headers()
        self.wfile.write(out.getvalue())

    def log_message(self, *args):
        return None


def slow_refunds(wsgi_app, seen: list[str]):
    """Wrap the stand-in: the refund API does its work, then takes SLOW_SECONDS to answer."""

    def app(environ, start_response):
        if environ.get("PATH_INFO", "").endswith("/secapi/pay/refund"):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            import io
            environ["wsgi.input"] = io.BytesIO(body)
            number = body.split(b"<out_refund_no><![CDATA[", 1)[-1].split(b"]]>", 1)[0]
            seen.append(number.decode())
            response = list(wsgi_app(environ, start_response))
            time.sleep(SLOW_SECONDS)
            return response
        return wsgi_app(environ, start_response)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.monotonic()
    pg = PrivatePostgres()
    standin = start_standin()
    refund_requests: list[str] = []
    standin._server.app = slow_refunds(standin._server.app, refund_requests)
    avatars = ThreadingHTTPServer(("127.0.0.1", 0), SlowAvatars)
    threading.Thread(target=avatars.serve_forever, daemon=True).start()
    redis = server = None
    processes: list = []
    logs = Path(tempfile.mkdtemp(prefix="xz-drill-logs-"))
    result: dict = {"date": date.today().isoformat()}
    try:
        redis_port, port = free_port(), free_port()
        base = f"http://127.0.0.1:{port}"
        redis = start_redis(redis_port)
        uploads = tempfile.mkdtemp(prefix="xz-drill-uploads-")
        env = app_env(pg.url, f"redis://127.0.0.1:{redis_port}/0", standin.base_url, base,
                      uploads)
        use_env(env)
        app = drill_app()
        with app.app_context():
            campaign_ids, orders = seed_orders(6, campaigns=2)   # three per campaign
        # The stand-in must know the orders it is asked to refund: paid there, as here.
        transactions = {}
        for number, fen in orders:
            transaction_id = f"4200{int(time.time() * 1000) % 10 ** 12:012d}{len(transactions):012d}"
            transactions[number] = transaction_id
            standin.state.orders[number] = {
                "out_trade_no": number, "transaction_id": transaction_id, "total_fee": fen,
                "refunded_fee": 0, "trade_state": "SUCCESS", "openid": "o_drill_payer",
                "trade_type": "NATIVE", "notify_url": f"{base}/wechat/pay/notify",
                "time_end": "20261128120000", "fee": 0, "fee_returned": 0, "fee_rate_bp": 0}
        server = start_web(env, port)
        import requests
        for number, fen in orders:
            reply = requests.post(f"{base}/wechat/pay/notify",
                                  data=signed_notice(number, fen, transactions[number]),
                                  timeout=30)
            assert acknowledged(b"HTTP/1.1 200 " + reply.content), reply.text
        processes = [start_worker(env, "posters", log=logs / "posters-1.log"),
                     start_worker(env, "payments", "default", log=logs / "payments-1.log"),
                     start_worker(env, "--cron", log=logs / "cron.log")]
        posters_worker, payments_worker = processes[0], processes[1]

        with app.app_context():
            from sqlalchemy import func, select

            from app.auth.models import StaffAccount, StaffRole, User
            from app.campaigns.models import Campaign
            from app.campaigns.moderation import terminate_campaign
            from app.extensions import db
            from app.ledger.models import LedgerTransaction
            from app.payouts.models import DonationRefund, RefundStatus
            from app.sharing import poster_store
            from app.sharing.services import share_link_for
            from app.sharing.tasks import request_share_poster

            sharer = User(openid="o_drill_sharer", nickname="转发的大姐",
                          avatar_url=f"http://127.0.0.1:{avatars.server_port}/avatar.jpg")
            staff = StaffAccount(username="drill-admin", display_name="演练", role=StaffRole.admin)
            if hasattr(staff, "set_password"):
                staff.set_password("drill-password-2026")
            db.session.add_all([sharer, staff])
            db.session.commit()

            # 1. the poster, and the kill while its avatar is being fetched
            campaign = db.session.get(Campaign, campaign_ids[0])
            link = share_link_for(campaign, sharer.id, None)
            ticket = request_share_poster(link, campaign)
            poster_asked = time.monotonic()
            wait_until(lambda: SlowAvatars.hits, 30, 0.05)
            time.sleep(0.5)
            kill(posters_worker)
            result["poster_killed_after_s"] = round(time.monotonic() - poster_asked, 2)

            # 2. the refunds, and the kill while WeChat is answering the first
            terminate_campaign(campaign_ids[1], staff, "演练：患者已康复，剩余善款退还")
            refunds_asked = time.monotonic()
            wait_until(lambda: refund_requests, 60, 0.05)
            time.sleep(0.5)
            kill(payments_worker)
            result["refund_killed_after_s"] = round(time.monotonic() - refunds_asked, 2)
            result["refund_requests_before_kill"] = len(refund_requests)

            # 3. the supervisor starts them again
            processes += [start_worker(env, "posters", log=logs / "posters-2.log"),
                          start_worker(env, "payments", "default", log=logs / "payments-2.log")]
            restarted = time.monotonic()
            poster_file = poster_store.poster_path(ticket.digest)
            done = wait_until(lambda: poster_file.exists() and time.monotonic(), 100, 0.5)
            result["poster_done_after_restart_s"] = round(done - restarted, 1) if done else None

            def settled():
                db.session.rollback()
                statuses = db.session.scalars(select(DonationRefund.status)).all()
                return (len(statuses) == 3
                        and all(s == RefundStatus.succeeded for s in statuses)
                        and time.monotonic())

            done = wait_until(settled, 100, 0.5)
            result["refunds_done_after_restart_s"] = round(done - restarted, 1) if done else None

            db.session.rollback()
            posters_dir = poster_store.poster_dir()
            result["poster_files"] = len(list(posters_dir.glob(f"{ticket.digest}*.jpg")))
            result["poster_temporary_files"] = len(list(posters_dir.glob("*.tmp")))
            result["avatar_fetches"] = len(SlowAvatars.hits)
            refunds = db.session.scalars(select(DonationRefund)).all()
            result["refund_rows"] = len(refunds)
            result["refund_statuses"] = dict(Counter(r.status.value for r in refunds))
            result["wechat_refund_requests_per_refund"] = dict(Counter(refund_requests))
            result["wechat_refunds_made"] = len(standin.state.refunds)
            result["wechat_refunded_fen"] = sum(o["refunded_fee"]
                                               for o in standin.state.orders.values())
            result["refunds_fen"] = sum(r.amount_fen for r in refunds)
            result["ledger_refund_postings"] = db.session.scalar(
                select(func.count()).select_from(LedgerTransaction)
                .where(LedgerTransaction.source_type == "refund"))
        stop(server)
        server = None
        result["ledger_verify_exit"], result["ledger_verify"] = ledger_verify(env)
        result["passed"] = (
            result["poster_files"] == 1 and result["poster_temporary_files"] == 0
            and result["refund_statuses"] == {"succeeded": 3}
            and result["wechat_refunds_made"] == 3
            and result["wechat_refunded_fen"] == result["refunds_fen"]
            and result["ledger_refund_postings"] == 3 and result["ledger_verify_exit"] == 0)
        result["seconds"] = round(time.monotonic() - started, 1)
        result["logs"] = str(logs)
    finally:
        for process in processes:
            stop(process)
        stop(server)
        stop(redis)
        avatars.shutdown()
        standin.stop()
        pg.stop()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:36} {value}")
    sys.exit(0 if result.get("passed") else 1)


if __name__ == "__main__":
    main()
