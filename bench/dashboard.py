"""Dashboard page speed: first contentful paint and time to interactive, measured in Debian's
Chromium (Playwright) against a real `kontor serve` over the demo data.

Nothing is asserted. Each page is loaded `--runs` times cold (a new browser context: empty
cache, like a first visit) and warm (the same context: vendored scripts and CSS cached), after
`--warmup` loads. The baseline in the same run is the sign-in page: the same layout CSS and one
small script, no data read, no htmx.

    uv run python -m bench.dashboard [--runs 20] [--data-dir .kontor-bench-dashboard]

Figures (milliseconds from navigation start, Navigation Timing and Paint Timing APIs):
- ttfb: first byte of the HTML; fcp: first contentful paint;
- tti: time to interactive, taken as the later of DOMContentLoaded's end (every deferred
  script, htmx included, has run and bound its handlers) and the end of the last long task
  (> 50 ms) seen up to 500 ms after load;
- live: the page's live stream connected (`#live-status` says Live), for the dashboard pages.

The server is `kontor serve` with its embedded servers in `--data-dir` (a demo tenant: 3 stores,
4 locations, 50 SKUs, about 300 orders, seeded on the first run; a second run reuses it).
KONTOR_*_URL are ignored so the demo never lands on a shared server.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "dashboard.json"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BASELINE = "/dashboard/login"
PAGES = {
    "sign-in page (baseline)": BASELINE,
    "Home": "/dashboard",
    "Orders": "/dashboard/orders",
    "Inventory": "/dashboard/inventory",
    "Fulfilment": "/dashboard/fulfilment",
}
LONG_TASKS = """
window.__longTasks = [];
new PerformanceObserver(list => window.__longTasks.push(
  ...list.getEntries().map(e => e.startTime + e.duration)))
  .observe({type: 'longtask', buffered: true});
"""
TIMINGS = """async () => {
  await new Promise(r => setTimeout(r, 500));
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const tasks = (window.__longTasks || []).filter(end => end <= nav.loadEventEnd + 500);
  return {ttfb: nav.responseStart, fcp: fcp ? fcp.startTime : null,
          dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
          tti: Math.max(nav.domContentLoadedEventEnd, ...tasks), bytes: nav.transferSize};
}"""


LIVE = """async () => {
  const status = document.getElementById('live-status');
  while (status.dataset.state !== 'live') await new Promise(r => setTimeout(r, 5));
  return performance.now();
}"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="measured loads per page and cache")
    parser.add_argument("--warmup", type=int, default=3, help="loads per page not counted")
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".kontor-bench-dashboard")
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def kontor_serve(data_dir: Path) -> Iterator[str]:
    """`kontor serve` (demo tenant, embedded servers) as a subprocess; its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONTOR_")}
    env |= {"KONTOR_DATA_DIR": str(data_dir), "KONTOR_PORT": str(port)}
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "bench-server.log"
    kontor = Path(sys.executable).with_name("kontor")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(kontor), "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600  # the first run seeds the demo tenant
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"kontor serve exited: {log.read_text()[-2000:]}")
            with suppress(httpx.HTTPError):
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("kontor serve did not become healthy")
            time.sleep(0.5)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def opened(browser: Browser, base: str, demo: dict[str, str], *, sign_in: bool) -> BrowserContext:
    """A browser context (a phone-sized viewport), signed in as the demo owner if asked."""
    context = browser.new_context(base_url=base, viewport={"width": 390, "height": 844})
    context.add_init_script(LONG_TASKS)
    if not sign_in:  # the sign-in page sends a signed-in visitor on to Home
        return context
    response = context.request.post(
        "/v1/session",
        data={
            "tenant_id": demo["tenant_id"],
            "email": demo["owner_email"],
            "password": demo["owner_password"],
        },
    )
    assert response.status == 201, response.text()
    return context


def load(context: BrowserContext, path: str) -> dict[str, float]:
    page = context.new_page()
    try:
        page.goto(path, wait_until="load")
        timings: dict[str, float] = page.evaluate(TIMINGS)
        if page.locator("#live-status").count():
            timings["live"] = page.evaluate(LIVE)
        return timings
    finally:
        page.close()


def summary(samples: list[dict[str, float]]) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": len(samples)}
    for key in ("ttfb", "fcp", "tti", "load", "live"):
        values = sorted(s[key] for s in samples if s.get(key) is not None)
        if values:
            out[f"{key}_p50_ms"] = round(statistics.median(values), 1)
            out[f"{key}_p90_ms"] = round(values[int(0.9 * (len(values) - 1))], 1)
    out["html_bytes"] = int(statistics.median(s["bytes"] for s in samples))
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with kontor_serve(args.data_dir) as base, sync_playwright() as playwright:
        demo = json.loads((args.data_dir / "demo-tenant.json").read_text())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        rows = []
        for name, path in PAGES.items():
            sign_in = path != BASELINE
            warm = opened(browser, base, demo, sign_in=sign_in)
            for _ in range(args.warmup):
                load(warm, path)
            samples = {"cold": [], "warm": []}
            for _ in range(args.runs):  # interleaved, so load on the machine hits both alike
                cold = opened(browser, base, demo, sign_in=sign_in)
                samples["cold"].append(load(cold, path))
                cold.close()
                samples["warm"].append(load(warm, path))
            warm.close()
            for cache, measured in samples.items():
                row = {"page": name, "path": path, "cache": cache, **summary(measured)}
                rows.append(row)
                print(
                    f"{name:26} {cache:4}  ttfb {row['ttfb_p50_ms']:6.1f}  "
                    f"fcp {row['fcp_p50_ms']:6.1f} (p90 {row['fcp_p90_ms']:6.1f})  "
                    f"tti {row['tti_p50_ms']:6.1f} (p90 {row['tti_p90_ms']:6.1f})"
                    + (f"  live {row['live_p50_ms']:6.1f}" if "live_p50_ms" in row else ""),
                    flush=True,
                )
        browser.close()
    load_average = os.getloadavg()
    result = {
        "rows": rows,
        "metadata": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "cores": os.cpu_count(),
            "load_average_1_5_15": [round(x, 2) for x in load_average],
            "runs": args.runs,
            "warmup": args.warmup,
            "viewport": "390x844",
            "browser": f"{CHROMIUM} (headless)",
            "baseline": "sign-in page",
            "git_commit": subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
            ).stdout.strip(),
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {args.output} (1-minute load average {load_average[0]:.1f})")


if __name__ == "__main__":
    main()
