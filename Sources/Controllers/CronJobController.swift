import ClusterModel
import ControlPlane
import Foundation
import Journal

/// kube-controller-manager's CronJob controller: at each time its schedule names (in its
/// `timeZone`, UTC by default) a CronJob makes a Job from its template, named after the scheduled
/// minute (`hello-29439120`); a time missed while the controller was not running is made up once,
/// unless it is older than `startingDeadlineSeconds`. `concurrencyPolicy` decides what happens
/// while a Job still runs: `Allow` makes another, `Forbid` skips the time, `Replace` deletes the
/// running Job first. Finished Jobs beyond the history limits are deleted, oldest first.
public final class CronJobController: Reconciler {
    /// The annotation on a Job with the time it was scheduled for.
    public static let scheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"
    /// More missed times than this, and the controller says so (`TooManyMissedTimes`).
    static let missedTimesLimit = 100

    /// The CronJob of each Job seen.
    private var jobs = OwnedObjects(ownerKind: CronJob.kind)

    public init() { super.init(name: "cronjob") }

    public override func observe(_ event: Event, cache: ObjectCache) {
        let key = event.object.key
        switch event.object.kind {
        case CronJob.kind:
            if WriteType(rawValue: event.type) != nil { markDirty(key, event.revision) }
        case Job.kind:
            if WriteType(rawValue: event.type) != nil, let cronJob = jobs.owner(of: event, in: cache) { markDirty(cronJob, event.revision) }
        default:
            break
        }
    }

    override func reconcile(_ key: ObjectKey, trigger: UInt64, _ context: ComponentContext) async throws -> Bool {
        guard let cj = context.cache.get(CronJob.self, namespace: key.namespace, name: key.name), cj.metadata.deletionTimestamp == nil,
              let uid = cj.metadata.uid, let schedule = try? CronSchedule(parsing: cj.spec.schedule) else { return false }
        let zone = cj.spec.timeZone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
        let now = context.now.date
        let jobs = context.cache.list(Job.self, namespace: key.namespace).filter { $0.metadata.controllerReference?.uid == uid }
        func finished(_ j: Job) -> String? {
            (j.status?.conditions ?? []).first { ($0.type == "Complete" || $0.type == "Failed") && $0.status == "True" }?.type
        }
        var active = jobs.filter { finished($0) == nil && $0.metadata.deletionTimestamp == nil }
        var status = cj.status ?? CronJobStatus()
        var steps: [String] = [], events: [(String, String, String)] = []
        var creates: [Job] = [], deletes: [Job] = []

        // Jobs that finished since the last look: the last successful time, and the history limits.
        for j in jobs where finished(j) == "Complete" {
            if let t = j.status?.completionTime, t > (status.lastSuccessfulTime ?? "") { status.lastSuccessfulTime = t }
        }
        for (condition, limit) in [("Complete", cj.spec.successfulJobsHistoryLimit ?? 3), ("Failed", cj.spec.failedJobsHistoryLimit ?? 1)] {
            let done = jobs.filter { finished($0) == condition && $0.metadata.deletionTimestamp == nil }
                .sorted { ($0.status?.startTime ?? $0.metadata.creationTimestamp ?? "", $0.metadata.name ?? "") < ($1.status?.startTime ?? $1.metadata.creationTimestamp ?? "", $1.metadata.name ?? "") }
            for j in done.dropLast(max(0, Int(limit))) {
                deletes.append(j)
                steps.append("delete job \(j.metadata.name ?? "") (\(condition.lowercased()), beyond the history limit of \(limit))")
                events.append(("SuccessfulDelete", "Deleted job \(j.metadata.name ?? "")", "Normal"))
            }
        }

        // The most recent time the schedule named, since the last one it acted on.
        let since = status.lastScheduleTime.flatMap(ResourceTable.parseTime)
            ?? cj.metadata.creationTimestamp.flatMap(ResourceTable.parseTime) ?? now
        var due: Date?, missed = 0, cursor = since
        while let t = schedule.next(after: cursor, in: zone), t <= now {
            due = t
            missed += 1
            cursor = t
            if missed > Self.missedTimesLimit * 10 { break }
        }
        if missed > Self.missedTimesLimit {
            events.append(("TooManyMissedTimes", "too many missed start times: \(missed). Set or decrease .spec.startingDeadlineSeconds or check clock skew", "Warning"))
        }
        if let due, cj.spec.suspend != true {
            let name = "\(key.name)-\(Int64(due.timeIntervalSince1970) / 60)"
            let tooLate = cj.spec.startingDeadlineSeconds.map { due.addingTimeInterval(Double($0)) < now } ?? false
            if tooLate {
                steps.append("skip \(Timestamp(date: due).kubernetesTime): missed its starting deadline")
                events.append(("MissSchedule", "Missed scheduled time to start a job: \(Timestamp(date: due).kubernetesTime)", "Warning"))
                status.lastScheduleTime = Timestamp(date: due).kubernetesTime
            } else if jobs.contains(where: { $0.metadata.name == name }) {
                status.lastScheduleTime = Timestamp(date: due).kubernetesTime
            } else if cj.spec.concurrencyPolicy == "Forbid", !active.isEmpty {
                steps.append("skip \(Timestamp(date: due).kubernetesTime): \(active.count) job(s) still running and concurrencyPolicy is Forbid")
                events.append(("JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid", "Normal"))
                status.lastScheduleTime = Timestamp(date: due).kubernetesTime
            } else {
                if cj.spec.concurrencyPolicy == "Replace" {
                    for j in active {
                        deletes.append(j)
                        steps.append("delete job \(j.metadata.name ?? "") (concurrencyPolicy is Replace)")
                        events.append(("SuccessfulDelete", "Deleted job \(j.metadata.name ?? "")", "Normal"))
                    }
                    active = []
                }
                var meta = cj.spec.jobTemplate.metadata ?? ObjectMeta()
                meta.name = name
                meta.namespace = key.namespace
                meta.annotations = (meta.annotations ?? [:]).merging([Self.scheduledTimestampAnnotation: Timestamp(date: due).kubernetesTime]) { _, new in new }
                meta.ownerReferences = [OwnerReference(apiVersion: CronJob.apiVersion, kind: CronJob.kind, name: key.name, uid: uid,
                                                       controller: true, blockOwnerDeletion: true)]
                creates.append(Job(metadata: meta, spec: cj.spec.jobTemplate.spec))
                steps.append("create job \(name) for \(Timestamp(date: due).kubernetesTime)")
                events.append(("SuccessfulCreate", "Created job \(name)", "Normal"))
                status.lastScheduleTime = Timestamp(date: due).kubernetesTime
            }
        }
        let activeRefs = active.filter { j in !deletes.contains { $0.metadata.uid == j.metadata.uid } }.map { j in
            ObjectReference(kind: Job.kind, namespace: key.namespace, name: j.metadata.name, uid: j.metadata.uid, apiVersion: Job.apiVersion)
        }.sorted { ($0.name ?? "") < ($1.name ?? "") }
        status.active = activeRefs.isEmpty ? nil : activeRefs
        // The next time the schedule names: this controller looks again then.
        if let next = schedule.next(after: max(now, due ?? now), in: zone) {
            requeue(key, at: Timestamp(date: next), trigger: trigger)
        }
        guard !steps.isEmpty || status != cj.status else { return false }
        let origin = try await decide(context, about: cj.objectRef, trigger: trigger, steps.isEmpty ? .one("update-status") : steps.count == 1 ? .one(steps[0]) : .steps(steps)) {
            $0.reason = "schedule \"\(cj.spec.schedule)\" (\(cj.spec.timeZone ?? "UTC")), \(active.count) active job(s), concurrencyPolicy \(cj.spec.concurrencyPolicy ?? "Allow")"
        }
        for j in deletes {
            _ = try? await context.store.delete(.job, namespace: key.namespace, name: j.metadata.name ?? "", by: origin)
        }
        for j in creates {
            do {
                let made = try await context.store.create(j, by: origin)
                status.active = ((status.active ?? []) + [ObjectReference(kind: Job.kind, namespace: key.namespace, name: made.metadata.name,
                                                                           uid: made.metadata.uid, apiVersion: Job.apiVersion)])
            } catch {
                guard Self.isRefusal(error) else { throw error }
                try await refused(error, key: key, about: cj, reason: "FailedCreate", message: "Error creating job: \(error)", context, cause: origin.cause)
            }
        }
        if status != cj.status {
            var updated = cj
            updated.status = status
            updated.metadata.resourceVersion = nil
            _ = try await context.store.updateStatus(updated, by: origin)
        }
        for (reason, message, type) in events {
            try await context.recordEvent(about: cj, reason: reason, message: message, type: type, component: "cronjob-controller", by: actor, cause: origin.cause)
        }
        return true
    }
}

extension Timestamp {
    /// The same instant as a Foundation `Date` (what calendars compute with).
    var date: Date { Date(timeIntervalSince1970: Double(microseconds) / 1_000_000) }

    init(date: Date) { self.init(microseconds: Int64((date.timeIntervalSince1970 * 1_000_000).rounded())) }
}
