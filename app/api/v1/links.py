"""OpenAPI links between the writes and the reads they make possible, and If-Match marked required.

A client (or a stateful fuzzer) follows them: a created source to its page and its candidates,
candidates to accept/reject, a created result to its page, history, PATCH (with its ETag as
If-Match) and retraction, a phase to its page.
"""

from typing import Any

V1 = "/api/v1"
BY_ID = "$response.body#/id"
# (method, path, status) of the answer → link name → (method, path of the target, its parameters)
LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, str]]]] = {
    ("post", f"{V1}/sources", "201"): {
        "GetSource": ("get", f"{V1}/sources/{{source_id}}", {"path.source_id": BY_ID}),
        "ExtractCandidates": ("post", f"{V1}/sources/{{source_id}}/candidates", {"path.source_id": BY_ID}),
    },
    ("post", f"{V1}/sources/{{source_id}}/candidates", "201"): {
        "AcceptCandidate": (
            "post",
            f"{V1}/candidates/{{candidate_id}}/accept",
            {"path.candidate_id": "$response.body#/items/0/id"},
        ),
        "RejectCandidate": (
            "post",
            f"{V1}/candidates/{{candidate_id}}/reject",
            {"path.candidate_id": "$response.body#/items/0/id"},
        ),
    },
    ("post", f"{V1}/results", "201"): {
        "GetResult": ("get", f"{V1}/results/{{result_id}}", {"path.result_id": BY_ID}),
        "ResultHistory": ("get", f"{V1}/results/{{result_id}}/history", {"path.result_id": BY_ID}),
        "PatchResult": (
            "patch",
            f"{V1}/results/{{result_id}}",
            {"path.result_id": BY_ID, "header.if-match": "$response.header.ETag"},
        ),
        "RetractResult": ("post", f"{V1}/results/{{result_id}}/retract", {"path.result_id": BY_ID}),
    },
    ("get", f"{V1}/results/{{result_id}}", "200"): {
        "PatchResult": (
            "patch",
            f"{V1}/results/{{result_id}}",
            {"path.result_id": BY_ID, "header.if-match": "$response.header.ETag"},
        ),
    },
    ("post", f"{V1}/candidates/{{candidate_id}}/accept", "201"): {
        "GetResult": ("get", f"{V1}/results/{{result_id}}", {"path.result_id": BY_ID}),
    },
    ("post", f"{V1}/phases", "201"): {
        "GetPhase": ("get", f"{V1}/phases/{{slug}}", {"path.slug": "$response.body#/slug"}),
    },
}


def add_links(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare LINKS (by operationId) and make If-Match required where the server requires it."""
    paths = schema.get("paths", {})
    for (method, path, status), links in LINKS.items():
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is None:
            continue
        response["links"] = {
            name: {"operationId": paths[target][tmethod]["operationId"], "parameters": params}
            for name, (tmethod, target, params) in links.items()
            if tmethod in paths.get(target, {})
        }
    for parameter in paths.get(f"{V1}/results/{{result_id}}", {}).get("patch", {}).get("parameters", []):
        if parameter.get("in") == "header" and parameter.get("name") == "if-match":
            parameter["required"] = True
    return schema
