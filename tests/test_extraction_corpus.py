"""Extraction on the development corpus (tests/extraction_corpus.yaml) and the held-out texts."""

from pathlib import Path

import pytest

from app.extraction.catalog import catalog_from_seeds
from app.extraction.quality import CORPUS_FIELDS, corpus_total, evaluate_corpus, read_corpus

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "extraction_corpus.yaml"
HELD_OUT = ROOT / "tests" / "extraction_heldout.yaml"
CATALOG = catalog_from_seeds(root=ROOT / "seeds")
MIN_VALUE_QUALIFIER = 0.95
MIN_PRECISION = 0.90


def test_the_corpus_is_large_enough_and_covers_every_phrasing():
    docs = read_corpus(CORPUS)
    figures = [f for _, _, _, figs in docs for f in figs]
    assert len(figures) >= 60
    phrasings = {f.phrasing for f in figures}
    assert len(phrasings) >= 8
    assert all(sum(f.phrasing == p for f in figures) >= 5 for p in phrasings)
    assert {f.qualifier for f in figures} >= {
        "exact",
        "more_than",
        "at_least",
        "about",
        "almost",
        "up_to",
        "less_than",
    }
    assert {f.unit for f in figures} >= {"count", "g", "kg", "t", "USD", "RUB", "EUR"}
    assert {f.scope for f in figures} == {"phase", "cumulative", "programme"}


def test_a_corpus_number_must_stand_in_its_text(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "- id: x\n  phrasing: p\n  text: Officers seized 41 firearms.\n"
        "  figures:\n"
        "    - {number: '42', value: 42, unit: count, qualifier: exact, metric: m, scope: phase}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="not in the text"):
        read_corpus(bad)


@pytest.mark.parametrize("path", [CORPUS, HELD_OUT], ids=["corpus", "held-out"])
def test_value_and_qualifier_at_least_95_percent(path, capsys):
    scores = evaluate_corpus(path, CATALOG)
    t = corpus_total(scores)
    with capsys.disabled():
        for s in [*scores, t]:
            print(f"\n{s.phrasing}: {s.value_qualifier}/{s.figures} value+qualifier", end="")
        print("\nmissed:", t.missed)
    assert t.vq_share is not None and t.vq_share >= MIN_VALUE_QUALIFIER, t.missed
    assert t.precision is not None and t.precision >= MIN_PRECISION


@pytest.mark.parametrize("path", [CORPUS, HELD_OUT], ids=["corpus", "held-out"])
def test_the_other_guesses_mostly_agree(path):
    t = corpus_total(evaluate_corpus(path, CATALOG))
    for name in CORPUS_FIELDS:
        assert t.agree[name] / t.value >= 0.85, (name, t.agree)


def test_a_candidate_without_a_metric_says_why():
    from app.extraction.extract import extract_candidates

    text = "Officers seized 15 tons of weapons. The agents examined 40 vehicles. It cost 5 million roubles."
    notes = {c.number_text: c.note for c in extract_candidates(text=text, catalog=CATALOG)}
    assert "firearms_seized" in (notes["15"] or "") and "in t" in (notes["15"] or "")
    assert notes["40"] == "no metric keyword (count) follows or precedes the number in its clause"
    assert "RUB" in (notes["5 million"] or "")
