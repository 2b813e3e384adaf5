"""Bodies: malformed JSON says what is wrong and where; body dates are what the schema says, exactly."""

import uuid
from typing import Annotated

import jsonschema_rs
import pytest
from pydantic import TypeAdapter, ValidationError

from app.curation.keys import create_key
from app.main import create_app
from app.models import KeyScope
from app.schemas.catalog import PhaseCreate
from app.schemas.results import ResultCreate, ResultUpdate
from app.schemas.sources import SourceCreate

SOURCE = {"text": "A test text.", "title": "Dates (test)", "publisher": "CSTO", "published_on": "2025-06-05"}


def curator(session) -> dict[str, str]:
    _, key = create_key(session=session, name=f"curator-{uuid.uuid4().hex[:6]}", scope=KeyScope.curator)
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ('{"name": 1 "x": 2}', "Expecting ',' delimiter at line 1, column 12 (char 11)"),
        ('{\n  "name": "Harbour",\n  "kind": \n}', "Expecting value at line 4, column 1 (char 34)"),
        ("{'name': 'x'}", "Expecting property name enclosed in double quotes at line 1, column 2 (char 1)"),
    ],
)
def test_malformed_json_says_what_and_where(client, session, body, detail):
    r = client.post(
        "/api/v1/phases", content=body, headers={**curator(session), "Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["detail"] == f"The body is not valid JSON: {detail}."
    assert problem["errors"] == [{"in": "body", "name": "", "message": detail}]
    assert "parameter" not in problem


def test_a_wrong_field_is_still_named(client, session):
    r = client.post("/api/v1/sources", json={**SOURCE, "published_on": 0}, headers=curator(session))
    assert r.status_code == 422
    assert r.json()["errors"][0]["in"] == "body" and r.json()["errors"][0]["name"] == "published_on"


FULL = ["2019-02-26", "0001-01-01", "9999-12-31", "2024-02-29"]
NOT_DATES = [
    "0000-01-01",
    "2019-02-30",
    "2023-02-29",
    "2019-13-01",
    "2019-00-10",
    "2019-2-6",
    "20190226",
    "0",
    "2019-02-26T00:00:00",
    "2019-02-26 ",
    "+2019-02-26",
]
PARTIAL = ["2019", "2019-02", "0001", "9999-12"]
NOT_PARTIAL = ["0000", "0000-01", "2019-13", "2019-00", "19", "2019-2"]


def schema_of(model: str, field: str) -> jsonschema_rs.Validator:
    spec = create_app().openapi()
    root = {**spec["components"]["schemas"][model]["properties"][field], "components": spec["components"]}
    return jsonschema_rs.validator_for(root, validate_formats=True)


def server_accepts(model: type, field: str, value: str) -> bool:
    info = model.model_fields[field]
    try:
        TypeAdapter(Annotated[info.annotation, info]).validate_json(f'"{value}"')
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(
    ("model", "field", "good", "bad"),
    [
        (SourceCreate, "published_on", FULL, NOT_DATES),
        (ResultCreate, "as_of", FULL, NOT_DATES),
        (ResultUpdate, "as_of", FULL, NOT_DATES),
        (PhaseCreate, "start_date", FULL + PARTIAL, NOT_DATES + NOT_PARTIAL),
        (PhaseCreate, "end_date", FULL + PARTIAL, NOT_DATES + NOT_PARTIAL),
        (ResultCreate, "period_start", FULL + PARTIAL, NOT_DATES + NOT_PARTIAL),
    ],
)
def test_schema_and_server_agree_on_body_dates(model, field, good, bad):
    validator = schema_of(model.__name__, field)
    for value in good:
        assert validator.is_valid(value) and server_accepts(model, field, value), value
    for value in bad:
        assert not validator.is_valid(value), f"the schema allows {value!r}"
        assert not server_accepts(model, field, value), f"the server accepts {value!r}"


def test_year_zero_body_date_is_refused_as_the_schema_says(client, session):
    r = client.post(
        "/api/v1/sources", json={**SOURCE, "published_on": "0000-01-01"}, headers=curator(session)
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["name"] == "published_on"
    assert "YYYY-MM-DD" in r.json()["errors"][0]["message"]
    assert not schema_of("SourceCreate", "published_on").is_valid("0000-01-01")


def test_a_year_one_body_date_is_accepted_as_the_schema_says(client, session):
    body = {**SOURCE, "text": f"Year one {uuid.uuid4().hex}.", "published_on": "0001-01-01"}
    r = client.post("/api/v1/sources", json=body, headers=curator(session))
    assert r.status_code == 201, r.text
    assert r.json()["published_on"] == "0001-01-01"
