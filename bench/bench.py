#!/usr/bin/env python3
"""Benchmarks for atm-maint, each printed as a table next to a reference measured in the same run.

Sections: serving (vs nginx), ingest (vs raw write+fsync), memory, lists (SQLite and PostgreSQL),
pdf, startup, review (what a review page loads: previews vs originals, nginx as reference), drafts
(one request per photo vs the one-shot submit), mixed (uploads, a login burst and PDF builds at once
vs the uploads alone), scale, insights, evidence (filing a report with its duplicate search over
100,000 stored photo hashes vs an empty archive). Everything runs on 127.0.0.1 with temporary data directories.
"""
import concurrent.futures as cf
import hashlib
import http.client
import io
import json
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

BIN = os.environ.get("ATM_BIN", "target/release/atm-maint")
PASSWORD = "Bench-Pass-2026"
CONNS = os.environ.get("BENCH_CONNECTIONS", "16")
WRK = ["wrk", "-t2", f"-c{CONNS}", "-d8s", "--latency"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def table(title, header, rows, note=None):
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        print("| " + " | ".join(str(c) for c in r) + " |")
    if note:
        print(f"\n{note}")
    sys.stdout.flush()


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


# ---------------------------------------------------------------- photos and workbooks

def make_jpeg(seed, w=3000, h=2000, target=2_500_000):
    """A photo-like 3000x2000 JPEG of about 2.5 MB (smooth gradients plus grain)."""
    from PIL import Image
    rnd = random.Random(seed)
    base = Image.linear_gradient("L").resize((w, h)).convert("RGB")
    noise = Image.effect_noise((w, h), 40 + seed % 7).convert("RGB")
    tint = Image.new("RGB", (w, h), (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    img = Image.blend(Image.blend(base, noise, 0.35), tint, 0.25)
    lo, hi, best = 40, 98, None
    while lo <= hi:
        q = (lo + hi) // 2
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=q)
        best = buf.getvalue()
        if len(best) > target:
            hi = q - 1
        else:
            lo = q + 1
    return best


def workbook(rows):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Interaction ID", "GFM Cost Center", "GFM Problem Type", "GFM Problem Date", "City"])
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def multipart(fields, files):
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for k, v in fields.items():
        out.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode())
    for name, (fname, data, ctype) in files.items():
        out.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{fname}\"\r\n"
                  f"Content-Type: {ctype}\r\n\r\n".encode())
        out.write(data)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def slots(electrical):
    counts = [4, 4, 4, 4, 3] if electrical else [3, 3, 2]
    return [f"section{s + 1}_{o}" for s, n in enumerate(counts) for o in range(1, n + 1)]


# ---------------------------------------------------------------- the service

class Server:
    def __init__(self, workdir, env=None, database_url=None):
        self.workdir = workdir
        self.port = free_port()
        self.env = dict(os.environ)
        self.env.update({"DATA_DIR": os.path.join(workdir, "data"), "RUST_LOG": "warn", "LOG_FORMAT": "json"})
        if database_url:
            self.env["DATABASE_URL"] = database_url
        self.env.update(env or {})
        self.proc = None

    @property
    def media(self):
        return os.path.join(self.workdir, "data", "media")

    def cli(self, *args, password=None):
        env = dict(self.env)
        if password:
            env["ATM_PASSWORD"] = password
        subprocess.run([BIN, *args], env=env, check=True, stdout=subprocess.DEVNULL)

    def start(self):
        t0 = time.perf_counter()
        self.proc = subprocess.Popen([BIN, "serve", "--listen", f"127.0.0.1:{self.port}"], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    return time.perf_counter() - t0
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("server exited during start")
            time.sleep(0.005)

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(30)
            self.proc = None

    def rss_kib(self, field="VmRSS"):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def request(self, method, path, body=None, token=None, ctype="application/json", timeout=600):
        status, _, data = self.send(method, path, body, token, ctype, timeout=timeout)
        return status, data

    def send(self, method, path, body=None, token=None, ctype="application/json", headers=None, timeout=600):
        """Like `request`, with extra request headers; also returns the response's headers."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        hdrs = {"Content-Type": ctype} if body is not None else {}
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        hdrs.update(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        c.request(method, path, body=body, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        c.close()
        try:
            return r.status, dict(r.getheaders()), json.loads(data)
        except ValueError:
            return r.status, dict(r.getheaders()), data

    def reset_hwm(self):
        """Resets the kernel's peak-RSS mark (VmHWM) so the next reading covers only what follows."""
        with open(f"/proc/{self.proc.pid}/clear_refs", "w") as f:
            f.write("5")

    def login(self, user):
        s, b = self.request("POST", "/api/auth/login/", {"username": user, "password": PASSWORD})
        assert s == 200, b
        return b["access"]


def world(workdir, devices=400, database_url=None, env=None):
    """A server with host1, sup1 and tech1, and `devices` cleaning + electrical devices for tech1."""
    srv = Server(workdir, env=env, database_url=database_url)
    srv.cli("user", "create", "--role", "host", "--username", "host1", password=PASSWORD)
    srv.cli("user", "create", "--role", "supervisor", "--username", "sup1", password=PASSWORD)
    srv.cli("user", "create", "--role", "technician", "--username", "tech1", "--city", "Riyadh", password=PASSWORD)
    srv.start()
    host = srv.login("host1")
    tech_id = srv.request("GET", "/api/host/technicians/", token=host)[1][0]["id"]
    for kind, problem in (("Cleaning1", "Cleaning"), ("Electrical", "Electro Mechanical")):
        rows = [(f"{kind[:2]}{i:05d}", f"{i}", problem, "", "Riyadh") for i in range(devices)]
        body, ctype = multipart({"technician_id": tech_id, "device_type": kind},
                                {"file": ("d.xlsx", workbook(rows), "application/octet-stream")})
        s, b = srv.request("POST", "/api/host/upload-excel", body, host, ctype)
        assert s == 201, b
    tech = srv.login("tech1")
    ids = {}
    for u in srv.request("GET", "/api/technician/my-excel-data", token=tech)[1]["uploads"]:
        for row in u["parsed_data"]:
            if row.get("device_id"):
                ids[row["col_1"]] = row["device_id"]
    return srv, tech, ids


def today():
    """Today's UTC date: the server refuses visit dates in the future or more than a year back."""
    return time.strftime("%Y-%m-%d", time.gmtime())


def report_body(device, photos, electrical, visit=None):
    visit = visit or today()
    files = {slot: ("p.jpg", photos[i % len(photos)], "image/jpeg") for i, slot in enumerate(slots(electrical))}
    return multipart({"device_id": device, "visit_date": visit, "job_description": "Routine maintenance visit",
                      "job_status": "Ok"}, files)


# ---------------------------------------------------------------- sections

def wrk(url, header=None):
    cmd = WRK + ([f"-H", header] if header else []) + [url]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    tr = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    mb = float(tr.group(1)) * {"B": 1e-6, "KB": 1e-3, "MB": 1, "GB": 1e3}[tr.group(2)]

    def ms(label):
        m = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        return float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)] if m else float("nan")
    return rps, mb, ms("50"), ms("99")


def bench_serving(tmp):
    srv, tech, ids = world(os.path.join(tmp, "serving"), devices=4)
    photo = make_jpeg(1)
    body, ctype = report_body(ids["Cl00000"], [photo], False)
    s, b = srv.request("POST", "/api/technician/submit", body, tech, ctype)
    assert s == 201, b
    url = b["submission"]["photos"][0]["file_url"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    key = path.split("?")[0][len("media/"):]
    # A 30 KB file served the same way: stored as a small photo.
    from PIL import Image
    buf = io.BytesIO()
    Image.effect_noise((160, 120), 60).convert("RGB").resize((320, 240)).save(buf, "JPEG", quality=92)
    small = buf.getvalue()
    body, ctype = report_body(ids["Cl00001"], [small], False)
    s, b2 = srv.request("POST", "/api/technician/submit", body, tech, ctype)
    small_url = b2["submission"]["photos"][0]["file_url"]
    small_key = small_url.split("?")[0].split("/media/", 1)[1]
    nginx_port = free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""user root; worker_processes 2; daemon off; pid {tmp}/nginx.pid; error_log {tmp}/nginx.err;
events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on; tcp_nopush on; types {{ image/jpeg jpg; }}
  server {{ listen 127.0.0.1:{nginx_port}; location /media/ {{ alias {srv.media}/; }} }} }}
""")
    ng = subprocess.Popen(["nginx", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    c = http.client.HTTPConnection("127.0.0.1", nginx_port)
    c.request("GET", f"/media/{key}")
    got = c.getresponse()
    assert got.status == 200 and len(got.read()) == len(photo), f"nginx does not serve the photo: {got.status}"
    sws = shutil.which("static-web-server")
    sws_proc, sws_port = None, free_port()
    if sws:
        sws_proc = subprocess.Popen([sws, "--port", str(sws_port), "--host", "127.0.0.1", "--root", srv.media, "--threads-multiplier", "1",
                                     "--log-level", "error"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
    global WRK
    saved = WRK
    rows = []
    try:
        for conns in (16, 64):
            WRK = ["wrk", "-t2", f"-c{conns}", "-d8s", "--latency"]
            for label, ours, k, size in (("2.5 MB photo", url, key, len(photo)), ("30 KB photo", small_url, small_key, len(small))):
                a = wrk(ours)
                n = wrk(f"http://127.0.0.1:{nginx_port}/media/{k}")
                rows.append([f"{label} ({size // 1024} KiB) atm-maint", conns, f"{a[0]:.0f}", f"{a[1]:.0f}", f"{a[2]:.2f}", f"{a[3]:.2f}",
                             f"{a[0] / n[0]:.2f}", "met" if a[0] / n[0] >= 0.9 else "short"])
                rows.append([f"{label} nginx", conns, f"{n[0]:.0f}", f"{n[1]:.0f}", f"{n[2]:.2f}", f"{n[3]:.2f}", "1.00", ""])
                if sws_proc:
                    w = wrk(f"http://127.0.0.1:{sws_port}/{k}")
                    rows.append([f"{label} static-web-server", conns, f"{w[0]:.0f}", f"{w[1]:.0f}", f"{w[2]:.2f}", f"{w[3]:.2f}",
                                 f"{w[0] / n[0]:.2f}", ""])
    finally:
        WRK = saved
        ng.terminate()
        if sws_proc:
            sws_proc.terminate()
        srv.stop()
    table("Serving a signed photo URL vs nginx (wrk -t2 -d8s" + ("" if sws_proc else "; static-web-server not installed: `cargo install static-web-server` adds it") + ")",
          ["target", "connections", "req/s", "MB/s", "p50 ms", "p99 ms", "ours/nginx", "≥ 0.9× nginx"], rows)


def raw_write(dirname, blobs):
    t0 = time.perf_counter()
    os.makedirs(dirname, exist_ok=True)
    for i, b in enumerate(blobs):
        p = os.path.join(dirname, f"{uuid.uuid4().hex}.tmp")
        with open(p, "wb") as f:
            f.write(b)
            f.flush()
            os.fsync(f.fileno())
        os.rename(p, p[:-4] + ".jpg")
    fd = os.open(dirname, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    return time.perf_counter() - t0


def bench_ingest(tmp):
    srv, tech, ids = world(os.path.join(tmp, "ingest"), devices=200)
    photos = [make_jpeg(i) for i in range(19)]
    rows = []
    devices = iter(sorted(ids.items()))
    try:
        for electrical, n_photos in ((False, 8), (True, 19)):
            prefix = "El" if electrical else "Cl"
            pool = [d for k, d in sorted(ids.items()) if k.startswith(prefix)]
            for clients in (1, 8):
                per_client = 3 if clients == 8 else 6
                jobs = [pool.pop() for _ in range(clients * per_client)]
                bodies = [report_body(d, photos[:n_photos], electrical) for d in jobs]
                mb = sum(len(b) for b, _ in bodies) / 1e6
                lat = []

                def send(item):
                    body, ctype = item
                    t0 = time.perf_counter()
                    s, b = srv.request("POST", "/api/technician/submit", body, tech, ctype)
                    assert s == 201, b
                    return time.perf_counter() - t0
                os.sync()  # the previous case's writes are on disk before this one starts, for both
                time.sleep(1)
                t0 = time.perf_counter()
                with cf.ThreadPoolExecutor(clients) as ex:
                    lat = list(ex.map(send, bodies))
                wall = time.perf_counter() - t0
                blobs = photos[:n_photos]
                raw_dir = os.path.join(srv.media, "raw-bench")
                os.sync()
                time.sleep(1)
                t1 = time.perf_counter()
                with cf.ThreadPoolExecutor(clients) as ex:
                    raw = list(ex.map(lambda i: raw_write(os.path.join(raw_dir, str(i)), blobs), range(len(bodies))))
                raw_wall = time.perf_counter() - t1
                shutil.rmtree(raw_dir, ignore_errors=True)
                rows.append([f"{n_photos} photos, {clients} client(s)", len(bodies),
                             f"{pct(lat, 50) * 1000:.0f}", f"{pct(lat, 99) * 1000:.0f}", f"{mb / wall:.0f}",
                             f"{pct(raw, 50) * 1000:.0f}", f"{mb / raw_wall:.0f}", f"{pct(lat, 50) / pct(raw, 50):.2f}"])
    finally:
        srv.stop()
    table("Ingest: visit reports of 3000x2000 JPEGs (~2.5 MB each) vs raw write+fsync of the same bytes on the same disk",
          ["case", "reports", "p50 ms", "p99 ms", "MB/s", "raw p50 ms", "raw MB/s", "p50 ours/raw"], rows)


def bench_memory(tmp):
    srv, tech, ids = world(os.path.join(tmp, "memory"), devices=40)
    photos = [make_jpeg(i) for i in range(19)]
    idle = srv.rss_kib()
    pool = [d for k, d in sorted(ids.items()) if k.startswith("El")][:32]
    bodies = [report_body(d, photos, True) for d in pool]
    peak = [idle]
    done = False

    def watch():
        while not done:
            peak.append(srv.rss_kib())
            time.sleep(0.01)
    import threading
    w = threading.Thread(target=watch)
    w.start()
    try:
        with cf.ThreadPoolExecutor(32) as ex:
            results = list(ex.map(lambda b: srv.request("POST", "/api/technician/submit", b[0], tech, b[1])[0], bodies))
        assert all(s == 201 for s in results), results
    finally:
        done = True
        w.join()
        hwm = srv.rss_kib("VmHWM")
        srv.stop()
    table("Memory of the server process", ["state", "RSS MiB"],
          [["idle after start", f"{idle / 1024:.0f}"],
           ["peak during 32 concurrent 19-photo uploads (sampled)", f"{max(peak) / 1024:.0f}"],
           ["peak (kernel high-water mark)", f"{hwm / 1024:.0f}"]])


SEED_TABLES = {
    "users": ("id", "username", "password_hash", "role", "city", "is_active", "created_at"),
    "devices": ("id", "interaction_id", "gfm_cost_center", "region", "gfm_problem_type", "gfm_problem_date", "city", "type", "created_at"),
    "technician_devices": ("technician_id", "device_id", "device_type"),
    "submissions": ("id", "technician_id", "device_id", "type", "visit_date", "period_year", "period_month", "half_month",
                    "job_description", "job_status", "status", "created_at", "updated_at"),
    "stored_object": ("id", "object_key", "area", "size_bytes", "sha256", "content_type", "created_at"),
    "photos": ("submission_id", "section", "order_index", "object_id", "content_type", "width", "height"),
    "excel_uploads": ("technician_id", "uploaded_by_id", "file_name", "device_type", "parsed_data", "row_count", "upload_date"),
    "photo_facts": ("object_id", "captured_at", "phash"),
}


def seed_rows(n, tech_id, host_id, per_technician=200):
    """Rows that add n submissions with 8 photo rows each: tech1 and more technicians, each with
    `per_technician` devices (so tech1's device list is the same size at any n) and an Excel list."""
    now = "2026-11-01T00:00:00.000000Z"
    rows = {t: [] for t in SEED_TABLES}
    technicians = max(1, n // per_technician)
    techs = [tech_id] + [900000 + t for t in range(technicians - 1)]
    for t in techs[1:]:
        rows["users"].append((t, f"seedtech{t}", "x", "technician", "Riyadh", 1, now))
    for ti, tech in enumerate(techs):
        listed = []
        for j in range(per_technician):
            i = ti * per_technician + j
            d = 100000 + i
            rows["devices"].append((d, f"SEED{i:06d}", f"{i}", "", "Cleaning", "2025-01-01", "Riyadh", "Cleaning2", now))
            rows["technician_devices"].append((tech, d, "Cleaning2"))
            status = ("Pending", "Approved", "Rejected")[i % 3]
            day = 1 + i % 28
            created = f"2026-10-{day:02d}T{i % 24:02d}:{i % 60:02d}:00.{i % 1000000:06d}Z"
            rows["submissions"].append((d, tech, d, "Cleaning2", f"2026-10-{day:02d}", 2026, 10, 1 if day <= 15 else 2,
                                        "Routine", "Ok", status, created, created))
            for p in range(8):
                o = d * 10 + p
                sha = hashlib.sha256(str(o).encode()).hexdigest()
                rows["stored_object"].append((o, f"photos/2026/10/seed{o}.jpg", "photos", 2500000, sha, "image/jpeg", now))
                rows["photos"].append((d, 1 + p // 3, 1 + p % 3, o, "image/jpeg", 3000, 2000))
                # A perceptual hash as a camera photo has one: 64 bits, unrelated to any other.
                phash = int.from_bytes(hashlib.sha256(sha.encode()).digest()[:8], "big", signed=True)
                rows["photo_facts"].append((o, created, phash))
            listed.append({"col_1": f"SEED{i:06d}", "col_2": str(i), "col_3": "Cleaning", "col_4": "2025-01-01", "col_5": "Riyadh"})
        rows["excel_uploads"].append((tech, host_id, "seed.xlsx", "Cleaning2", json.dumps(listed), len(listed), now))
    return rows


def seed(rows, sqlite_path=None, pg_url=None):
    """Loads seed rows in bulk: executemany on SQLite, COPY on PostgreSQL; then ANALYZE."""
    if sqlite_path:
        db = sqlite3.connect(sqlite_path)
        for table, cols in SEED_TABLES.items():
            db.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows[table])
        db.commit()
        db.execute("ANALYZE")
        db.close()
        return
    import csv
    for table, cols in SEED_TABLES.items():
        buf = io.StringIO()
        csv.writer(buf).writerows(rows[table])
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", pg_url, "-c", f"\\copy {table} ({', '.join(cols)}) FROM pstdin WITH (FORMAT csv, NULL '\\N')"],
                       input=buf.getvalue(), text=True, check=True, stdout=subprocess.DEVNULL)


def pg_analyze(pg_url):
    subprocess.run(["psql", "-q", pg_url, "-c", "ANALYZE"], check=True, stdout=subprocess.DEVNULL)


def start_postgres(tmp):
    pgbin = sorted(d for d in os.listdir("/usr/lib/postgresql"))[-1]
    pgbin = f"/usr/lib/postgresql/{pgbin}/bin"
    d = os.path.join(tmp, "pg")
    os.makedirs(d)
    shutil.chown(d, "postgres", "postgres")
    port = free_port()
    su = lambda cmd: subprocess.run(["su", "postgres", "-c", cmd], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    su(f"{pgbin}/initdb -D {d}/data -U postgres --auth=trust")
    su(f"{pgbin}/pg_ctl -D {d}/data -o '-p {port} -k {d} -c listen_addresses=127.0.0.1' -l {d}/log -w start")
    return f"postgres://postgres@127.0.0.1:{port}/postgres", lambda: su(f"{pgbin}/pg_ctl -D {d}/data -m fast stop")


LISTS = (("technician device list (my-excel-data, 200 devices)", "/api/technician/my-excel-data", "tech"),
         ("supervisor submissions, page of 50", "/api/supervisor/submissions?page=1&page_size=50", "sup"),
         ("supervisor submissions, Pending, page of 50", "/api/supervisor/submissions?status=Pending&page=2&page_size=50", "sup"))


def floor_of(srv, path, token):
    """Puts the list's own answer on the floor route; returns the floor's URL and the body size."""
    s, _, body = srv.send("GET", path, token=token)
    assert s == 200, (path, s)
    raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
    s, _ = srv.request("PUT", "/api/_test/floor", raw, ctype="application/json")
    assert s == 204, s
    return f"http://127.0.0.1:{srv.port}/api/_test/floor", len(raw)


def lists_server(tmp, name, url, n):
    """A server on `name`'s database seeded with n submissions; returns (server, start-up rows)."""
    srv, _, _ = world(os.path.join(tmp, f"lists-{name}-{n}"), devices=1, database_url=url, env={"ATM_TEST_ROUTES": "true"})
    srv.stop()
    rows = seed_rows(n, 3, 1)
    if url:
        seed(rows, pg_url=url)
    else:
        seed(rows, sqlite_path=os.path.join(srv.workdir, "data", "atm-maint.db"))
    startup = [[name, n, f"{srv.start() * 1000:.0f}"]]
    srv.stop()
    startup.append([f"{name} (second start)", n, f"{srv.start() * 1000:.0f}"])
    return srv, startup


def fresh_postgres(tmp, tag):
    try:
        return start_postgres(os.path.join(tmp, tag))
    except Exception as e:  # noqa: BLE001 - PostgreSQL is optional for this section
        print(f"(PostgreSQL not available: {e})")
        return None, None


def bench_lists(tmp):
    """Each list next to the floor: the same server answering the same bytes from memory."""
    sizes = [int(x) for x in os.environ.get("BENCH_LIST_SIZES", "10000,100000").split(",")]
    rows, startup, growth = [], [], {}
    for n in sizes:
        for name in ("SQLite", "PostgreSQL"):
            stop_pg = None
            url = None
            if name == "PostgreSQL":
                url, stop_pg = fresh_postgres(tmp, f"pg-lists-{n}")
                if not url:
                    continue
            try:
                srv, st = lists_server(tmp, name, url, n)
                startup += st
                tokens = {"tech": srv.login("tech1"), "sup": srv.login("sup1")}
                if url:
                    # The seed came in by COPY: ask for the plans' statistics as a running database
                    # would have them (autovacuum), and show what a page costs before they exist.
                    path = LISTS[1][1]
                    r = wrk(f"http://127.0.0.1:{srv.port}{path}", f"Authorization: Bearer {tokens['sup']}")
                    rows.append([name, n, LISTS[1][0] + " — before ANALYZE", f"{r[0]:.0f}", f"{r[2]:.1f}", f"{r[3]:.1f}", "", "", ""])
                    pg_analyze(url)
                for label, path, who in LISTS:
                    auth = f"Authorization: Bearer {tokens[who]}"
                    floor_url, size = floor_of(srv, path, tokens[who])
                    f = wrk(floor_url)
                    r = wrk(f"http://127.0.0.1:{srv.port}{path}", auth)
                    ok = r[0] / f[0] >= 0.5 and r[3] < 50
                    rows.append([name, n, f"{label} ({size // 1024} KiB)", f"{r[0]:.0f}", f"{r[2]:.1f}", f"{r[3]:.1f}",
                                 f"{f[0]:.0f}", f"{r[0] / f[0]:.2f}", "met" if ok else "short"])
                    growth.setdefault((name, label), []).append((n, r[0], r[3]))
                srv.stop()
            finally:
                if stop_pg:
                    stop_pg()
    table(f"Lists next to the floor (the same bytes from memory on the same server; wrk -t2 -c{CONNS} -d8s)",
          ["database", "submissions", "list", "req/s", "p50 ms", "p99 ms", "floor req/s", "ours/floor", "≥ 0.5× and p99 < 50 ms"], rows)
    grow = []
    for (name, label), points in growth.items():
        base = points[0]
        for n, rps, p99 in points:
            grow.append([name, label, n, f"{rps:.0f}", f"{p99:.1f}", f"{rps / base[1]:.2f}"])
    table("Lists as the data grows", ["database", "list", "submissions", "req/s", "p99 ms", f"req/s vs {sizes[0]}"], grow)
    table("Start-up: process start to /readyz OK", ["database", "submissions", "ms"], startup)


def bench_pdf(tmp):
    port = free_port()
    maildir = os.path.join(tmp, "mail")
    import mailbox
    mailbox.Maildir(maildir, create=True)
    smtp = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c",
                             "aiosmtpd.handlers.Mailbox", maildir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port), "EMAIL_USE_TLS": "false",
           "APPROVAL_EMAIL_RECIPIENTS": "ops@bank.example"}
    env["ATM_TEST_ROUTES"] = "true"
    srv, tech, ids = world(os.path.join(tmp, "pdf"), devices=4, env=env)
    photos = [make_jpeg(i) for i in range(19)]
    sup = srv.login("sup1")
    rows = []
    try:
        for electrical, key in ((False, "Cl00000"), (True, "El00000")):
            body, ctype = report_body(ids[key], photos, electrical)
            s, b = srv.request("POST", "/api/technician/submit", body, tech, ctype)
            sid = b["submission"]["id"]
            t0 = time.perf_counter()
            s, p = srv.request("POST", f"/api/supervisor/submissions/{sid}/preview-pdf", {}, sup)
            preview = time.perf_counter() - t0
            assert s == 200, p
            pdf_path = p["pdf_url"].split("://", 1)[1].split("/", 1)[1]
            c = http.client.HTTPConnection("127.0.0.1", srv.port)
            c.request("GET", "/" + pdf_path)
            size = len(c.getresponse().read())
            before = len(os.listdir(os.path.join(maildir, "new")))
            t0 = time.perf_counter()
            srv.request("PATCH", f"/api/supervisor/submissions/{sid}/approve", {}, sup)
            while len(os.listdir(os.path.join(maildir, "new"))) == before:
                time.sleep(0.02)
            mailed = time.perf_counter() - t0
            s, floor = srv.request("POST", f"/api/_test/codec-floor/{sid}")
            assert s == 200, floor
            n = 19 if electrical else 8
            ratio = preview / floor["seconds"]
            ok = ratio <= 1.5 and size < 8e6
            rows.append([f"{n} photos ({'electrical, 7 pages' if electrical else 'cleaning, 5 pages'})",
                         f"{preview:.2f}", f"{floor['seconds']:.2f}", f"{ratio:.2f}", f"{size / 1e6:.2f}", f"{mailed:.2f}",
                         "met" if ok else "short"])
    finally:
        srv.stop()
        smtp.terminate()
    table("PDF reports from 3000x2000 photos next to the codec floor (the same photos decoded and re-encoded at print "
          "size by the same code, one after another, in this run; original system: 11 s / 24 MB for 8, 25-29 s / 58 MB for 19)",
          ["report", "preview s", "codec floor s", "ours/floor", "size MB", "approve to e-mail delivered s", "≤ 1.5× and < 8 MB"], rows)


def fetch_all(urls, parallel=6):
    """Fetches every URL with `parallel` connections, as a browser would; returns (seconds, bytes)."""
    def one(url):
        host, rest = url.split("://", 1)[1].split("/", 1)
        h, port = host.split(":")
        c = http.client.HTTPConnection(h, int(port), timeout=120)
        c.request("GET", "/" + rest)
        r = c.getresponse()
        body = r.read()
        assert r.status == 200, (url, r.status)
        return len(body)
    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(parallel) as ex:
        total = sum(ex.map(one, urls))
    return time.perf_counter() - t0, total


def nginx_for(tmp, media):
    port = free_port()
    conf = os.path.join(tmp, "nginx-review.conf")
    with open(conf, "w") as f:
        f.write(f"""user root; worker_processes 2; daemon off; pid {tmp}/nginx-review.pid; error_log {tmp}/nginx-review.err;
events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on; tcp_nopush on; types {{ image/jpeg jpg; }}
  server {{ listen 127.0.0.1:{port}; location /media/ {{ alias {media}/; }} }} }}
""")
    proc = subprocess.Popen(["nginx", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc, port


def bench_review(tmp):
    """What a supervisor's browser loads to review one 19-photo report."""
    srv, tech, ids = world(os.path.join(tmp, "review"), devices=4)
    photos = [make_jpeg(i) for i in range(19)]
    body, ctype = report_body(ids["El00000"], photos, True)
    s, b = srv.request("POST", "/api/technician/submit", body, tech, ctype)
    assert s == 201, b
    ps = b["submission"]["photos"]
    originals = [p["file_url"] for p in ps]
    thumbs = [p["thumb_url"] for p in ps]
    screens = [p["preview_url"] for p in ps]
    ng, port = nginx_for(tmp, srv.media)
    rows = []
    try:
        keys = [u.split("?")[0].split("/media/", 1)[1] for u in originals]
        t, n = fetch_all([f"http://127.0.0.1:{port}/media/{k}" for k in keys])
        rows.append(["19 originals (what the original app loaded), nginx", f"{t * 1000:.0f}", f"{n / 1e6:.1f}"])
        t, n = fetch_all(originals)
        rows.append(["19 originals, atm-maint", f"{t * 1000:.0f}", f"{n / 1e6:.1f}"])
        t, n = fetch_all(thumbs)
        rows.append(["19 thumbnails (320 px), first view: made now", f"{t * 1000:.0f}", f"{n / 1e6:.2f}"])
        t, n = fetch_all(thumbs)
        rows.append(["19 thumbnails, any later view", f"{t * 1000:.0f}", f"{n / 1e6:.2f}"])
        t, n = fetch_all(screens)
        rows.append(["19 screen copies (1600 px) for the viewer", f"{t * 1000:.0f}", f"{n / 1e6:.1f}"])
    finally:
        ng.terminate()
        srv.stop()
    table("Reviewing a 19-photo report of 3000x2000 JPEGs (6 parallel connections, like a browser)",
          ["what the page loads", "ms", "MB"], rows)


def bench_drafts(tmp):
    """Filing a 19-photo report one photo per request (the pages) vs the one-shot multipart submit."""
    srv, tech, ids = world(os.path.join(tmp, "drafts"), devices=20)
    photos = [make_jpeg(i) for i in range(19)]
    pool = [d for k, d in sorted(ids.items()) if k.startswith("El")]
    oneshot, drafted = [], []
    try:
        for _ in range(4):
            body, ctype = report_body(pool.pop(), photos, True)
            t0 = time.perf_counter()
            s, b = srv.request("POST", "/api/technician/submit", body, tech, ctype)
            assert s == 201, b
            oneshot.append(time.perf_counter() - t0)

            device = pool.pop()
            t0 = time.perf_counter()
            s, d = srv.request("POST", "/api/technician/drafts/", {"device_id": device, "visit_date": today()}, tech)
            assert s == 201, d

            def put(item):
                slot, data = item
                st, r = srv.request("PUT", f"/api/technician/drafts/{d['id']}/photos/{slot}", data, tech, "image/jpeg")
                assert st == 201, r
            with cf.ThreadPoolExecutor(2) as ex:
                list(ex.map(put, zip(slots(True), photos)))
            s, r = srv.request("POST", f"/api/technician/drafts/{d['id']}/submit/",
                               {"job_description": "Routine", "job_status": "Ok"}, tech)
            assert s == 201, r
            drafted.append(time.perf_counter() - t0)
    finally:
        srv.stop()
    mb = sum(len(p) for p in photos) / 1e6
    table("Filing a 19-photo report (3000x2000 JPEGs, ~47 MB): one request per photo vs one multipart request",
          ["path", "reports", "p50 ms", "max ms", "MB/s", "ratio"],
          [["one-shot multipart submit (the original's API)", len(oneshot), f"{pct(oneshot, 50) * 1000:.0f}",
            f"{max(oneshot) * 1000:.0f}", f"{mb / pct(oneshot, 50):.0f}", "1.00"],
           ["draft: 19 PUTs, 2 at a time, then finalize (the pages)", len(drafted), f"{pct(drafted, 50) * 1000:.0f}",
            f"{max(drafted) * 1000:.0f}", f"{mb / pct(drafted, 50):.0f}", f"{pct(drafted, 50) / pct(oneshot, 50):.2f}"]])

def run_at_once(jobs):
    """Runs every (kind, call) at the same moment, one thread each; returns (wall seconds, results)
    with each result (kind, status, headers, body, seconds). A connection error is a status too."""
    import threading
    gate = threading.Barrier(len(jobs) + 1)

    def one(job):
        kind, call = job
        gate.wait()
        t0 = time.perf_counter()
        try:
            status, headers, body = call()
        except (OSError, http.client.HTTPException) as e:
            status, headers, body = f"no answer ({type(e).__name__})", {}, None
        return kind, status, headers, body, time.perf_counter() - t0
    with cf.ThreadPoolExecutor(len(jobs)) as ex:
        futures = [ex.submit(one, j) for j in jobs]
        gate.wait()
        t0 = time.perf_counter()
        results = [f.result() for f in futures]
    return time.perf_counter() - t0, results


def lost_photos(srv, sup, results, expected):
    """For every 201 upload: the photos that do not come back byte for byte (SHA-256) from the
    submission's detail as a supervisor sees it, or do not come back at all. Returns (lost, sent)."""
    import hashlib

    def fetch(url):
        host, rest = url.split("://", 1)[1].split("/", 1)
        h, port = host.split(":")
        c = http.client.HTTPConnection(h, int(port), timeout=120)
        c.request("GET", "/" + rest)
        r = c.getresponse()
        data = r.read()
        c.close()
        return hashlib.sha256(data).hexdigest() if r.status == 200 else None

    def check(sid):
        s, d = srv.request("GET", f"/api/supervisor/submissions/{sid}", token=sup)
        if s != 200:
            return len(expected)
        got = {}
        for p in d["submission"]["photos"]:
            slot = (int(str(p["section"]).removeprefix("section")), int(p["order_index"]))
            got[slot] = fetch(p["file_url"])
        return sum(1 for slot, sha in expected.items() if got.get(slot) != sha)
    ids = [r[3]["submission"]["id"] for r in results if r[0].startswith("upload") and r[1] == 201]
    with cf.ThreadPoolExecutor(4) as ex:
        lost = sum(ex.map(check, ids))
    return lost, len(ids) * len(expected)


def bench_mixed(tmp):
    """32 uploads, a 64-login burst and 2 PDF builds at once on one server, next to the same 32
    uploads alone in the same run."""
    import collections
    import hashlib
    photos = [make_jpeg(i) for i in range(19)]
    expected = {}
    for i, slot in enumerate(slots(True)):
        sec, order = slot.removeprefix("section").split("_")
        expected[(int(sec), int(order))] = hashlib.sha256(photos[i % len(photos)]).hexdigest()

    def load(name, extra):
        """A fresh server with two 19-photo reports filed; the 32 uploads, with the logins and PDF
        builds too when `extra`, all at once. Each case starts from the same idle process."""
        srv, tech, ids = world(os.path.join(tmp, f"mixed-{name}"), devices=34, env={"TRUST_PROXY_HEADERS": "true"})
        try:
            host, sup = srv.login("host1"), srv.login("sup1")
            # Attempts in flight count towards the per-account limit (5), so the burst is spread
            # over 32 accounts: one correct sign-in and one wrong guess each.
            accounts = [f"burst{i:02d}" for i in range(32)]
            for u in accounts:
                s, b = srv.request("POST", "/api/host/technicians/", {"username": u, "password": PASSWORD, "city": "Riyadh"}, host)
                assert s == 201, b
            pool = [d for k, d in sorted(ids.items()) if k.startswith("El")]
            reports = []
            for d in pool[32:34]:
                body, ctype = report_body(d, photos, True)
                s, b = srv.request("POST", "/api/technician/submit", body, tech, ctype)
                assert s == 201, b
                reports.append(b["submission"]["id"])
            jobs = []
            for d in pool[:32]:
                body, ctype = report_body(d, photos, True)
                jobs.append(("upload (19 photos)", lambda b=body, c=ctype: srv.send("POST", "/api/technician/submit", b, tech, c)))
            if extra:
                tries = [("login, correct password", u, PASSWORD) for u in accounts]
                tries += [("login, wrong password", u, f"wrong-{i}") for i, u in enumerate(accounts)]
                random.Random(7).shuffle(tries)
                jobs += [(kind, lambda u=u, p=p, i=i: srv.send(
                             "POST", "/api/auth/login/", {"username": u, "password": p},
                             headers={"X-Forwarded-For": f"198.18.{i // 250}.{i % 250 + 1}"}))
                         for i, (kind, u, p) in enumerate(tries)]
                jobs += [("PDF preview (19 photos)", lambda sid=sid: srv.send(
                             "POST", f"/api/supervisor/submissions/{sid}/preview-pdf", {}, sup)) for sid in reports]
            os.sync()  # earlier writes (another case's, the setup's) are on disk before the load starts
            time.sleep(1)
            m = {"idle": srv.rss_kib()}
            srv.reset_hwm()
            m["wall"], m["results"] = run_at_once(jobs)
            m["hwm"] = srv.rss_kib("VmHWM")
            del jobs
            time.sleep(2)
            m["after"] = srv.rss_kib()
            m["lost"], m["photos"] = lost_photos(srv, srv.login("sup1"), m["results"], expected)
        finally:
            srv.stop()
        return m
    alone = load("alone", False)
    mixed = load("all", True)

    def busy(r):
        return r[1] == 503 and any(k.lower() == "retry-after" for k in r[2])

    def count(m, what):
        rs = m["results"]
        if what == "busy":
            return sum(1 for r in rs if busy(r))
        if what == "no answer":
            return sum(1 for r in rs if not isinstance(r[1], int))
        return sum(1 for r in rs if isinstance(r[1], int) and r[1] >= 500 and not busy(r))

    def upload_lat(m, p):
        lat = [r[4] for r in m["results"] if r[0].startswith("upload")]
        return max(lat) if p == 100 else pct(lat, p)

    def ratio(a, b):
        return f"{a / b:.2f}" if b else "-"

    def verdict(ok):
        return "ok" if ok else "MISSED"
    mib = lambda k: k / 1024
    m, a = mixed, alone
    rows = [
        ["wall time of the whole load, s", f"{m['wall']:.1f}", f"{a['wall']:.1f}", ratio(m["wall"], a["wall"]), ""],
        ["upload latency p50, s", f"{upload_lat(m, 50):.1f}", f"{upload_lat(a, 50):.1f}", ratio(upload_lat(m, 50), upload_lat(a, 50)), ""],
        ["upload latency max, s", f"{upload_lat(m, 100):.1f}", f"{upload_lat(a, 100):.1f}", ratio(upload_lat(m, 100), upload_lat(a, 100)), ""],
        ["peak RSS MiB (VmHWM, reset just before the load)", f"{mib(m['hwm']):.0f}", f"{mib(a['hwm']):.0f}", ratio(m["hwm"], a["hwm"]),
         f"< 200 MB (191 MiB): {verdict(m['hwm'] * 1024 < 200e6)}"],
        ["RSS MiB idle just before the load", f"{mib(m['idle']):.0f}", f"{mib(a['idle']):.0f}", "", ""],
        ["RSS MiB ~2 s after the load", f"{mib(m['after']):.0f}", f"{mib(a['after']):.0f}", "", ""],
        ["lost photos (SHA-256 differs or missing, of the photos in 201 answers)", f"{m['lost']} of {m['photos']}",
         f"{a['lost']} of {a['photos']}", "", f"0: {verdict(m['lost'] == 0)}"],
        ["5xx other than 503 with Retry-After", count(m, "5xx"), count(a, "5xx"), "", f"0: {verdict(count(m, '5xx') == 0)}"],
        ["503 busy with Retry-After (the limits' answer)", count(m, "busy"), count(a, "busy"), "", ""],
        ["no answer (connection error)", count(m, "no answer"), count(a, "no answer"), "", f"0: {verdict(count(m, 'no answer') == 0)}"],
    ]
    limits = ", ".join(f"{k}={os.environ.get(k) or 'default'}" for k in
                       ("PASSWORD_HASH_CONCURRENCY", "IMAGE_DECODE_CONCURRENCY", "PDF_BUILD_CONCURRENCY", "QUEUE_WAIT_SECONDS"))
    table("Mixed load on one release server (SQLite + local media): 32 concurrent 19-photo uploads (3000x2000 JPEGs, "
          "~47 MB each) + 64 logins + 2 PDF builds at once, vs the same 32 uploads alone on a fresh server in this run",
          ["measure", "mixed load", "32 uploads alone", "mixed/alone", "goal"], rows,
          note=f"Limits: {limits} ({os.cpu_count()} cores).")
    by_kind = []
    for label, mm in (("", m), (" — alone (reference)", a)):
        kinds = collections.OrderedDict()
        for r in mm["results"]:
            kinds.setdefault(r[0], []).append(r)
        for kind, rs in kinds.items():
            statuses = collections.Counter("503+Retry-After" if busy(r) else str(r[1]) for r in rs)
            lat = [r[4] for r in rs]
            by_kind.append([kind + label, len(rs), ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())),
                            f"{pct(lat, 50) * 1000:.0f}", f"{max(lat) * 1000:.0f}"])
    table("Mixed load: answers by status per kind of request", ["request", "sent", "answers by status", "p50 ms", "max ms"], by_kind,
          note="Each login comes from its own address in X-Forwarded-For (server started with TRUST_PROXY_HEADERS=true), so the "
               "per-address login limit (30 failures / 15 min) does not short-cut the burst. Attempts still in flight count "
               "towards the per-account limit (5 per 15 min), so the burst is spread over 32 technician accounts: one correct "
               "sign-in and one wrong guess each.")


def bench_scale(tmp):
    """Serving and a list from 1 to 64 connections, each step next to its in-run reference."""
    global WRK
    srv, tech, ids = world(os.path.join(tmp, "scale"), devices=4, env={"ATM_TEST_ROUTES": "true"})
    from PIL import Image
    buf = io.BytesIO()
    Image.effect_noise((160, 120), 60).convert("RGB").resize((320, 240)).save(buf, "JPEG", quality=92)
    body, ctype = report_body(ids["Cl00001"], [make_jpeg(1), buf.getvalue()], False)
    s, b = srv.request("POST", "/api/technician/submit", body, tech, ctype)
    assert s == 201, b
    big, small = b["submission"]["photos"][0]["file_url"], b["submission"]["photos"][1]["file_url"]
    key = lambda u: u.split("?")[0].split("/media/", 1)[1]
    ng, port = nginx_for(tmp, srv.media)
    sup = srv.login("sup1")
    list_path = "/api/supervisor/submissions?page=1&page_size=50"
    floor_url, _ = floor_of(srv, list_path, sup)
    rows = []
    saved = WRK
    try:
        for conns in (1, 4, 16, 64):
            WRK = ["wrk", "-t2" if conns > 1 else "-t1", f"-c{conns}", "-d5s", "--latency"]
            for label, ours, ref, header in (
                    ("2.5 MB photo vs nginx", big, f"http://127.0.0.1:{port}/media/{key(big)}", None),
                    ("30 KB photo vs nginx", small, f"http://127.0.0.1:{port}/media/{key(small)}", None),
                    ("supervisor page of 50 vs floor", f"http://127.0.0.1:{srv.port}{list_path}", floor_url, f"Authorization: Bearer {sup}")):
                a = wrk(ours, header)
                r = wrk(ref)
                rows.append([label, conns, f"{a[0]:.0f}", f"{a[3]:.2f}", f"{r[0]:.0f}", f"{r[3]:.2f}", f"{a[0] / r[0]:.2f}"])
    finally:
        WRK = saved
        ng.terminate()
        srv.stop()
    table("Scale: 1 to 64 connections (wrk -d5s), each next to its reference in the same step",
          ["what", "connections", "ours req/s", "ours p99 ms", "reference req/s", "reference p99 ms", "ours/reference"], rows,
          note="The list grows with the data in the lists section (10k and 100k submissions).")


def bench_insights(tmp):
    """The dashboard's one endpoint and the exports on 100,000 submissions, each next to the
    same bytes answered from memory (the floor route) in the same run."""
    n = int(os.environ.get("BENCH_INSIGHTS_SIZE", "100000"))
    rows, exports = [], []
    for name in ("SQLite", "PostgreSQL"):
        url, stop_pg = (None, None)
        if name == "PostgreSQL":
            url, stop_pg = fresh_postgres(tmp, "pg-insights")
            if not url:
                continue
        try:
            srv, _ = lists_server(tmp, f"insights-{name}", url, n)
            if url:
                pg_analyze(url)
            sup = srv.login("sup1")
            path = "/api/supervisor/insights?period=2026-10-1"
            # One answer computed (no kept copy of this period yet): what the first supervisor
            # of each 10 s waits; the others get the kept copy.
            t0 = time.time()
            s, _ = srv.request("GET", "/api/supervisor/insights?period=2026-10-2", token=sup)
            computed_ms = (time.time() - t0) * 1000
            assert s == 200, s
            floor_url, size = floor_of(srv, path, sup)
            f = wrk(floor_url)
            r = wrk(f"http://127.0.0.1:{srv.port}{path}", f"Authorization: Bearer {sup}")
            rows.append([name, n, f"{size // 1024} KiB", f"{computed_ms:.0f}", f"{r[0]:.0f}", f"{r[2]:.1f}", f"{r[3]:.1f}", f"{f[0]:.0f}", f"{r[0] / f[0]:.3f}"])
            for kind in ("csv", "xlsx"):
                srv.reset_hwm()
                t0 = time.time()
                s, body = srv.request("GET", f"/api/supervisor/submissions/export.{kind}", token=sup)
                took = time.time() - t0
                assert s == 200, s
                peak = srv.rss_kib("VmHWM") // 1024
                # The floor: the same bytes from memory, over the same connection path.
                st, _ = srv.request("PUT", "/api/_test/floor", body, ctype="application/octet-stream")
                assert st == 204, st
                t0 = time.time()
                srv.request("GET", "/api/_test/floor")
                floor = time.time() - t0
                exports.append([name, kind.upper(), n, f"{len(body) / 2**20:.1f}", f"{took:.2f}", f"{floor:.3f}", f"{took / max(floor, 1e-3):.0f}", peak])
            srv.stop()
        finally:
            if stop_pg:
                stop_pg()
    table(f"Dashboard: one insight answer on {n} submissions vs the same bytes from memory (wrk -t2 -c{CONNS} -d8s)",
          ["database", "submissions", "answer", "computed once ms", "req/s", "p50 ms", "p99 ms", "floor req/s", "ours/floor"], rows)
    table(f"Exports of {n} submissions (one request each) vs the same bytes from memory",
          ["database", "format", "rows", "MB", "export s", "floor s", "export/floor", "server peak RSS MiB"], exports)


def distinct_jpeg(seed, w=800, h=600):
    """A small photo unlike any other seed's: random shapes in random colours on a random
    background, so perceptual hashes differ as different scenes' do; taken now (EXIF)."""
    from PIL import Image, ImageDraw
    rnd = random.Random(seed)
    img = Image.new("RGB", (w, h), tuple(rnd.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x0, y0 = rnd.randrange(w), rnd.randrange(h)
        box = (x0, y0, x0 + rnd.randrange(40, w // 2), y0 + rnd.randrange(40, h // 2))
        colour = tuple(rnd.randrange(256) for _ in range(3))
        (draw.ellipse if rnd.random() < 0.5 else draw.rectangle)(box, fill=colour)
    exif = Image.Exif()
    exif.get_ifd(0x8769).update({0x9003: time.strftime("%Y:%m:%d %H:%M:%S", time.gmtime()), 0x9011: "+00:00"})
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85, exif=exif)
    return buf.getvalue()


def bench_evidence(tmp):
    """Time per report filed (8 small photos, so the photos' own cost stays small next to the
    search) with 100,000 photo hashes already stored, vs an empty archive in the same run. The
    search is by SHA-256 (index) and among the same device's and technician's reports (index
    ranges), so the worst case is one technician owning the whole archive."""
    hashes = int(os.environ.get("BENCH_EVIDENCE_HASHES", "100000"))
    reports = int(os.environ.get("BENCH_EVIDENCE_REPORTS", "20"))
    n = hashes // 8
    cases = (("empty archive", 0, 200), (f"{hashes} hashes, 200 reports of them tech1's", n, 200),
             (f"{hashes} hashes, all tech1's (worst case)", n, n))
    rows = []
    for name in ("SQLite", "PostgreSQL"):
        base = None
        for label, seeded, per_tech in cases:
            url, stop_pg = (None, None)
            if name == "PostgreSQL":
                url, stop_pg = fresh_postgres(tmp, f"pg-evidence-{seeded}-{per_tech}")
                if not url:
                    break
            try:
                srv, tech, ids = world(os.path.join(tmp, f"evidence-{name}-{seeded}-{per_tech}"), devices=reports,
                                       database_url=url)
                srv.stop()
                if seeded:
                    rows_ = seed_rows(seeded, 3, 1, per_technician=per_tech)
                    if url:
                        seed(rows_, pg_url=url)
                    else:
                        seed(rows_, sqlite_path=os.path.join(srv.workdir, "data", "atm-maint.db"))
                if url:
                    pg_analyze(url)
                srv.start()
                tech = srv.login("tech1")
                sup = srv.login("sup1")
                devices = [d for k, d in sorted(ids.items()) if k.startswith("Cl")][:reports]
                lat, findings = [], {}
                for i, d in enumerate(devices):
                    body, ctype = report_body(d, [distinct_jpeg(i * 8 + j) for j in range(8)], False)
                    t0 = time.perf_counter()
                    s, b = srv.request("POST", "/api/technician/submit", body, tech, ctype)
                    lat.append(time.perf_counter() - t0)
                    assert s == 201, b
                    s, got = srv.request("GET", f"/api/supervisor/submissions/{b['submission']['id']}", token=sup)
                    assert s == 200, got
                    for photo in got["submission"]["photos"]:
                        for f in photo["evidence"]["findings"]:
                            findings[f["kind"]] = findings.get(f["kind"], 0) + 1
                srv.stop()
            finally:
                if stop_pg:
                    stop_pg()
            p50 = pct(lat, 50) * 1000
            base = base or p50
            rows.append([name, label, seeded * 8, len(lat), f"{p50:.1f}", f"{pct(lat, 95) * 1000:.1f}", f"{p50 / base:.2f}",
                         ", ".join(f"{k} {v}" for k, v in sorted(findings.items())) or "none"])
    table(f"Evidence: filing a report of 8 distinct 800x600 photos ({reports} reports, one at a time) with its duplicate search, by archive size",
          ["database", "archive", "stored hashes", "reports", "p50 ms", "p95 ms", "p50 / empty archive", "findings raised"], rows,
          "The photos are all different and taken now, so none should raise a finding: the false-positive check at scale.")


SECTIONS = {"serving": bench_serving, "ingest": bench_ingest, "memory": bench_memory, "lists": bench_lists, "pdf": bench_pdf,
            "review": bench_review, "drafts": bench_drafts, "mixed": bench_mixed,
            "scale": bench_scale, "insights": bench_insights, "evidence": bench_evidence}


def main():
    chosen = [a for a in sys.argv[1:] if a in SECTIONS or a == "startup"] or list(SECTIONS)
    if "startup" in chosen and "lists" not in chosen:
        chosen = [c for c in chosen if c != "startup"] + ["lists"]
    print(f"# atm-maint benchmarks — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} — {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR", "/var/tmp")) as tmp:
        os.chmod(tmp, 0o755)
        for name in chosen:
            if name in SECTIONS:
                SECTIONS[name](tmp)


if __name__ == "__main__":
    main()
