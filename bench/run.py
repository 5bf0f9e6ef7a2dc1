"""One entry command for every benchmark: ``python bench/run.py [core ...|all]``.

Each benchmark module in this folder has a ``run() -> str`` returning a Markdown section. The
sections run here are written to ``bench/RESULTS.md`` (replacing the same sections from earlier
runs, keeping the others), under a header naming the machine and the date.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
BENCHES = {
    "core": "core",
    "client": "client",
    "webhooks": "webhooks",
    "emulator": "emulator",
    "campaign": "campaign",
    "campaign_workers": "campaign_workers",
    "roundtrip": "roundtrip",
    "startup": "startup",
    "testing": "testing",
    "limiter": "limiter",
    "chaos": "chaos",
    "claims": "claims",
    "observability": "observability",
    "journal": "journal",
}


def machine() -> str:
    """A one-line description of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def _sections(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for block in re.split(r"(?m)^(?=<!-- bench:)", text):
        m = re.match(r"<!-- bench:(\w+) -->", block)
        if m:
            out[m.group(1)] = block.rstrip() + "\n"
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks (default: all) and update RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", default=["all"], help=", ".join(BENCHES) + " or all")
    args = parser.parse_args(argv)
    names = list(BENCHES) if "all" in args.names else args.names
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {', '.join(BENCHES)} or all")
    sys.path.insert(0, str(HERE))
    sections = _sections(RESULTS.read_text()) if RESULTS.exists() else {}
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    for name in names:
        print(f"running {name} ...", flush=True)
        module = importlib.import_module(BENCHES[name])
        body = module.run()
        print(body)
        sections[name] = f"<!-- bench:{name} -->\n_Measured {stamp} on {machine()}._\n\n{body}"
    header = (
        "# Benchmark results\n\n"
        "Written by `python bench/run.py` (one section per benchmark, each with its own date and "
        "machine). The machine is shared and noisy: compare the ratios measured side by side "
        "within one section, not absolute numbers across sections.\n\n"
    )
    ordered = [sections[n] for n in BENCHES if n in sections]
    RESULTS.write_text(header + "\n".join(ordered))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
