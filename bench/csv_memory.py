"""Peak server memory while streaming every result as CSV (a million rows must not be held at once).

DATABASE_URL=sqlite:////tmp/bench1m.db .venv/bin/python bench/csv_memory.py
"""

import http.client
import os
import sys
import time
from pathlib import Path

from bench.http_bench import ROOT, free_port, serve


def vm(pid: int, key: str) -> int:
    """A memory figure of a process in KiB (VmRSS now, VmHWM peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def main() -> None:
    port = free_port()
    proc = serve(["--factory", "app.main:create_app"], port, dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        conn.request("GET", "/api/v1/results?limit=1")
        conn.getresponse().read()
        before = vm(proc.pid, "VmRSS")
        t = time.perf_counter()
        conn.request("GET", "/api/v1/results?format=csv")
        r = conn.getresponse()
        rows = size = 0
        while chunk := r.read(1 << 20):
            size += len(chunk)
            rows += chunk.count(b"\n")
        secs = time.perf_counter() - t
        print(f"status {r.status}; {rows - 1} rows, {size / 1e6:.0f} MB in {secs:.1f} s")
        print(f"server RSS before {before / 1024:.0f} MiB, peak {vm(proc.pid, 'VmHWM') / 1024:.0f} MiB")
    finally:
        proc.terminate()
        proc.wait(10)
    sys.exit(0)


if __name__ == "__main__":
    main()
