"""The log imports no feature (docs/ARCHITECTURE.md): mutual aid plugs its rounds in through
sources.register_leaf_source, never the other way round."""
from __future__ import annotations

from tests.test_import_contracts import FEATURES, broken_chains, graph  # noqa: F401 (fixture)


def test_the_log_imports_no_feature(graph):  # noqa: F811
    assert broken_chains(graph, "transparency", ["app.transparency"], FEATURES) == []
