/// The protobuf messages of the kinds kj serves, as far as kj's model knows them: field numbers
/// from Kubernetes' `generated.proto` files (core/v1, apps/v1, autoscaling/v1, scheduling/v1, meta/v1,
/// runtime, resource, intstr), member names from the JSON tags. `.kept` marks pointers and fields without
/// `omitempty`, whose zero values JSON carries too (see `ProtoField.Zero`).
///
/// Left out on purpose (skipped like any unknown field): managedFields, volumes and volumeMounts,
/// security contexts, resize policies, resource claims, scheduling gates and the newer fields kj's
/// model has no place for.
enum KubeMessages {
    /// The message for a kind named in the envelope, or nil if it is not decoded here.
    static func message(apiVersion: String, kind: String) -> ProtoMessage? {
        // DeleteOptions is registered in every group version (and meta.k8s.io/v1).
        if kind == "DeleteOptions" { return deleteOptions }
        return kinds[apiVersion + " " + kind]
    }

    static let kinds: [String: ProtoMessage] = [
        "v1 Namespace": namespace, "v1 Node": node, "v1 Pod": pod, "v1 Service": service,
        "v1 Endpoints": endpoints, "v1 Event": event, "v1 Binding": binding,
        "apps/v1 ReplicaSet": replicaSet, "apps/v1 Deployment": deployment,
        "autoscaling/v1 Scale": scale, "scheduling.k8s.io/v1 PriorityClass": priorityClass,
        "v1 ConfigMap": configMap, "v1 Secret": secret, "v1 ServiceAccount": serviceAccount,
        "batch/v1 Job": job, "batch/v1 CronJob": cronJob,
        "policy/v1 Eviction": eviction, "policy/v1beta1 Eviction": eviction,
        "policy/v1 PodDisruptionBudget": podDisruptionBudget, "v1 ResourceQuota": resourceQuota,
        "authorization.k8s.io/v1 SelfSubjectAccessReview": selfSubjectAccessReview,
        "authorization.k8s.io/v1 SelfSubjectRulesReview": ProtoMessage("SelfSubjectRulesReview", [
            1: .message("metadata", objectMeta),
            2: .message("spec", ProtoMessage("SelfSubjectRulesReviewSpec", [1: .string("namespace")])),
        ]),
    ]

    /// What `kubectl auth can-i` sends (`--list` sends a SelfSubjectRulesReview).
    static let selfSubjectAccessReview = ProtoMessage("SelfSubjectAccessReview", [
        1: .message("metadata", objectMeta),
        2: .message("spec", ProtoMessage("SelfSubjectAccessReviewSpec", [
            1: .message("resourceAttributes", ProtoMessage("ResourceAttributes", [
                1: .string("namespace"), 2: .string("verb"), 3: .string("group"), 4: .string("version"),
                5: .string("resource"), 6: .string("subresource"), 7: .string("name"),
            ])),
            2: .message("nonResourceAttributes", ProtoMessage("NonResourceAttributes", [1: .string("path"), 2: .string("verb")])),
        ])),
    ])

    /// What `kubectl create poddisruptionbudget` sends (the status's map of disrupted pods is left out).
    static let podDisruptionBudget = ProtoMessage("PodDisruptionBudget", [
        1: .message("metadata", objectMeta),
        2: .message("spec", ProtoMessage("PodDisruptionBudgetSpec", [
            1: .intOrString("minAvailable", .kept),
            2: .message("selector", labelSelector),
            3: .intOrString("maxUnavailable", .kept),
            4: .string("unhealthyPodEvictionPolicy", .kept),
        ])),
        3: .message("status", ProtoMessage("PodDisruptionBudgetStatus", [
            1: .int64("observedGeneration"),
            3: .int32("disruptionsAllowed", .kept),
            4: .int32("currentHealthy", .kept),
            5: .int32("desiredHealthy", .kept),
            6: .int32("expectedPods", .kept),
        ])),
    ])

    /// What `kubectl create quota` sends.
    static let resourceQuota = ProtoMessage("ResourceQuota", [
        1: .message("metadata", objectMeta),
        2: .message("spec", ProtoMessage("ResourceQuotaSpec", [1: .quantityMap("hard"), 2: .strings("scopes")])),
        3: .message("status", ProtoMessage("ResourceQuotaStatus", [1: .quantityMap("hard"), 2: .quantityMap("used")])),
    ])

    /// The body of `POST pods/NAME/eviction` (what `kubectl drain` sends).
    static let eviction = ProtoMessage("Eviction", [
        1: .message("metadata", objectMeta),
        2: .message("deleteOptions", deleteOptions),
    ])

    // MARK: what `kubectl create configmap|secret|serviceaccount|job|cronjob` sends

    static let configMap = ProtoMessage("ConfigMap", [
        1: .message("metadata", objectMeta),
        2: .stringMap("data"),
        3: .bytesMap("binaryData"),
        4: .bool("immutable", .kept),
    ])

    static let secret = ProtoMessage("Secret", [
        1: .message("metadata", objectMeta),
        2: .bytesMap("data"),
        3: .string("type"),
        4: .stringMap("stringData"),
        5: .bool("immutable", .kept),
    ])

    static let serviceAccount = ProtoMessage("ServiceAccount", [
        1: .message("metadata", objectMeta),
        2: .messages("secrets", objectReference),
        3: .messages("imagePullSecrets", localObjectReference),
        4: .bool("automountServiceAccountToken", .kept),
    ])

    static let job = ProtoMessage("Job", [
        1: .message("metadata", objectMeta),
        2: .message("spec", jobSpec),
        3: .message("status", jobStatus),
    ])

    static let jobSpec = ProtoMessage("JobSpec", [
        1: .int32("parallelism", .kept),
        2: .int32("completions", .kept),
        3: .int64("activeDeadlineSeconds", .kept),
        4: .message("selector", labelSelector),
        5: .bool("manualSelector", .kept),
        6: .message("template", podTemplateSpec),
        7: .int32("backoffLimit", .kept),
        8: .int32("ttlSecondsAfterFinished", .kept),
        9: .string("completionMode", .kept),
        10: .bool("suspend", .kept),
        12: .int32("backoffLimitPerIndex", .kept),
        13: .int32("maxFailedIndexes", .kept),
        14: .string("podReplacementPolicy", .kept),
        15: .string("managedBy", .kept),
    ])

    static let jobStatus = ProtoMessage("JobStatus", [
        1: .messages("conditions", ProtoMessage("JobCondition", [
            1: .string("type"), 2: .string("status"), 3: .time("lastProbeTime"), 4: .time("lastTransitionTime"),
            5: .string("reason"), 6: .string("message"),
        ])),
        2: .time("startTime"),
        3: .time("completionTime"),
        4: .int32("active"),
        5: .int32("succeeded"),
        6: .int32("failed"),
        7: .string("completedIndexes"),
        9: .int32("ready", .kept),
        10: .string("failedIndexes", .kept),
        11: .int32("terminating", .kept),
    ])

    static let cronJob = ProtoMessage("CronJob", [
        1: .message("metadata", objectMeta),
        2: .message("spec", ProtoMessage("CronJobSpec", [
            1: .string("schedule"),
            2: .int64("startingDeadlineSeconds", .kept),
            3: .string("concurrencyPolicy"),
            4: .bool("suspend", .kept),
            5: .message("jobTemplate", ProtoMessage("JobTemplateSpec", [1: .message("metadata", objectMeta), 2: .message("spec", jobSpec)])),
            6: .int32("successfulJobsHistoryLimit", .kept),
            7: .int32("failedJobsHistoryLimit", .kept),
            8: .string("timeZone", .kept),
        ])),
        3: .message("status", ProtoMessage("CronJobStatus", [
            1: .messages("active", objectReference),
            4: .time("lastScheduleTime"),
            5: .time("lastSuccessfulTime"),
        ])),
    ])

    static let priorityClass = ProtoMessage("PriorityClass", [
        1: .message("metadata", objectMeta),
        2: .int32("value", .kept),
        3: .bool("globalDefault", .kept),
        4: .string("description"),
        5: .string("preemptionPolicy", .kept),
    ])

    // MARK: runtime, resource, intstr

    static let typeMeta = ProtoMessage("TypeMeta", [1: .string("apiVersion"), 2: .string("kind")])
    static let quantity = ProtoMessage("Quantity", [1: .string("string", .kept)])
    static let intOrString = ProtoMessage("IntOrString", [1: .int64("type"), 2: .int32("intVal", .kept), 3: .string("strVal", .kept)])
    static let timestamp = ProtoMessage("Time", [1: .int64("seconds"), 2: .int32("nanos")])
    static let stringEntry = ProtoMessage("map entry", [1: .string("key", .kept), 2: .string("value", .kept)])
    static let quantityEntry = ProtoMessage("map entry", [1: .string("key", .kept), 2: .quantity("value")])
    static let bytesEntry = ProtoMessage("map entry", [1: .string("key", .kept), 2: .bytes("value", .kept)])

    // MARK: meta/v1

    static let objectMeta = ProtoMessage("ObjectMeta", [
        1: .string("name"),
        2: .string("generateName"),
        3: .string("namespace"),
        4: .string("selfLink"),
        5: .string("uid"),
        6: .string("resourceVersion"),
        7: .int64("generation"),
        8: .time("creationTimestamp"),
        9: .time("deletionTimestamp"),
        10: .int64("deletionGracePeriodSeconds", .kept),
        11: .stringMap("labels"),
        12: .stringMap("annotations"),
        13: .messages("ownerReferences", ownerReference),
        14: .strings("finalizers"),
    ])

    static let ownerReference = ProtoMessage("OwnerReference", [
        5: .string("apiVersion", .kept),
        1: .string("kind", .kept),
        3: .string("name", .kept),
        4: .string("uid", .kept),
        6: .bool("controller", .kept),
        7: .bool("blockOwnerDeletion", .kept),
    ])

    static let labelSelector = ProtoMessage("LabelSelector", [
        1: .stringMap("matchLabels"),
        2: .messages("matchExpressions", labelSelectorRequirement),
    ])

    static let labelSelectorRequirement = ProtoMessage("LabelSelectorRequirement", [
        1: .string("key", .kept),
        2: .string("operator", .kept),
        3: .strings("values"),
    ])

    static let deleteOptions = ProtoMessage("DeleteOptions", [
        1: .int64("gracePeriodSeconds", .kept),
        2: .message("preconditions", ProtoMessage("Preconditions", [1: .string("uid", .kept), 2: .string("resourceVersion", .kept)])),
        3: .bool("orphanDependents", .kept),
        4: .string("propagationPolicy", .kept),
        5: .strings("dryRun"),
    ])

    // MARK: core/v1 objects

    static let namespace = ProtoMessage("Namespace", [
        1: .message("metadata", objectMeta),
        2: .message("spec", ProtoMessage("NamespaceSpec", [1: .strings("finalizers")])),
        3: .message("status", ProtoMessage("NamespaceStatus", [1: .string("phase")])),
    ])

    static let node = ProtoMessage("Node", [
        1: .message("metadata", objectMeta),
        2: .message("spec", nodeSpec),
        3: .message("status", nodeStatus),
    ])

    static let pod = ProtoMessage("Pod", [
        1: .message("metadata", objectMeta),
        2: .message("spec", podSpec),
        3: .message("status", podStatus),
    ])

    static let service = ProtoMessage("Service", [
        1: .message("metadata", objectMeta),
        2: .message("spec", serviceSpec),
        3: .message("status", serviceStatus),
    ])

    static let endpoints = ProtoMessage("Endpoints", [
        1: .message("metadata", objectMeta),
        2: .messages("subsets", endpointSubset),
    ])

    static let event = ProtoMessage("Event", [
        1: .message("metadata", objectMeta),
        2: .message("involvedObject", objectReference),
        3: .string("reason"),
        4: .string("message"),
        5: .message("source", ProtoMessage("EventSource", [1: .string("component"), 2: .string("host")])),
        6: .time("firstTimestamp"),
        7: .time("lastTimestamp"),
        8: .int32("count"),
        9: .string("type"),
        10: .microTime("eventTime"),
        11: .message("series", ProtoMessage("EventSeries", [1: .int32("count"), 2: .microTime("lastObservedTime")])),
        12: .string("action"),
        13: .message("related", objectReference),
        14: .string("reportingComponent"),
        15: .string("reportingInstance"),
    ])

    /// The body of `POST pods/NAME/binding`.
    static let binding = ProtoMessage("Binding", [
        1: .message("metadata", objectMeta),
        2: .message("target", objectReference),
    ])

    static let objectReference = ProtoMessage("ObjectReference", [
        1: .string("kind"),
        2: .string("namespace"),
        3: .string("name"),
        4: .string("uid"),
        5: .string("apiVersion"),
        6: .string("resourceVersion"),
        7: .string("fieldPath"),
    ])

    // MARK: core/v1 Node

    static let nodeSpec = ProtoMessage("NodeSpec", [
        1: .string("podCIDR"),
        7: .strings("podCIDRs"),
        3: .string("providerID"),
        4: .bool("unschedulable"),
        5: .messages("taints", taint),
    ])

    static let taint = ProtoMessage("Taint", [
        1: .string("key", .kept),
        2: .string("value"),
        3: .string("effect", .kept),
        4: .time("timeAdded"),
    ])

    static let nodeStatus = ProtoMessage("NodeStatus", [
        1: .quantityMap("capacity"),
        2: .quantityMap("allocatable"),
        3: .string("phase"),
        4: .messages("conditions", ProtoMessage("NodeCondition", [
            1: .string("type", .kept),
            2: .string("status", .kept),
            3: .time("lastHeartbeatTime"),
            4: .time("lastTransitionTime"),
            5: .string("reason"),
            6: .string("message"),
        ])),
        5: .messages("addresses", ProtoMessage("NodeAddress", [1: .string("type", .kept), 2: .string("address", .kept)])),
        6: .message("daemonEndpoints", ProtoMessage("NodeDaemonEndpoints", [
            1: .message("kubeletEndpoint", ProtoMessage("DaemonEndpoint", [1: .int32("Port", .kept)])),
        ])),
        7: .message("nodeInfo", ProtoMessage("NodeSystemInfo", [
            1: .string("machineID", .kept),
            2: .string("systemUUID", .kept),
            3: .string("bootID", .kept),
            4: .string("kernelVersion", .kept),
            5: .string("osImage", .kept),
            6: .string("containerRuntimeVersion", .kept),
            7: .string("kubeletVersion", .kept),
            8: .string("kubeProxyVersion", .kept),
            9: .string("operatingSystem", .kept),
            10: .string("architecture", .kept),
        ])),
        8: .messages("images", ProtoMessage("ContainerImage", [1: .strings("names"), 2: .int64("sizeBytes")])),
    ])

    // MARK: core/v1 Pod

    static let podTemplateSpec = ProtoMessage("PodTemplateSpec", [
        1: .message("metadata", objectMeta),
        2: .message("spec", podSpec),
    ])

    static let podSpec = ProtoMessage("PodSpec", [
        20: .messages("initContainers", container),
        2: .messages("containers", container),
        3: .string("restartPolicy"),
        4: .int64("terminationGracePeriodSeconds", .kept),
        5: .int64("activeDeadlineSeconds", .kept),
        6: .string("dnsPolicy"),
        7: .stringMap("nodeSelector"),
        8: .string("serviceAccountName"),
        9: .string("serviceAccount"),
        21: .bool("automountServiceAccountToken", .kept),
        10: .string("nodeName"),
        11: .bool("hostNetwork"),
        12: .bool("hostPID"),
        13: .bool("hostIPC"),
        27: .bool("shareProcessNamespace", .kept),
        15: .messages("imagePullSecrets", localObjectReference),
        16: .string("hostname"),
        17: .string("subdomain"),
        18: .message("affinity", ProtoMessage("Affinity", [
            1: .message("nodeAffinity", nodeAffinity),
            2: .message("podAffinity", podAffinity),
            3: .message("podAntiAffinity", podAffinity),
        ])),
        19: .string("schedulerName"),
        22: .messages("tolerations", ProtoMessage("Toleration", [
            1: .string("key"),
            2: .string("operator"),
            3: .string("value"),
            4: .string("effect"),
            5: .int64("tolerationSeconds", .kept),
        ])),
        24: .string("priorityClassName"),
        25: .int32("priority", .kept),
        26: .message("dnsConfig", ProtoMessage("PodDNSConfig", [
            1: .strings("nameservers"),
            2: .strings("searches"),
            3: .messages("options", ProtoMessage("PodDNSConfigOption", [1: .string("name"), 2: .string("value", .kept)])),
        ])),
        28: .messages("readinessGates", ProtoMessage("PodReadinessGate", [1: .string("conditionType", .kept)])),
        29: .string("runtimeClassName", .kept),
        30: .bool("enableServiceLinks", .kept),
        31: .string("preemptionPolicy", .kept),
        32: .quantityMap("overhead"),
        33: .messages("topologySpreadConstraints", ProtoMessage("TopologySpreadConstraint", [
            1: .int32("maxSkew", .kept),
            2: .string("topologyKey", .kept),
            3: .string("whenUnsatisfiable", .kept),
            4: .message("labelSelector", labelSelector),
            5: .int32("minDomains", .kept),
            6: .string("nodeAffinityPolicy", .kept),
            7: .string("nodeTaintsPolicy", .kept),
            8: .strings("matchLabelKeys"),
        ])),
    ])

    /// PodAffinity and PodAntiAffinity (the same fields).
    static let podAffinity = ProtoMessage("PodAffinity", [
        1: .messages("requiredDuringSchedulingIgnoredDuringExecution", podAffinityTerm),
        2: .messages("preferredDuringSchedulingIgnoredDuringExecution", ProtoMessage("WeightedPodAffinityTerm", [
            1: .int32("weight", .kept),
            2: .message("podAffinityTerm", podAffinityTerm),
        ])),
    ])

    static let podAffinityTerm = ProtoMessage("PodAffinityTerm", [
        1: .message("labelSelector", labelSelector),
        2: .strings("namespaces"),
        3: .string("topologyKey", .kept),
        4: .message("namespaceSelector", labelSelector),
        5: .strings("matchLabelKeys"),
        6: .strings("mismatchLabelKeys"),
    ])

    static let localObjectReference = ProtoMessage("LocalObjectReference", [1: .string("name")])

    static let nodeAffinity = ProtoMessage("NodeAffinity", [
        1: .message("requiredDuringSchedulingIgnoredDuringExecution", ProtoMessage("NodeSelector", [
            1: .messages("nodeSelectorTerms", nodeSelectorTerm),
        ])),
        2: .messages("preferredDuringSchedulingIgnoredDuringExecution", ProtoMessage("PreferredSchedulingTerm", [
            1: .int32("weight", .kept),
            2: .message("preference", nodeSelectorTerm),
        ])),
    ])

    static let nodeSelectorTerm = ProtoMessage("NodeSelectorTerm", [
        1: .messages("matchExpressions", nodeSelectorRequirement),
        2: .messages("matchFields", nodeSelectorRequirement),
    ])

    static let nodeSelectorRequirement = ProtoMessage("NodeSelectorRequirement", [
        1: .string("key", .kept),
        2: .string("operator", .kept),
        3: .strings("values"),
    ])

    static let container = ProtoMessage("Container", [
        1: .string("name", .kept),
        2: .string("image"),
        3: .strings("command"),
        4: .strings("args"),
        5: .string("workingDir"),
        6: .messages("ports", ProtoMessage("ContainerPort", [
            1: .string("name"),
            2: .int32("hostPort"),
            3: .int32("containerPort", .kept),
            4: .string("protocol"),
            5: .string("hostIP"),
        ])),
        19: .messages("envFrom", ProtoMessage("EnvFromSource", [
            1: .string("prefix"),
            2: .message("configMapRef", ProtoMessage("ConfigMapEnvSource", [1: .inline(localObjectReference), 2: .bool("optional", .kept)])),
            3: .message("secretRef", ProtoMessage("SecretEnvSource", [1: .inline(localObjectReference), 2: .bool("optional", .kept)])),
        ])),
        7: .messages("env", envVar),
        8: .message("resources", ProtoMessage("ResourceRequirements", [1: .quantityMap("limits"), 2: .quantityMap("requests")])),
        24: .string("restartPolicy", .kept),
        10: .message("livenessProbe", probe),
        11: .message("readinessProbe", probe),
        22: .message("startupProbe", probe),
        12: .message("lifecycle", ProtoMessage("Lifecycle", [
            1: .message("postStart", lifecycleHandler),
            2: .message("preStop", lifecycleHandler),
            3: .string("stopSignal", .kept),
        ])),
        13: .string("terminationMessagePath"),
        20: .string("terminationMessagePolicy"),
        14: .string("imagePullPolicy"),
        16: .bool("stdin"),
        17: .bool("stdinOnce"),
        18: .bool("tty"),
    ])

    static let envVar = ProtoMessage("EnvVar", [
        1: .string("name", .kept),
        2: .string("value"),
        3: .message("valueFrom", ProtoMessage("EnvVarSource", [
            1: .message("fieldRef", ProtoMessage("ObjectFieldSelector", [1: .string("apiVersion"), 2: .string("fieldPath", .kept)])),
            2: .message("resourceFieldRef", ProtoMessage("ResourceFieldSelector", [
                1: .string("containerName"),
                2: .string("resource", .kept),
                3: .quantity("divisor"),
            ])),
            3: .message("configMapKeyRef", ProtoMessage("ConfigMapKeySelector", [
                1: .inline(localObjectReference), 2: .string("key", .kept), 3: .bool("optional", .kept),
            ])),
            4: .message("secretKeyRef", ProtoMessage("SecretKeySelector", [
                1: .inline(localObjectReference), 2: .string("key", .kept), 3: .bool("optional", .kept),
            ])),
        ])),
    ])

    static let execAction = ProtoMessage("ExecAction", [1: .strings("command")])

    static let httpGetAction = ProtoMessage("HTTPGetAction", [
        1: .string("path"),
        2: .intOrString("port", .kept),
        3: .string("host"),
        4: .string("scheme"),
        5: .messages("httpHeaders", ProtoMessage("HTTPHeader", [1: .string("name", .kept), 2: .string("value", .kept)])),
    ])

    static let tcpSocketAction = ProtoMessage("TCPSocketAction", [1: .intOrString("port", .kept), 2: .string("host")])

    static let lifecycleHandler = ProtoMessage("LifecycleHandler", [
        1: .message("exec", execAction),
        2: .message("httpGet", httpGetAction),
        3: .message("tcpSocket", tcpSocketAction),
        4: .message("sleep", ProtoMessage("SleepAction", [1: .int64("seconds", .kept)])),
    ])

    static let probe = ProtoMessage("Probe", [
        // ProbeHandler is embedded inline in Go: exec, httpGet, tcpSocket and grpc are the probe's own members.
        1: .inline(ProtoMessage("ProbeHandler", [
            1: .message("exec", execAction),
            2: .message("httpGet", httpGetAction),
            3: .message("tcpSocket", tcpSocketAction),
            4: .message("grpc", ProtoMessage("GRPCAction", [1: .int32("port", .kept), 2: .string("service", .kept)])),
        ])),
        2: .int32("initialDelaySeconds"),
        3: .int32("timeoutSeconds"),
        4: .int32("periodSeconds"),
        5: .int32("successThreshold"),
        6: .int32("failureThreshold"),
        7: .int64("terminationGracePeriodSeconds", .kept),
    ])

    static let podStatus = ProtoMessage("PodStatus", [
        1: .string("phase"),
        2: .messages("conditions", ProtoMessage("PodCondition", [
            1: .string("type", .kept),
            2: .string("status", .kept),
            3: .time("lastProbeTime"),
            4: .time("lastTransitionTime"),
            5: .string("reason"),
            6: .string("message"),
        ])),
        3: .string("message"),
        4: .string("reason"),
        11: .string("nominatedNodeName"),
        5: .string("hostIP"),
        16: .messages("hostIPs", ProtoMessage("HostIP", [1: .string("ip", .kept)])),
        6: .string("podIP"),
        12: .messages("podIPs", ProtoMessage("PodIP", [1: .string("ip", .kept)])),
        7: .time("startTime"),
        10: .messages("initContainerStatuses", containerStatus),
        8: .messages("containerStatuses", containerStatus),
        9: .string("qosClass"),
    ])

    static let containerStatus = ProtoMessage("ContainerStatus", [
        1: .string("name", .kept),
        2: .message("state", containerState),
        3: .message("lastState", containerState),
        4: .bool("ready", .kept),
        5: .int32("restartCount", .kept),
        6: .string("image", .kept),
        7: .string("imageID", .kept),
        8: .string("containerID"),
        9: .bool("started", .kept),
    ])

    static let containerState = ProtoMessage("ContainerState", [
        1: .message("waiting", ProtoMessage("ContainerStateWaiting", [1: .string("reason"), 2: .string("message")])),
        2: .message("running", ProtoMessage("ContainerStateRunning", [1: .time("startedAt")])),
        3: .message("terminated", ProtoMessage("ContainerStateTerminated", [
            1: .int32("exitCode", .kept),
            2: .int32("signal"),
            3: .string("reason"),
            4: .string("message"),
            5: .time("startedAt"),
            6: .time("finishedAt"),
            7: .string("containerID"),
        ])),
    ])

    // MARK: core/v1 Service, Endpoints

    static let serviceSpec = ProtoMessage("ServiceSpec", [
        1: .messages("ports", ProtoMessage("ServicePort", [
            1: .string("name"),
            2: .string("protocol"),
            6: .string("appProtocol", .kept),
            3: .int32("port", .kept),
            // Left out when zero (unset), which the server defaults to the port, as Kubernetes does.
            4: .intOrString("targetPort"),
            5: .int32("nodePort"),
        ])),
        2: .stringMap("selector"),
        3: .string("clusterIP"),
        18: .strings("clusterIPs"),
        4: .string("type"),
        5: .strings("externalIPs"),
        7: .string("sessionAffinity"),
        10: .string("externalName"),
        11: .string("externalTrafficPolicy"),
        13: .bool("publishNotReadyAddresses"),
        19: .strings("ipFamilies"),
        17: .string("ipFamilyPolicy", .kept),
        22: .string("internalTrafficPolicy", .kept),
    ])

    static let serviceStatus = ProtoMessage("ServiceStatus", [
        1: .message("loadBalancer", ProtoMessage("LoadBalancerStatus", [
            1: .messages("ingress", ProtoMessage("LoadBalancerIngress", [1: .string("ip"), 2: .string("hostname")])),
        ])),
    ])

    static let endpointSubset = ProtoMessage("EndpointSubset", [
        1: .messages("addresses", endpointAddress),
        2: .messages("notReadyAddresses", endpointAddress),
        3: .messages("ports", ProtoMessage("EndpointPort", [
            1: .string("name"),
            2: .int32("port", .kept),
            3: .string("protocol"),
            4: .string("appProtocol", .kept),
        ])),
    ])

    static let endpointAddress = ProtoMessage("EndpointAddress", [
        1: .string("ip", .kept),
        3: .string("hostname"),
        4: .string("nodeName", .kept),
        2: .message("targetRef", objectReference),
    ])

    // MARK: apps/v1

    static let deployment = ProtoMessage("Deployment", [
        1: .message("metadata", objectMeta),
        2: .message("spec", ProtoMessage("DeploymentSpec", [
            1: .int32("replicas", .kept),
            2: .message("selector", labelSelector),
            3: .message("template", podTemplateSpec),
            4: .message("strategy", ProtoMessage("DeploymentStrategy", [
                1: .string("type"),
                2: .message("rollingUpdate", ProtoMessage("RollingUpdateDeployment", [
                    1: .intOrString("maxUnavailable", .kept),
                    2: .intOrString("maxSurge", .kept),
                ])),
            ])),
            5: .int32("minReadySeconds"),
            6: .int32("revisionHistoryLimit", .kept),
            7: .bool("paused"),
            9: .int32("progressDeadlineSeconds", .kept),
        ])),
        3: .message("status", ProtoMessage("DeploymentStatus", [
            1: .int64("observedGeneration"),
            2: .int32("replicas"),
            3: .int32("updatedReplicas"),
            7: .int32("readyReplicas"),
            4: .int32("availableReplicas"),
            5: .int32("unavailableReplicas"),
            6: .messages("conditions", ProtoMessage("DeploymentCondition", [
                1: .string("type", .kept),
                2: .string("status", .kept),
                6: .time("lastUpdateTime"),
                7: .time("lastTransitionTime"),
                4: .string("reason"),
                5: .string("message"),
            ])),
            8: .int32("collisionCount", .kept),
        ])),
    ])

    static let replicaSet = ProtoMessage("ReplicaSet", [
        1: .message("metadata", objectMeta),
        2: .message("spec", ProtoMessage("ReplicaSetSpec", [
            1: .int32("replicas", .kept),
            4: .int32("minReadySeconds"),
            2: .message("selector", labelSelector),
            3: .message("template", podTemplateSpec),
        ])),
        3: .message("status", ProtoMessage("ReplicaSetStatus", [
            1: .int32("replicas", .kept),
            2: .int32("fullyLabeledReplicas"),
            4: .int32("readyReplicas"),
            5: .int32("availableReplicas"),
            3: .int64("observedGeneration"),
            6: .messages("conditions", ProtoMessage("ReplicaSetCondition", [
                1: .string("type", .kept),
                2: .string("status", .kept),
                3: .time("lastTransitionTime"),
                4: .string("reason"),
                5: .string("message"),
            ])),
        ])),
    ])

    // MARK: autoscaling/v1

    /// The `scale` subresource of Deployments and ReplicaSets.
    static let scale = ProtoMessage("Scale", [
        1: .message("metadata", objectMeta),
        // spec.replicas is `omitempty` in JSON, but 0 is what the server reads when it is missing.
        2: .message("spec", ProtoMessage("ScaleSpec", [1: .int32("replicas", .kept)])),
        3: .message("status", ProtoMessage("ScaleStatus", [1: .int32("replicas", .kept), 2: .string("selector")])),
    ])
}
