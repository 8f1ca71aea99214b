"""The loop a Python user writes to read every issue of a JQL search with
atlassian-python-api's enhanced search (issues only, no extra comment
pages). The Jira benchmark times it against the same local server.

    python enhanced_jql_loop.py BASE_URL JQL FIELD,FIELD,...

Prints the number of issues read and the seconds it took.
"""

import sys
import time

from atlassian import Jira


def main() -> None:
    url, jql, fields = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    jira = Jira(url=url, username="bench@example.com", password="token", cloud=True)
    started = time.perf_counter()
    token = None
    count = 0
    while True:
        page = jira.enhanced_jql(jql, fields=fields, nextPageToken=token, limit=100)
        count += len(page["issues"])
        token = page.get("nextPageToken")
        if page.get("isLast") or not token:
            break
    print(count, time.perf_counter() - started)


if __name__ == "__main__":
    main()
