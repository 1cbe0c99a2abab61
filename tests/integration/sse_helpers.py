"""A small Server-Sent Events client for GET /submissions/:token/events (requests with
stream=True): the events as (name, data) pairs, the comments (heartbeats) counted."""

import json

import requests


class EventStream:
    def __init__(self, url, token, params=None, timeout=60, headers=None, verify=True):
        self.response = requests.get(f"{url}/submissions/{token}/events", params=params or {},
                                     stream=True, timeout=timeout, headers=headers, verify=verify)
        self.comments = 0
        self._lines = None

    @property
    def status_code(self):
        return self.response.status_code

    def events(self):
        """Yield (name, data) as they come, until the server ends the stream."""
        if self._lines is None:
            self._lines = self.response.iter_lines(chunk_size=1, decode_unicode=True)
        name, data = None, []
        for line in self._lines:
            if line == "":
                if name is not None or data:
                    yield name, "\n".join(data)
                name, data = None, []
            elif line.startswith(":"):
                self.comments += 1
            elif line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                data.append(line[len("data: "):])
            else:
                raise AssertionError(f"not an SSE line: {line!r}")

    def next_event(self):
        return next(self.events())

    def all(self):
        """Every event until the end, JSON-decoded."""
        return [(name, json.loads(data)) for name, data in self.events()]

    def close(self):
        self.response.close()
