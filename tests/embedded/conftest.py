"""One `python wsgi.py` for the package's tests (tests/embedded/processes.py)."""
from __future__ import annotations

import pytest

from tests.embedded.processes import EmbeddedServer, free_ports


@pytest.fixture(scope="package")
def embedded(tmp_path_factory):
    """`python wsgi.py` on free ports in a temporary instance directory, for the whole package."""
    instance_dir = tmp_path_factory.mktemp("embedded") / "instance"
    server = EmbeddedServer(instance_dir, *free_ports(2)).start()
    yield server
    server.stop()
