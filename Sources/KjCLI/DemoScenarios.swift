/// The scenarios `kj demo` runs, embedded so the demo works from the binary alone. They are
/// copies of `replay/pod-create.yaml` and `replay/node-failure.yaml` (a test keeps them equal).
enum DemoScenarios {
    static let podCreate = #"""
name: pod-create
description: >
  An nginx pod on a 3-node cluster: the full path from kubectl's create request to Running —
  the API server stores the pod (Created), the scheduler decides and binds it, the kubelet pulls
  the image, creates and starts the container and reports Running and Ready.
seed: 1
cluster:
  nodes:
  - name: node-1
    cpu: "2"
    memory: 4Gi
  - name: node-2
    cpu: "4"
    memory: 8Gi
  - name: node-3
    cpu: "2"
    memory: 4Gi
    images: [{name: "nginx:1.27", size: 70000000}]
timeline:
- at: 5s
  as: alice
  apply: |
    apiVersion: v1
    kind: Pod
    metadata:
      name: nginx
      labels: {app: nginx}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports: [{containerPort: 80}]
        resources:
          requests: {cpu: 500m, memory: 256Mi}
- at: 5s
  expect: {decisions: SchedulingDecided, outcome: bound, object: nginx}
- at: 6s
  expect: {pod: nginx, phase: Pending, scheduled: true}
- at: 10s
  expect: {pod: nginx, phase: Running, ready: true}
- at: 10s
  expect: {decisions: KubeletDecided, action: start, object: nginx, exactly: 1}
"""#

    static let nodeFailure = #"""
name: node-failure
description: >
  A node stops heartbeating. After the 50 s monitor grace period the node lifecycle controller
  marks it Ready=Unknown and taints it node.kubernetes.io/unreachable; its pods, which tolerate
  that taint for 300 s (the default every pod gets), are evicted when that time is up, and their
  ReplicaSet's replacements are scheduled on the other nodes. When the node comes back, its
  kubelet finishes the evicted pods and the taint goes away.
seed: 3
cluster:
  nodes:
  - {name: node-1, cpu: "2", memory: 4Gi, images: ["nginx:1.27"]}
  - {name: node-2, cpu: "2", memory: 4Gi, images: ["nginx:1.27"]}
  - {name: node-3, cpu: "2", memory: 4Gi, images: ["nginx:1.27"]}
timeline:
- at: 5s
  apply: |
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      replicas: 3
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
          - name: nginx
            image: "nginx:1.27"
            resources: {requests: {cpu: 500m, memory: 256Mi}}
- at: 30s
  expect: {pods: app=web, count: 3, ready: true}
- at: 30s
  expect: {deployment: web, available: 3}
- at: 1m
  fault: {crash: node-2}
- at: 1m30s
  expect: {node: node-2, ready: "True"}
- at: 2m
  expect: {node: node-2, ready: Unknown, taint: node.kubernetes.io/unreachable}
- at: 6m
  expect: {decisions: NodeLifecycleDecided, action: evict, exactly: 0}
- at: 7m
  expect: {decisions: NodeLifecycleDecided, action: evict, node: node-2, exactly: 1}
- at: 7m30s
  expect: {pods: app=web, count: 3, ready: true, notNode: node-2}
- at: 8m
  fault: {recover: node-2}
- at: 8m30s
  expect: {node: node-2, ready: "True", noTaint: node.kubernetes.io/unreachable}
- at: 8m30s
  expect: {decisions: KubeletDecided, action: remove, node: node-2, exactly: 1}
- at: 9m
  expect: {pods: app=web, count: 3, ready: true}
"""#
}
