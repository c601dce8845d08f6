"""An HTTP stand-in of PostgREST (Supabase's REST API), backed by a real PostgreSQL.

No PostgREST binary can be installed from PyPI, Debian or npm, so the supabase store is
tested against this: a small HTTP server that answers the requests the ``supabase`` /
``postgrest`` Python client sends for the store's queries, by running them on PostgreSQL
in one transaction per request, as PostgREST does. It implements exactly that subset:

- ``GET|POST|PATCH|DELETE /rest/v1/<table>``; the schema from ``Accept-Profile`` (reads) or
  ``Content-Profile`` (writes), default ``public``;
- ``apikey`` and ``Authorization: Bearer`` must both carry the key, else 401 (PGRST301);
- ``select=col,col``; filters ``col=op.value`` with ``eq neq lt lte gt gte is in``
  (``in.(a,"b,c")``: PostgREST's list syntax, double quotes and backslash escapes);
  ``order=col.asc|desc,...``; ``limit``; ``offset``;
- ``POST`` of an object or an array (``columns=`` names the keys), ``on_conflict=`` with
  ``Prefer: resolution=ignore-duplicates|merge-duplicates``;
- ``Prefer: return=minimal|representation``, ``count=exact`` (``Content-Range``);
- errors as PostgREST's JSON body ``{code, message, details, hint}`` with its status
  codes (23505/23503 -> 409, class 22 -> 400, unknown table 404, unknown column 400),
  and 503 PGRST000 when PostgreSQL cannot be reached.

Identifiers are checked against the catalog and quoted; every value is a bound
parameter cast to its column's type.
"""

from __future__ import annotations

import contextlib
import json
import queue
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import psycopg
from psycopg import sql

_OPERATORS = {"eq": "=", "neq": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_RESERVED = {"select", "order", "limit", "offset", "on_conflict", "columns"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def parse_list(text: str) -> list[str]:
    """PostgREST's ``(a,"b,c","d\\"e")`` list syntax."""
    if not (text.startswith("(") and text.endswith(")")):
        raise ApiError(400, "PGRST100", f"failed to parse filter list {text!r}")
    inner, values, index = text[1:-1], [], 0
    if not inner:
        return []
    while True:
        if index < len(inner) and inner[index] == '"':
            index += 1
            chars = []
            while index < len(inner) and inner[index] != '"':
                if inner[index] == "\\" and index + 1 < len(inner):
                    index += 1
                chars.append(inner[index])
                index += 1
            if index >= len(inner):
                raise ApiError(400, "PGRST100", "unterminated quoted value in filter list")
            index += 1
            values.append("".join(chars))
        else:
            end = inner.find(",", index)
            end = len(inner) if end < 0 else end
            values.append(inner[index:end])
            index = end
        if index >= len(inner):
            return values
        if inner[index] != ",":
            raise ApiError(400, "PGRST100", "expected ',' in filter list")
        index += 1


def _status_of(sqlstate: str) -> int:
    if sqlstate in ("23505", "23503"):
        return 409
    if sqlstate.startswith(("22", "23")):
        return 400
    if sqlstate == "42501":
        return 403
    return 500


class PostgrestStandIn:
    """``url`` is the project URL to give the supabase client; ``key`` its API key."""

    def __init__(self, dsn: str, key: str = "test-service-role-key", port: int = 0) -> None:
        self.dsn = dsn
        self.key = key
        self.requests = 0
        self._connections: queue.LifoQueue[psycopg.Connection[Any]] = queue.LifoQueue()
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> PostgrestStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave in separate writes

            def setup(self) -> None:
                super().setup()
                with stand_in._lock:
                    stand_in._sockets.add(self.connection)

            def finish(self) -> None:
                with stand_in._lock:
                    stand_in._sockets.discard(self.connection)
                super().finish()

            def do_GET(self) -> None:
                stand_in._handle(self)

            do_POST = do_PATCH = do_DELETE = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        server.daemon_threads = True
        self._port = server.server_port
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:  # keep-alive connections too: a stopped server answers nothing
            for open_socket in self._sockets:
                with contextlib.suppress(OSError):
                    open_socket.shutdown(socket.SHUT_RDWR)
            self._sockets.clear()
        while not self._connections.empty():
            self._connections.get_nowait().close()

    # -- HTTP -----------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        self.requests += 1
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        try:
            status, payload, headers = self._respond(request, body)
        except ApiError as error:
            status, headers = error.status, {}
            payload = {"code": error.code, "message": error.message, "details": error.details, "hint": None}
        data = b"" if payload is None else json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)

    def _respond(self, request: BaseHTTPRequestHandler, body: bytes) -> tuple[int, Any, dict[str, str]]:
        bearer = request.headers.get("Authorization", "")
        if request.headers.get("apikey") != self.key or bearer != f"Bearer {self.key}":
            raise ApiError(401, "PGRST301", "JWT invalid or missing")
        parts = urlsplit(request.path)
        match = re.fullmatch(r"/rest/v1/([^/]+)", parts.path)
        if match is None:
            raise ApiError(404, "PGRST125", f"invalid path {parts.path}")
        method = request.command
        profile = request.headers.get("Accept-Profile" if method == "GET" else "Content-Profile") or "public"
        prefer = {
            key.strip(): value.strip()
            for item in request.headers.get("Prefer", "").split(",")
            if "=" in item
            for key, value in [item.split("=", 1)]
        }
        params = parse_qsl(parts.query, keep_blank_values=True)
        connection = self._connection()
        try:
            with connection.transaction():
                table = _Table(connection, profile, match.group(1))
                result = table.run(method, params, prefer, json.loads(body) if body and method != "DELETE" else None)
        except psycopg.OperationalError as error:
            connection.close()
            raise ApiError(503, "PGRST000", "Database connection error. Retrying the connection.", str(error)) from None
        except psycopg.Error as error:
            self._connections.put(connection)
            # psycopg refuses a NUL in text before sending; PostgreSQL refuses "\u0000" in JSON as 22P05.
            sqlstate = error.sqlstate or ("22P05" if isinstance(error, psycopg.DataError) else "XX000")
            raise ApiError(_status_of(sqlstate), sqlstate, str(error).split("\n", 1)[0]) from None
        except BaseException:
            self._connections.put(connection)
            raise
        self._connections.put(connection)
        return result

    def _connection(self) -> psycopg.Connection[Any]:
        while True:
            try:
                connection = self._connections.get_nowait()
            except queue.Empty:
                try:
                    return psycopg.connect(self.dsn, autocommit=True, connect_timeout=2)
                except psycopg.OperationalError as error:
                    raise ApiError(503, "PGRST000", "Database connection error.", str(error)) from None
            if not connection.closed and not connection.broken:
                return connection


class _Table:
    """One request on one table: its columns come from the catalog, as PostgREST's schema cache."""

    def __init__(self, connection: psycopg.Connection[Any], schema: str, name: str) -> None:
        self.connection = connection
        rows = connection.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            (schema, name),
        ).fetchall()
        if not rows:
            raise ApiError(404, "PGRST205", f"Could not find the table '{schema}.{name}' in the schema cache")
        self.types: dict[str, str] = dict(rows)
        self.ident = sql.Identifier(schema, name)

    def column(self, name: str) -> sql.Identifier:
        if name not in self.types:
            raise ApiError(400, "42703", f"column {name!r} does not exist")
        return sql.Identifier(name)

    def cast(self, name: str) -> sql.Composable:
        return sql.SQL("CAST({} AS {})").format(sql.Placeholder(), sql.SQL(self.types[name]))

    def run(
        self, method: str, params: list[tuple[str, str]], prefer: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        options = {key: value for key, value in params if key in _RESERVED}
        where, values = self.filters([(key, value) for key, value in params if key not in _RESERVED])
        columns = [name.strip() for name in options.get("select", "*").split(",")]
        selected = sql.SQL("*") if columns == ["*"] else sql.SQL(", ").join(self.column(name) for name in columns)
        representation = prefer.get("return") == "representation" or method == "GET"
        if method == "GET":
            query = sql.SQL("SELECT {} FROM {}{}").format(selected, self.ident, where)
            query += self.order(options.get("order"))
            if "limit" in options:
                query += sql.SQL(" LIMIT {}").format(sql.Placeholder())
                values.append(int(options["limit"]))
            if "offset" in options:
                query += sql.SQL(" OFFSET {}").format(sql.Placeholder())
                values.append(int(options["offset"]))
            rows = self.fetch(query, values)
            return 200, rows, {"Content-Range": f"0-{max(len(rows) - 1, 0)}/*" if rows else "*/*"}
        returning = sql.SQL(" RETURNING {}").format(selected)
        if method == "POST":
            query, values = self.insert(body, options, prefer)
            status = 201
        elif method == "PATCH":
            if not isinstance(body, dict) or not body:
                raise ApiError(400, "PGRST102", "an object with the columns to update is required")
            assignments = sql.SQL(", ").join(
                sql.SQL("{} = {}").format(self.column(name), self.cast(name)) for name in body
            )
            query = sql.SQL("UPDATE {} SET {}{}").format(self.ident, assignments, where)
            values = [*body.values(), *values]
            status = 200
        else:
            query = sql.SQL("DELETE FROM {}{}").format(self.ident, where)
            status = 200
        rows = self.fetch(query + returning, values)
        headers = {"Content-Range": f"*/{len(rows)}"} if prefer.get("count") == "exact" else {}
        if representation:
            return status, rows, headers
        return (201 if method == "POST" else 204), None, headers

    def insert(self, body: Any, options: dict[str, str], prefer: dict[str, str]) -> tuple[sql.Composable, list[Any]]:
        rows = body if isinstance(body, list) else [body]
        if not rows or not all(isinstance(row, dict) for row in rows):
            raise ApiError(400, "PGRST102", "an object or an array of objects is required")
        if "columns" in options:
            names = [name.strip().strip('"') for name in options["columns"].split(",")]
        else:
            names = list(rows[0])
        values: list[Any] = []
        tuples = []
        for row in rows:
            tuples.append(sql.SQL("({})").format(sql.SQL(", ").join(self.cast(name) for name in names)))
            values.extend(row.get(name) for name in names)
        query = sql.SQL("INSERT INTO {} ({}) VALUES {}").format(
            self.ident, sql.SQL(", ").join(self.column(name) for name in names), sql.SQL(", ").join(tuples)
        )
        resolution = prefer.get("resolution")
        if resolution is not None:
            conflict = [self.column(name.strip()) for name in options.get("on_conflict", "").split(",") if name]
            if not conflict:
                raise ApiError(400, "PGRST100", "on_conflict is required with a resolution")
            target = sql.SQL(", ").join(conflict)
            if resolution == "ignore-duplicates":
                query += sql.SQL(" ON CONFLICT ({}) DO NOTHING").format(target)
            else:
                updates = sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(self.column(name)) for name in names)
                query += sql.SQL(" ON CONFLICT ({}) DO UPDATE SET {}").format(target, updates)
        return query, values

    def filters(self, params: list[tuple[str, str]]) -> tuple[sql.Composable, list[Any]]:
        clauses: list[sql.Composable] = []
        values: list[Any] = []
        for name, expression in params:
            operator, _, operand = expression.partition(".")
            column = self.column(name)
            if operator in _OPERATORS:
                clauses.append(sql.SQL("{} {} {}").format(column, sql.SQL(_OPERATORS[operator]), self.cast(name)))
                values.append(operand)
            elif operator == "in":
                items = parse_list(operand)
                if not items:
                    clauses.append(sql.SQL("false"))
                    continue
                marks = sql.SQL(", ").join(self.cast(name) for _ in items)
                clauses.append(sql.SQL("{} IN ({})").format(column, marks))
                values.extend(items)
            elif operator == "is" and operand in ("null", "true", "false"):
                clauses.append(sql.SQL("{} IS {}").format(column, sql.SQL(operand.upper())))
            else:
                raise ApiError(400, "PGRST100", f"unsupported filter {name}={expression}")
        if not clauses:
            return sql.SQL(""), values
        return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses), values

    def order(self, spec: str | None) -> sql.Composable:
        if not spec:
            return sql.SQL("")
        terms = []
        for item in spec.split(","):
            name, *modifiers = item.split(".")
            direction = sql.SQL(" DESC" if "desc" in modifiers else " ASC")
            nulls = sql.SQL(
                " NULLS FIRST" if "nullsfirst" in modifiers else " NULLS LAST" if "nullslast" in modifiers else ""
            )
            terms.append(sql.SQL("{}{}{}").format(self.column(name), direction, nulls))
        return sql.SQL(" ORDER BY ") + sql.SQL(", ").join(terms)

    def fetch(self, query: sql.Composable, values: list[Any]) -> list[dict[str, Any]]:
        cursor = self.connection.execute(query, values)
        if cursor.description is None:
            return []
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
