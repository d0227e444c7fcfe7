"""The shape of the code: imports go one way, and the models layer records what changed."""

import ast
from datetime import datetime
from pathlib import Path

from stackq.infra import registry
from stackq.infra.settings import DEFAULTS
from stackq.models import FetchedPage, SavedSearch, Site
from stackq.models.changes import take_changes
from stackq.models.upsert import upsert

PACKAGE = Path(__file__).resolve().parent.parent / "stackq"


def imported_modules(path):
    """Every stackq module `path` imports, as dotted names relative to the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = path.relative_to(PACKAGE).parent.parts
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


def imports_of(package):
    return {str(path.relative_to(PACKAGE)): imported_modules(path)
            for path in (PACKAGE / package).glob("*.py")}


def offenders(package, forbidden):
    return {name: sorted(m for m in mods if m.split(".")[0] in forbidden)
            for name, mods in imports_of(package).items()
            if any(m.split(".")[0] in forbidden for m in mods)}


def test_the_cache_imports_no_view_and_no_service():
    assert offenders("cache", {"views", "services"}) == {}


def test_services_import_no_view_and_no_cache_internals():
    assert offenders("services", {"views"}) == {}


def test_models_import_nothing_above_them():
    found = offenders("models", {"views", "services", "cache", "stackexchange"})
    found.pop("models/initialize_db.py", None)  # the initialize_db command
    assert found == {}


def test_views_run_no_sql_of_their_own():
    for name, path in ((p.name, p) for p in (PACKAGE / "views").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "sqlalchemy" not in text, name
        assert not any(m.startswith("models") for m in imported_modules(path)), name
        assert "refresh_cycle" not in text, name


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
