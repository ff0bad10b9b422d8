#!/usr/bin/env python3
"""A local stand-in for the Hugging Face Hub, for the Swift Hub tests (standard library only).

Serves `{endpoint}/{repo}/resolve/{revision}/{file}` with the Hub's headers (X-Repo-Commit, ETag,
X-Linked-Etag = sha256 and X-Linked-Size for LFS files, which answer with a 302 to a CDN path,
X-Error-Code on 404s) for these repositories, all holding config.json and model.safetensors of --root:

  test-org/tiny       public; revisions main, v1 (tag) and their commit hashes
                      (files: config.json and model.safetensors of --root)
  depth-anything/DA3-SMALL  the same files under the CLI's default id (for scripts/run.sh)
  test-org/private    401 unless `Authorization: Bearer secret-token`
  test-org/old-name   307 (relative redirect, no Hub headers) to test-org/tiny, as a renamed repo
  test-org/truncated  LFS body cut in half (Content-Length announces the full size)
  test-org/corrupt    LFS body of the right size whose SHA-256 differs from X-Linked-Etag
  anything else       404 RepoNotFound

Prints `PORT <n>` on its first line, appends `METHOD PATH` per request to --log, and exits by
itself after --lifetime seconds.
"""
import argparse
import hashlib
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAIN = "1111111111111111111111111111111111111111"
V1 = "2222222222222222222222222222222222222222"
REVISIONS = {"main": MAIN, "v1": V1, MAIN: MAIN, V1: V1}
LFS = {"model.safetensors"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    files = {}
    log_path = None

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.handle_request(send_body=False)

    def do_GET(self):
        self.handle_request(send_body=True)

    def reply(self, status, headers=None, body=b"", send_body=True, length=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)

    def handle_request(self, send_body):
        if self.log_path:
            with open(self.log_path, "a") as f:
                f.write(f"{self.command} {self.path}\n")
        parts = self.path.lstrip("/").split("/")
        if parts[0] == "cdn" and len(parts) == 3:
            return self.cdn(parts[1], parts[2], send_body)
        if len(parts) < 5 or parts[2] != "resolve":
            return self.reply(404, {"X-Error-Code": "RepoNotFound"}, b"not found", send_body)
        repo = parts[0] + "/" + parts[1]
        revision = parts[3].replace("%2F", "/")
        name = "/".join(parts[4:])
        if repo == "test-org/old-name":
            return self.reply(307, {"Location": "/test-org/tiny/resolve/" + "/".join(parts[3:])}, b"", send_body)
        if repo == "test-org/private" and self.headers.get("Authorization") != "Bearer secret-token":
            return self.reply(401, {"X-Error-Code": "RepoNotFound"}, b"Invalid credentials", send_body)
        if repo not in ("test-org/tiny", "depth-anything/DA3-SMALL", "test-org/private", "test-org/truncated", "test-org/corrupt"):
            return self.reply(404, {"X-Error-Code": "RepoNotFound"}, b"Repository not found", send_body)
        commit = REVISIONS.get(revision)
        if commit is None:
            return self.reply(404, {"X-Error-Code": "RevisionNotFound"}, b"Revision not found", send_body)
        if name not in self.files:
            return self.reply(404, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": commit}, b"Entry not found", send_body)
        data = self.files[name]
        headers = {"X-Repo-Commit": commit}
        if name in LFS:
            sha = hashlib.sha256(data).hexdigest()
            headers.update({
                "ETag": '"%s"' % hashlib.sha1(b"pointer " + data[:64]).hexdigest(),
                "X-Linked-Etag": '"%s"' % sha,
                "X-Linked-Size": str(len(data)),
                "Location": "/cdn/%s/%s" % (parts[1], name),
            })
            return self.reply(302, headers, b"", send_body)
        headers["ETag"] = '"%s"' % hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        return self.reply(200, headers, data, send_body)

    def cdn(self, repo_name, name, send_body):
        data = self.files.get(name)
        if data is None:
            return self.reply(404, {}, b"no such object", send_body)
        if repo_name == "truncated":
            self.reply(200, {"Connection": "close"}, b"", send_body, length=len(data))
            if send_body:
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
            self.close_connection = True
            return
        if repo_name == "corrupt":
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        return self.reply(200, {"ETag": '"cdn"'}, data, send_body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True, help="directory whose files every repository holds")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", default=None)
    ap.add_argument("--lifetime", type=float, default=300)
    args = ap.parse_args()
    Handler.files = {n: open(os.path.join(args.root, n), "rb").read() for n in ("config.json", "model.safetensors")}
    Handler.log_path = args.log
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("PORT %d" % server.server_address[1], flush=True)
    deadline = time.time() + args.lifetime
    while time.time() < deadline:
        time.sleep(0.2)
    server.shutdown()
    sys.exit(0)


if __name__ == "__main__":
    main()
