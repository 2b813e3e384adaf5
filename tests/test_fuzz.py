"""Bounded schemathesis run over every operation and method with a curator and an admin key, and a
stateful run along the OpenAPI links (bench/fuzz.py is the long run and says what is tolerated)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

from bench.fuzz import fuzz_app, fuzz_schema, run_case

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 15
APP, KEYS = fuzz_app()
schema = fuzz_schema(APP)


@pytest.mark.parametrize("who", ["curator", "admin"])
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_with_a_key(case: schemathesis.Case, who: str) -> None:
    assert run_case(case, KEYS[who]) == []


def test_links_are_declared_and_if_match_required():
    spec = APP.openapi()["paths"]
    links = spec["/api/v1/results"]["post"]["responses"]["201"]["links"]
    assert {"GetResult", "PatchResult", "RetractResult"} <= set(links)
    assert links["PatchResult"]["parameters"]["header.if-match"] == "$response.header.ETag"
    if_match = next(
        p for p in spec["/api/v1/results/{result_id}"]["patch"]["parameters"] if p["in"] == "header"
    )
    assert if_match["required"] is True


StatefulBase = schema.as_state_machine()


class APIWorkflow(StatefulBase):  # type: ignore[misc, valid-type]
    """Create, read, patch and retract along the links, as the admin (who may do every write)."""

    def get_call_kwargs(self, case: schemathesis.Case) -> dict:  # noqa: ARG002
        return {"headers": KEYS["admin"]}

    def validate_response(self, response, case, additional_checks=(), **kwargs) -> None:  # noqa: ARG002
        from schemathesis.core.failures import FailureGroup

        from bench.fuzz import real_failures

        try:
            case.validate_response(response, headers=KEYS["admin"])
        except FailureGroup as group:
            failures = real_failures(group, response)
            assert not failures, [getattr(f, "title", f) for f in failures]


TestStateful = APIWorkflow.TestCase
TestStateful.settings = settings(
    max_examples=10,
    stateful_step_count=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],  # the app's state persists: a replay would not repeat
)
