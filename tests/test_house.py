"""The house rules, read from the code, and the regressions the reorganisation fixed (issue 8)."""

import ast
import base64
import os
import re
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from app.curation.results import create_result
from app.curation.unit_of_work import UnitOfWork, bump_data_version
from app.curation.verify import check_figure
from app.domain.provenance import locate_quote, occurrence_at, quote_positions
from app.models import Result, Source
from app.schemas.results import ResultBase
from app.writes import WriteContext
from tests.factories import DIRECT, SOURCE, add_source, bearer

APP = Path(__file__).resolve().parents[1] / "app"
CAPABILITIES = ("app.read", "app.curation", "app.extraction", "app.seeds", "app.ops")


def imports_of(path: Path) -> set[str]:
    """The modules a file imports (absolute names)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def modules() -> list[Path]:
    return sorted(APP.rglob("*.py"))


def test_http_frameworks_stay_in_api_http_and_main():
    allowed = (APP / "api", APP / "http")
    for path in modules():
        if path == APP / "main.py" or any(path.is_relative_to(a) for a in allowed):
            continue
        web = {m for m in imports_of(path) if m.split(".")[0] in ("fastapi", "starlette")}
        assert not web, f"{path.relative_to(APP)} imports {web}"


def test_http_machinery_imports_no_capability():
    for path in (APP / "http").glob("*.py"):
        bad = {m for m in imports_of(path) if m.startswith(CAPABILITIES)}
        assert not bad, f"{path.name} imports {bad}"


def test_domain_rules_use_no_session_and_no_framework():
    for path in (APP / "domain").rglob("*.py"):
        bad = {
            m
            for m in imports_of(path)
            if m.split(".")[0] in ("fastapi", "starlette", "sqlmodel", "sqlalchemy")
            or m.startswith(("app.models", "app.schemas", "app.http", *CAPABILITIES))
        }
        assert not bad, f"{path.relative_to(APP)} imports {bad}"


def test_capabilities_import_no_http_machinery():
    """Capabilities are called by HTTP, never the other way: no cache, CSV or problem from there."""
    for package in ("read", "curation", "extraction", "seeds", "ops"):
        for path in (APP / package).rglob("*.py"):
            bad = {m for m in imports_of(path) if m.startswith("app.http")}
            assert not bad, f"{path.relative_to(APP)} imports {bad}"


def test_no_session_info_flags():
    """Cross-cutting state is passed (a WriteContext, a Snapshot), never hidden in session.info."""
    for path in modules():
        assert "session.info" not in path.read_text(), path.relative_to(APP)


CONTAINERS = {"list", "dict", "set", "defaultdict", "OrderedDict", "deque", "Counter", "bytearray"}
MUTATORS = {"append", "extend", "add", "update", "pop", "clear", "insert", "remove", "setdefault"}
MUTATORS |= {"discard", "popitem", "appendleft", "sort", "reverse"}
LITERALS = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)
# Module-level containers a function may write into that are nonetheless constants: none today.
# Name one here ("app/x.py:NAME") only with the reason it is not state.
CONSTANTS_ALLOWED: set[str] = set()


def _is_container(node: ast.expr) -> bool:
    if isinstance(node, LITERALS):
        return True
    if isinstance(node, ast.Call):
        f = node.func
        return (f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")) in CONTAINERS
    return False


def _module_containers(tree: ast.Module) -> set[str]:
    """Names bound at module level to a list, dict, set (literal or constructor call)."""
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and _is_container(node.value):
            out |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and node.value is not None and _is_container(node.value):
            out |= {node.target.id} if isinstance(node.target, ast.Name) else set()
    return out


def _written_in_functions(tree: ast.Module, names: set[str]) -> set[str]:
    """Which of `names` a function writes into (a mutating method, an item or attribute assigned or
    deleted), and every name a function declares `global`."""
    found: set[str] = set()
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.Global):
                found |= set(node.names)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                v = node.func.value
                if node.func.attr in MUTATORS and isinstance(v, ast.Name) and v.id in names:
                    found.add(v.id)
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
                targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
                for t in targets:
                    held = (
                        getattr(t, "value", None) if isinstance(t, (ast.Subscript, ast.Attribute)) else None
                    )
                    if isinstance(held, ast.Name) and held.id in names:
                        found.add(held.id)
    return found


def module_state(source: str) -> set[str]:
    """The module-level mutables of `source` that its functions change: state, not constants."""
    tree = ast.parse(source)
    return _written_in_functions(tree, _module_containers(tree))


def test_the_module_state_check_finds_state():
    """The check below can fail: it finds the patterns it forbids."""
    assert module_state("_at = [0.0]\ndef f():\n    _at[0] = 1.0\n") == {"_at"}
    assert module_state("SEEN = set()\ndef f(x):\n    SEEN.add(x)\n") == {"SEEN"}
    assert module_state("n = 0\ndef f():\n    global n\n    n += 1\n") == {"n"}
    assert module_state("KINDS = {'a': 1}\ndef f():\n    return KINDS['a']\n") == set()


def test_no_module_global_holds_state():
    """State lives in objects made with the app (app.state, the caches' registry), never in a module."""
    for path in modules():
        state = {f"{path.relative_to(APP.parent)}:{n}" for n in module_state(path.read_text())}
        assert not state - CONSTANTS_ALLOWED, f"module-level state: {sorted(state - CONSTANTS_ALLOWED)}"


def code_map() -> dict[str, str]:
    """The README's code map: each entry's path (its first column) and its whole text."""
    readme = (APP.parent / "README.md").read_text()
    block = readme.split("## Development", 1)[1].split("```", 2)[1]
    entries: dict[str, str] = {}
    path = ""
    for line in block.splitlines():
        if line and not line[0].isspace():
            path, _, rest = line.partition("  ")
            entries[path.strip()] = rest
        elif path:
            entries[path.strip()] += " " + line.strip()
    return entries


def test_the_readmes_code_map_matches_the_tree():
    """Every path the map names exists; every package and module under app/ is named in its entry."""
    entries = code_map()
    for path in entries:
        first, *others = [p.strip() for p in path.split(",")]
        folder = Path(first).parent if first.endswith(".py") else None
        names = [first, *(str(folder / o) for o in others)] if folder else [first]
        for name in names:
            target = APP.parent / name.removesuffix("/").replace("*", "")
            assert name.endswith("*.lock") or target.exists(), f"the code map names {name}, not in the tree"
    text = " ".join(f"{p} {t}" for p, t in entries.items())
    for module in modules():
        rel = module.relative_to(APP.parent)
        if module.name == "__init__.py":
            continue
        folder = f"{rel.parent}/"
        entry = next((t for p, t in entries.items() if p == folder), None)
        if entry is None:  # a module named on its own line, or a package within one named above
            owner = next((t for p, t in entries.items() if p == str(rel.parent.parent) + "/"), "")
            named = str(rel) in text or rel.name in text or f"{rel.parent.name}/" in owner
            assert named, f"the code map does not name {rel}"
            continue
        assert re.search(rf"\b{module.stem}\b", entry), f"the code map's {folder} does not name {module.stem}"
    for package in [d for d in APP.rglob("*") if d.is_dir() and (d / "__init__.py").exists()]:
        rel = package.relative_to(APP.parent)
        assert f"{rel}/" in text or f"{rel.name}/" in text, f"the code map does not name {rel}/"


def test_only_http_code_raises_http_problems():
    for path in modules():
        if path.is_relative_to(APP / "http") or path.is_relative_to(APP / "api"):
            continue
        assert "ProblemError" not in path.read_text(), path.relative_to(APP)


def test_production_code_never_reads_dependency_overrides():
    for path in modules():
        assert "dependency_overrides" not in path.read_text(), path.relative_to(APP)


def test_no_folder_holds_more_than_twelve_modules():
    for folder in [APP, *[d for d in APP.rglob("*") if d.is_dir() and d.name != "__pycache__"]]:
        count = len([p for p in folder.glob("*.py") if p.name != "__init__.py"])
        assert count <= 12, f"{folder.relative_to(APP.parent)} holds {count} modules"


def test_every_write_goes_through_the_unit_of_work():
    """Audit entries and version bumps are made in one place only."""
    for path in modules():
        if path.name == "unit_of_work.py":
            continue
        text = path.read_text().replace("class AuditLog(", "")
        assert "AuditLog(" not in text and "bump_data_version(" not in text, path.relative_to(APP)


# ---------------------------------------------------------------- 1: unknown duplicate_of


def test_unknown_duplicate_of_is_a_422_naming_it(client, session):
    cur = bearer(session)
    sid = add_source(client, cur)
    body = {**DIRECT, "source_id": sid, "duplicate_of": "no-such-result"}
    r = client.post("/api/v1/results", json=body, headers=cur)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == "duplicate_of" and "no-such-result" in r.json()["detail"]


# ---------------------------------------------------------------- 2: one cursor codec


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_foreign_cursor_is_the_same_422_on_every_list(client, session):
    cur = bearer(session)
    add_source(client, cur)
    lists = ["/api/v1/results?limit=1", "/api/v1/sources?limit=1", "/api/v1/candidates?limit=1"]
    issued = {}
    for url in lists:
        client.post("/api/v1/sources/1/candidates", headers=cur)
        issued[url] = client.get(url).json()["next_cursor"]
    assert all(issued.values()), issued
    huge = _b64(b'{"k":"candidates","s":"id","v":[' + str(2**64).encode() + b"]}")
    for url in lists:
        foreign = [c for u, c in issued.items() if u != url]
        for cursor in ["garbage", _b64(b"c12"), _b64(b"s:1"), huge, *foreign]:
            r = client.get(f"{url}&cursor={cursor}")
            assert r.status_code == 422, (url, cursor, r.text)
            assert r.json()["parameter"] == "cursor" and r.json()["type"].endswith("invalid-parameter")
        assert client.get(f"{url}&cursor={issued[url]}").status_code == 200


# ---------------------------------------------------------------- 3: one occurrence count


@given(
    st.text(alphabet="ab", min_size=1, max_size=4),
    st.lists(st.sampled_from(["a", "b", "ab", "ba", "aa", "x"]), min_size=0, max_size=12),
)
def test_every_copy_of_a_quote_is_found_again_by_its_occurrence(quote, pieces):
    text = "".join(pieces) + quote + "".join(reversed(pieces)) + quote
    for start in quote_positions(text, quote):
        assert locate_quote(text, quote, occurrence_at(text, quote, start)) == start


def test_overlapping_copies_are_counted():
    assert quote_positions("aaaa", "aa") == [0, 1, 2]
    assert [occurrence_at("aaaa", "aa", p) for p in (0, 1, 2)] == [1, 2, 3]


def test_a_patch_keeps_a_result_on_its_own_overlapping_copy(client, session):
    """Two overlapping copies of a two-sentence quote: a PATCH must not move it to the first."""
    cur = bearer(session)
    line = "Officers seized 41 firearms. "
    text = "Report. " + line * 3
    r = client.post("/api/v1/sources", json={**SOURCE, "text": text, "title": "overlap"}, headers=cur)
    source = session.get(Source, r.json()["id"])
    quote = (line * 2).strip()
    draft = ResultBase(
        operation="channel", scope="cumulative", metric="firearms_seized", value=41, unit="count", quote=quote
    )
    checked = check_figure(session=session, draft=draft, source=source, occurrence=2)
    uow = UnitOfWork(WriteContext(session, "test"))
    row = create_result(uow, checked, result_id="overlap-2")
    bump_data_version(session=session, at=uow.instant)
    session.flush()
    second = text.index(quote, text.index(quote) + 1)
    assert row.quote_start == second
    etag = client.get("/api/v1/results/overlap-2").headers["etag"]
    patched = client.patch("/api/v1/results/overlap-2", json={"note": "n"}, headers={**cur, "If-Match": etag})
    assert patched.status_code == 200, patched.text
    assert patched.json()["quote_start"] == second
    stored = session.exec(select(Result).where(Result.id == "overlap-2")).one()
    assert stored.quote_start == second


# ---------------------------------------------------------------- 8: commands say which database


def test_keys_create_outside_the_project_creates_no_database(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONPATH"] = str(APP.parent)
    r = subprocess.run(
        [sys.executable, "-m", "app.cli", "keys", "create", "--name", "lost"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1 and r.stdout == ""
    assert "opstats.db" in r.stderr and "no database" in r.stderr
    assert not (tmp_path / "opstats.db").exists()
