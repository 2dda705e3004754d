#!/usr/bin/env python3
"""tests/lib/volplugin.py - a Docker volume plugin (legacy v1 protocol) of
moat's own test suite: a peer for volume/plugin.c and the integration tests.

    volplugin.py --socket PATH --state DIR [--mode MODE] [--delay SECS]
                 [--log FILE] [--mount-root DIR]

Speaks plain HTTP/1.1 with Content-Length on a unix socket, one thread per
connection. Implements Plugin.Activate and VolumeDriver.Create, Remove,
Mount, Unmount, Path, Get, List and Capabilities. Volumes are kept in
DIR/volumes.json (rewritten atomically, so a restarted plugin keeps them);
a volume's mountpoint is DIR/mnt/NAME (or MOUNT_ROOT/NAME), made on Mount.
Each volume holds the set of mount IDs that mounted it: Remove while any
is left fails with "volume NAME is in use"; an unknown volume is
"no such volume"; Create of an existing name succeeds (idempotent).

Every request is appended to --log as one JSON line {"method", "body"}
before it is answered, so tests can count calls and check IDs.

MODE (default ok), for the VolumeDriver calls (Activate answers normally
except in no-volumedriver):
  slow             sleep --delay seconds before every reply
  error            every reply is {"Err": "injected failure"}
  unmount-error    Unmount replies {"Err": "injected unmount failure"} and
                   keeps the mount ID; every other call works
  malformed        every reply is invalid JSON
  crash-mount      Mount makes the process exit(3) before replying
  outside          Mount and Path reply "/etc"
  file             Mount replies the path of a regular file it made
  symlink          Mount replies a symlink to the real mountpoint
  http500          status 500 with a plain-text body
  no-volumedriver  Activate implements only NetworkDriver

Python 3 standard library only. Exits 0 on SIGTERM (and removes its
socket).
"""
import argparse
import datetime
import http.server
import json
import os
import signal
import socketserver
import sys
import threading
import time

MODES = ("ok", "slow", "error", "unmount-error", "malformed", "crash-mount",
         "outside", "file", "symlink", "http500", "no-volumedriver")
BODY_MAX = 1 << 20


class State:
    """The volumes, their mount IDs, and the request log; one lock."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.path = os.path.join(args.state, "volumes.json")
        self.mnt = args.mount_root or os.path.join(args.state, "mnt")
        os.makedirs(self.mnt, exist_ok=True)
        try:
            with open(self.path) as f:
                self.vols = json.load(f)
        except FileNotFoundError:
            self.vols = {}

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.vols, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def log(self, method, raw):
        if not self.args.log:
            return
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        line = json.dumps({"method": method, "body": body}) + "\n"
        with self.lock:
            with open(self.args.log, "a") as f:
                f.write(line)
                f.flush()

    def mountpoint(self, name):
        return os.path.join(self.mnt, name)


def volume_driver(st, method, req):
    """The reply (a dict) to one VolumeDriver call in the default mode."""
    name = req.get("Name") if isinstance(req, dict) else None
    if method in ("List", "Capabilities"):
        pass
    elif not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        return {"Err": "invalid volume name"}
    with st.lock:
        if method == "Create":
            if name not in st.vols:
                st.vols[name] = {
                    "Opts": req.get("Opts") or {},
                    "CreatedAt": datetime.datetime.now(datetime.timezone.utc)
                    .isoformat(timespec="seconds"),
                    "IDs": [],
                }
                st.save()
            return {"Err": ""}
        if method == "List":
            return {"Volumes": [{"Name": n, "Mountpoint": st.mountpoint(n)}
                                for n in sorted(st.vols)], "Err": ""}
        if method == "Capabilities":
            return {"Capabilities": {"Scope": "local"}}
        v = st.vols.get(name)
        if v is None:
            return {"Err": "no such volume"}
        mp = st.mountpoint(name)
        if method == "Remove":
            if v["IDs"]:
                return {"Err": "volume %s is in use" % name}
            del st.vols[name]
            st.save()
            return {"Err": ""}
        if method == "Mount":
            mid = req.get("ID")
            if not isinstance(mid, str) or not mid:
                return {"Err": "no mount ID"}
            os.makedirs(mp, exist_ok=True)
            if mid not in v["IDs"]:
                v["IDs"].append(mid)
                st.save()
            return {"Mountpoint": mp, "Err": ""}
        if method == "Unmount":
            mid = req.get("ID")
            if mid in v["IDs"]:
                v["IDs"].remove(mid)
                st.save()
            return {"Err": ""}
        if method == "Path":
            return {"Mountpoint": mp, "Err": ""}
        if method == "Get":
            return {"Volume": {"Name": name, "Mountpoint": mp,
                               "CreatedAt": v["CreatedAt"],
                               "Status": {"ids": len(v["IDs"])}}, "Err": ""}
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "volplugin/1"

    def log_message(self, *args):
        pass  # a unix socket has no client address to print

    def reply(self, status, body, ctype="application/vnd.docker.plugins.v1.2+json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def do_POST(self):
        st, mode = self.server.state, self.server.state.args.mode
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = -1
        if n < 0 or n > BODY_MAX:
            self.reply(400, b"bad Content-Length\n", "text/plain")
            return
        raw = self.rfile.read(n) if n else b""
        method = self.path.lstrip("/")
        st.log(method, raw)
        if method == "Plugin.Activate":
            impl = ["NetworkDriver"] if mode == "no-volumedriver" else ["VolumeDriver"]
            self.reply(200, {"Implements": impl})
            return
        iface, _, meth = method.partition(".")
        if iface != "VolumeDriver":
            self.reply(404, b"404 page not found\n", "text/plain")
            return
        try:
            req = json.loads(raw) if raw else {}
        except ValueError:
            self.reply(400, {"Err": "request is not JSON"})
            return
        if mode == "slow":
            time.sleep(st.args.delay)
        if mode == "error":
            self.reply(200, {"Err": "injected failure"})
            return
        if mode == "unmount-error" and meth == "Unmount":
            self.reply(200, {"Err": "injected unmount failure"})
            return
        if mode == "malformed":
            self.reply(200, b'{"Mountpoint": "/x", "Err": ')
            return
        if mode == "http500":
            self.reply(500, b"internal meltdown\nsecond line\n", "text/plain")
            return
        if mode == "crash-mount" and meth == "Mount":
            os._exit(3)
        out = volume_driver(st, meth, req)
        if out is None:
            self.reply(404, b"404 page not found\n", "text/plain")
            return
        if meth == "Mount" and "Mountpoint" in out:
            if mode == "outside":
                out["Mountpoint"] = "/etc"
            elif mode == "file":
                f = os.path.join(st.args.state, "file-" + req["Name"])
                with open(f, "w") as fh:
                    fh.write("not a directory\n")
                out["Mountpoint"] = f
            elif mode == "symlink":
                link = os.path.join(st.args.state, "link-" + req["Name"])
                if not os.path.islink(link):
                    os.symlink(out["Mountpoint"], link)
                out["Mountpoint"] = link
        if meth == "Path" and mode == "outside":
            out["Mountpoint"] = "/etc"
        self.reply(200, out)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--socket", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--mode", default="ok", choices=MODES)
    ap.add_argument("--delay", type=float, default=2.0)
    ap.add_argument("--log")
    ap.add_argument("--mount-root")
    args = ap.parse_args()

    os.makedirs(args.state, exist_ok=True)
    state = State(args)
    try:
        os.unlink(args.socket)
    except FileNotFoundError:
        pass
    srv = Server(args.socket, Handler)
    srv.state = state

    def on_term(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    try:
        srv.serve_forever()
    finally:
        srv.server_close()
        try:
            os.unlink(args.socket)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
