"""The docs match the code: README commands, contract field names, documented endpoints."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.main import create_app
from app.schemas.catalog import MetricPublic, OperationPublic, PhasePublic
from app.schemas.results import ResultPublic
from app.schemas.sources import SourcePublic

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
CONTRACT = ROOT.parent / "shared" / "CONTRACT.md"


def contract_text() -> str:
    if not CONTRACT.exists():
        pytest.skip("../shared/CONTRACT.md is not beside the project")
    return CONTRACT.read_text()


def test_quickstart_is_exactly_the_two_make_commands():
    block = README.split("## Quickstart", 1)[1].split("```", 2)[1]
    commands = [line.strip() for line in block.splitlines()[1:] if line.strip()]
    assert commands == ["make serve", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^serve:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_result_fields_of_the_contract_are_served():
    table = contract_text().split("Result — one reported figure", 1)[1].split("`GET /api/v1/results`", 1)[0]
    fields = set(re.findall(r"^\| `(\w+)`(?:, `(\w+)`)?", table, re.M))
    names = {n for pair in fields for n in pair if n}
    assert names and names <= set(ResultPublic.model_fields)


EXAMPLE_VALUES = {
    "channel",
    "mercenary",
    "illegal",
    "proxy",
    "drugs_seized",
    "opium_seized",
    "criminal_cases_opened",
    "mass",
    "count",
    "kg",
}


@pytest.mark.parametrize(
    ("heading", "model"),
    [
        ("Operation —", OperationPublic),
        ("Phase —", PhasePublic),
        ("Metric —", MetricPublic),
        ("Source —", SourcePublic),
    ],
)
def test_resource_fields_of_the_contract_are_served(heading, model):
    para = contract_text().split(heading, 1)[1].split("\n\n", 1)[0]
    names = set(re.findall(r"`([a-z_]+)`", para)) - EXAMPLE_VALUES
    assert names and names <= set(model.model_fields), names - set(model.model_fields)


def test_documented_endpoints_exist():
    paths = set(create_app().openapi()["paths"])
    documented = set(re.findall(r"`(?:GET|POST|PATCH) (/[^`?\s]*)", README))
    assert documented, "README documents no endpoint"
    missing = {p for p in documented if p not in paths and p not in {"/healthz", "/readyz"}}
    assert not missing


def test_documented_cli_commands_exist():
    commands = set(re.findall(r"^\| `opstats (\w+)", README, re.M))
    out = subprocess.run([sys.executable, "-m", "app.cli", "--help"], capture_output=True, text=True).stdout
    assert commands and all(c in out for c in commands)
