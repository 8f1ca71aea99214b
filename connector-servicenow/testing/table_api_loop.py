"""The loop a Python user writes to read every record of a ServiceNow
table with `requests`: offset paging through the Table API, each record
kept as a JSON line. The ServiceNow benchmark times it against the same
local server as the Rust sync.

    python3 table_api_loop.py BASE_URL TABLE FIELDS PAGE_SIZE OUT

Prints the number of records read and the seconds it took.
"""

import json
import sys
import time

import requests


def main() -> None:
    base, table, fields, size, out = sys.argv[1:6]
    size = int(size)
    session = requests.Session()
    session.auth = ("bench", "password")
    session.headers["Accept"] = "application/json"
    started = time.perf_counter()
    count = 0
    offset = 0
    with open(out, "w", encoding="utf-8") as sink:
        while True:
            answer = session.get(
                f"{base}/api/now/table/{table}",
                params={
                    "sysparm_query": "ORDERBYsys_updated_on^ORDERBYsys_id",
                    "sysparm_fields": fields,
                    "sysparm_display_value": "false",
                    "sysparm_exclude_reference_link": "true",
                    "sysparm_limit": size,
                    "sysparm_offset": offset,
                },
                timeout=60,
            )
            answer.raise_for_status()
            records = answer.json()["result"]
            for record in records:
                sink.write(json.dumps(record) + "\n")
            count += len(records)
            if 'rel="next"' not in answer.headers.get("Link", ""):
                break
            offset += size
    print(count, time.perf_counter() - started)


if __name__ == "__main__":
    main()
