"""The shape of the code: one package per feature, imports down the layers, small modules,
and the models layer records what each transaction changed."""

import ast
import re
from datetime import datetime
from pathlib import Path

from stackq.infra import registry
from stackq.infra.settings import DEFAULTS
from stackq.models import FetchedPage, SavedSearch, ShownQuestion, Site
from stackq.models.changes import record_rows, take_changes
from stackq.models.upsert import upsert

PACKAGE = Path(__file__).resolve().parent.parent / "stackq"


def imported_modules(path, root=PACKAGE):
    """Every stackq module `path` imports, as dotted names relative to the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = path.relative_to(root).parent.parts
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                found.add(".".join((*base, *(node.module or "").split("."))).strip("."))
            elif (node.module or "").startswith("stackq."):
                found.add(node.module.removeprefix("stackq."))
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("stackq.") for a in node.names
                         if a.name.startswith("stackq."))
    return found


# Packages from the bottom up: a module imports its own package and packages of lower layers,
# never a layer above it nor a neighbour of its own layer. The root (`main()`) includes them all.
LAYERS = (
    {"infra"},  # settings, registry names, Redis, pub/sub, clock: no Pyramid app needed
    {"models", "stackexchange", "testing"},  # the database; the API client; the emulator
    {"alembic"},  # migrations read the models
    {"web"},  # every request: headers, CSRF, guard, templates, error pages
    {"cache", "notify"},  # the response cache; live notices
    {"accounts"},  # users, sign-in, tokens, the security policy (over the cache: its slot)
    {"searches"},  # saved searches and their pages
    {"archive", "watch"},  # stored questions with bodies and answers; what each search saw change
    {"tasks"},  # the queue, knowing features only through the kinds they register
    {"refresh", "export"},
    {"harvest"},  # stores what a search showed as the refresher does
    {"dashboard"},  # sums up searches and the refresher
    {"server"},  # the process: pserve's runner, gunicorn's worker, the gate
)
LAYER_OF = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}
SETUP = PACKAGE.parent / "setup.py"


def commands():
    """Modules behind setup.py's console scripts: each the top of its own process, like main()."""
    found = re.findall(r"= stackq\.([\w.]+):main", SETUP.read_text(encoding="utf-8"))
    return {name.replace(".", "/") + ".py" for name in found}


def modules():
    return sorted(path for path in PACKAGE.rglob("*.py") if "alembic/versions" not in str(path))


def layer_offences(paths=None, root=PACKAGE):
    """{module: [stackq modules it may not import]} by LAYERS."""
    found = {}
    for path in paths or modules():
        name = str(path.relative_to(root))
        package = name.split("/")[0] if "/" in name else None
        if package is None or name in commands():
            continue  # the root package and the commands sit above every layer
        bad = sorted(module for module in imported_modules(path, root)
                     if (other := module.split(".")[0]) != package
                     and LAYER_OF.get(other, -1) >= LAYER_OF[package])
        if bad:
            found[name] = bad
    return found


def test_every_package_has_a_layer():
    packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    assert packages == set(LAYER_OF) - {"alembic"}


def test_imports_go_down_the_layers():
    assert layer_offences() == {}


def test_the_layer_check_sees_an_import_upwards(tmp_path):
    (tmp_path / "searches").mkdir()
    (tmp_path / "searches" / "x.py").write_text("from ..refresh.plan import plan\n"
                                                "from ..models import Question\n")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "y.py").write_text("from ..notify import Hub\n")
    assert layer_offences(sorted(tmp_path.rglob("*.py")), tmp_path) == {
        "searches/x.py": ["refresh.plan"], "cache/y.py": ["notify"]}


def test_the_root_package_only_includes():
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)] == ["main"]
    assert not [p for p in PACKAGE.glob("*.py") if p.name != "__init__.py"]


def view_modules():
    """Modules of pages and API views: a function decorated with `@view_config(...)` (error
    views map exceptions, they are not counted)."""
    def is_view(node):
        return isinstance(node, ast.FunctionDef) and any(
            isinstance(d, ast.Call) and getattr(d.func, "id", None) == "view_config"
            for d in node.decorator_list)

    return [path for path in modules()
            if any(map(is_view, ast.walk(ast.parse(path.read_text(encoding="utf-8")))))]


def test_views_run_no_sql_of_their_own():
    found = view_modules()
    assert len(found) >= 8  # every package's views are seen
    for path in found:
        text = path.read_text(encoding="utf-8")
        assert "sqlalchemy" not in text, path
        assert not any(m.startswith("models") for m in imported_modules(path)), path
        assert "refresh.cycle" not in imported_modules(path), path


def test_no_module_is_over_300_lines():
    long = {str(path.relative_to(PACKAGE)): n for path in modules()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > 300}
    assert long == {}


# A file outside the repository is not there for a reader of the code.
OUTSIDE = re.compile(r"DESIGN\.md|STYLE\.md|STACKEXCHANGE_API\.md|\.\./shared")


def test_nothing_cites_a_file_outside_the_repository():
    tracked = [*PACKAGE.rglob("*.*"), *(PACKAGE.parent / "tests").rglob("*.py"),
               *(PACKAGE.parent / "benchmarks").rglob("*.py"),
               *(PACKAGE.parent / "docs").rglob("*.md"), PACKAGE.parent / "README.md"]
    citing = [str(path) for path in tracked if path.suffix in {".py", ".md", ".jinja2", ".js"}
              and path != Path(__file__).resolve()
              and OUTSIDE.search(path.read_text(encoding="utf-8", errors="replace"))]
    assert citing == []


# The strings registry.py names; a setting's key ("stackq.cache.ttl") is not a registry key.
REGISTRY_KEYS = {value for name, value in vars(registry).items()
                 if name.isupper() and isinstance(value, str)}


def spelled_out_registry_keys(path):
    """Line numbers of `path` that spell a registry key: one of registry.py's strings anywhere,
    or another "stackq.…" string looked up as a key (`x["stackq.…"]`, `x.get("stackq.…")`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        key = None
        if isinstance(node, ast.Subscript):
            key = node.slice
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in {"get", "setdefault", "pop"} and node.args):
            key = node.args[0]
        if isinstance(node, ast.Constant) and node.value in REGISTRY_KEYS:
            found.add(node.lineno)
        elif (isinstance(key, ast.Constant) and isinstance(key.value, str)
              and key.value.startswith("stackq.") and key.value not in DEFAULTS):
            found.add(node.lineno)
    return sorted(found)


def test_registry_keys_are_spelled_only_in_registry_py():
    # Tests and benchmarks too: a renamed key then breaks nothing silently.
    checked = [*PACKAGE.rglob("*.py"), *(PACKAGE.parent / "tests").rglob("*.py"),
               *(PACKAGE.parent / "benchmarks").rglob("*.py")]
    spelled = {str(path.relative_to(PACKAGE.parent)): lines for path in sorted(checked)
               if path.name != "registry.py" and path != Path(__file__).resolve()
               and (lines := spelled_out_registry_keys(path))}
    assert spelled == {}


def test_the_registry_check_sees_a_spelled_out_key(tmp_path):
    module = tmp_path / "module.py"
    module.write_text('api = registry["stackq.api"]\nlinks = r.setdefault("stackq.new", {})\n'
                      'ttl = raw["stackq.cache.ttl"]\nlog = getLogger("stackq.refresh")\n')
    assert spelled_out_registry_keys(module) == [1, 2]


def test_an_orm_write_records_its_search(dbsession):
    site = dbsession.query(Site).first()
    search = SavedSearch(site=site, q="layers", tagged="", created_at=datetime(2026, 1, 1))
    dbsession.add(search)
    dbsession.flush()
    assert take_changes(dbsession) == ({search.id}, True)
    dbsession.add(FetchedPage(search_id=search.id, sort="votes", direction="desc", page=1,
                              fetched_at=datetime(2026, 1, 1), has_more=False, item_count=0))
    dbsession.flush()
    assert take_changes(dbsession) == ({search.id}, False)
    assert take_changes(dbsession) == (set(), False)


def test_an_upsert_records_the_searches_of_its_rows(dbsession):
    site = dbsession.query(Site).first()
    upsert(dbsession, SavedSearch, [{"site_id": site.id, "q": "upserted", "tagged": "",
                                     "created_at": datetime(2026, 1, 1)}],
           ["site_id", "q", "tagged"])
    assert take_changes(dbsession) == (set(), True)
    search = dbsession.query(SavedSearch).filter_by(q="upserted").one()
    upsert(dbsession, FetchedPage,
           [{"search_id": search.id, "sort": "votes", "direction": "desc", "page": 1,
             "fetched_at": datetime(2026, 1, 1), "has_more": False, "item_count": 0}],
           ["search_id", "sort", "direction", "page"])
    assert take_changes(dbsession) == ({search.id}, False)


def test_what_browsers_were_told_a_search_shows_changes_none_of_its_pages(dbsession):
    # The refresher remembers it at the start of every cycle: no page is dropped for it.
    record_rows(dbsession, ShownQuestion.__table__, [{"search_id": 7, "question_id": 1}])
    assert take_changes(dbsession) == (set(), False)


TESTS = PACKAGE.parent / "tests"


def cross_test_imports(root=TESTS):
    """Shared test helpers live in tests/support/, never in a test module or the conftest."""
    found = {}
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                last = name.rsplit(".", 1)[-1]
                if name.startswith("tests.") and (last.startswith("test_") or last == "conftest"):
                    found.setdefault(str(path.relative_to(root)), []).append(name)
    return found


def test_no_test_module_imports_another():
    assert cross_test_imports() == {}


def test_the_test_import_check_sees_one(tmp_path):
    (tmp_path / "test_a.py").write_text("from tests.test_pages import shown_ids\n")
    assert cross_test_imports(tmp_path) == {
        "test_a.py": ["tests.test_pages"]}
