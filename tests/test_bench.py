"""The benchmark runner works end to end at a tiny size (a smoke test: its figures are not judged here)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_runner_smoke(tmp_path):
    out = tmp_path / "RESULTS.md"
    r = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke", "--out", str(out), "--workdir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    text = out.read_text()
    assert "make_million.py --results 1000" in text
    hot = re.findall(r"^\| GET /api/v1/[^ ?]+(?:\?limit=50)? (?:→ 304 )?\| ([\d,]+) \|", text, re.M)
    assert len(hot) == 8 and all(int(v.replace(",", "")) > 0 for v in hot), text
    assert re.search(r"^\| cold GET /api/v1/totals \(after a write\) \| [\d.]+ \|", text, re.M)
    assert re.search(r"^\| GET /api/v1/results\?format=csv \| 1,0\d\d \|", text, re.M), text
    assert re.search(
        r"^\| the same, other filters, database files dropped from the page cache first \| [\d.]+ \|",
        text,
        re.M,
    )
    assert re.search(
        r"^Cold requests: [12] database file\(s\), \d+ MiB, read into the page cache", text, re.M
    ), text
