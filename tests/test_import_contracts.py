"""Which way the imports run (docs/ARCHITECTURE.md), checked on grimp's graph of `app`.

The graph counts every import grimp sees, function-local ones and TYPE_CHECKING ones included,
so an import moved into a function to dodge a cycle still counts. Contracts are import-linter's
own (ForbiddenContract, indirect chains checked too); known exceptions are listed here as
`ignore_imports`, which import-linter refuses when they no longer match, so the lists can only
shrink.
"""
from __future__ import annotations

import copy

import grimp
import pytest
from importlinter import configuration
from importlinter.contracts.forbidden import ForbiddenContract

FEATURES = ("app.api", "app.auth", "app.blacklist", "app.bills", "app.campaigns",
            "app.donations", "app.mutual_aid", "app.payments", "app.payouts", "app.pledges",
            "app.privacy", "app.review", "app.sharing", "app.staff", "app.wechat")

# The cashier pages sign the payer in; payments knows nothing else of auth.
CASHIER_SIGN_IN = (
    "app.payments.views -> app.auth.decorators",
    "app.payments.views -> app.auth.models",
)
# The wiring that may start or reach the WeChat stand-in (tests live outside `app`): the
# embedded default and its demo seeding (which offers the demo users on the stand-in's
# authorize page).
STANDIN_WIRING = ("app.demo", "app.embedded", "app.wechat_standin")

@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    configuration.configure()
    return grimp.build_graph("app", cache_dir=None)


def broken_chains(graph, name: str, sources, forbidden, ignore=(), as_packages=True) -> list[str]:
    contract = ForbiddenContract(name, {"root_packages": ["app"]}, {
        "source_modules": sorted(sources),
        "forbidden_modules": sorted(forbidden),
        "ignore_imports": list(ignore),
        "as_packages": str(as_packages),
    })
    # The contract removes the ignored imports from the graph it is given.
    check = contract.check(copy.deepcopy(graph), verbose=False)
    return [" -> ".join(f"{link['importer']}:{','.join(map(str, link['line_numbers']))}"
                        for link in chain) + f" -> {chains['upstream_module']}"
            for chains in check.metadata["invalid_chains"] for chain in chains["chains"]]


def test_ledger_imports_no_feature(graph):
    assert broken_chains(graph, "ledger", ["app.ledger"], FEATURES) == []


def test_core_imports_no_feature(graph):
    assert broken_chains(graph, "core", ["app.core"], FEATURES) == []


def test_payments_knows_payables_only_by_type(graph):
    others = [f for f in FEATURES if f not in ("app.payments", "app.wechat")]
    assert broken_chains(graph, "payments", ["app.payments"], others,
                         ignore=CASHIER_SIGN_IN) == []


def test_payouts_imports_nothing_of_pledges(graph):
    # pledges builds on payouts; payouts takes what it needs through its own registrations.
    assert broken_chains(graph, "payouts", ["app.payouts"], ["app.pledges"]) == []


def test_payouts_imports_nothing_of_mutual_aid(graph):
    # mutual_aid's wallet refunds are a 商家转账 purpose it registers with payouts.
    assert broken_chains(graph, "payouts", ["app.payouts"], ["app.mutual_aid"]) == []


def test_payouts_imports_nothing_of_the_custody_bank(graph):
    # the bank is a payout provider that payouts' registry holds; payouts never names it.
    assert broken_chains(graph, "payouts", ["app.payouts"], ["app.custody_bank"]) == []


def test_only_the_wiring_reaches_the_wechat_standin(graph):
    sources = graph.find_children("app") - set(STANDIN_WIRING)
    assert broken_chains(graph, "standin", sources, ["app.wechat_standin"]) == []


def test_views_are_never_imported_by_services_models_or_tasks(graph):
    def leaf(module: str) -> str:
        return module.rsplit(".", 1)[-1]

    views = {m for m in graph.modules if leaf(m) == "views" or leaf(m).endswith("_views")}
    lower = {m for m in graph.modules
             if leaf(m) in ("services", "models", "tasks")
             or leaf(m).endswith(("_services", "_models", "_tasks"))}
    assert views and lower
    assert broken_chains(graph, "views", lower, views, as_packages=False) == []


def package_cycles(graph: grimp.ImportGraph, ignore=()) -> set[tuple[str, ...]]:
    """Every elementary cycle of the graph between top-level packages of app/, each written
    from its alphabetically first package."""
    ignored = {tuple(line.split(" -> ")) for line in ignore}
    packages = {m for m in graph.find_children("app") if graph.find_children(m)}

    def package_of(module: str) -> str:
        return ".".join(module.split(".")[:2])

    depends_on: dict[str, set[str]] = {p: set() for p in packages}
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            a, b = package_of(importer), package_of(imported)
            if a != b and a in packages and b in packages and (importer, imported) not in ignored:
                depends_on[a].add(b)

    cycles: set[tuple[str, ...]] = set()

    def walk(path: tuple[str, ...]) -> None:
        for following in depends_on[path[-1]]:
            if following == path[0]:
                cycles.add(path)
            elif following > path[0] and following not in path:
                walk(path + (following,))

    for package in packages:
        walk((package,))
    return cycles


def test_no_import_cycle_between_packages(graph):
    # Before this check existed there were 8 cycles between packages, 230 counted as elementary
    # cycles (docs/ARCHITECTURE.md); each was broken by moving the shared part into app/core or
    # turning the import round into a registration or a signal.
    assert package_cycles(graph) == set()


def test_the_graph_counts_function_local_imports(graph):
    # donations' register(app) imports ledger.verify inside the function.
    assert graph.direct_import_exists(importer="app.donations", imported="app.ledger.verify")


def test_no_import_cycle_inside_the_kernel(graph):
    # app/extensions.py builds the singletons from app.core's classes (the routing session, the
    # job queue); the kernel reaches them back through current_app.extensions, never by import.
    kernel = {m for m in graph.modules
              if m in ("app.config", "app.extensions", "app.models_base") or m.startswith("app.core")}
    imports = {m: graph.find_modules_directly_imported_by(m) & kernel for m in kernel}
    cycles = [(a, b) for a in kernel for b in imports[a]
              if graph.find_shortest_chain(importer=b, imported=a) is not None
              and all(step in kernel for step in graph.find_shortest_chain(importer=b, imported=a))]
    assert cycles == []
