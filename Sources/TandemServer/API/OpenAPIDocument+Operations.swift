import TandemConfig
import TandemCore
import TandemQueue
import TandemStore

/// The operations part of the document (issue 7): activity, blockers, background jobs, pairs, queues, workers, metrics.
extension OpenAPIDocument {
    static func get(
        _ id: String, _ summary: String, tag: String, parameters: [JSONNode] = [], schema: String, capability: Capability
    ) -> JSONNode.Member {
        .init("get", Self.operation(id, summary, tag: tag, parameters: parameters, success: ("200", Self.ref(schema)), capability: capability))
    }

    static func post(
        _ id: String, _ summary: String, tag: String, body: JSONNode, bodyRequired: Bool = false, parameters: [JSONNode] = [], schema: String,
        capability: Capability
    ) -> JSONNode.Member {
        .init(
            "post",
            Self.operation(
                id, summary, tag: tag, body: body, bodyRequired: bodyRequired, parameters: parameters, success: ("200", Self.ref(schema)),
                capability: capability))
    }

    static let idParameter = Self.pathParameter("id", integer: true)
    /// A repository name in a queue path: at most 200 characters, no tabs or line breaks (`repositoryParameter` there).
    static let repositoryParameter: JSONNode = .object([
        "name": .string("repository"), "in": .string("path"), "required": .bool(true),
        "schema": Self.string(max: 200, pattern: "^[^\\t\\n\\r\\x00]+$"),
    ])
    static let limitParameter = Self.queryParameter("limit", Self.integer(1...500), "Page size (default 50).")
    static let afterParameter = Self.queryParameter(
        "after", Self.integer(1...Int(Int64.max)), "The previous page's `next`: only items with a smaller id.")
    static let integrationParameter = Self.queryParameter("integration", Self.string(max: 200), "Only this integration's.")
    static let textParameter = Self.queryParameter(
        "q", Self.string(max: 200), "Case-insensitive text in the message, or exactly the artifact id or the code.")

    static var operationsPaths: [PathItem] {
        let kind = Self.queryParameter("kind", Self.enumeration(ActivityStore.kinds), "Only this kind.")
        let status = Self.queryParameter("status", Self.enumeration(ActivityStore.statuses), "Only this status.")
        var items: [PathItem] = [
            PathItem(
                path: "/api/v1/activity",
                operations: [
                    Self.get(
                        "listActivity",
                        "Activity, newest first: failed items (errors), blockers, background-job notes and information. Page with `after` = the previous page's `next`.",
                        tag: "activity",
                        parameters: [kind, status, Self.integrationParameter, Self.textParameter, Self.limitParameter, Self.afterParameter],
                        schema: "ActivityPage", capability: .readActivity)
                ]),
            PathItem(
                path: "/api/v1/activity/counts",
                operations: [
                    Self.get(
                        "countActivity", "How many items match the filter in each status.", tag: "activity",
                        parameters: [kind, Self.integrationParameter, Self.textParameter], schema: "ActivityCounts", capability: .readActivity)
                ]),
            PathItem(
                path: "/api/v1/activity/{id}",
                operations: [
                    Self.get(
                        "getActivity", "One activity item.", tag: "activity", parameters: [Self.idParameter], schema: "ActivityItem",
                        capability: .readActivity)
                ]),
            PathItem(
                path: "/api/v1/activity/actions",
                operations: [
                    Self.post(
                        "actOnActivity",
                        "Retry, clear, or clear and ignore several items: those listed in `ids`, or every item matching `filter` (at most 10,000 per call, oldest first). Items the action does not apply to are listed in `skipped` with the reason.",
                        tag: "activity", body: Self.ref("ActivityActionRequest"), bodyRequired: true, schema: "ActivityActionResult",
                        capability: .actOnActivity)
                ]),
            PathItem(
                path: "/api/v1/blockers",
                operations: [
                    Self.get(
                        "listBlockers", "Open blockers (configuration or repository problems that stop integrations), newest first.",
                        tag: "activity", parameters: [Self.integrationParameter, Self.textParameter, Self.limitParameter, Self.afterParameter],
                        schema: "ActivityPage", capability: .readActivity)
                ]),
        ]
        let summaries: [(ActivityAction, String, String)] = [
            (
                .retry, "retryActivity",
                "Retry: the artifact synchronises again (status `retrying`, then `done` or `open` by the outcome) and stops being ignored; a blocker is closed and its repository's pause lifted."
            ),
            (.clear, "clearActivity", "Clear the error (status `cleared`) without synchronising the item."),
            (
                .clearAndIgnore, "clearAndIgnoreActivity",
                "Clear the error and ignore the pair's new changes until it is retried (status `ignored`)."
            ),
        ]
        for (action, id, summary) in summaries {
            items.append(
                PathItem(
                    path: "/api/v1/activity/{id}/\(action.rawValue)",
                    operations: [
                        Self.post(
                            id, summary + " 409 when the item is not in a state the action applies to.", tag: "activity", body: Self.object([:]),
                            parameters: [Self.idParameter], schema: "ActivityItem", capability: .actOnActivity)
                    ]))
        }
        items += [
            PathItem(
                path: "/api/v1/jobs",
                operations: [
                    Self.get(
                        "listBackgroundJobs", "Background jobs (Process All Artifacts, Initiate Synchronization), newest first.", tag: "activity",
                        parameters: [
                            Self.integrationParameter,
                            Self.queryParameter("status", Self.enumeration(BackgroundJobs.statuses), "Only pending or only scheduled jobs."),
                            Self.limitParameter, Self.afterParameter,
                        ], schema: "BackgroundJobPage", capability: .readActivity)
                ]),
            PathItem(
                path: "/api/v1/jobs/{id}",
                operations: [
                    Self.get(
                        "getBackgroundJob", "One background job.", tag: "activity", parameters: [Self.idParameter], schema: "BackgroundJob",
                        capability: .readActivity)
                ]),
            PathItem(
                path: "/api/v1/pairs",
                operations: [
                    Self.get(
                        "listPairs", "Search artifact pairs, newest first. Every parameter narrows.", tag: "pairs",
                        parameters: [
                            Self.integrationParameter,
                            Self.queryParameter("artifact", Self.string(max: 200), "An artifact id on either side (exact)."),
                            Self.queryParameter("key", Self.string(max: 200), "A formatted key on either side (exact, any case), e.g. PROJ-12."),
                            Self.queryParameter("q", Self.string(max: 200), "Case-insensitive text in either side's id or key."),
                            Self.queryParameter("status", Self.enumeration(PairQuery.statuses), "Only this status."),
                            Self.limitParameter, Self.afterParameter,
                        ], schema: "PairPage", capability: .viewPairs)
                ]),
            PathItem(
                path: "/api/v1/pairs/{id}",
                operations: [
                    Self.get(
                        "getPair",
                        "A pair: both artifacts (ids, keys, links, projects), status, last sync and error, and its history (activity, traces, audit).",
                        tag: "pairs",
                        parameters: [
                            Self.idParameter,
                            Self.queryParameter("historyLimit", Self.integer(1...1000), "Activity and audit rows at most (default 200)."),
                        ], schema: "PairDetails", capability: .viewPairs),
                    .init(
                        "delete",
                        Self.operation(
                            "deletePair",
                            "Delete a pair (audited). The artifacts stay; a later change of either may create a new twin. Returns the deleted pair.",
                            tag: "pairs", parameters: [Self.idParameter], success: ("200", Self.ref("Pair")), capability: .deletePairs)),
                ]),
            PathItem(
                path: "/api/v1/queues",
                operations: [
                    Self.get(
                        "listQueues",
                        "Each repository's queues: pending per priority and their latency, in flight, delayed, dead, concurrency slots, rate limit, pause; and the queue's counters.",
                        tag: "queues", schema: "QueueOverview", capability: .readActivity)
                ]),
            PathItem(
                path: "/api/v1/queues/{repository}/jobs",
                operations: [
                    Self.get(
                        "listQueueJobs", "A repository's jobs in one state, oldest first.", tag: "queues",
                        parameters: [
                            Self.repositoryParameter,
                            Self.queryParameter("state", Self.enumeration(JobState.allCases.map(\.rawValue)), "The state (default pending)."),
                            Self.queryParameter("limit", Self.integer(1...1000), "At most this many (default 100)."),
                        ], schema: "QueueJobs", capability: .readActivity)
                ]),
            PathItem(
                path: "/api/v1/queues/{repository}/pause",
                operations: [
                    Self.post(
                        "pauseQueue", "Pause a repository's queues for `minutes` (default 60): no job of it is handed out meanwhile.",
                        tag: "queues", body: Self.object(["minutes": Self.integer(1...10080)]), parameters: [Self.repositoryParameter],
                        schema: "QueuePause", capability: .actOnActivity)
                ]),
            PathItem(
                path: "/api/v1/queues/{repository}/resume",
                operations: [
                    Self.post(
                        "resumeQueue", "Resume a paused repository now.", tag: "queues", body: Self.object([:]),
                        parameters: [Self.repositoryParameter], schema: "QueuePause", capability: .actOnActivity)
                ]),
        ]
        for (action, id, summary) in [
            ("retry", "retryDeadJobs", "Put a repository's dead jobs back in their queues with a fresh attempt count"),
            ("delete", "deleteDeadJobs", "Delete a repository's dead jobs"),
        ] {
            items.append(
                PathItem(
                    path: "/api/v1/queues/{repository}/dead/\(action)",
                    operations: [
                        Self.post(
                            id, summary + ": those in `ids`, or all of them. Returns how many.", tag: "queues",
                            body: Self.object([
                                "ids": .object([
                                    "type": .string("array"), "maxItems": .int(1000), "items": Self.string(max: 100),
                                ])
                            ]), parameters: [Self.repositoryParameter], schema: "DeadJobs", capability: .actOnActivity)
                    ]))
        }
        items += [
            PathItem(
                path: "/api/v1/workers",
                operations: [
                    Self.get(
                        "listWorkers", "The workers whose heartbeat is current, newest heartbeat first.", tag: "queues", schema: "WorkerList",
                        capability: .readActivity)
                ]),
            PathItem(
                path: "/api/v1/metrics",
                operations: [
                    Self.get(
                        "getMetrics",
                        "Created, updated and failed synchronisations per day of the period (default: the 30 days up to today) and of the previous period of the same length, their totals, and the period's weekday × hour matrix (168 cells, Monday 00h first) — days and hours of the time zone `tz` (default UTC).",
                        tag: "metrics",
                        parameters: [
                            Self.queryParameter("from", Self.day, "First day (YYYY-MM-DD)."),
                            Self.queryParameter("to", Self.day, "Last day, inclusive (default today in `tz`); at most 366 days after `from`."),
                            Self.queryParameter(
                                "tz", Self.timeZone,
                                "The time zone whose days and hours are counted (an IANA name; default UTC). Counts are kept per hour, so a zone with a half-hour offset files each hour where it starts."
                            ),
                            Self.integrationParameter,
                        ], schema: "Metrics", capability: .readActivity)
                ]),
        ]
        return items
    }

    /// A day of the years 1970 to 9999, as `MetricsStore.parseDay` reads it.
    static let day: JSONNode = .object([
        "type": .string("string"), "format": .string("date"), "minLength": .int(10), "maxLength": .int(10),
        "pattern": .string("^(19[7-9][0-9]|[2-9][0-9]{3})-[0-9]{2}-[0-9]{2}$"),
    ])
    /// An IANA time zone name (the server checks it against the names it knows; the document does not list them, so it
    /// does not change with the system's tz database).
    static let timeZone: JSONNode = .object([
        "type": .string("string"), "minLength": .int(1), "maxLength": .int(64),
        "pattern": .string("^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"), "examples": .array([.string("UTC"), .string("Europe/Berlin")]),
    ])
    static let text = Self.string(min: 0)
    static let count = Self.integer(0...Int(Int64.max))
    static let id = Self.integer(1...Int(Int64.max))
    static let sideEnum = Self.enumeration(["left", "right"])

    static var operationsSchemas: [JSONNode.Member] {
        let activity = Self.object(
            [
                "id": Self.id, "kind": Self.enumeration(ActivityStore.kinds), "status": Self.enumeration(ActivityStore.statuses),
                "code": Self.text, "integration": Self.text, "repository": Self.text, "side": Self.sideEnum, "artifactId": Self.text,
                "pairId": Self.id, "artifactKey": Self.text, "artifactUrl": Self.text, "message": Self.text, "occurrences": Self.count,
                "retries": Self.count, "firstSeenAt": Self.dateTime, "lastSeenAt": Self.dateTime, "resolvedAt": Self.dateTime,
                "actedBy": Self.text, "actedAt": Self.dateTime,
            ], required: ["id", "kind", "status", "message", "occurrences", "retries", "firstSeenAt", "lastSeenAt"])
        let filter = Self.object([
            "kind": Self.enumeration(ActivityStore.kinds), "status": Self.enumeration(ActivityStore.statuses),
            "integration": Self.string(max: 200), "q": Self.string(max: 200),
        ])
        var actionRequest = Self.object(
            [
                "action": Self.enumeration(ActivityAction.allCases.map(\.rawValue)),
                "ids": .object([
                    "type": .string("array"), "minItems": .int(1), "maxItems": .int(ActivityStore.maximumBulk), "items": Self.id,
                ]),
                "filter": filter,
            ], required: ["action"], description: "Either `ids` or `filter`.")
        if case .object(var members) = actionRequest {
            members.append(
                .init(
                    "oneOf",
                    .array([.object(["required": .array([.string("ids")])]), .object(["required": .array([.string("filter")])])])))
            actionRequest = .object(members)
        }
        let pairSide = Self.object(["id": Self.text, "key": Self.text, "url": Self.text, "project": Self.text], required: ["id"])
        let pair = Self.object(
            [
                "id": Self.id, "integration": Self.text, "status": Self.enumeration(PairQuery.statuses), "statusReason": Self.text,
                "createdFrom": Self.enumeration(["left", "right", "matched"]), "left": pairSide, "right": pairSide,
                "createdAt": Self.dateTime, "lastSyncedAt": Self.dateTime, "ignoreChanges": Self.boolean, "lastError": Self.text,
            ], required: ["id", "integration", "status", "createdFrom", "left", "right", "createdAt", "lastSyncedAt", "ignoreChanges"])
        let trace = Self.object(
            [
                "side": Self.sideEnum, "artifactId": Self.text, "detectedAt": Self.dateTime, "detectedVersion": Self.text,
                "lastSyncAt": Self.dateTime, "lastOutcome": Self.text, "lastReasons": Self.text, "lastError": Self.text,
            ], required: ["side", "artifactId"])
        let audit = Self.object(
            ["id": Self.id, "actor": Self.text, "action": Self.text, "at": Self.dateTime, "changes": Self.text],
            required: ["id", "actor", "action", "at", "changes"])
        let history = Self.object(
            [
                "at": Self.dateTime, "source": Self.enumeration(["trace", "activity", "audit"]), "side": Self.sideEnum, "summary": Self.text,
                "actor": Self.text, "activityId": Self.id,
            ], required: ["at", "source", "summary"])
        let job = Self.object(
            [
                "id": Self.id, "integration": Self.text, "kind": Self.enumeration(IntegrationRequest.Kind.allCases.map(\.rawValue)),
                "side": Self.sideEnum, "projects": Self.array(Self.text), "requestedBy": Self.text, "requestedAt": Self.dateTime,
                "scheduledAt": Self.dateTime, "status": Self.enumeration(BackgroundJobs.statuses),
            ], required: ["id", "integration", "kind", "projects", "requestedBy", "requestedAt", "status"])
        let counts: KeyValuePairs<String, JSONNode> = [
            "created": Self.count, "updated": Self.count, "failed": Self.count, "conflicts": Self.count,
        ]
        let daily = Self.object(
            ["day": Self.day, "created": Self.count, "updated": Self.count, "failed": Self.count, "conflicts": Self.count],
            required: ["day", "created", "updated", "failed", "conflicts"])
        let cell = Self.object(
            ["weekday": Self.integer(1...7), "hour": Self.integer(0...23), "created": Self.count, "updated": Self.count, "failed": Self.count],
            required: ["weekday", "hour", "created", "updated", "failed"])
        let classStatus = Self.object(
            ["pending": Self.count, "latencySeconds": .object(["type": .string("number"), "minimum": .int(0)])], required: ["pending"])
        let queueStatus = Self.object(
            [
                "repository": Self.text, "high": classStatus, "low": classStatus, "inFlight": Self.count, "delayed": Self.count, "dead": Self.count,
                "slotsUsed": Self.count, "slotLimit": Self.count, "eventsPerMinute": Self.count,
                "rateScope": Self.enumeration(RepositoryLimits.RateScope.allCases.map(\.rawValue)), "nextAdmission": Self.dateTime,
                "pausedUntil": Self.dateTime,
            ],
            required: [
                "repository", "high", "low", "inFlight", "delayed", "dead", "slotsUsed", "eventsPerMinute", "rateScope",
            ])
        let queueJob = Self.object(
            [
                "id": Self.text, "kind": Self.text, "repository": Self.text, "integration": Self.text,
                "priority": Self.enumeration(JobPriority.allCases.map(\.rawValue)), "payload": Self.text, "attempt": Self.count,
                "maxAttempts": Self.count, "enqueuedAt": Self.dateTime, "uniqueKey": Self.text,
            ], required: ["id", "kind", "repository", "integration", "priority", "payload", "attempt", "maxAttempts", "enqueuedAt"])
        let jobStatus = Self.object(
            [
                "id": Self.text, "state": Self.enumeration(JobState.allCases.map(\.rawValue)), "job": queueJob, "worker": Self.text,
                "leaseExpiresAt": Self.dateTime, "at": Self.dateTime, "error": Self.text,
            ], required: ["id", "state"])
        let worker = Self.object(
            [
                "id": Self.text, "host": Self.text, "pid": Self.count, "startedAt": Self.dateTime, "version": Self.text, "jobsInHand": Self.count,
                "lastHeartbeat": Self.dateTime,
            ], required: ["id", "host", "pid", "startedAt", "version", "jobsInHand", "lastHeartbeat"])
        return [
            .init("ActivityItem", activity),
            .init("ActivityPage", Self.object(["items": Self.array(Self.ref("ActivityItem")), "next": Self.id], required: ["items"])),
            .init(
                "ActivityCounts",
                Self.object(
                    [
                        "counts": Self.object(
                            ["open": Self.count, "retrying": Self.count, "cleared": Self.count, "ignored": Self.count, "done": Self.count],
                            required: ActivityStore.statuses)
                    ], required: ["counts"])),
            .init("ActivityActionRequest", actionRequest),
            .init(
                "ActivityActionResult",
                Self.object(
                    [
                        "action": Self.enumeration(ActivityAction.allCases.map(\.rawValue)), "changed": Self.array(Self.id),
                        "skipped": Self.array(Self.object(["id": Self.id, "reason": Self.text], required: ["id", "reason"])),
                        "retries": Self.array(
                            Self.object(
                                [
                                    "activityId": Self.id, "integration": Self.text, "repository": Self.text, "side": Self.sideEnum,
                                    "artifactId": Self.text, "pairId": Self.id,
                                ], required: ["activityId", "integration"])),
                    ], required: ["action", "changed", "skipped", "retries"])),
            .init("Pair", pair),
            .init("PairPage", Self.object(["items": Self.array(Self.ref("Pair")), "next": Self.id], required: ["items"])),
            .init(
                "PairDetails",
                Self.object(
                    [
                        "pair": Self.ref("Pair"), "lastJob": Self.text, "activity": Self.array(Self.ref("ActivityItem")), "traces": Self.array(trace),
                        "audit": Self.array(audit), "history": Self.array(history),
                    ], required: ["pair", "activity", "traces", "audit", "history"])),
            .init("BackgroundJob", job),
            .init("BackgroundJobPage", Self.object(["items": Self.array(Self.ref("BackgroundJob")), "next": Self.id], required: ["items"])),
            .init(
                "Metrics",
                Self.object(
                    [
                        "integration": Self.text, "timeZone": Self.timeZone, "from": Self.day, "to": Self.day,
                        "previousFrom": Self.day, "previousTo": Self.day, "days": Self.array(daily), "previousDays": Self.array(daily),
                        "totals": Self.object(counts, required: ["created", "updated", "failed", "conflicts"]),
                        "previousTotals": Self.object(counts, required: ["created", "updated", "failed", "conflicts"]),
                        "weekdayHour": Self.array(cell),
                        "integrations": Self.array(
                            Self.object(
                                [
                                    "integration": Self.text, "left": Self.text, "right": Self.text,
                                    "counts": Self.object(counts, required: ["created", "updated", "failed", "conflicts"]),
                                    "previous": Self.object(counts, required: ["created", "updated", "failed", "conflicts"]),
                                    "pairs": Self.integer(0...Int.max),
                                ], required: ["integration", "left", "right", "counts", "previous", "pairs"],
                                description: "One integration's synchronisations in the period and the previous one, and its artifact pairs now.")),
                        "repositories": Self.array(
                            Self.object(
                                [
                                    "repository": Self.text, "counts": Self.object(counts, required: ["created", "updated", "failed", "conflicts"]),
                                    "pairs": Self.integer(0...Int.max),
                                ], required: ["repository", "counts", "pairs"],
                                description: "The synchronisations of the integrations a repository takes part in, and their pairs.")),
                    ],
                    required: [
                        "timeZone", "from", "to", "previousFrom", "previousTo", "days", "previousDays", "totals", "previousTotals", "weekdayHour",
                        "integrations", "repositories",
                    ])),
            .init(
                "QueueOverview",
                Self.object(
                    [
                        "repositories": Self.array(queueStatus),
                        "counters": .object(["type": .string("object"), "additionalProperties": Self.count]),
                    ], required: ["repositories", "counters"])),
            .init("QueueJobs", Self.object(["items": Self.array(jobStatus)], required: ["items"])),
            .init("QueuePause", Self.object(["repository": Self.text, "pausedUntil": Self.dateTime], required: ["repository"])),
            .init("DeadJobs", Self.object(["repository": Self.text, "count": Self.count], required: ["repository", "count"])),
            .init("WorkerList", Self.object(["items": Self.array(worker)], required: ["items"])),
        ]
    }
}
