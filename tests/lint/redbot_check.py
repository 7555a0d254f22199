#!/usr/bin/env python3
"""Runs REDbot's checks (the same as `redbot URL`: the request, then its
conditional, range and gzip sub-requests) on each `METHOD URL [HEADER: VALUE]`
given, one per line on stdin (and httplint's on `RAW LABEL FILE`: a raw
response the test read itself, such as an early answer to a broken request,
which REDbot cannot send), and prints one line per check on stdout, fields split by tabs: the
method and URL, the status, the Cache-Control values (comma-joined), a fetch
error or "-", then each note rated a warning or bad as `ID|summary`.
The policy (which notes fail) is the caller's: tests/http_lint.rs."""

import sys
import os
from argparse import Namespace
from configparser import ConfigParser

import thor
from httplint.cli.http_parser import HttpCliParser, modes
from redbot.resource import HttpResource


def notes_of(notes) -> list:
    return [
        {
            "id": type(note).__name__,
            "level": note.level.value,
            "summary": note.summary,
            "subnotes": notes_of(note.subnotes),
        }
        for note in notes
    ]


class RawResponse(HttpCliParser):
    """httplint's command-line parser, keeping the linter instead of printing."""

    def input_end(self, trailers) -> None:
        self.linter.finish_content(True, trailers)
        self.done = True


def lint_raw(label: str, path: str) -> dict:
    # Its Date is checked against the time the test wrote the file down.
    parser = RawResponse(Namespace(mode=modes.RESPONSE), os.path.getmtime(path))
    parser.done = False
    parser.handle_input(open(path, "rb").read())
    linter = getattr(parser, "linter", None)
    return {
        "method": "RAW",
        "url": label,
        "status": linter.status_code if linter else None,
        "error": None if parser.done and not parser.failed else "httplint could not parse it",
        "headers": [list(h) for h in linter.headers.text] if linter else [],
        "notes": notes_of(linter.notes) if linter else [],
    }


def report(method: str, url: str, resource: HttpResource) -> dict:
    response = resource.response
    return {
        "method": method,
        "url": url,
        "status": response.status_code,
        "error": str(resource.fetch_error) if resource.fetch_error else None,
        "headers": [list(h) for h in response.headers.text],
        "notes": notes_of(response.notes),
    }


def main() -> None:
    parser = ConfigParser()
    # Loopback is what the tests check; REDbot refuses it unless told.
    parser.read_dict({"redbot": {"enable_local_access": "True"}})
    config = parser["redbot"]
    lines = [line.strip().split(None, 2) for line in sys.stdin if line.strip()]
    checks = [c for c in lines if c[0] != "RAW"]
    raws = [c for c in lines if c[0] == "RAW"]
    # One event loop for all of them: thor's loop is not meant to be
    # stopped and run again.
    resources = []
    remaining = [len(checks)]
    for method, url, *header in checks:
        headers = [tuple(part.strip() for part in h.split(":", 1)) for h in header]
        resource = HttpResource(config)
        resource.set_request(url, method=method, headers=headers)

        @thor.events.on(resource)
        def check_done() -> None:
            remaining[0] -= 1
            if remaining[0] == 0:
                thor.stop()

        resources.append((method, url, resource))
    for _, _, resource in resources:
        resource.check()
    if checks:
        thor.run()
    for method, url, resource in resources:
        print(line(report(method, url, resource)))
    for _, label, path in raws:
        print(line(lint_raw(label, path)))


def complaints(notes: list) -> list:
    found = []
    for note in notes:
        if note["level"] in ("warning", "bad"):
            found.append(f'{note["id"]}|{note["summary"]}')
        found += complaints(note["subnotes"])
    return found


def line(verdict: dict) -> str:
    cache_control = ",".join(
        value.strip() for name, value in verdict["headers"] if name.lower() == "cache-control"
    )
    fields = [
        f'{verdict["method"]} {verdict["url"]}',
        str(verdict["status"]),
        cache_control,
        verdict["error"] or "-",
    ] + complaints(verdict["notes"])
    return "\t".join(" ".join(f.split()) for f in fields)


if __name__ == "__main__":
    main()
