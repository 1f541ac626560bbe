"""The embedded default (`python wsgi.py`): the demo data ends up in the public ledger log and a
checkpoint is signed by the integrator's periodic job, without anyone running a command."""
from __future__ import annotations

import time

import requests

from tests.embedded.processes import EmbeddedServer, free_ports

WAIT_SECONDS = 60   # the merge delay


def test_the_demo_ledger_is_integrated_and_signed(tmp_path):
    server = EmbeddedServer(tmp_path / "instance", *free_ports(2)).start()
    try:
        deadline, size = time.monotonic() + WAIT_SECONDS, 0
        while time.monotonic() < deadline:
            response = requests.get(f"{server.base_url}/transparency/checkpoint", timeout=10)
            if response.status_code == 200:
                size = int(response.text.split("\n")[1])
                if size > 0:
                    break
            time.sleep(1)
        assert size > 0, server.output()[-2000:]
        assert response.text.startswith("xiangzhu.local/ledger\n")
        leaves = requests.get(f"{server.base_url}/api/v1/transparency/leaves",
                              params={"start": 0, "end": size}, timeout=10).json()
        assert len(leaves["leaves"]) == size
    finally:
        server.stop()
