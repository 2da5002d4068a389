#!/usr/bin/env python3
"""`make bench`: Tessera under load on PostgreSQL, beside what PostgreSQL itself can serve.

Builds the release binary, starts it on a fresh database (found or started the way
`make run` does it), seeds a user with 20 tasks, and measures with wrk over loopback:

- GET /api/{user_id}/tasks (20 tasks) at 64 connections, GET one task at 64, POST a
  task at 32, GET /api/auth/me at 64;
- signin at 8 connections, beside the bound `cores / seconds per bcrypt verification`
  (timed by `tessera hash-time` in the same run);
- the list again while signins flood;
- pgbench ceilings, at the same concurrency, for the fewest statements each route needs
  (prepared), interleaved with the service's runs: the targets are ratios within one run;
- the server's resident memory idle and at its peak;
- the list and /health while an attacker holds connections from an address of its own
  (127.0.0.2, 127.0.0.3; wrk's connections come from 127.0.0.1): 128 connections that
  each take one answer and then trickle the next head one byte a second, then 64 that
  pipeline four 1.5 MB answers and never read; beside the same routes measured idle just
  before. Written between the `bench-attack` markers.

The table is printed and written to docs/benchmarks.md (or BENCH_OUTPUT).

    BENCH_SECONDS   seconds per load run (default 10)
    BENCH_PAIRS     service/ceiling pairs per route (default 2; the median ratio counts)
    BENCH_SMOKE=1   one-second runs, one pair, output to a temporary file: proves it works
    BENCH_SERVER_ENV  extra server settings, `NAME=value,NAME=value` (to compare settings)
    BENCH_ONLY=attack  only the attack runs (and their idle figures)
    BENCH_STORAGE=sqlite  the same routes on SQLite (a file in a temporary directory),
                    beside the same server on memory storage in the same run (the cost of
                    the storage); written between the `bench-sqlite` markers

Only 127.0.0.0/8 is ever contacted; every load run and attack is bounded in count and time.
"""

from __future__ import annotations

import datetime
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMOKE = os.environ.get("BENCH_SMOKE", "") not in ("", "0")
SECONDS = 1 if SMOKE else int(os.environ.get("BENCH_SECONDS", "10"))
PAIRS = 1 if SMOKE else max(1, int(os.environ.get("BENCH_PAIRS", "2")))
ONLY = os.environ.get("BENCH_ONLY", "")
OUTPUT = Path(
    os.environ.get("BENCH_OUTPUT")
    or (tempfile.mkdtemp(prefix="tessera-bench-") + "/benchmarks.md" if SMOKE else ROOT / "docs/benchmarks.md")
)
CORES = os.cpu_count() or 1
BCRYPT_COST = 12
PASSWORD = "bench-password-123"
SECRET = "bench-secret-" + uuid.uuid4().hex


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run(args: list[str], **kwargs) -> str:
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        sys.exit(f"bench: {args[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def need(tool: str, package: str) -> str:
    found = shutil.which(tool)
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say(f"installing {package} from Debian's packages")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        found = shutil.which(tool)
    if not found:
        sys.exit(f"bench: {tool} is needed (Debian: apt-get install {package})")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_database(server_url: str, name: str) -> str:
    head, _, _ = server_url.rpartition("/")
    return f"{head}/{name}"


def psql(url: str, sql: str) -> str:
    return run(["psql", url, "-Atqc", sql])


class Server:
    """The release binary, serving on a free loopback port."""

    def __init__(self, binary: Path, database_url: str, log: Path, storage: str = "postgres"):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            "PATH": os.environ.get("PATH", ""),
            "STORAGE": storage,
            "DATABASE_URL": database_url,
            "JWT_SECRET": SECRET,
            "PORT": str(self.port),
            "BCRYPT_COST": str(BCRYPT_COST),
            "AUTH_RATE_LIMIT_PER_MINUTE": "0",
            "ACCOUNT_FAILURE_LIMIT": "0",
            # The create runs add hundreds of thousands of tasks to one account.
            "MAX_TASKS_PER_USER": "1000000",
            # ... at load rates far past the write budgets, which the runs measure
            # without (the budget's own cost is the rate-limit upsert signin also pays).
            "TASK_WRITES_PER_MINUTE": "0",
            "TASK_WRITES_PER_MINUTE_PER_ADDRESS": "0",
            "RUST_LOG": "info",
        }
        extra = os.environ.get("BENCH_SERVER_ENV", "")
        env.update(pair.split("=", 1) for pair in extra.split(",") if "=" in pair)
        self.log = open(log, "w")
        self.process = subprocess.Popen([str(binary), "serve"], env=env, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/health", timeout=1):
                    return
            except OSError:
                if self.process.poll() is not None:
                    sys.exit(f"bench: the server stopped at start; see {log}")
                time.sleep(0.2)
        sys.exit("bench: the server did not answer within 60 s")

    def status(self, field: str) -> int:
        """A field of /proc/PID/status, in KiB."""
        text = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
        return int(match.group(1)) if match else 0

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()

    def call(self, method: str, path: str, body=None, token: str | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)


REPORT = r"""
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.stderr:write(string.format(
    'WRK {"requests":%d,"seconds":%f,"p50":%f,"p99":%f,"p999":%f,"errors":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, errors))
end
"""


def wrk_script(directory: Path, name: str, method: str, path: str, body: dict | None, token: str | None) -> Path:
    lines = [f'wrk.method = "{method}"', f'wrk.path = "{path}"']
    if token:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {token}"')
    if body is not None:
        lines.append('wrk.headers["Content-Type"] = "application/json"')
        lines.append(f"wrk.body = [[{json.dumps(body)}]]")
    script = directory / f"{name}.lua"
    script.write_text("\n".join(lines) + "\n" + REPORT)
    return script


def start_wrk(server: Server, script: Path, connections: int) -> subprocess.Popen:
    threads = min(connections, CORES)
    return subprocess.Popen(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{SECONDS}s",
         "--timeout", "10s", "-s", str(script), server.base],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish_wrk(process: subprocess.Popen) -> dict:
    _, stderr = process.communicate(timeout=SECONDS + 60)
    for line in stderr.splitlines():
        if line.startswith("WRK "):
            result = json.loads(line[4:])
            result["rps"] = result["requests"] / max(result["seconds"], 1e-9)
            return result
    sys.exit(f"bench: wrk gave no result: {stderr}")


def load(server: Server, script: Path, connections: int) -> dict:
    cpu = server.cpu_seconds()
    result = finish_wrk(start_wrk(server, script, connections))
    result["cpu"] = (server.cpu_seconds() - cpu) / max(result["seconds"], 1e-9)
    return result


def pgbench(database_url: str, directory: Path, name: str, sql: str, clients: int, variables: dict) -> dict:
    script = directory / f"{name}.sql"
    script.write_text(sql)
    args = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(clients, CORES)),
            "-T", str(SECONDS), "-f", str(script), "-r"]
    for key, value in variables.items():
        args += ["-D", f"{key}={value}"]
    output = run(args + [database_url])
    tps = float(re.search(r"tps = ([\d.]+)", output).group(1))
    latency = float(re.search(r"latency average = ([\d.]+) ms", output).group(1))
    return {"rps": tps, "avg": latency}


class Attack(threading.Thread):
    """Connections from one loopback source address that hold the server's resources.

    `slow-head`: each connection sends a whole request, takes its answer, then sends the
    next head one byte a second (the server closes it at HEAD_TIMEOUT_SECONDS; it is
    opened again). `never-read`: each connection pipelines four large answers, with a
    4 KiB receive window, and never reads (the server resets it at SEND_TIMEOUT_SECONDS;
    it is opened again). At most `count` connections at once, each reopened at most once
    a tick (1 s), and the whole attack stops at `stop()` or after `limit` seconds.
    """

    LARGE = "/docs/swagger-ui-bundle.js"

    def __init__(self, kind: str, source: str, port: int, count: int, limit: float):
        super().__init__(daemon=True)
        self.kind, self.source, self.port, self.count = kind, source, port, count
        self.deadline = time.monotonic() + limit
        self.halt = threading.Event()
        self.opened = 0
        self.closed = 0
        self.head = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()

    def open(self) -> dict | None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if self.kind == "never-read":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.bind((self.source, 0))
            sock.settimeout(1)
            sock.connect(("127.0.0.1", self.port))
            if self.kind == "never-read":
                request = f"GET {self.LARGE} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n\r\n".encode()
                sock.sendall(request * 4)
            else:
                sock.sendall(self.head)
            sock.setblocking(False)
        except OSError:
            sock.close()
            return None
        self.opened += 1
        return {"sock": sock, "answered": False, "sent": 0}

    def alive(self, conn: dict) -> bool:
        sock = conn["sock"]
        try:
            if self.kind == "never-read":
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    return False
                return sock.recv(1, socket.MSG_PEEK) != b""
            while True:
                data = sock.recv(65536)
                if not data:
                    return False
                conn["answered"] = True
        except BlockingIOError:
            pass
        except OSError:
            return False
        if conn["answered"] and self.kind == "slow-head":
            try:
                sock.send(self.head[conn["sent"] % len(self.head):][:1])
                conn["sent"] += 1
            except BlockingIOError:
                pass
            except OSError:
                return False
        return True

    def run(self) -> None:
        conns: list[dict] = []
        try:
            while not self.halt.is_set() and time.monotonic() < self.deadline:
                kept = []
                for conn in conns:
                    if self.alive(conn):
                        kept.append(conn)
                    else:
                        conn["sock"].close()
                        self.closed += 1
                conns = kept
                while len(conns) < self.count and not self.halt.is_set():
                    conn = self.open()
                    if conn is None:
                        break
                    conns.append(conn)
                self.held = len(conns)
                self.halt.wait(1.0)
        finally:
            for conn in conns:
                conn["sock"].close()

    held = 0

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=30)


ATTACKS = {
    "slow-head": ("127.0.0.2", 128, "128 conn. trickling a head 1 byte/s from 127.0.0.2"),
    "never-read": ("127.0.0.3", 64, "64 conn. pipelining 4 × 1.5 MB, never reading, from 127.0.0.3"),
}


def attack_runs(server: Server, scripts: dict) -> dict:
    """The list and /health idle, then under each attack. wrk's 64 connections come from
    127.0.0.1, under MAX_CONNECTIONS_PER_ADDRESS (256 by default)."""
    out = {"idle": {}, "attacks": {}}
    for route in ("list", "health"):
        say(f"attack runs: {route} idle at 64 connections")
        out["idle"][route] = load(server, scripts[route], 64)
    for kind, (source, count, _) in ATTACKS.items():
        attacker = Attack(kind, source, server.port, count, limit=2 * SECONDS + 30)
        attacker.start()
        time.sleep(2)
        say(f"attack runs: list and health while {attacker.held} {kind} connections are held")
        held = attacker.held
        before = server.status("VmRSS")
        runs = {route: load(server, scripts[route], 64) for route in ("list", "health")}
        during = server.status("VmRSS")
        attacker.stop()
        out["attacks"][kind] = {"runs": runs, "held": held, "opened": attacker.opened,
                                "closed": attacker.closed, "rss_before": before, "rss_during": during}
    return out


def write_attack_report(attack: dict) -> None:
    def row(label: str, r: dict) -> str:
        return (f"| {label} | {r['rps']:,.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['p999']:.1f} "
                f"| {r['errors']} | {r.get('cpu', 0) * 100:.0f}% |")

    labels = {"list": "`GET /api/{user_id}/tasks` (20 tasks), 64 conn.", "health": "`GET /health`, 64 conn."}
    lines = [
        "| run | req/s | p50 ms | p99 ms | p99.9 ms | errors | server CPU |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for route, r in attack["idle"].items():
        lines.append(row(f"{labels[route]}, idle", r))
    checks = []
    for kind, a in attack["attacks"].items():
        for route, r in a["runs"].items():
            lines.append(row(f"{labels[route]}, during {kind}", r))
        for route, r in a["runs"].items():
            idle = attack["idle"][route]
            kept = r["rps"] / max(idle["rps"], 1e-9)
            p99 = r["p99"] / max(idle["p99"], 1e-9)
            checks.append(f"| {route} req/s during {kind} / idle | {r['rps']:,.0f} / {idle['rps']:,.0f} = "
                          f"{kept:.0%} | ≥ 70% | {'met' if kept >= 0.70 else '**missed**'} |")
            checks.append(f"| {route} p99 during {kind} / idle | {r['p99']:.1f} / {idle['p99']:.1f} ms = "
                          f"{p99:.2f}× | ≤ 2× | {'met' if p99 <= 2.0 else '**missed**'} |")
        checks.append(f"| {kind}: {ATTACKS[kind][2]}: held when wrk began; opened, closed by the server | "
                      f"{a['held']}; {a['opened']}, {a['closed']} | (reported) | |")
        checks.append(f"| {kind}: server RSS before / after the runs | {a['rss_before'] / 1024:.1f} / "
                      f"{a['rss_during'] / 1024:.1f} MiB | (reported) | |")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = [
        f"Attack run {now}{' (smoke run: 1 s per load, not a measurement)' if SMOKE else ''}: {CORES} cores, "
        f"{platform.machine()}, {version(['wrk', '-v']).split(' [')[0]}. {SECONDS} s per load run; the "
        f"server's connection settings at their defaults. Latencies in milliseconds.",
        "",
    ]
    table = "\n".join(header + lines + ["", "| measure | value | goal | |", "|---|---:|---|---|"] + checks)
    print(table)
    write_document(table, "bench-attack")


SESSION = "SELECT id, user_id, created_at, expires_at, ended_at FROM sessions WHERE id = :sid;\n"
CEILINGS = {
    "list": SESSION
    + "SELECT count(*) FROM tasks WHERE user_id = :uid;\n"
    + "SELECT id, user_id, title, description, completed, created_at, updated_at FROM tasks "
    "WHERE user_id = :uid ORDER BY created_at DESC, id DESC LIMIT 100 OFFSET 0;\n",
    "me": SESSION + "SELECT id, email, name, created_at, updated_at FROM users WHERE id = :uid;\n",
    # The create's one statement: the owner's task count rises while under the quota
    # (MAX_TASKS_PER_USER), and the task is inserted only then.
    "create": SESSION
    + "WITH owner AS (UPDATE users SET task_count = task_count + 1 "
    "WHERE id = :uid AND task_count < 1000000 RETURNING id) "
    "INSERT INTO tasks (user_id, title, description, completed, created_at, updated_at) "
    "SELECT id, 'Benchmark task', NULL, false, now(), now() FROM owner "
    "RETURNING id, user_id, title, description, completed, created_at, updated_at;\n",
}


def forgot_timing(server: Server, known: str, unknown: str, rounds: int) -> dict:
    """Milliseconds per forgot answer for `known` and `unknown`, alternating on one
    kept-alive connection, 20 ms apart (so the queueing each one spawns has finished)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    statuses = set()
    for n in range(rounds):
        for kind, address in (("known", known), ("unknown", unknown)) if n % 2 == 0 else (
                ("unknown", unknown), ("known", known)):
            body = json.dumps({"email": address})
            started = time.perf_counter()
            connection.request("POST", "/api/auth/password/forgot", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            answer = response.read()
            times[kind].append((time.perf_counter() - started) * 1000)
            statuses.add((response.status, answer))
            time.sleep(0.02)
    connection.close()
    if len(statuses) != 1:
        sys.exit(f"bench: forgot answered differently: {statuses}")

    def summary(samples: list[float]) -> dict:
        ordered = sorted(samples)
        return {"p50": statistics.median(ordered), "p90": ordered[int(len(ordered) * 0.9)], "n": len(ordered)}

    return {kind: summary(samples) for kind, samples in times.items()}


def median_ratio(pairs: list[tuple[dict, dict]]) -> float:
    return statistics.median(service["rps"] / ceiling["rps"] for service, ceiling in pairs)


def seed(server: Server, work: Path) -> tuple[dict, str, str]:
    """A user with 20 tasks and a second one for creates; their wrk scripts."""
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    signed_up = server.call("POST", "/api/auth/signup", {"name": "Bench", "email": email, "password": PASSWORD})
    token, user_id = signed_up["token"], signed_up["user"]["id"]
    tasks = [server.call("POST", f"/api/{user_id}/tasks",
                         {"title": f"Task {n}", "description": "Seeded for the benchmark"}, token)
             for n in range(20)]
    writer = server.call("POST", "/api/auth/signup", {"name": "Writer", "email": f"w-{email}", "password": PASSWORD})
    tag = f"{server.port}"
    scripts = {
        "list": wrk_script(work, f"list-{tag}", "GET", f"/api/{user_id}/tasks", None, token),
        "get": wrk_script(work, f"get-{tag}", "GET", f"/api/{user_id}/tasks/{tasks[0]['id']}", None, token),
        "create": wrk_script(work, f"create-{tag}", "POST", f"/api/{writer['user']['id']}/tasks",
                             {"title": "Benchmark task"}, writer["token"]),
        "me": wrk_script(work, f"me-{tag}", "GET", "/api/auth/me", None, token),
    }
    return scripts, email, user_id


def main_sqlite() -> None:
    """The routes on SQLite beside the same server on memory storage, in one run."""
    need("wrk", "wrk")
    say("building the release binary")
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "tessera"], check=True, cwd=ROOT)
    binary = ROOT / "target/release/tessera"
    work = Path(tempfile.mkdtemp(prefix="tessera-bench-"))
    servers = []
    try:
        sqlite = Server(binary, f"sqlite://{work}/bench.db", work / "sqlite.log", storage="sqlite")
        servers.append(sqlite)
        memory = Server(binary, "postgres://unused", work / "memory.log", storage="memory")
        servers.append(memory)
        sqlite_scripts, _, _ = seed(sqlite, work)
        memory_scripts, _, _ = seed(memory, work)
        time.sleep(1)
        rss_idle = sqlite.status("VmRSS")
        connections = {"list": 64, "get": 64, "me": 64, "create": 32}
        results: dict[str, list] = {route: [] for route in connections}
        # The creates last: memory storage lists by scanning every task it holds, so the
        # reads are measured before the creates add hundreds of thousands.
        for route, clients in connections.items():
            for pair in range(PAIRS):
                say(f"pair {pair + 1}/{PAIRS}: {route} at {clients} connections, SQLite then memory")
                on_sqlite = load(sqlite, sqlite_scripts[route], clients)
                on_memory = load(memory, memory_scripts[route], clients)
                results[route].append((on_sqlite, on_memory))
        rss_peak = sqlite.status("VmHWM")
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)

    labels = {
        "list": "`GET /api/{user_id}/tasks` (20 tasks), 64 conn.",
        "get": "`GET /api/{user_id}/tasks/{id}`, 64 conn.",
        "create": "`POST /api/{user_id}/tasks`, 32 conn.",
        "me": "`GET /api/auth/me`, 64 conn.",
    }
    lines = [
        "| run | req/s | p50 ms | p99 ms | p99.9 ms | errors | server CPU |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for route, pairs in results.items():
        for n, (on_sqlite, on_memory) in enumerate(pairs, 1):
            for storage, r in (("SQLite", on_sqlite), ("memory", on_memory)):
                lines.append(f"| {labels[route]} on {storage} (pair {n}) | {r['rps']:,.0f} | {r['p50']:.1f} "
                             f"| {r['p99']:.1f} | {r['p999']:.1f} | {r['errors']} | {r.get('cpu', 0) * 100:.0f}% |")
    checks = []
    for route in ("list", "get", "me", "create"):
        ratio = median_ratio(results[route])
        checks.append(f"| {route} on SQLite / on memory (median of {len(results[route])}) | {ratio:.0%} | "
                      f"(no goal: the cost of the storage) | |")
    errors = sum(r["errors"] for pairs in results.values() for pair in pairs for r in pair)
    checks.append(f"| errors (non-2xx, timeouts) | {errors} | 0 | {'met' if errors == 0 else '**missed**'} |")
    checks.append(f"| RSS idle on SQLite | {rss_idle / 1024:.1f} MiB | (reported) | |")
    checks.append(f"| RSS peak on SQLite | {rss_peak / 1024:.1f} MiB | (reported) | |")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = [
        f"SQLite run {now}{' (smoke run: 1 s per load, not a measurement)' if SMOKE else ''}: {CORES} cores, "
        f"{platform.machine()}, {version(['rustc', '--version'])}, {version(['wrk', '-v']).split(' [')[0]}. "
        f"{SECONDS} s per load run, {PAIRS} pair(s) of SQLite and memory runs, interleaved. "
        f"Latencies in milliseconds.",
        "",
    ]
    table = "\n".join(header + lines + ["", "| measure | value | goal | |", "|---|---:|---|---|"] + checks)
    print(table)
    write_document(table, "bench-sqlite")


def main() -> None:
    if os.environ.get("BENCH_STORAGE", "postgres") == "sqlite":
        main_sqlite()
        return
    need("wrk", "wrk")
    need("pgbench", "postgresql")
    need("psql", "postgresql-client")
    say("building the release binary")
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "tessera"], check=True, cwd=ROOT)
    binary = ROOT / "target/release/tessera"

    server_url = run([str(ROOT / "scripts/dev-postgres.sh"), "--server"]).strip()
    name = f"tessera_bench_{uuid.uuid4().hex[:12]}"
    psql(server_url, f"CREATE DATABASE {name}")
    database_url = with_database(server_url, name)
    work = Path(tempfile.mkdtemp(prefix="tessera-bench-"))
    server = None
    attack = None
    try:
        server = Server(binary, database_url, work / "server.log")
        say(f"serving on {server.base}, database {name}")
        seconds_per_hash = float(run([str(binary), "hash-time", "--cost", str(BCRYPT_COST), "--rounds", "5"],
                                     env={"PATH": os.environ.get("PATH", ""), "RUST_LOG": "warn"}).strip())

        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        signed_up = server.call("POST", "/api/auth/signup",
                                {"name": "Bench", "email": email, "password": PASSWORD})
        token, user_id = signed_up["token"], signed_up["user"]["id"]
        tasks = [server.call("POST", f"/api/{user_id}/tasks",
                             {"title": f"Task {n}", "description": "Seeded for the benchmark"}, token)
                 for n in range(20)]
        # Creates go to a second user, so that the list keeps its 20 tasks.
        writer = server.call("POST", "/api/auth/signup",
                             {"name": "Writer", "email": f"w-{email}", "password": PASSWORD})
        # Signins go to a third, so that the signin runs' sessions, past the account's
        # session cap, never end the session the list, get and me runs present.
        signer = f"s-{email}"
        server.call("POST", "/api/auth/signup", {"name": "Signer", "email": signer, "password": PASSWORD})
        session_id = psql(database_url, f"SELECT id FROM sessions WHERE user_id = '{user_id}' LIMIT 1").strip()
        writer_session = psql(database_url,
                              f"SELECT id FROM sessions WHERE user_id = '{writer['user']['id']}' LIMIT 1").strip()
        time.sleep(1)
        rss_idle = server.status("VmRSS")

        scripts = {
            "list": wrk_script(work, "list", "GET", f"/api/{user_id}/tasks", None, token),
            "get": wrk_script(work, "get", "GET", f"/api/{user_id}/tasks/{tasks[0]['id']}", None, token),
            "create": wrk_script(work, "create", "POST", f"/api/{writer['user']['id']}/tasks",
                                 {"title": "Benchmark task"}, writer["token"]),
            "me": wrk_script(work, "me", "GET", "/api/auth/me", None, token),
            "signin": wrk_script(work, "signin", "POST", "/api/auth/signin",
                                 {"email": signer, "password": PASSWORD}, None),
        }
        scripts["health"] = wrk_script(work, "health", "GET", "/health", None, None)
        if ONLY == "attack":
            attack = attack_runs(server, scripts)
        else:
            variables = {
                "list": {"sid": session_id, "uid": user_id},
                "me": {"sid": session_id, "uid": user_id},
                "create": {"sid": writer_session, "uid": writer["user"]["id"]},
            }
            connections = {"list": 64, "get": 64, "create": 32, "me": 64}
            results: dict[str, list] = {route: [] for route in connections}
            for pair in range(PAIRS):
                for route, clients in connections.items():
                    say(f"pair {pair + 1}/{PAIRS}: {route} at {clients} connections")
                    service = load(server, scripts[route], clients)
                    ceiling = (pgbench(database_url, work, route, CEILINGS[route], clients, variables[route])
                               if route in CEILINGS else None)
                    results[route].append((service, ceiling))

            say("signin at 8 connections")
            signin = load(server, scripts["signin"], 8)
            bound = CORES / seconds_per_hash

            # The same answer, status and time for an address with an account and one
            # without, measured as someone probing for accounts would: one request at a
            # time, the two kinds alternating, with a pause for the background work.
            say("forgot: an account's address against none, one request at a time")
            forgot = forgot_timing(server, signer, f"nobody-{email}", 40 if SMOKE else 400)

            say("the list while signins flood")
            flood = start_wrk(server, scripts["signin"], 32)
            during = load(server, scripts["list"], 64)
            finish_wrk(flood)
            idle_list = results["list"][-1][0]
            rss_peak = server.status("VmHWM")
            # After the peak is read: the attacks' held answers are not the routes' memory.
            attack = attack_runs(server, scripts)
    finally:
        if server:
            server.stop()
        psql(server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    if ONLY == "attack":
        write_attack_report(attack)
        return

    write_report(results, signin, bound, seconds_per_hash, during, idle_list, rss_idle, rss_peak, server_url,
                 forgot)
    write_attack_report(attack)


def version(args: list[str]) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def write_report(results, signin, bound, seconds_per_hash, during, idle_list, rss_idle, rss_peak, server_url,
                 forgot) -> None:
    def row(label: str, r: dict) -> str:
        return (f"| {label} | {r['rps']:,.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['p999']:.1f} "
                f"| {r['errors']} | {r.get('cpu', 0) * 100:.0f}% |")

    labels = {
        "list": "`GET /api/{user_id}/tasks` (20 tasks), 64 conn.",
        "get": "`GET /api/{user_id}/tasks/{id}`, 64 conn.",
        "create": "`POST /api/{user_id}/tasks`, 32 conn.",
        "me": "`GET /api/auth/me`, 64 conn.",
    }
    lines = [
        "| run | req/s | p50 ms | p99 ms | p99.9 ms | errors | server CPU |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for route, pairs in results.items():
        for n, (service, ceiling) in enumerate(pairs, 1):
            lines.append(row(f"{labels[route]} (pair {n})", service))
            if ceiling:
                lines.append(f"| pgbench ceiling of {route} (pair {n}) | {ceiling['rps']:,.0f} | "
                             f"avg {ceiling['avg']:.1f} | | | | |")
    lines.append(row("`POST /api/auth/signin`, 8 conn.", signin))
    lines.append(f"| bcrypt bound: {CORES} cores / {seconds_per_hash * 1000:.0f} ms per verification "
                 f"(cost {BCRYPT_COST}) | {bound:,.1f} | | | | | |")
    lines.append(row("list while signins flood (32 conn.)", during))
    for kind, label in (("known", "an account's email"), ("unknown", "no account's email")):
        r = forgot[kind]
        lines.append(f"| `POST /api/auth/password/forgot`, {label}, one at a time ({r['n']} requests) | "
                     f"| {r['p50']:.2f} | p90 {r['p90']:.2f} | | 0 | |")

    checks = []

    def check(name: str, value: float, target: str, ok: bool) -> None:
        checks.append(f"| {name} | {value} | {target} | {'met' if ok else '**missed**'} |")

    for route in ("list", "me", "create"):
        ratio = median_ratio(results[route])
        check(f"{route} / its pgbench ceiling (median of {len(results[route])})", f"{ratio:.0%}", "≥ 70%", ratio >= 0.70)
    check("signin / bcrypt bound", f"{signin['rps'] / bound:.0%}", "≥ 90%", signin["rps"] / bound >= 0.90)
    kept = during["rps"] / idle_list["rps"]
    check("list throughput during the flood / idle", f"{kept:.0%}", "≥ 70%", kept >= 0.70)
    p99 = during["p99"] / max(idle_list["p99"], 1e-9)
    check("list p99 during the flood / idle", f"{p99:.2f}×", "≤ 2×", p99 <= 2.0)
    p50s = forgot["known"]["p50"] / max(forgot["unknown"]["p50"], 1e-9)
    check("forgot p50, an account's address / none, one at a time", f"{p50s:.2f}×", "0.8× to 1.25×",
          0.8 <= p50s <= 1.25)
    p90s = forgot["known"]["p90"] / max(forgot["unknown"]["p90"], 1e-9)
    check("forgot p90, an account's address / none, one at a time", f"{p90s:.2f}×", "0.8× to 1.25×",
          0.8 <= p90s <= 1.25)
    check("RSS idle", f"{rss_idle / 1024:.1f} MiB", "≤ 16 MiB", rss_idle <= 16 * 1024)
    check("RSS peak", f"{rss_peak / 1024:.1f} MiB", "≤ 32 MiB", rss_peak <= 32 * 1024)

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    postgres = psql(server_url, "SHOW server_version").strip()
    header = [
        f"Run {now}{' (smoke run: 1 s per load, not a measurement)' if SMOKE else ''}: {CORES} cores, "
        f"{platform.machine()}, {version(['rustc', '--version'])}, PostgreSQL {postgres}, "
        f"{version(['wrk', '-v']).split(' [')[0]}. {SECONDS} s per load run, {PAIRS} pair(s) of service and "
        f"ceiling runs, interleaved. Latencies in milliseconds.",
        "",
    ]
    table = "\n".join(header + lines + ["", "| target | measured | goal | |", "|---|---:|---|---|"] + checks)
    print(table)
    write_document(table)


def write_document(table: str, marker: str = "bench") -> None:
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    marker_start, marker_end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    text = OUTPUT.read_text() if OUTPUT.exists() else f"# Benchmarks\n\n{marker_start}\n{marker_end}\n"
    if marker_start not in text:
        text += f"\n{marker_start}\n{marker_end}\n"
    before, rest = text.split(marker_start, 1)
    _, after = rest.split(marker_end, 1)
    OUTPUT.write_text(f"{before}{marker_start}\n{table}\n{marker_end}{after}")
    say(f"written to {OUTPUT}")


if __name__ == "__main__":
    main()
