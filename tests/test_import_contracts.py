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

FEATURES = ("app.api", "app.auth", "app.campaigns", "app.donations", "app.mutual_aid",
            "app.payments", "app.payouts", "app.review", "app.sharing", "app.staff", "app.wechat")

# Known exception: the demo seeding of the embedded default lives in the kernel and builds its
# campaigns, reviews and plan members through the features' own services. It is the only module
# of app.core that imports a feature; moving it beside app/embedded.py would undo most cycles.
DEMO_SEEDS_THROUGH_FEATURES = (
    "app.core.demo -> app.auth.models",
    "app.core.demo -> app.campaigns.photos",
    "app.core.demo -> app.campaigns.services",
    "app.core.demo -> app.mutual_aid.services",
    "app.core.demo -> app.review.decisions",
    "app.core.demo -> app.review.services",
    "app.core.demo -> app.review.uploads",
)
# Known exception: app.core.demo offers the demo users on the stand-in's authorize page
# (register_demo_users_with_standin, called by app/embedded.py).
DEMO_REACHES_STANDIN = (
    "app.core.demo -> app.wechat_standin.app",
    "app.core.demo -> app.wechat_standin.state",
)
# The cashier pages sign the payer in; payments knows nothing else of auth.
CASHIER_SIGN_IN = (
    "app.payments.views -> app.auth.decorators",
    "app.payments.views -> app.auth.models",
)
# The wiring that may start or reach the WeChat stand-in (tests live outside `app`).
STANDIN_WIRING = ("app.embedded", "app.wechat_standin")

# Cycles between top-level packages of app/ still standing, each written from its
# alphabetically first package. Remove a cycle here once it is broken; a new one fails the test.
# Measured with app.core.demo's imports (above) left out: with them, core reaches auth,
# campaigns, mutual_aid and review, and nearly every package lies on a cycle through core.
ALLOWED_CYCLES = {
    # campaigns' pages show the plan's offer (mutual_aid.hooks); the plan's claims reuse
    # campaign photos.
    ("app.campaigns", "app.mutual_aid"),
    # campaigns' pages and moderation read and record reviews; review decides on campaigns.
    ("app.campaigns", "app.review"),
    # the donate page shows the plan's offer; the plan's funnel listens to donation_paid.
    ("app.donations", "app.mutual_aid"),
    ("app.campaigns", "app.mutual_aid", "app.donations"),
    # the plan's audit entries go through review's audit log.
    ("app.campaigns", "app.mutual_aid", "app.review"),
    # the plan's offer links to share pages (mutual_aid.hooks -> sharing.views) and the funnel
    # reads share attributions.
    ("app.campaigns", "app.mutual_aid", "app.sharing"),
    ("app.donations", "app.mutual_aid", "app.sharing"),
    ("app.campaigns", "app.mutual_aid", "app.sharing", "app.donations"),
}


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


def test_core_imports_no_feature_but_the_demo_seeding(graph):
    assert broken_chains(graph, "core", ["app.core"], FEATURES,
                         ignore=DEMO_SEEDS_THROUGH_FEATURES) == []


def test_payments_knows_payables_only_by_type(graph):
    others = [f for f in FEATURES if f not in ("app.payments", "app.wechat")]
    assert broken_chains(graph, "payments", ["app.payments"], others,
                         ignore=CASHIER_SIGN_IN) == []


def test_only_the_wiring_reaches_the_wechat_standin(graph):
    sources = graph.find_children("app") - set(STANDIN_WIRING)
    assert broken_chains(graph, "standin", sources, ["app.wechat_standin"],
                         ignore=DEMO_REACHES_STANDIN) == []


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


def test_package_cycles_only_shrink(graph):
    assert package_cycles(graph, ignore=DEMO_SEEDS_THROUGH_FEATURES) == ALLOWED_CYCLES


def test_the_graph_counts_function_local_imports(graph):
    # donations' register(app) imports ledger.verify inside the function.
    assert graph.direct_import_exists(importer="app.donations", imported="app.ledger.verify")
