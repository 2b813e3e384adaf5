"""Which few trigrams of a quote search (`q=`) to read from the index, and the statistics that say.

Every generated or real quote shares most of its trigrams with the others (" of", "ers", ...), so
reading all of a query's trigrams reads posting lists of nearly every result even for a phrase
found a few times. A search instead reads its rarest trigrams only (their documents come from
statistics) and checks the candidates they give for the whole text, exactly: on SQLite with the
index's own case folding (`quote_fold`), on PostgreSQL with the same `ILIKE` on an expression the
index does not serve. Statistics decide speed only, never the answer: a trigram they do not know
is taken to be rare, and every candidate is checked.

Case folding: the quote index (`result_quote_fts`, tokenizer `trigram`) folds each character of
a quote with FTS5's own table before it makes trigrams, so "the quote contains q" there means
`fold(quote)` contains `fold(q)`. The check of a search's candidates uses the same fold: the one
the linked SQLite library applies, learnt from that library (every character of the planes that
have letter case, through a trigram table in memory), never a copy of a Unicode table that
another SQLite build might not share. SQLite's own `lower()` folds ASCII only: it cannot check.
"""

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, text
from sqlmodel import Session

QUOTE_INDEX = "result_quote_fts"  # SQLite's FTS5 trigram index of result.quote (its migration: qidx)
QUOTE_VOCAB = "result_quote_vocab"  # fts5vocab 'row' of the quote index (its migration: qsearch)
LAST_CHARACTER = "\U0010ffff"  # sorts after every character: the upper end of a prefix's range
SQLITE_STATS = "result_quote_trigram"  # trigram -> documents (its migration: qsearch)
SQLITE_STATS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {SQLITE_STATS} "
    "(trigram TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID"
)
POSTGRES_STATS = "result_quote_trigrams"  # extended statistics on show_trgm(quote)
POSTGRES_GRAMS_INDEX = "ix_result_quote_grams"  # GIN on quote_grams(quote) (its migration: qgrams)
POSTGRES_GRAMS_DDL = (  # a quote's one- and two-character pieces, as ILIKE lowers them (qgrams)
    "CREATE OR REPLACE FUNCTION quote_grams(t text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
    "SELECT coalesce(array_agg(DISTINCT substr(l, i, n)), '{}') FROM lower(t) AS l, "
    "generate_series(1, length(l)) AS i, (VALUES (1), (2)) AS w(n) WHERE i + n - 1 <= length(l) $$"
)
METRIC_INDEX = "result_quote_by_metric"  # SQLite: FTS5 trigram index by metric (its migration: qmetric)
METRIC_SPAN = 2**32  # a metric's rowid range in METRIC_INDEX: metric.rowid * METRIC_SPAN + result.rowid
POSTGRES_METRIC_INDEX = "ix_result_quote_metric_grams"  # GIN on quote_metric_grams (qmetric)
POSTGRES_METRIC_DDL = (  # a quote's lowered pieces of one to three characters, each after its metric
    "CREATE OR REPLACE FUNCTION quote_metric_grams(m text, t text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
    "SELECT coalesce(array_agg(DISTINCT m || ':' || substr(l, i, n)), '{}') FROM lower(t) AS l, "
    "generate_series(1, length(l)) AS i, (VALUES (1), (2), (3)) AS w(n) WHERE i + n - 1 <= length(l) $$"
)
TRIGRAM = 3
MAX_TERMS = 4  # trigrams read at most: each more is one more posting list walked
ENOUGH = 64  # estimated candidates below which no further trigram is worth reading
NARROWS = 0.5  # a further piece is read only when at most this share of the results holds it
COMMON_SHARE = 0.02  # a text whose rarest trigram is in more results than this share is common
COMMON_FLOOR = 2000  # ... and in more results than this
HEAP_COST = 3000  # a candidate's row checked on PostgreSQL, in posting list entries read (EXPLAIN)
PG_MIN_ROWS = 100_000  # below, every trigram is cheap to read and the planner may prefer a scan
STALE_SHARE = 0.1  # statistics are made again when the results grew or shrank by this share
STALE_FLOOR = 1000  # ... of at least this many results


@dataclass(frozen=True)
class Pick:
    """The part of a search the index reads: `terms` (pieces of the query, each found in every
    match) and `estimate`, the candidates expected; `terms` empty for a common text."""

    terms: tuple[str, ...]
    estimate: float
    total: float = 0.0  # the results the statistics were made from

    @property
    def walkable(self) -> bool:
        """A common text (no pieces: its rarest trigram is in many results), whose page is likely
        found sooner by checking rows in sort order than by reading all its matches. The estimate
        of its pieces together cannot tell (phrases repeat, pieces are not independent), and a walk
        that does not settle the page costs a bounded number of rows."""
        return not self.terms and self.total > 0


def fill_sqlite_statistics(conn: Connection) -> None:
    """Make the trigram statistics afresh from the index's vocabulary (every trigram's documents)."""
    conn.exec_driver_sql(f"DELETE FROM {SQLITE_STATS}")
    conn.exec_driver_sql(f"INSERT INTO {SQLITE_STATS} (trigram, docs) SELECT term, doc FROM {QUOTE_VOCAB}")
    conn.exec_driver_sql(f"INSERT INTO {SQLITE_STATS} (trigram, docs) SELECT '', count(*) FROM result")


def sqlite_starting(session: Session, prefixes: set[str], *, live: bool = True) -> dict[str, int]:
    """Every trigram that starts with one of `prefixes` (folded), with its documents: from the
    index's live vocabulary (read by range: exact, but it counts each trigram's documents), or,
    not `live`, from the statistics (an estimate: fast whatever the counts)."""
    source = f"SELECT term, doc FROM {QUOTE_VOCAB}" if live else f"SELECT trigram, docs FROM {SQLITE_STATS}"
    key = "term" if live else "trigram"
    stmt = text(f"{source} WHERE {key} >= :low AND {key} <= :high AND {key} != ''")
    conn = session.connection()
    return {
        term: int(docs)
        for prefix in sorted(prefixes)
        for term, docs in conn.execute(stmt, {"low": prefix, "high": prefix + LAST_CHARACTER}).all()
    }


def refresh_sqlite_statistics(conn: Connection) -> bool:
    """Make the statistics afresh when the results grew or shrank by a tenth since; True if made."""
    made = conn.exec_driver_sql(f"SELECT docs FROM {SQLITE_STATS} WHERE trigram = ''").scalar()
    now = int(conn.exec_driver_sql("SELECT count(*) FROM result").scalar_one())
    if made is not None and abs(now - made) <= STALE_SHARE * max(made, STALE_FLOOR):
        return False
    fill_sqlite_statistics(conn)
    return True


def sqlite_trigrams(q: str) -> dict[int, tuple[str, str]]:
    """The query's trigrams by position: each as the index folds it, and the piece of `q` that
    spells it."""
    return {i: (fold(q[i : i + TRIGRAM]), q[i : i + TRIGRAM]) for i in range(len(q) - TRIGRAM + 1)}


def sqlite_pick(session: Session, q: str) -> Pick:
    """The rarest few of the query's trigrams (pieces of `q`), by the statistics."""
    grams = sqlite_trigrams(q)
    stmt = text(f"SELECT trigram, docs FROM {SQLITE_STATS} WHERE trigram IN :grams").bindparams(
        bindparam("grams", expanding=True)
    )
    wanted = list(dict.fromkeys(gram for gram, _ in grams.values()))
    rows = session.connection().execute(stmt, {"grams": [*wanted, ""]}).all()
    docs: dict[str, int] = {gram: count for gram, count in rows}
    found = {at: (piece, docs.get(gram, 0)) for at, (gram, piece) in grams.items()}
    return choose(found, docs.get("", 0))


def choose(
    found: Mapping[int, tuple[str, float]], total: float, at_least: int = 1, *, combined: bool = False
) -> Pick:
    """Pieces to read (by position in the query: piece, documents), rarest first, while they still
    narrow the candidates down; none when even the rarest is common. A piece overlapping one
    already read says little more (the same characters), so the next is the rarest that does not.
    `at_least` pieces when there are (PostgreSQL's planner prices one short `ILIKE` as unselective
    and would rather scan the table). `combined`: whether the text is common is told by the estimate
    of all pieces read together rather than by the rarest alone (where a misjudged text costs little:
    on PostgreSQL every candidate's row is read either way)."""
    ranked = sorted(found, key=lambda at: found[at][1])
    if not ranked:
        return Pick((), total, total)
    first, common = found[ranked[0]][1], max(COMMON_FLOOR, COMMON_SHARE * total)
    if first > common and not combined:
        return Pick((), together(found, ranked, total), total)
    taken, estimate = [ranked[0]], first
    for at in ranked[1:]:
        enough = estimate <= ENOUGH or found[at][1] > NARROWS * total
        if len(taken) == MAX_TERMS or (enough and len(taken) >= at_least):
            break
        if all(abs(at - other) >= TRIGRAM for other in taken):
            taken.append(at)
            estimate *= found[at][1] / max(total, 1)
    if estimate > common:
        return Pick((), estimate, total)
    return Pick(tuple(dict.fromkeys(found[at][0] for at in taken)), estimate, total)


def together(found: Mapping[int, tuple[str, float]], ranked: list[int], total: float) -> float:
    """The results expected to hold the rarest few non-overlapping pieces at once (independence)."""
    taken, estimate = [ranked[0]], found[ranked[0]][1]
    for at in ranked[1:]:
        if len(taken) < MAX_TERMS and all(abs(at - other) >= TRIGRAM for other in taken):
            taken.append(at)
            estimate *= found[at][1] / max(total, 1)
    return estimate


def pg_pieces(q: str) -> dict[int, tuple[str, tuple[str, ...]]]:
    """Pieces of `q` (three characters) whose `ILIKE '%piece%'` pg_trgm serves from trigrams it is
    sure to extract, each with those trigrams (lowercased; words are letters and digits, padded by
    two spaces before and one after where `q` shows their edge)."""
    low = q.lower()
    pieces: dict[int, tuple[str, tuple[str, ...]]] = {}
    for i in range(len(q) - TRIGRAM + 1):
        piece, window = q[i : i + TRIGRAM], low[i : i + TRIGRAM]
        shape = "".join("w" if c.isalnum() else "-" for c in window)
        if any(c in "%_\\" for c in window):
            continue
        if shape == "www":
            pieces[i] = (piece, (window,))
        elif shape == "ww-":
            pieces[i] = (piece, (window[:2] + " ",))
        elif shape == "-ww":
            pieces[i] = (piece, ("  " + window[1], " " + window[1:]))
        elif shape == "-w-":
            pieces[i] = (piece, ("  " + window[1], " " + window[1] + " "))
    return pieces


def pg_pick(session: Session, q: str) -> Pick:
    """The rarest few pieces of `q` for pg_trgm, by the most common trigrams ANALYZE found (one not
    among them is taken to be half as common as the least common that is); none when reading every
    trigram of the text costs less than reading the pieces' and checking their extra candidates."""
    pieces = pg_pieces(q)
    row = (
        session.connection()
        .execute(
            text(
                "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples "
                "FROM pg_stats_ext_exprs AS s, pg_class AS c "
                "WHERE s.statistics_name = :name AND c.oid = 'result'::regclass"
            ),
            {"name": POSTGRES_STATS},
        )
        .first()
    )
    if row is None or row[0] is None or not pieces or float(row[2]) < PG_MIN_ROWS:
        return Pick((), 0.0, 0.0)
    freqs = dict(zip(row[0], row[1], strict=False))  # the frequencies end with three summary values
    floor, total = min(freqs.values()) / 2, max(float(row[2]), 0.0)
    found = {
        at: (piece, total * max(freqs.get(t, floor) for t in grams)) for at, (piece, grams) in pieces.items()
    }
    pick = choose(found, total, at_least=2, combined=True)
    chosen = {t for at, (piece, grams) in pieces.items() if piece in pick.terms for t in grams}
    every = {t for _, grams in pieces.values() for t in grams}
    read_all = total * sum(freqs.get(t, floor) for t in every)
    read_pieces = total * sum(freqs.get(t, floor) for t in chosen) + HEAP_COST * pick.estimate
    return pick if read_pieces < read_all else Pick((), pick.estimate, total)


def _element_frequencies(session: Session, index: str, column: str) -> tuple[dict[str, float], float] | None:
    """The most common elements ANALYZE found in an expression index's array, with their shares of
    the results, and the results' number; None without statistics."""
    row = (
        session.connection()
        .execute(
            text(
                "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples "
                "FROM pg_stats AS s, pg_class AS c WHERE s.tablename = :index AND s.attname = :column "
                "AND c.oid = 'result'::regclass"
            ),
            {"index": index, "column": column},
        )
        .first()
    )
    if row is None or row[0] is None:
        return None
    freqs = dict(zip(row[0], row[1], strict=False))  # the frequencies end with three summary values
    return {element: float(share) for element, share in freqs.items()}, max(float(row[2]), 0.0)


def pg_short_estimate(session: Session, q: str) -> float:
    """The results expected to hold a text of one or two characters: its rarest lowered piece by the
    most common elements ANALYZE found in `quote_grams(quote)` (one not among them: half the least
    common that is); every result when there are no statistics."""
    stats = _element_frequencies(session, POSTGRES_GRAMS_INDEX, "quote_grams")
    if stats is None:
        return float("inf")
    freqs, total = stats
    floor, low = min(freqs.values()) / 2, q.lower()
    pieces = {low[i : i + n] for n in (1, 2) for i in range(len(low) - n + 1)}
    return total * min(freqs.get(piece, floor) for piece in pieces)


def metric_pieces(low: str) -> set[str]:
    """The pieces of a lowered text that `quote_metric_grams` holds for every quote holding it: the
    whole of a text of up to three characters, else each of its three-character pieces."""
    if len(low) <= TRIGRAM:
        return {low}
    return {low[i : i + TRIGRAM] for i in range(len(low) - TRIGRAM + 1)}


@dataclass(frozen=True)
class MetricPieces:
    """A text's rarest pieces in one metric's results (as `quote_metric_grams` spells them) and the
    results of that metric expected to hold them (by ANALYZE's most common elements; None when the
    rarest is not among them: then few, read from the index)."""

    pieces: tuple[str, ...]
    expected: float | None


def pg_metric_pieces(session: Session, q: str, metrics: list[str]) -> dict[str, MetricPieces]:
    """For each metric, the rarest MAX_TERMS pieces of `q` (lowered by the database, as `ILIKE` and
    `quote_metric_grams` lower it) among its results, and how many results hold the rarest; none
    without statistics or below PG_MIN_ROWS results."""
    stats = _element_frequencies(session, POSTGRES_METRIC_INDEX, "quote_metric_grams")
    if stats is None or stats[1] < PG_MIN_ROWS:  # no statistics yet, or every search is cheap
        return {}
    low = str(session.connection().execute(text("SELECT lower(:q)"), {"q": q}).scalar_one())
    freqs, total = stats
    out: dict[str, MetricPieces] = {}
    for metric in metrics:
        ranked = sorted(f"{metric}:{piece}" for piece in metric_pieces(low))
        ranked.sort(key=lambda element: freqs.get(element, 0.0))
        taken = tuple(ranked[:MAX_TERMS])
        shares = [freqs.get(element) for element in taken]
        known = [share for share in shares if share is not None]
        expected = None if len(known) < len(shares) else total * min(known)
        out[metric] = MetricPieces(taken, expected)
    return out


def sqlite_rarest(session: Session, q: str) -> str | None:
    """The query's rarest trigram by the statistics (folded, as the index holds it); None for a text
    of fewer than three characters."""
    grams = {gram for gram, _ in sqlite_trigrams(q).values()}
    if not grams:
        return None
    stmt = text(f"SELECT trigram, docs FROM {SQLITE_STATS} WHERE trigram IN :grams").bindparams(
        bindparam("grams", expanding=True)
    )
    docs: dict[str, int] = dict(session.connection().execute(stmt, {"grams": sorted(grams)}).all())
    return min(sorted(grams), key=lambda gram: docs.get(gram, 0))


CASED_PLANES = 0x20000  # the Basic and Supplementary Multilingual Planes: every cased letter
SURROGATES = range(0xD800, 0xE000)  # not characters: no UTF-8 text holds them


@lru_cache
def fold_table() -> dict[int, str]:
    """Every character the FTS5 trigram tokenizer folds to another, and what to (a constant of the
    linked library: computed once per process)."""
    chars = [chr(c) for c in range(1, CASED_PLANES) if c not in SURROGATES]
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE probe USING fts5(t, tokenize='trigram')")
        conn.execute("CREATE VIRTUAL TABLE probe_terms USING fts5vocab(probe, instance)")
        conn.execute("INSERT INTO probe(rowid, t) VALUES (1, ?)", ("".join(chars) + "  ",))
        rows = conn.execute("SELECT term, offset FROM probe_terms").fetchall()
    finally:
        conn.close()
    return {ord(chars[offset]): term[0] for term, offset in rows if term[0] != chars[offset]}


@lru_cache
def ascii_folds_as_lower() -> bool:
    """Whether the index folds every ASCII character as SQLite's `lower()` does (A-Z to a-z, nothing
    else): then an ASCII quote's fold is its `lower()`, computed without a call into Python."""
    table = fold_table()
    return all(
        table.get(c, chr(c)) == (chr(c).lower() if "A" <= chr(c) <= "Z" else chr(c)) for c in range(1, 128)
    )


def fold(text: str) -> str:
    """`text` as the quote index sees it (FTS5's trigram case folding, character by character)."""
    return text.translate(fold_table())


def register_fold(dbapi_conn: Any) -> None:
    """Make `quote_fold(text)` callable in SQL on this SQLite connection (deterministic: a pure
    function of its argument)."""
    table = fold_table()

    def quote_fold(value: str | None) -> str | None:
        return None if value is None else value.translate(table)

    dbapi_conn.create_function("quote_fold", 1, quote_fold, deterministic=True)
