"""The official Python kubernetes client (from PyPI) against `kj serve`: create, list with a label
selector, watch from a resourceVersion, patch, delete, and a NotFound error. Exits non-zero on the
first thing that is not as a Kubernetes API server would answer."""
import json
import os
import sys

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

config.load_kube_config(os.environ["KUBECONFIG"])
v1 = client.CoreV1Api()


def pod(name, labels):
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx:1.27")]),
    )


created = v1.create_namespaced_pod("default", pod("py-pod", {"app": "py", "tier": "web"}))
assert created.metadata.uid, "a created pod has a uid"
start = created.metadata.resource_version
v1.create_namespaced_pod("default", pod("py-other", {"app": "other"}))

listed = v1.list_namespaced_pod("default", label_selector="app=py")
names = [p.metadata.name for p in listed.items]
assert names == ["py-pod"], names
assert int(listed.metadata.resource_version) >= int(start)

patched = v1.patch_namespaced_pod("py-pod", "default", {"metadata": {"labels": {"tier": "db"}}})
assert patched.metadata.labels == {"app": "py", "tier": "db"}, patched.metadata.labels
assert int(patched.metadata.resource_version) > int(start)

v1.delete_namespaced_pod("py-pod", "default", grace_period_seconds=0)

# A watch from the creation's revision replays everything after it: the patch, the scheduler's
# binding, the kubelet's status updates, and the deletion.
seen = []
w = watch.Watch()
for event in w.stream(v1.list_namespaced_pod, "default", label_selector="app=py", resource_version=start, timeout_seconds=30):
    labels = event["object"].metadata.labels or {}
    seen.append((event["type"], labels.get("tier"), event["object"].metadata.resource_version))
    if event["type"] == "DELETED":
        w.stop()
types = [t for t, _, _ in seen]
assert "MODIFIED" in types and types[-1] == "DELETED", seen
assert any(t == "MODIFIED" and tier == "db" for t, tier, _ in seen), seen
revisions = [int(rv) for _, _, rv in seen]
assert revisions == sorted(revisions) and revisions[0] > int(start), revisions

try:
    v1.read_namespaced_pod("py-pod", "default")
    sys.exit("reading a deleted pod should fail")
except ApiException as e:
    status = json.loads(e.body)
    assert e.status == 404 and status["reason"] == "NotFound" and status["kind"] == "Status", (e.status, e.body)

print("python client: ok;", len(seen), "watch events:", " ".join(types))
