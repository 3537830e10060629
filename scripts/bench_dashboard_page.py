#!/usr/bin/env python3
"""Times the dashboard page in headless Chromium until it is fully drawn.

    bench_dashboard_page.py URL [URL ...] [--runs N]

For each URL: N loads in a fresh tab of one headless Chromium (driven by Selenium through
Debian's chromedriver), each timed from the start of navigation to the moment the page says it
is drawn: `body[data-state="ready"]` (every panel fetched and every chart drawn; see
assets/dashboard/app.js). A load that ends in `data-state="error"` or takes over 60 s fails the
run. Prints one line per URL: `URL median_ms min_ms max_ms`.

Used by scripts/bench-dashboard.sh; needs target/venv with selenium (scripts/ensure-deps.sh
--bench).
"""

import argparse
import statistics
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PATIENCE_S = 60
# The background-networking flags keep Chromium from calling home on a closed network.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,2400"]


def browser(profile):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    # Return from get() at once: the page's own readiness is what is timed, not `load`.
    options.page_load_strategy = "none"
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def one_load(driver, url):
    """Milliseconds from navigation start to `ready`, as the page's own clock tells."""
    driver.get("about:blank")
    driver.get(url)
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        state = driver.execute_script(
            "return document.readyState === 'loading' || !document.body ? null : "
            "[document.body.dataset.state, performance.now()]")
        if state and state[0] == "ready":
            return state[1]
        if state and state[0] == "error":
            text = driver.execute_script("return document.getElementById('error').textContent")
            raise RuntimeError(f"{url}: the page shows an error: {text}")
        time.sleep(0.01)
    raise RuntimeError(f"{url}: not drawn within {PATIENCE_S} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as profile:
        driver = browser(profile)
        try:
            for url in args.urls:
                one_load(driver, url)  # warm-up: Chromium's caches, the server's first query
                times = [one_load(driver, url) for _ in range(args.runs)]
                print(f"{url} {statistics.median(times):.0f} {min(times):.0f} {max(times):.0f}")
        finally:
            driver.quit()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as error:
        print(f"bench_dashboard_page.py: error: {error}", file=sys.stderr)
        sys.exit(1)
