"""Runs the same RFC 9111 / RFC 9213 scenarios through several caching
reverse proxies in front of one scripted origin, and prints a Markdown table
of what each did beside what the RFCs ask.

Usage: python3 cache_conformance.py NAME=URL [NAME=URL ...] --origin-port PORT
       [--require NAME] [--concurrency N]

The origin is started here, on PORT; every proxy must already relay to it.
Each scenario uses its own path per proxy, and the origin counts the requests
it sees per path, so "served from the cache" means "the origin saw nothing".
With --concurrency N the scenarios run N at a time against each proxy, as
they would meet under load, each on its own paths again.
"""

import argparse
import concurrent.futures
import http.client
import http.server
import threading
import time
import urllib.parse
from email.utils import formatdate

# Long enough after a `max-age=1` answer for it to be stale in every cache:
# nginx keeps expiry times in whole seconds, so 1.5 s can still look fresh.
PAST_MAX_AGE_1 = 2.5

HITS = {}
CONDITIONAL = {}
LOCK = threading.Lock()


def scenario_of(path):
    # /<proxy>/<scenario>
    return path.split("?")[0].strip("/").split("/")[1]


class Origin(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, headers, body=b""):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        with LOCK:
            HITS[self.path] = HITS.get(self.path, 0) + 1
        self.answer(200, [("Cache-Control", "no-store")], b"written")

    def do_GET(self):
        path = self.path
        with LOCK:
            HITS[path] = HITS.get(path, 0) + 1
            hit = HITS[path]
            if self.headers.get("If-None-Match"):
                CONDITIONAL[path] = CONDITIONAL.get(path, 0) + 1
        name = scenario_of(path)
        now = time.time()
        body = f"{name} #{hit}".encode()
        date = ("Date", formatdate(now, usegmt=True))
        etag = ("ETag", '"v1"')
        rules = {
            "max-age": [("Cache-Control", "max-age=60")],
            "s-maxage": [("Cache-Control", "max-age=0, s-maxage=60")],
            "cdn-cache-control": [
                ("Cache-Control", "no-store"),
                ("CDN-Cache-Control", "max-age=60"),
            ],
            "expires": [date, ("Expires", formatdate(now + 60, usegmt=True))],
            "no-store": [("Cache-Control", "no-store")],
            "private": [("Cache-Control", "private, max-age=60")],
            "set-cookie": [("Cache-Control", "max-age=60"), ("Set-Cookie", "id=1")],
            "authorization": [("Cache-Control", "max-age=60")],
            "expired": [("Cache-Control", "max-age=1")],
            "request-no-cache": [("Cache-Control", "max-age=60"), etag],
            "vary": [("Cache-Control", "max-age=60"), ("Vary", "X-Lang")],
            "age": [("Cache-Control", "max-age=60"), ("Age", "30")],
            "invalidation": [("Cache-Control", "max-age=60")],
            "only-if-cached": [("Cache-Control", "max-age=60")],
            "range": [("Cache-Control", "max-age=60")],
            "must-understand": [("Cache-Control", "max-age=60, must-understand, no-store")],
            "head": [("Cache-Control", "max-age=60")],
            "connection": [
                ("Cache-Control", "max-age=60"),
                ("Connection", "X-Hop"),
                ("X-Hop", "for the next hop only"),
            ],
        }
        if name in rules:
            return self.answer(200, rules[name], body)
        if name == "no-cache":
            if self.headers.get("If-None-Match") == '"v1"':
                return self.answer(304, [etag, ("Cache-Control", "no-cache")])
            return self.answer(200, [("Cache-Control", "no-cache"), etag], body)
        if name == "update-304":
            if self.headers.get("If-None-Match") == '"v1"':
                return self.answer(
                    304, [etag, ("Cache-Control", "max-age=1"), ("X-Version", "2")]
                )
            return self.answer(
                200, [("Cache-Control", "max-age=1"), etag, ("X-Version", "1")], body
            )
        if name in ("stale-if-error", "must-revalidate"):
            extra = "stale-if-error=60" if name == "stale-if-error" else "must-revalidate"
            if hit == 1:
                return self.answer(200, [("Cache-Control", f"max-age=1, {extra}")], body)
            return self.answer(500, [("Cache-Control", "no-store")], b"origin failure")
        if name == "stale-while-revalidate":
            return self.answer(
                200, [("Cache-Control", "max-age=1, stale-while-revalidate=60")], body
            )
        return self.answer(404, [("Cache-Control", "no-store")], b"no such scenario")


def request(base, path, method="GET", headers=None, body=None):
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    content = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, content


def hits(path):
    with LOCK:
        return HITS.get(path, 0)


def second_answer(base, path, headers_first=None, headers_second=None, pause=0.0):
    """Two requests; the second one's body (the origin numbers its answers)."""
    request(base, path, headers=headers_first)
    time.sleep(pause)
    return request(base, path, headers=headers_second)[2].decode()


def reused(base, path, **kw):
    body = second_answer(base, path, **kw)
    return body.endswith("#1") and hits(path) == 1, f"got {body!r}, origin saw {hits(path)}"


def not_reused(base, path, **kw):
    # The client must get a new answer from the origin, not the stored one.
    body = second_answer(base, path, **kw)
    return body.endswith("#2"), f"got {body!r}"


def eventually(condition, limit=3.0):
    deadline = time.time() + limit
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def scenario_no_cache(base, path):
    request(base, path)
    status, _, _ = request(base, path)
    with LOCK:
        conditional = CONDITIONAL.get(path, 0)
    return (
        hits(path) == 2 and conditional == 1 and status == 200,
        f"origin saw {hits(path)}, {conditional} conditional",
    )


def scenario_update_304(base, path):
    request(base, path)
    time.sleep(PAST_MAX_AGE_1)
    _, headers, _ = request(base, path)
    version = headers.get("x-version")
    return version == "2", f"X-Version {version}"


def scenario_stale_if_error(base, path):
    request(base, path)
    time.sleep(PAST_MAX_AGE_1)
    status, _, body = request(base, path)
    return status == 200, f"{status}"


def scenario_must_revalidate(base, path):
    request(base, path)
    time.sleep(PAST_MAX_AGE_1)
    status, _, _ = request(base, path)
    return status >= 500, f"{status}"


def scenario_swr(base, path):
    request(base, path)
    time.sleep(PAST_MAX_AGE_1)
    status, _, body = request(base, path)
    served_stale = body.endswith(b"#1")
    refreshed = eventually(lambda: hits(path) == 2)
    return served_stale and refreshed, f"got {body.decode()!r}, refreshed: {refreshed}"


def scenario_vary(base, path):
    request(base, path, headers={"X-Lang": "en"})
    same = request(base, path, headers={"X-Lang": "en"})[2].decode()
    other = request(base, path, headers={"X-Lang": "fr"})[2].decode()
    ok = same.endswith("#1") and other.endswith("#2")
    return ok, f"en again: {same[-2:]}, fr: {other[-2:]}"


def scenario_age(base, path):
    request(base, path)
    _, headers, _ = request(base, path)
    age = headers.get("age")
    return age is not None and int(age) >= 30, f"Age {age}"


def scenario_invalidation(base, path):
    request(base, path)
    request(base, path, method="POST", body=b"x")
    body = request(base, path)[2].decode()
    # The origin numbers every request to the path, the POST included.
    return body.endswith("#3"), f"read after POST got {body[-2:]}"


def scenario_range(base, path):
    request(base, path)
    status, headers, body = request(base, path, headers={"Range": "bytes=0-4"})
    ok = status == 206 and body == b"range" and hits(path) == 1
    return ok, f"{status} {body!r} {headers.get('content-range')}, origin saw {hits(path)}"


def scenario_head(base, path):
    # The scripted origin answers GET only (HEAD gets 501), so a cache that
    # sent the HEAD on would fail; a GET then reuses what the HEAD filled.
    status, _, _ = request(base, path, method="HEAD")
    body = request(base, path)[2].decode()
    ok = status == 200 and body.endswith("#1") and hits(path) == 1
    return ok, f"HEAD {status}, GET got {body[-2:]!r}, origin saw {hits(path)}"


def scenario_connection(base, path):
    _, headers, _ = request(base, path)
    return "x-hop" not in headers, f"X-Hop: {headers.get('x-hop')}"


def scenario_only_if_cached(base, path):
    status, _, _ = request(base, path, headers={"Cache-Control": "only-if-cached"})
    return status == 504 and hits(path) == 0, f"{status}, origin saw {hits(path)}"


SCENARIOS = [
    ("max-age", "9111 §5.2.2.1", "reused while fresh", lambda b, p: reused(b, p)),
    ("s-maxage", "9111 §5.2.2.10", "s-maxage over max-age=0", lambda b, p: reused(b, p)),
    ("cdn-cache-control", "9213 §2.2", "CDN-Cache-Control over Cache-Control: no-store", lambda b, p: reused(b, p)),
    ("expires", "9111 §5.3", "Expires minus Date", lambda b, p: reused(b, p)),
    ("age", "9111 §4.2.3", "upstream Age counted", scenario_age),
    ("no-store", "9111 §5.2.2.5", "never stored", lambda b, p: not_reused(b, p)),
    ("private", "9111 §5.2.2.7", "not stored by a shared cache", lambda b, p: not_reused(b, p)),
    ("set-cookie", "9111 §7.3 / §3", "one client's cookie not replayed", lambda b, p: not_reused(b, p)),
    ("authorization", "9111 §3.5", "credentialed answer not shared", lambda b, p: not_reused(b, p, headers_first={"Authorization": "Bearer x"})),
    ("expired", "9111 §4.2", "stale is refetched", lambda b, p: not_reused(b, p, pause=PAST_MAX_AGE_1)),
    ("request-no-cache", "9111 §5.2.1.4", "request no-cache goes to the origin", lambda b, p: not_reused(b, p, headers_second={"Cache-Control": "no-cache"})),
    ("no-cache", "9111 §5.2.2.4", "validated (conditional) every time", scenario_no_cache),
    ("update-304", "9111 §4.3.4", "304 updates stored headers", scenario_update_304),
    ("vary", "9111 §4.1", "variant by Vary'd request field", scenario_vary),
    ("stale-while-revalidate", "5861 §3", "stale served, refreshed behind", scenario_swr),
    ("stale-if-error", "5861 §4", "stale served on origin 500", scenario_stale_if_error),
    ("must-revalidate", "9111 §5.2.2.2", "never stale, error passed on", scenario_must_revalidate),
    ("invalidation", "9111 §4.4", "POST invalidates the URI", scenario_invalidation),
    ("only-if-cached", "9111 §5.2.1.7", "504 when nothing stored", scenario_only_if_cached),
    ("must-understand", "9111 §5.2.2.3", "a known status stored in spite of no-store", lambda b, p: reused(b, p)),
    ("range", "9110 §14.2 / 9111 §3.4", "a range cut from the stored answer", scenario_range),
    ("head", "9110 §9.3.2 / 9111 §4.3.5", "HEAD filled by a GET that GETs reuse", scenario_head),
    ("connection", "9110 §7.6.1", "fields named in Connection stop at the proxy", scenario_connection),
]


def run_pass(proxies, concurrency):
    """Every scenario against every proxy, `concurrency` at a time."""

    def attempt(run, base, path):
        try:
            return run(base, path)
        except Exception as error:  # a proxy that hangs or resets fails the case
            return (False, f"error: {error}")

    results = {name: {} for name, _ in proxies}
    for name, base in proxies:
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            # The pass's number in the path keeps each pass's entries apart.
            running = {
                scenario: pool.submit(
                    attempt, run, base, f"/{name}/{scenario}?pass={concurrency}"
                )
                for scenario, _, _, run in SCENARIOS
            }
            for scenario, future in running.items():
                results[name][scenario] = future.result()
    return results


def report(proxies, concurrency, results):
    names = [name for name, _ in proxies]
    print(f"{concurrency} at a time:")
    print()
    print("| scenario | RFC | expected | " + " | ".join(names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    for scenario, section, expected, _ in SCENARIOS:
        cells = []
        for name in names:
            ok, what = results[name][scenario]
            cells.append(("✅ " if ok else "❌ ") + what)
        print(f"| {scenario} | {section} | {expected} | " + " | ".join(cells) + " |")
    print()
    totals = ", ".join(
        f"{name} {sum(ok for ok, _ in results[name].values())}/{len(SCENARIOS)}" for name in names
    )
    print(f"Conformant, {concurrency} at a time: {totals}.")
    print()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("proxies", nargs="+", help="NAME=URL")
    parser.add_argument("--origin-port", type=int, required=True)
    parser.add_argument(
        "--require", action="append", default=[], help="fail unless NAME passes every scenario"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        action="append",
        help="scenarios run at once against a proxy; one pass per value (default 1)",
    )
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.origin_port), Origin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxies = [p.split("=", 1) for p in args.proxies]
    failing = set()
    for concurrency in args.concurrency or [1]:
        results = run_pass(proxies, concurrency)
        report(proxies, concurrency, results)
        failing |= {
            name for name in args.require if not all(ok for ok, _ in results[name].values())
        }
    server.shutdown()
    if failing:
        raise SystemExit(f"not conformant: {', '.join(sorted(failing))}")


if __name__ == "__main__":
    main()
