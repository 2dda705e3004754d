#!/usr/bin/env python3
"""tests/lib/mkimage.py - builds image tars for `moat load` tests, good and evil.

Standard library only (tarfile, hashlib, json), so the tests need no image
tool.  The output is what `docker save` (moby >= 25) writes: an OCI image
layout (oci-layout, index.json, blobs/sha256/...) plus the legacy
manifest.json, with the name in all three places loaders look:
io.containerd.image.name, org.opencontainers.image.ref.name (the tag) and
RepoTags.

The rootfs is a busybox-static tree: /bin/busybox, applet symlinks, /etc
passwd and group, empty /proc /sys /dev /tmp.  --evil KIND adds one
malicious construct from the tar/whiteout class (security-bar.md §1);
--symlink PATH=TARGET replaces a top-level directory with a symlink (the
CVE-2023-27561 and /dev-symlink cases).  Evil entries aim at --victim, a
host directory the test checks afterwards.

Prints the config digest ("sha256:...") on stdout.
"""
import argparse
import gzip
import hashlib
import io
import json
import sys
import tarfile

APPLETS = ["sh", "cat", "echo", "ls", "id", "env", "true", "false", "sleep",
           "pwd", "hostname", "mkdir", "rm", "touch", "stat", "readlink", "ps"]


def tar_bytes(entries):
    """entries: list of (TarInfo, bytes|None) -> uncompressed tar bytes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def ti_dir(name, mode=0o755):
    ti = tarfile.TarInfo(name)
    ti.type = tarfile.DIRTYPE
    ti.mode = mode
    ti.mtime = 1700000000
    return ti


def ti_file(name, data, mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = mode
    ti.mtime = 1700000000
    return ti, data


def ti_link(name, target, hard=False):
    ti = tarfile.TarInfo(name)
    ti.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    ti.linkname = target
    ti.mode = 0o777
    ti.mtime = 1700000000
    return ti


def base_layer(busybox, symlinks, files):
    with open(busybox, "rb") as f:
        bb = f.read()
    replaced = set(symlinks)
    entries = []
    for d in ["bin", "etc", "proc", "sys", "dev", "tmp", "root"]:
        if d not in replaced:
            entries.append((ti_dir(d, 0o1777 if d == "tmp" else 0o755), None))
    for name, target in symlinks.items():
        entries.append((ti_link(name, target), None))
    entries.append(ti_file("bin/busybox", bb, 0o755))
    for a in APPLETS:
        entries.append((ti_link("bin/" + a, "busybox"), None))
    entries.append(ti_file("etc/passwd",
                           b"root:x:0:0:root:/root:/bin/sh\n"
                           b"moat:x:1000:1000::/tmp:/bin/sh\n"
                           b"nobody:x:65534:65534::/:/bin/false\n"))
    entries.append(ti_file("etc/group",
                           b"root:x:0:\nusers:x:100:\nmoat:x:1000:\nnogroup:x:65534:\n"))
    for spec in files:
        host, ctr = spec.split(":", 1)
        with open(host, "rb") as f:
            entries.append(ti_file(ctr.lstrip("/"), f.read(), 0o755))
    return entries


def evil_layers(kind, victim):
    """Extra layers (each a list of entries) for one malicious construct."""
    up = "../" * 24
    if kind == "dotdot":
        return [[ti_file(up + victim.lstrip("/") + "/dotdot", b"escaped\n")]]
    if kind == "dotdot-plain":
        return [[ti_file("../x", b"escaped\n")]]
    if kind == "absolute":
        return [[ti_file(victim + "/abs", b"escaped\n")]]
    if kind == "hardlink-out":
        return [[(ti_link("evil-hard", up + victim.lstrip("/") + "/secret", hard=True), None)]]
    if kind == "hardlink-abs":
        return [[(ti_link("evil-hard", victim + "/secret", hard=True), None)]]
    if kind == "whiteout-symlink":
        # layer 1 plants wh -> victim; layer 2 deletes "target" through it
        return [[(ti_link("wh", victim), None)],
                [ti_file("wh/.wh.target", b"")]]
    if kind == "symlink-write":
        # layer 1 plants lnk -> victim; layer 2 writes a file through it
        return [[(ti_link("lnk", victim), None)],
                [ti_file("lnk/planted", b"escaped\n")]]
    if kind == "symlink-dot":
        # CVE-2021-29136: an entry "." that is a symlink
        return [[(ti_link(".", victim), None)]]
    raise SystemExit("mkimage.py: unknown --evil " + kind)


class Layout:
    def __init__(self):
        self.blobs = {}

    def add(self, data):
        d = hashlib.sha256(data).hexdigest()
        self.blobs[d] = data
        return "sha256:" + d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--name", default="loadtest")
    ap.add_argument("--tag", default="latest")
    ap.add_argument("--busybox", default="/bin/busybox")
    ap.add_argument("--file", action="append", default=[], help="HOST:/ctr/path")
    ap.add_argument("--symlink", action="append", default=[], help="TOPDIR=TARGET")
    ap.add_argument("--evil", default=None)
    ap.add_argument("--victim", default="/nonexistent-victim")
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--no-docker-manifest", action="store_true")
    args = ap.parse_args()

    symlinks = dict(s.split("=", 1) for s in args.symlink)
    layers = [base_layer(args.busybox, symlinks, args.file)]
    kind = args.evil
    if kind and kind not in ("bad-digest", "bad-json", "bad-manifest-json", "big-config"):
        layers += evil_layers(kind, args.victim)

    lay = Layout()
    layer_descs, diff_ids = [], []
    for entries in layers:
        raw = tar_bytes(entries)
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        blob = gzip.compress(raw, mtime=0) if args.gzip else raw
        mt = ("application/vnd.oci.image.layer.v1.tar+gzip" if args.gzip
              else "application/vnd.oci.image.layer.v1.tar")
        layer_descs.append({"mediaType": mt, "digest": lay.add(blob), "size": len(blob)})

    config = {
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": "mkimage.py"} for _ in layers],
    }
    if kind == "big-config":
        # 16 MiB of valid JSON: above any sane cap (moat: 4 MiB)
        config["config"]["Labels"] = {"pad": "x" * (16 << 20)}
    cfg = json.dumps(config).encode()
    cfg_digest = lay.add(cfg)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": cfg_digest, "size": len(cfg)},
        "layers": layer_descs,
    }
    man = json.dumps(manifest).encode()
    if kind == "bad-manifest-json":
        man = man[: len(man) // 2]  # truncated, but stored under its own digest
    man_digest = lay.add(man)
    ref = args.name + ":" + args.tag
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": man_digest, "size": len(man),
            "annotations": {"io.containerd.image.name": "docker.io/library/" + ref,
                            "org.opencontainers.image.ref.name": args.tag},
        }],
    }
    index_b = json.dumps(index).encode()
    if kind == "bad-json":
        index_b = b'{"schemaVersion": 2, "manifests": [ {'

    if kind == "bad-digest":
        # the first layer's bytes no longer hash to the name they are stored under
        d = layer_descs[0]["digest"].split(":", 1)[1]
        b = bytearray(lay.blobs[d])
        b[len(b) // 2] ^= 0xFF
        lay.blobs[d] = bytes(b)

    out = []
    out.append(ti_file("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'))
    out.append(ti_file("index.json", index_b))
    if not args.no_docker_manifest:
        legacy = [{"Config": "blobs/sha256/" + cfg_digest.split(":")[1],
                   "RepoTags": [ref],
                   "Layers": ["blobs/sha256/" + l["digest"].split(":")[1] for l in layer_descs]}]
        out.append(ti_file("manifest.json", json.dumps(legacy).encode()))
    out.append((ti_dir("blobs"), None))
    out.append((ti_dir("blobs/sha256"), None))
    for d, data in sorted(lay.blobs.items()):
        out.append(ti_file("blobs/sha256/" + d, data))
    with open(args.out, "wb") as f:
        f.write(tar_bytes(out))
    print(cfg_digest)


if __name__ == "__main__":
    sys.exit(main())
