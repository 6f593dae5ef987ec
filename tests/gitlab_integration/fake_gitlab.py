"""A small GitLab that speaks the parts of the REST API the MR-comment edge uses, over real HTTP.

Endpoints: ``GET /api/v4/user`` and ``GET/POST/PUT /api/v4/projects/:id/merge_requests/:iid/notes``
with GitLab's pagination (``page``/``per_page`` query, ``X-Page``, ``X-Per-Page``, ``X-Total``,
``X-Total-Pages``, ``X-Next-Page``, ``X-Prev-Page`` and ``Link`` headers), GitLab's error bodies
(``{"message": "401 Unauthorized"}``), and fault injection: a status answered instead of the real
one, or a request left hanging until the server stops (the client's timeout fires). Every
request is recorded so tests can assert exactly what the client did.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

_NOTES = re.compile(
    r"^/api/v4/projects/(?P<project>[^/]+)/merge_requests/(?P<iid>\d+)/notes(?:/(?P<note>\d+))?$"
)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]

    @property
    def route(self) -> str:
        """``METHOD path``, e.g. ``PUT /api/v4/projects/42/merge_requests/7/notes/3``."""
        return f"{self.method} {self.path}"


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int = 500
    body: Any = None
    hang: bool = False
    times: int = 1
    after_handling: bool = False
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeGitLab:
    """State, faults and the request log of the fake server; start it with ``with FakeGitLab() as fake``."""

    page_cap: int = 100
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._next_id = 1
        self._server: ThreadingHTTPServer | None = None
        self._stopped = False

    # -- set-up -------------------------------------------------------------------------
    def add_user(self, token: str, user_id: int, username: str) -> dict[str, Any]:
        user = {"id": user_id, "username": username, "name": username.title(), "state": "active"}
        self.users[token] = user
        return user

    def add_merge_request(self, project: str, iid: int) -> None:
        self.notes.setdefault((project, iid), [])

    def add_note(
        self, project: str, iid: int, author: dict[str, Any], body: str, *, system: bool = False
    ) -> int:
        note = self._new_note(author, body, iid, system=system)
        self.notes[(project, iid)].append(note)
        return int(note["id"])

    def fail(self, method: str, path: str, status: int, *, body: Any = None, times: int = 1) -> None:
        """Answer the next ``times`` matching requests with ``status`` (``{token}`` in body is filled in)."""
        self.faults.append(Fault(method, re.compile(path), status, body, times=times))

    def redirect(self, method: str, path: str, location: str, *, status: int = 302, times: int = 1) -> None:
        """Answer the next ``times`` matching requests with a redirect to ``location``."""
        self.faults.append(
            Fault(method, re.compile(path), status, {"message": "moved"}, times=times, headers={"Location": location})
        )

    def hang(self, method: str, path: str, *, times: int = 1, after_handling: bool = False) -> None:
        """Never answer the next ``times`` matching requests (until the server stops).

        With ``after_handling`` the request takes effect first and only the answer is lost, as
        when a proxy times out after GitLab saved the note.
        """
        self.faults.append(
            Fault(method, re.compile(path), hang=True, times=times, after_handling=after_handling)
        )

    # -- inspection ---------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v4"

    def routes(self) -> list[str]:
        return [request.route for request in self.requests]

    def writes(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.method in {"POST", "PUT", "DELETE"}]

    def notes_of(self, project: str, iid: int) -> list[dict[str, Any]]:
        return self.notes[(project, iid)]

    # -- life cycle ---------------------------------------------------------------------
    def __enter__(self) -> FakeGitLab:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        if self._stopped or self._server is None:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()

    # -- request handling ---------------------------------------------------------------
    def _new_note(
        self, author: dict[str, Any], body: str, iid: int, *, system: bool = False
    ) -> dict[str, Any]:
        with self._lock:
            note_id, self._next_id = self._next_id, self._next_id + 1
        stamp = f"2026-11-21T20:{note_id // 60:02d}:{note_id % 60:02d}.000Z"
        return {
            "id": note_id,
            "type": None,
            "body": body,
            "author": dict(author),
            "created_at": stamp,
            "updated_at": stamp,
            "system": system,
            "noteable_type": "MergeRequest",
            "noteable_iid": iid,
            "resolvable": False,
            "confidential": False,
            "internal": False,
        }

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and fault.path.search(path):
                    fault.times -= 1
                    return fault
        return None

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> _Answer:
        split = urlsplit(target)
        fault = self._take_fault(method, split.path)
        answer = self._answer(method, target, headers, raw, fault)
        if fault is not None and fault.hang:
            self._release.wait()
        return answer

    def _answer(
        self, method: str, target: str, headers: dict[str, str], raw: bytes, fault: Fault | None
    ) -> _Answer:
        split = urlsplit(target)
        query = dict(parse_qsl(split.query))
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        with self._lock:
            self.requests.append(RecordedRequest(method, split.path, query, body, headers))
        token = headers.get("private-token") or headers.get("authorization", "").removeprefix("Bearer ")
        if fault is not None and not (fault.hang and fault.after_handling):
            if fault.hang:
                return _Answer(504, {"message": "hung"})
            payload = fault.body if fault.body is not None else {"message": f"{fault.status} Injected"}
            return _Answer(fault.status, json.loads(json.dumps(payload).replace("{token}", token)), fault.headers)
        user = self.users.get(token)
        if user is None:
            return _Answer(401, {"message": "401 Unauthorized"})
        if split.path == "/api/v4/user" and method == "GET":
            return _Answer(200, {**user, "web_url": f"{self.url}/{user['username']}"})
        match = _NOTES.match(split.path)
        if not match:
            return _Answer(404, {"error": "404 Not Found"})
        key = (unquote(match["project"]), int(match["iid"]))
        if key not in self.notes:
            return _Answer(404, {"message": "404 Not found"})
        notes = self.notes[key]
        if match["note"] is None and method == "GET":
            return self._page(split.path, query, notes)
        if match["note"] is None and method == "POST":
            text = body.get("body") if isinstance(body, dict) else None
            if not text:
                return _Answer(400, {"error": "body is missing"})
            note = self._new_note(user, text, key[1])
            notes.append(note)
            return _Answer(201, note)
        found = [note for note in notes if match["note"] and note["id"] == int(match["note"])]
        if not found:
            return _Answer(404, {"message": "404 Note Not Found"})
        if method == "GET":
            return _Answer(200, found[0])
        if method == "PUT":
            if found[0]["author"]["id"] != user["id"]:
                return _Answer(403, {"message": "403 Forbidden"})
            found[0]["body"] = body["body"]
            return _Answer(200, found[0])
        return _Answer(405, {"message": "405 Method Not Allowed"})

    def _page(self, path: str, query: dict[str, str], notes: list[dict[str, Any]]) -> _Answer:
        per_page = max(1, min(int(query.get("per_page", "20")), self.page_cap))
        page = max(1, int(query.get("page", "1")))
        ordered = sorted(notes, key=lambda note: note["id"], reverse=query.get("sort", "desc") == "desc")
        total_pages = max(1, -(-len(ordered) // per_page))
        chunk = ordered[(page - 1) * per_page : page * per_page]

        def link(number: int) -> str:
            return f"{self.url}{path}?{urlencode({**query, 'page': number, 'per_page': per_page})}"

        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Total": str(len(ordered)),
            "X-Total-Pages": str(total_pages),
            "X-Next-Page": str(page + 1) if page < total_pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
        }
        links = [f'<{link(1)}>; rel="first"', f'<{link(total_pages)}>; rel="last"']
        if page < total_pages:
            links.insert(0, f'<{link(page + 1)}>; rel="next"')
        if page > 1:
            links.insert(0, f'<{link(page - 1)}>; rel="prev"')
        headers["Link"] = ", ".join(links)
        return _Answer(200, chunk, headers)


@dataclass(frozen=True)
class _Answer:
    status: int
    payload: Any
    headers: dict[str, str] = field(default_factory=dict)


def _handler_for(fake: FakeGitLab) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            answer = fake.handle(self.command, self.path, headers, raw)
            data = json.dumps(answer.payload).encode()
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
