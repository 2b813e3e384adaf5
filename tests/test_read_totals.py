"""Totals: the product's promise — never add a cumulative to phases, a share to a whole, or a figure twice."""

from datetime import date

import pytest

from app.domain.counting import sum_qualifier
from tests.factories import CRIMES_SENTENCE, DRUGS_SENTENCE, add_figure, retract


def metric_of(totals: dict, slug: str) -> dict:
    return next(m for m in totals["metrics"] if m["metric"] == slug)


def channel(client) -> dict:
    r = client.get("/api/v1/operations/channel/totals")
    assert r.status_code == 200, r.text
    return r.json()


def test_channel_cumulative_is_never_added_to_phase_figures(client):
    drugs = metric_of(channel(client), "drugs_seized")
    cumulative = drugs["cumulative"]
    assert (cumulative["result_id"], cumulative["value_base"], cumulative["base_unit"]) == (
        "channel-2023-drugs-seized",
        427000,
        "kg",
    )
    assert cumulative["qualifier"] == "more_than" and cumulative["as_of"] == "2023-05-18"
    summed = drugs["phase_sum"]
    assert "channel-2023-drugs-seized" not in summed["result_ids"]
    assert summed["value_base"] == 11400  # the body's "about 11.4 tons", not + 427 t, not + the headline
    assert summed["result_ids"] == ["channel-center-2019-drugs"]
    assert summed["qualifier"] == "about" and summed["phases"] == 1


def test_headline_and_body_are_one_figure_listed_as_disagreeing(client):
    drugs = metric_of(channel(client), "drugs_seized")
    [dis] = drugs["disagreements"]
    assert dis["kind"] == "duplicate_reports" and dis["used_result_id"] == "channel-center-2019-drugs"
    assert [r["result_id"] for r in dis["reports"]] == [
        "channel-center-2019-drugs",
        "channel-center-2019-drugs-headline",
    ]
    assert [(r["value_base"], r["qualifier"]) for r in dis["reports"]] == [
        (11400, "about"),
        (11000, "more_than"),
    ]


def test_country_share_is_listed_never_added(client):
    opium = metric_of(channel(client), "opium_seized")
    assert opium["phase_sum"]["value_base"] == 8900
    assert opium["phase_sum"]["result_ids"] == ["channel-center-2019-opium"]
    assert opium["phase_sum"]["qualifier"] == "more_than" and opium["phase_sum"]["lower_bound"] is True
    assert [(s["result_id"], s["country"], s["value_base"]) for s in opium["country_shares"]] == [
        ("channel-center-2019-iran-opium", "Iran", 5100)
    ]
    mephedrone = metric_of(channel(client), "mephedrone_seized")
    assert mephedrone["phase_sum"] is None and len(mephedrone["country_shares"]) == 1


def test_retracted_canonical_falls_back_to_its_duplicate(client, session):
    retract(session, "channel-center-2019-drugs")
    summed = metric_of(channel(client), "drugs_seized")["phase_sum"]
    assert summed["result_ids"] == ["channel-center-2019-drugs-headline"]
    assert summed["value_base"] == 11000 and summed["qualifier"] == "more_than" and summed["lower_bound"]


def test_retracted_result_leaves_totals(client, session):
    retract(session, "channel-center-2019-opium")
    opium = metric_of(channel(client), "opium_seized")
    assert opium["phase_sum"] is None
    assert "channel-center-2019-opium" not in str(channel(client))


def test_two_independent_figures_of_one_phase_count_once(client, session):
    add_figure(
        session,
        "cc2019-opium-recount",
        phase="channel-center-2019",
        metric="opium_seized",
        value=8.9,
        unit="t",
        qualifier="more_than",
        scope="phase",
        quote=DRUGS_SENTENCE,
        as_of=date(2019, 3, 2),
    )
    opium = metric_of(channel(client), "opium_seized")
    assert opium["phase_sum"]["result_ids"] == ["cc2019-opium-recount"]  # the newer as_of
    assert opium["phase_sum"]["value_base"] == 8900
    [dis] = opium["disagreements"]
    assert dis["kind"] == "conflicting_phase_figures" and dis["used_result_id"] == "cc2019-opium-recount"
    assert {r["result_id"] for r in dis["reports"]} == {"cc2019-opium-recount", "channel-center-2019-opium"}


def test_phases_add_up_with_the_qualifier_of_the_sum(client, session):
    add_figure(
        session,
        "stage1-drug-crimes",
        phase="channel-2023-stage-1",
        metric="drug_crimes_detected",
        value=784,
        unit="count",
        scope="phase",
        quote=CRIMES_SENTENCE,
        as_of=date(2023, 5, 31),
    )
    add_figure(
        session,
        "stage1-cases",
        phase="channel-2023-stage-1",
        metric="criminal_cases_opened",
        value=4000,
        unit="count",
        qualifier="about",
        scope="phase",
        quote=CRIMES_SENTENCE,
        as_of=date(2023, 5, 31),
    )
    totals = channel(client)
    crimes = metric_of(totals, "drug_crimes_detected")["phase_sum"]
    assert (crimes["value_base"], crimes["qualifier"], crimes["phases"]) == (784 * 2, "exact", 2)
    assert crimes["result_ids"] == ["channel-center-2019-drug-crimes", "stage1-drug-crimes"]
    cases = metric_of(totals, "criminal_cases_opened")["phase_sum"]
    assert (cases["value_base"], cases["qualifier"], cases["lower_bound"]) == (8000, "about", False)


def test_all_totals_keep_programme_figures_apart(client):
    body = client.get("/api/v1/totals").json()
    assert [o["operation"] for o in body["operations"]] == ["channel", "mercenary", "illegal", "proxy"]
    programme = metric_of(body["programme"], "drugs_seized")
    assert programme["cumulative"]["result_id"] == "csto-2023-drugs-seized"
    assert programme["cumulative"]["scope"] == "programme" and programme["cumulative"]["value_base"] == 420000
    assert programme["phase_sum"] is None
    ops_text = str(body["operations"])
    assert "csto-2023-drugs-seized" not in ops_text
    assert metric_of(body["operations"][0], "drugs_seized") == metric_of(channel(client), "drugs_seized")


def _phase_ids(obj) -> set[str]:
    if isinstance(obj, dict):
        found = set(obj.get("result_ids", []))
        for key, value in obj.items():
            if key != "warnings":  # findings name the results they are about, not what a total sums
                found |= _phase_ids(value)
        return found
    if isinstance(obj, list):
        return set().union(*(_phase_ids(v) for v in obj)) if obj else set()
    return set()


def test_every_summed_id_is_a_whole_phase_figure(client):
    summed = _phase_ids(client.get("/api/v1/totals").json())
    assert summed
    for rid in summed:
        r = client.get(f"/api/v1/results/{rid}").json()
        assert r["scope"] == "phase" and r["country"] is None and r["duplicate_of"] is None, rid


def test_totals_follow_writes(client, session):
    before = metric_of(channel(client), "drug_crimes_detected")["phase_sum"]["value_base"]
    add_figure(
        session,
        "stage1-drug-crimes",
        phase="channel-2023-stage-1",
        metric="drug_crimes_detected",
        value=784,
        unit="count",
        scope="phase",
        quote=CRIMES_SENTENCE,
        as_of=date(2023, 5, 31),
    )
    after = metric_of(channel(client), "drug_crimes_detected")["phase_sum"]["value_base"]
    assert (before, after) == (784, 1568)


def test_totals_by_alias_and_unknown_operation(client):
    assert client.get("/api/v1/operations/Kanal/totals").json()["operation"] == "channel"
    r = client.get("/api/v1/operations/nosuchop/totals")
    assert r.status_code == 404 and r.json()["valid_operations"] == [
        "channel",
        "mercenary",
        "illegal",
        "proxy",
    ]


@pytest.mark.parametrize(
    ("qualifiers", "expected"),
    [
        (["exact", "exact"], ("exact", True, True)),
        (["more_than", "exact"], ("more_than", True, False)),
        (["more_than", "more_than"], ("more_than", True, False)),
        (["about", "exact"], ("about", False, False)),
        (["about", "more_than"], ("about", False, False)),
        (["almost", "exact"], ("almost", False, True)),
        (["up_to", "exact"], ("up_to", False, True)),
        (["up_to", "almost"], ("up_to", False, True)),
        (["more_than", "up_to"], ("mixed", False, False)),
        (["more_than", "almost"], ("mixed", False, False)),
        (["about", "up_to"], ("mixed", False, False)),
        (["at_least", "exact"], ("at_least", True, False)),
        (["at_least", "more_than"], ("more_than", True, False)),
        (["less_than", "exact"], ("less_than", False, True)),
        (["less_than", "up_to", "almost"], ("less_than", False, True)),
        (["at_least", "less_than"], ("mixed", False, False)),
        (["about", "at_least"], ("about", False, False)),
        (["about", "less_than"], ("mixed", False, False)),
    ],
)
def test_qualifier_of_a_sum(qualifiers, expected):
    assert sum_qualifier(qualifiers)[:3] == expected
