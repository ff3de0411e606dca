"""Reports acknowledged while a service crashes are kept, exactly once.

usage: survive.py GATEWAY_URL ADMIN_SECRET KILL_COMMAND

Registers COUNT agencies under province 52 (the walk-through's), gives each
credentials, then submits one quarterly report per agency through the
gateway. After a third of them are acknowledged it runs KILL_COMMAND (a
shell command that crashes a back service, e.g. SIGKILL to the submission
container's process) and keeps submitting: a request that fails while the
service is down is retried with the same Idempotency-Key, as a client would,
until acknowledged or the deadline passes. Then it reads every acknowledged
report back: it must exist under the acknowledged id, as version 1 (a
duplicate write would have made version 2), submitted, with the values sent.
Standard library only.
"""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

COUNT = 18
DEADLINE_S = 180
PROVINCE = "000.00.00.H52"


def call(base, method, path, body=None, token=None, headers=None):
    """(status, parsed body); status 0 when no HTTP answer came back."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, text.decode(errors="replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        return 0, str(error)


def must(answer, *statuses):
    status, body = answer
    if status not in statuses:
        sys.exit(f"FAIL: expected HTTP {statuses}, got {status}: {body}")
    return body


def token(base, client_id, secret):
    body = must(call(base, "POST", "/api/v1/auth/token", {"client_id": client_id, "client_secret": secret}), 200)
    return body["access_token"]


def quarter():
    now = datetime.now(timezone(timedelta(hours=7)))  # the calendar in Vietnam
    return f"{now.year}Q{(now.month - 1) // 3 + 1}"


def values(n):
    # 40 + n documents sent, n + 1 of them electronically: distinct per agency.
    return {
        "documents_sent": str(40 + n),
        "documents_sent_electronic": str(n + 1),
        "documents_signed_digitally": "0",
        "documents_to_higher_levels": "0",
        "documents_to_higher_levels_electronic": "0",
        "online_meetings": str(n % 5),
    }


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    base, secret, kill_command = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
    admin = token(base, "admin", secret)
    # The walk-through made the province; on its own this script makes it.
    must(call(base, "POST", "/api/v1/agencies", {"code": PROVINCE, "admin_unit_code": "52",
                                                 "name": "Tỉnh Bình Định", "kind": "provincial_committee"},
              admin), 201, 409)
    period = quarter()
    agencies = []
    for n in range(COUNT):
        code = f"000.00.{n + 60:02d}.H52"  # a fresh database: the walk-through used 15 and 47
        must(call(base, "POST", "/api/v1/agencies", {"code": code, "name": f"Đơn vị thử {n}",
                                                     "kind": "department", "parent_code": PROVINCE},
                  admin), 201)
        creds = must(call(base, "POST", f"/api/v1/agencies/{code}/credentials", None, admin), 201)
        agencies.append((n, code, token(base, creds["client_id"], creds["client_secret"])))

    acknowledged, retried, killed_at = {}, 0, None
    started = time.monotonic()
    for n, code, agency_token in agencies:
        if killed_at is None and len(acknowledged) >= COUNT // 3:
            print(f"crashing a service after {len(acknowledged)} acknowledged reports: {kill_command}")
            subprocess.run(kill_command, shell=True, check=True)
            killed_at = time.monotonic()
        body = {"form": "it_fast_quarterly", "period": period,
                "values": [{"data_element": k, "value": v} for k, v in values(n).items()]}
        key = str(uuid.uuid4())
        while True:
            status, answer = call(base, "POST", "/api/v1/reports", body, agency_token, {"idempotency-key": key})
            if status == 201:
                acknowledged[code] = (answer["id"], n)
                break
            # Unavailable (no answer, 502/503/504) is worth a retry; anything else is a bug.
            if status not in (0, 502, 503, 504):
                sys.exit(f"FAIL: report of {code}: HTTP {status}: {answer}")
            if time.monotonic() - started > DEADLINE_S:
                sys.exit(f"FAIL: report of {code} not acknowledged within {DEADLINE_S} s (last: {status} {answer})")
            retried += 1
            time.sleep(0.5)
    if killed_at is None:
        sys.exit("FAIL: the service was never crashed")
    print(f"{len(acknowledged)} reports acknowledged, {retried} retries while the service was down "
          f"({time.monotonic() - killed_at:.1f} s from the crash to the last acknowledgement)")

    failures = 0
    for code, (report_id, n) in acknowledged.items():
        agency_token = next(t for m, c, t in agencies if c == code)
        status, report = call(base, "GET", f"/api/v1/reports/{report_id}", None, agency_token)
        got = {v["data_element"]: v["value"] for v in report.get("values", [])} if status == 200 else None
        want = {k: str(v) for k, v in values(n).items()}
        # Values come back as decimal text; compare as numbers.
        same = got is not None and {k: float(v) for k, v in got.items()} == {k: float(v) for k, v in want.items()}
        if status != 200 or report["agency_code"] != code or report["version"] != 1 \
                or report["status"] != "submitted" or not same:
            failures += 1
            print(f"FAIL: {code} report {report_id}: HTTP {status}: {report}")
    print(f"survive: {len(acknowledged) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
