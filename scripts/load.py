#!/usr/bin/env python3
"""A bounded load on `allowance serve`: N clients, each with its own keep-alive connection and the same logged-in
session, ask the given pages in turn and time every answer.

    printf '%s' "$PASSWORD" | python3 scripts/load.py --url http://127.0.0.1:8080 --user auditor.ha --password-stdin \
        --clients 32 --seconds 30 --path / --path /batches/1

Prints one JSON object: per page and overall, the requests, the answers that were not 200, and the latency
percentiles in milliseconds (nearest rank). Exits 1 when any answer was not 200, 2 when the login failed.
Standard library only: no wrk on this machine kind, and nothing to install.
"""
import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse


def log_in(host, port, user, password):
    connection = http.client.HTTPConnection(host, port, timeout=30)
    body = json.dumps({"user": user, "password": password})
    connection.request("POST", "/api/v1/session", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    payload = response.read()
    if response.status != 200:
        print(f"login as {user} failed: {response.status} {payload[:200]!r}", file=sys.stderr)
        sys.exit(2)
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    connection.close()
    return cookie


def percentile(sorted_values, fraction):
    if not sorted_values:
        return None
    rank = max(1, int(-(-fraction * len(sorted_values) // 1)))  # nearest rank: ceil(p * n)
    return round(sorted_values[rank - 1] * 1000, 2)


def summary(latencies, errors):
    values = sorted(latencies)
    return {
        "requests": len(values),
        "not_200": errors,
        "p50_ms": percentile(values, 0.50),
        "p90_ms": percentile(values, 0.90),
        "p99_ms": percentile(values, 0.99),
        "max_ms": round(values[-1] * 1000, 2) if values else None,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--user", required=True, help="an account that may open every --path (auditor: dashboard and batches)")
    parser.add_argument("--password-stdin", action="store_true", required=True, help="read the password from standard input")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, help="run this long (default: until --requests)")
    parser.add_argument("--requests", type=int, default=100, help="requests per client when --seconds is not given")
    parser.add_argument("--warmup", type=int, default=1, help="untimed requests per page first (a report computed once per write)")
    parser.add_argument("--path", action="append", required=True, help="a page to ask (repeat)")
    options = parser.parse_args()

    url = urllib.parse.urlparse(options.url)
    host, port = url.hostname, url.port or 80
    password = sys.stdin.read().rstrip("\n")
    cookie = log_in(host, port, options.user, password)
    headers = {"Cookie": cookie}

    warm = http.client.HTTPConnection(host, port, timeout=120)
    for path in options.path:
        for _ in range(options.warmup):
            warm.request("GET", path, headers=headers)
            warm.getresponse().read()
    warm.close()

    lock = threading.Lock()
    latencies = {path: [] for path in options.path}
    errors = {path: 0 for path in options.path}
    deadline = time.monotonic() + options.seconds if options.seconds else None
    start = threading.Barrier(options.clients)

    def client(index):
        connection = http.client.HTTPConnection(host, port, timeout=120)
        mine = {path: [] for path in options.path}
        failed = {path: 0 for path in options.path}
        start.wait()
        count = 0
        while True:
            if deadline is not None:
                if time.monotonic() >= deadline:
                    break
            elif count >= options.requests:
                break
            path = options.path[(index + count) % len(options.path)]
            began = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = 0
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=120)
            mine[path].append(time.perf_counter() - began)
            if status != 200:
                failed[path] += 1
            count += 1
        connection.close()
        with lock:
            for path in options.path:
                latencies[path].extend(mine[path])
                errors[path] += failed[path]

    threads = [threading.Thread(target=client, args=(i,)) for i in range(options.clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began

    every = [value for values in latencies.values() for value in values]
    result = {
        "clients": options.clients,
        "seconds": round(elapsed, 2),
        "requests_per_second": round(len(every) / elapsed, 1) if elapsed > 0 else None,
        "overall": summary(every, sum(errors.values())),
        "pages": {path: summary(latencies[path], errors[path]) for path in options.path},
    }
    print(json.dumps(result, indent=2))
    sys.exit(1 if sum(errors.values()) else 0)


if __name__ == "__main__":
    main()
