#!/usr/bin/env python3
"""A soak run of `kj serve`: mixed kubectl and Python-client load, malformed and fuzzed requests
interleaved, and the server killed with SIGKILL at random moments and started again on the same
journal. Afterwards every acknowledged write is looked up in the journal.

    python3 scripts/soak.py [--minutes 30] [--kj .build/release/kj] [--seed 1] [--out soak.json]

Prints a summary and writes it as JSON: kills, acknowledged writes, lost writes (must be 0),
crashes other than the kills (must be 0: any exit of the server we did not cause), and latency
percentiles of the requests that succeeded. Not part of CI (it runs for half an hour); the figures
of the last run are in docs/operations.md.
"""

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import requests
import urllib3
from kubernetes import client, config
from kubernetes.client.rest import ApiException

urllib3.disable_warnings()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `kj serve` on a fixed port and journal, started again after each kill."""

    def __init__(self, kj, journal, port):
        self.kj, self.journal, self.port = kj, journal, port
        self.proc = None
        self.lock = threading.Lock()
        self.kills = 0
        self.crashes = []  # (exit status, last lines of stderr)
        self.killing = False

    def start(self):
        """Starts the server and waits until it serves; retries while the previous one's lock is
        still held (a crashed process's backtracer can hold it for a few seconds)."""
        for _ in range(60):
            self.starts = getattr(self, "starts", 0) + 1
            self.log = os.path.join(os.path.dirname(self.journal), f"serve-{self.starts}.log")
            self.proc = subprocess.Popen(
                [self.kj, "serve", "--journal", self.journal, "--listen", f"127.0.0.1:{self.port}", "--nodes", "3", "--log-level", "warning"],
                stdout=subprocess.PIPE, stderr=open(self.log, "wb"))
            deadline = time.time() + 120
            for line in self.proc.stdout:
                if b"kubeconfig:" in line or time.time() > deadline:
                    threading.Thread(target=self.proc.stdout.read, daemon=True).start()
                    return
            self.proc.wait()
            if b"another kj serve holds" not in open(self.log, "rb").read():
                return  # it failed for another reason: the watcher reports it
            time.sleep(1)

    def kill(self):
        with self.lock:
            self.killing = True
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.kills += 1
            self.start()
            self.killing = False

    def watch(self, stop):
        """Counts any exit we did not cause as a crash, and starts the server again."""
        while not stop.is_set():
            time.sleep(0.5)
            with self.lock:
                if self.proc.poll() is not None and not self.killing:
                    text = open(self.log, "rb").read().decode(errors="replace")
                    # The crash report's first lines name the fault and where it happened.
                    at = max(text.find("Fatal error"), text.find("*** "), 0)
                    self.crashes.append({"status": self.proc.returncode, "log": self.log, "report": text[at:at + 1500]})
                    self.start()

    def stop(self):
        with self.lock:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Record:
    """What the workers saw: acknowledged writes and latencies of successful requests."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = []  # (revision, kind, namespace, name)
        self.latencies = []
        self.errors = {}
        self.malformed = 0

    def ack(self, rv, kind, namespace, name, seconds):
        with self.lock:
            self.acked.append((int(rv), kind, namespace, name))
            self.latencies.append(seconds)

    def ok(self, seconds):
        with self.lock:
            self.latencies.append(seconds)

    def error(self, what):
        with self.lock:
            self.errors[what] = self.errors.get(what, 0) + 1


def python_worker(n, kubeconfig, record, stop, rng):
    """Creates, patches, lists and deletes pods and deployments through the official client."""
    while not stop.is_set():
        try:
            api_client = config.new_client_from_config(kubeconfig)
            core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
            while not stop.is_set():
                name = f"w{n}-{rng.randrange(1 << 30):x}"
                action = rng.random()
                t = time.time()
                if action < 0.45:
                    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"worker": str(n)}},
                            "spec": {"containers": [{"name": "c", "image": rng.choice(["nginx", "busybox"]),
                                                     "resources": {"requests": {"cpu": rng.choice(["10m", "100m", "1"])}}}],
                                     "terminationGracePeriodSeconds": rng.choice([0, 1, 5])}}
                    pod = core.create_namespaced_pod("default", body)
                    record.ack(pod.metadata.resource_version, "Pod", "default", name, time.time() - t)
                elif action < 0.6:
                    pods = core.list_namespaced_pod("default", label_selector=f"worker={n}", limit=50).items
                    record.ok(time.time() - t)
                    if pods:
                        victim = rng.choice(pods).metadata.name
                        t = time.time()
                        patched = core.patch_namespaced_pod(victim, "default", {"metadata": {"labels": {"touched": str(rng.randrange(100))}}})
                        record.ack(patched.metadata.resource_version, "Pod", "default", victim, time.time() - t)
                elif action < 0.8:
                    pods = core.list_namespaced_pod("default", label_selector=f"worker={n}", limit=50).items
                    record.ok(time.time() - t)
                    if pods:
                        victim = rng.choice(pods).metadata.name
                        t = time.time()
                        core.delete_namespaced_pod(victim, "default", grace_period_seconds=rng.choice([0, 1]))
                        record.ok(time.time() - t)
                elif action < 0.9:
                    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                            "spec": {"replicas": rng.randrange(0, 4), "selector": {"matchLabels": {"app": name}},
                                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
                    d = apps.create_namespaced_deployment("default", body)
                    record.ack(d.metadata.resource_version, "Deployment", "default", name, time.time() - t)
                else:
                    deployments = apps.list_namespaced_deployment("default", limit=20).items
                    record.ok(time.time() - t)
                    if deployments:
                        victim = rng.choice(deployments).metadata.name
                        t = time.time()
                        if rng.random() < 0.5:
                            d = apps.patch_namespaced_deployment_scale(victim, "default", {"spec": {"replicas": rng.randrange(0, 4)}})
                            record.ok(time.time() - t)
                        else:
                            apps.delete_namespaced_deployment(victim, "default")
                            record.ok(time.time() - t)
        except ApiException as e:
            record.error(f"python {e.status}")
        except Exception as e:  # connection refused while the server restarts, timeouts …
            record.error(f"python {type(e).__name__}")
            time.sleep(0.2)


def kubectl_worker(kubeconfig, record, stop, rng):
    """kubectl as a user types it."""
    env = dict(os.environ, KUBECONFIG=kubeconfig)
    while not stop.is_set():
        name = f"k-{rng.randrange(1 << 30):x}"
        command = rng.choice([
            ["create", "deployment", name, "--image=nginx", f"--replicas={rng.randrange(1, 3)}"],
            ["get", "pods", "-o", "wide"],
            ["get", "deployments"],
            ["delete", "pods", "-l", "worker=0", "--grace-period=0", "--force", "--wait=false"],
            ["run", name, "--image=busybox"],
            ["get", "events"],
        ])
        t = time.time()
        r = subprocess.run(["kubectl", "--request-timeout=20s"] + command, env=env, capture_output=True)
        if r.returncode == 0:
            record.ok(time.time() - t)
        else:
            record.error("kubectl " + command[0])
        time.sleep(rng.random())


def mutate(data, rng):
    data = bytearray(data)
    for _ in range(rng.randrange(1, 8)):
        op = rng.random()
        if op < 0.4 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif op < 0.6:
            data[rng.randrange(len(data) + 1):0] = rng.choice([b"9223372036854775807", b"1e308", b"-1", b"{", b"[", b"&a *a", b"\x00", b'"'])
        elif op < 0.8 and data:
            i = rng.randrange(len(data))
            del data[i:i + rng.randrange(1, 16)]
        else:
            i = rng.randrange(len(data) + 1)
            data[i:i] = data[:rng.randrange(len(data) + 1)]
    return bytes(data)


def malformed_worker(url, token, ca, record, stop, rng):
    """Mutated bodies from the fuzz corpus, bad query parameters, wrong content types."""
    seeds = []
    corpus = os.path.join(ROOT, "Tests", "FuzzTests", "corpus")
    for dirpath, _, files in os.walk(corpus):
        for f in files:
            with open(os.path.join(dirpath, f), "rb") as fh:
                seeds.append(fh.read())
    if not seeds:
        seeds = [b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}']
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    while not stop.is_set():
        body = mutate(rng.choice(seeds), rng)
        content = rng.choice(["application/json", "application/yaml", "application/vnd.kubernetes.protobuf", "text/plain",
                              "application/merge-patch+json", "application/json-patch+json"])
        path = rng.choice(["/api/v1/namespaces/default/pods", "/apis/apps/v1/namespaces/default/deployments", "/api/v1/nodes",
                           "/api/v1/namespaces/default/pods?limit=-1", "/api/v1/pods?watch=1&timeoutSeconds=9223372036854775807",
                           "/api/v1/namespaces/default/pods?resourceVersion=abc&resourceVersionMatch=Exact"])
        method = rng.choice(["POST", "POST", "PATCH", "PUT", "DELETE", "GET"])
        if method in ("PATCH", "PUT", "DELETE"):
            path = "/api/v1/namespaces/default/pods/w0-1"
        try:
            r = session.request(method, url + path, data=body, headers=dict(headers, **{"Content-Type": content}),
                                timeout=10, verify=ca)  # per request: REQUESTS_CA_BUNDLE would override a session's
            with record.lock:
                record.malformed += 1
            if r.status_code >= 500:
                record.error(f"malformed answered {r.status_code}")
            if r.status_code in (200, 201) and method in ("POST", "PUT", "PATCH"):
                # A mutated body can still be a valid object: it is acknowledged like any write.
                try:
                    meta = r.json().get("metadata", {})
                    if meta.get("resourceVersion") and meta.get("name"):
                        record.ack(meta["resourceVersion"], r.json().get("kind", ""), meta.get("namespace", ""), meta["name"], 0)
                except ValueError:
                    pass
        except requests.RequestException as e:
            record.error(f"malformed {type(e).__name__}")
            time.sleep(0.2)


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--kj", default=os.path.join(ROOT, ".build", "release", "kj"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--kill-every", type=float, default=45, help="mean seconds between SIGKILLs")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    directory = tempfile.mkdtemp(prefix="kj-soak-")
    journal = os.path.join(directory, "journal")
    server = Server(args.kj, journal, free_port())
    server.start()
    kubeconfig = os.path.join(journal, "kubeconfig")
    token = next(line for line in open(os.path.join(journal, "tokens.csv")).read().split("\n") if line and not line.startswith("#")).split(",")[0]
    url = f"https://127.0.0.1:{server.port}"
    ca = os.path.join(journal, "ca.crt")

    record, stop = Record(), threading.Event()
    threads = [threading.Thread(target=server.watch, args=(stop,), daemon=True)]
    for n in range(args.workers):
        threads.append(threading.Thread(target=python_worker, args=(n, kubeconfig, record, stop, random.Random(rng.random())), daemon=True))
    threads.append(threading.Thread(target=kubectl_worker, args=(kubeconfig, record, stop, random.Random(rng.random())), daemon=True))
    threads.append(threading.Thread(target=malformed_worker, args=(url, token, ca, record, stop, random.Random(rng.random())), daemon=True))
    for t in threads:
        t.start()

    end = time.time() + args.minutes * 60
    while time.time() < end:
        time.sleep(min(max(1, rng.expovariate(1 / args.kill_every)), max(0, end - time.time())))
        if time.time() < end:
            server.kill()
    stop.set()
    time.sleep(2)
    server.stop()

    # Every acknowledged write must be in the journal, at its revision, about its object.
    export = subprocess.run([args.kj, "journal", "export", "--journal", journal], capture_output=True, check=True).stdout.decode()
    by_revision = {}
    for line in export.splitlines():
        e = json.loads(line)
        by_revision[e["rev"]] = e
    lost = [a for a in record.acked
            if a[0] not in by_revision or by_revision[a[0]]["object"]["name"] != a[3]]
    verify = subprocess.run([args.kj, "journal", "verify", "--journal", journal], capture_output=True)
    summary = {
        "minutes": args.minutes, "kills": server.kills, "acknowledged_writes": len(record.acked), "lost_writes": len(lost),
        "crashes_other_than_kills": len(server.crashes), "malformed_requests": record.malformed,
        "good_requests": len(record.latencies),
        "p50_ms": round(percentile(record.latencies, 0.5) * 1000, 1) if record.latencies else None,
        "p99_ms": round(percentile(record.latencies, 0.99) * 1000, 1) if record.latencies else None,
        "journal_events": len(by_revision), "journal_verifies": verify.returncode == 0,
        "errors": record.errors, "crashes": server.crashes, "lost": lost[:20], "journal": journal,
    }
    print(json.dumps(summary, indent=2))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(summary, f, indent=2)
    sys.exit(0 if not lost and not server.crashes and verify.returncode == 0 else 1)


if __name__ == "__main__":
    main()
