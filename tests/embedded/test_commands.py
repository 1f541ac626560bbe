"""Flask commands on the embedded default's database with nothing set, once `python wsgi.py` has
prepared the instance directory; production processes still refuse to start without secrets."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
import requests

from tests.embedded.processes import ROOT, newcomer_env, run_flask

REFUSAL = "SECRET_KEY is not set"


def test_ledger_verify_and_routes_run_with_nothing_set(embedded):
    verify = run_flask(embedded.instance_dir, "ledger", "verify")
    assert verify.returncode == 0, verify.stderr[-2000:]
    assert "ok" in verify.stdout
    assert "Embedded default" in verify.stderr  # says which database it is working on
    routes = run_flask(embedded.instance_dir, "routes")
    assert routes.returncode == 0, routes.stderr[-2000:]
    assert "/healthz" in routes.stdout


def test_staff_created_by_command_signs_in_on_the_running_server(embedded):
    created = run_flask(embedded.instance_dir, "staff", "create", "--username", "newcomer",
                        "--role", "reviewer", "--name", "新同事",
                        "--password", "a long enough secret")
    assert created.returncode == 0, created.stderr[-2000:]
    assert "已创建员工账号 newcomer" in created.stdout
    browser = requests.Session()
    form = browser.get(f"{embedded.base_url}/auth/staff/login", timeout=10).text
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    answer = browser.post(f"{embedded.base_url}/auth/staff/login", timeout=10,
                          allow_redirects=False,
                          data={"csrf_token": csrf, "username": "newcomer",
                                "password": "a long enough secret"})
    assert answer.status_code == 302, answer.text[-2000:]


def test_commands_link_to_the_served_port_and_reach_its_standin(embedded):
    script = ("from flask import current_app as app\n"
              "from app.wechat.clients import api_client\n"
              "print('SEEN', app.config['PUBLIC_BASE_URL'], app.config['WECHAT_API_BASE'], "
              "bool(api_client().access_token))\n")
    shell = run_flask(embedded.instance_dir, "shell", input=script)
    assert shell.returncode == 0, shell.stderr[-2000:]
    seen = re.search(r"SEEN (\S+) (\S+) (\S+)", shell.stdout)
    assert seen and seen.groups() == (embedded.base_url, embedded.standin_url, "True"), (
        shell.stdout + shell.stderr)[-2000:]


def test_flask_command_refuses_where_python_wsgi_py_never_ran(tmp_path):
    result = run_flask(tmp_path / "instance", "ledger", "verify")
    assert result.returncode != 0
    assert REFUSAL in result.stderr


PRODUCTION_PROCESSES = {
    "gunicorn": ([sys.executable, "-m", "gunicorn", "--check-config", "-c", "gunicorn.conf.py",
                  "wsgi:app"], {}),
    "worker": ([sys.executable, "worker.py"], {}),
    "flask with DATABASE_URL": ([sys.executable, "-m", "flask", "--app", "wsgi", "ledger",
                                 "verify"], {"DATABASE_URL": "sqlite:///{instance}/other.db"}),
    "flask with XIANGZHU_EMBEDDED=0": ([sys.executable, "-m", "flask", "--app", "wsgi", "ledger",
                                        "verify"], {"XIANGZHU_EMBEDDED": "0"}),
}


@pytest.mark.parametrize("name", PRODUCTION_PROCESSES)
def test_production_refuses_even_beside_the_marker(embedded, name):
    """On the very instance directory `python wsgi.py` prepared, a production process (or a
    command given production's DATABASE_URL, or told it is not embedded) still refuses."""
    command, extra = PRODUCTION_PROCESSES[name]
    extra = {key: value.format(instance=embedded.instance_dir) for key, value in extra.items()}
    result = subprocess.run(command, cwd=ROOT, env=newcomer_env(embedded.instance_dir, **extra),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0, result.stdout[-2000:]
    assert REFUSAL in result.stdout + result.stderr, (result.stdout + result.stderr)[-2000:]
