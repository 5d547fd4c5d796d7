extension Synchronizer {
    /// Decides what to do after a change on `input.source`: create the twin, update these fields, nothing, a
    /// conflict, or the final update of a twin whose partner is no longer eligible, with the reasons.
    ///
    /// Throws for what blocks this artifact: a select value the mapping does not accept, no transition path to a
    /// status, no conditional route under the error fallback, a twin that no longer exists.
    public func decide(_ input: SyncInput) throws(SyncError) -> SyncDecision { try self.decide(input, leaving: false) }

    /// `leaving`: the pair is leaving the integration; its last change is decided as if it were still eligible.
    func decide(_ input: SyncInput, leaving: Bool) throws(SyncError) -> SyncDecision {
        let s = input.source, t = s.opposite
        let source = input.sourceArtifact
        var reasons: [Reason] = []
        let sourceModel = try self.modelValues(source, s)
        let index = self.fieldIndex
        let value: (String) -> FieldValue = { name in index[name].flatMap { sourceModel[$0] } ?? .null }
        let failing = self.rules.filter?.failing(side: s, project: source.project, value)
        let conditional = self.flows(value)
        if let conditional { reasons.append(Reason(.conditionalFieldFlow, conditional.name, "the first matching conditional field flow")) }
        func frequency(_ i: Int) -> FlowFrequency {
            (conditional?.flows[self.fields[i].model.name] ?? self.fields[i].flow).frequency(from: s)
        }
        func decision(_ action: SyncAction) -> SyncDecision { SyncDecision(source: s, action: action, reasons: reasons) }

        guard let pair = input.pair else {
            guard self.rules.creationFlow.allows(from: s) else {
                reasons.append(Reason(.creationFlowClosed, "", "artifacts are not created from the \(s) side"))
                return decision(.nothing)
            }
            if let failing {
                reasons.append(Reason(.filteredOut, "", "the artifact does not meet the filter \(failing.expression)"))
                return decision(.nothing)
            }
            guard let project = try self.route(source.project, from: s, value, &reasons) else { return decision(.nothing) }
            let blank = Artifact(id: "", project: project, fields: [:], summary: source.summary)
            var writes: [FieldWrite] = []
            var statuses: [String: String] = [:]
            for i in self.fields.indices {
                guard let mapping = self.fields[i].outbound(t) else { continue }
                let name = self.fields[i].model.name
                guard frequency(i) != .noUpdate else {
                    reasons.append(Reason(.flowNoUpdate, name, "not written on creation"))
                    continue
                }
                guard
                    let v = try self.repositoryValue(
                        sourceModel[i] ?? .null, t, i, existing: .null, artifact: blank, markups: input.targetMarkups, people: input.targetPeople),
                    !v.isEmpty
                else { continue }
                if self.fields[i].graph(t) != nil {
                    statuses[mapping.repositoryField] = v.text
                } else {
                    writes.append(FieldWrite(repositoryField: mapping.repositoryField, modelField: name, value: v))
                }
            }
            let comments = self.comments(source, s, nil, markup: input.targetMarkups?.comments, people: input.targetPeople, &reasons)
            let attachments = self.attachments(source, s, nil, nil, &reasons)
            return decision(.create(CreatePlan(project: project, fields: writes, statuses: statuses, comments: comments, attachments: attachments)))
        }

        guard let target = input.targetArtifact else {
            throw SyncError(
                .targetArtifactRemoved, subject: "artifact '\(pair.id(on: t))'",
                reason: "the \(t) twin of '\(source.id)' no longer exists"
            )
        }
        let filteredOut = failing != nil && self.rules.filter?.scope == .creationAndUpdate
        let routed = self.participates(source.project, on: s)
        if (filteredOut || !routed) && !leaving {
            let why = filteredOut ? "it no longer meets the filter" : "project '\(source.project)' is no longer routed"
            guard pair.eligible else {
                reasons.append(Reason(.stillIneligible, "", why))
                return decision(.nothing)
            }
            reasons.append(Reason(.noLongerEligible, "", why))
            // The change that makes it leave still flows — closing an issue closes its twin — and then the twinless
            // update (guide L7786–7861). A conflict in that change holds the pair as any conflict does.
            let last = try self.decide(input, leaving: true)
            reasons += last.reasons
            var final: UpdatePlan?
            switch last.action {
            case .conflict: return decision(last.action)
            case .update(let plan): final = plan
            default: break
            }
            var writes: [FieldWrite] = []
            for (name, v) in (self.rules.twinless.fields[t] ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard let i = self.fieldIndex[name], let mapping = self.fields[i].outbound(t),
                    let w = try self.repositoryValue(
                        v, t, i, existing: target.fields[mapping.repositoryField] ?? .null, artifact: target, markups: input.targetMarkups,
                        people: input.targetPeople)
                else { continue }
                writes.append(FieldWrite(repositoryField: mapping.repositoryField, modelField: name, value: w))
            }
            if var plan = final {
                // The twinless update wins where both write a field.
                let overridden = Set(writes.map(\.repositoryField))
                plan.fields.removeAll { overridden.contains($0.repositoryField) }
                plan.transitions.removeAll { overridden.contains($0.repositoryField) }
                final = plan.fields.isEmpty && plan.transitions.isEmpty && plan.comments.isEmpty && plan.attachments.isEmpty ? nil : plan
            }
            return decision(.noLongerEligible(TwinlessPlan(fields: writes, comment: self.rules.twinless.comment[t], final: final)))
        }
        let reentered = !pair.eligible
        let resyncAll = (reentered && self.rules.twinless.resyncOnReentry) || input.reprocess
        if reentered { reasons.append(Reason(.reentered, "", resyncAll ? "every field is synchronised again" : "")) }
        if input.reprocess { reasons.append(Reason(.reprocessed, "", "process all artifacts: every mapped field is synchronised again")) }

        var sourceChanged = [Bool](repeating: false, count: self.fields.count)
        var anyChange = false
        let sourceSynced = pair[s].synced, targetSynced = pair[t].synced
        let sourceWritten = input.ledger[s], targetWritten = input.ledger[t]
        for i in self.fields.indices where self.changed(sourceModel[i], i, s, source, synced: sourceSynced, written: sourceWritten, &reasons) {
            sourceChanged[i] = true
            anyChange = true
        }
        var writes: [FieldWrite] = []
        var transitions: [TransitionPlan] = []
        var conflicts: [FieldConflict] = []
        var constants: [Int] = []
        for i in self.fields.indices {
            guard let mapping = self.fields[i].outbound(t) else { continue }
            let name = self.fields[i].model.name
            let forward = frequency(i)
            if case .constant = mapping.toRepository {
                if forward.updates { constants.append(i) }
                continue
            }
            if case .constantPerProject = mapping.toRepository {
                if forward.updates { constants.append(i) }
                continue
            }
            guard forward.updates else {
                if sourceChanged[i] {
                    reasons.append(Reason(forward == .noUpdate ? .flowNoUpdate : .flowUponCreation, name, "changed, but not flowing to \(t)"))
                }
                continue
            }
            guard sourceChanged[i] || (forward == .alwaysUpdate && anyChange) || resyncAll else { continue }
            let targetValue = sourceChanged[i] || forward == .alwaysUpdate ? try self.modelValue(target, t, i) : nil
            let targetChanged = self.changed(targetValue, i, t, target, synced: targetSynced, written: targetWritten, &reasons)
            if targetChanged {
                let backward = (conditional?.flows[name] ?? self.fields[i].flow).frequency(from: t)
                if !sourceChanged[i] {
                    reasons.append(Reason(.fieldChanged, name, "changed on \(t) only; not overwritten"))
                    continue
                }
                if backward.updates, !Self.sameContent(targetValue, sourceModel[i]) {
                    let resolution = self.rules.conflicts.resolution(for: name)
                    let (l, r) = s == .left ? (sourceModel[i] ?? .null, targetValue ?? .null) : (targetValue ?? .null, sourceModel[i] ?? .null)
                    switch resolution.dominant {
                    case nil:
                        conflicts.append(FieldConflict(field: name, left: l, right: r, resolution: resolution))
                        reasons.append(Reason(.conflictError, name, "changed on both sides; policy is error"))
                        continue
                    case t:
                        reasons.append(
                            Reason(.conflictLost, name, "changed on both sides (left \(Self.quoted(l)), right \(Self.quoted(r))); \(t) dominates"))
                        continue
                    default:
                        reasons.append(
                            Reason(.conflictWon, name, "changed on both sides (left \(Self.quoted(l)), right \(Self.quoted(r))); \(s) dominates"))
                    }
                }
            }
            let existing = target.fields[mapping.repositoryField] ?? .null
            guard
                let v = try self.repositoryValue(
                    sourceModel[i] ?? .null, t, i, existing: existing, artifact: target, markups: input.targetMarkups, people: input.targetPeople)
            else { continue }
            if let graph = self.fields[i].graph(t) {
                let from = existing.text, to = v.text
                guard from != to else {
                    reasons.append(Reason(.targetAlreadyEqual, name, "already in state '\(to)'"))
                    continue
                }
                guard let path = graph.path(from: from, to: to) else {
                    throw SyncError(
                        .noTransitionPath, subject: "field '\(mapping.repositoryField)'",
                        reason: "no transitions lead from '\(from)' to '\(to)' (states: \(graph.states.joined(separator: ", ")))"
                    )
                }
                transitions.append(TransitionPlan(repositoryField: mapping.repositoryField, from: from, to: to, path: path))
                reasons.append(Reason(.transition, name, path.map(\.name).joined(separator: " → ")))
                continue
            }
            guard v != existing else {
                reasons.append(Reason(.targetAlreadyEqual, name, "the \(t) value is already equal"))
                continue
            }
            writes.append(FieldWrite(repositoryField: mapping.repositoryField, modelField: name, value: v))
            let why: Reason.Kind =
                resyncAll && !sourceChanged[i] ? (input.reprocess ? .reprocessed : .reentered) : (sourceChanged[i] ? .fieldChanged : .alwaysUpdate)
            reasons.append(Reason(why, name, "written to \(t)"))
        }
        if !conflicts.isEmpty { return decision(.conflict(conflicts)) }
        if !writes.isEmpty || !transitions.isEmpty || resyncAll {
            for i in constants {
                guard let mapping = self.fields[i].outbound(t) else { continue }
                let existing = target.fields[mapping.repositoryField] ?? .null
                guard
                    let v = try self.repositoryValue(
                        .null, t, i, existing: existing, artifact: target, markups: input.targetMarkups, people: input.targetPeople), v != existing
                else { continue }
                writes.append(FieldWrite(repositoryField: mapping.repositoryField, modelField: self.fields[i].model.name, value: v))
                reasons.append(Reason(.constant, self.fields[i].model.name, "constant written with the other updates"))
            }
        }
        let comments = self.comments(source, s, pair, markup: input.targetMarkups?.comments, people: input.targetPeople, &reasons)
        let attachments = self.attachments(source, s, target, pair, &reasons)
        if writes.isEmpty && transitions.isEmpty && comments.isEmpty && attachments.isEmpty && !reentered {
            if !anyChange { reasons.append(Reason(.noChanges, "", "nothing changed on \(s) since the last sync")) }
            return decision(.nothing)
        }
        return decision(
            .update(UpdatePlan(fields: writes, transitions: transitions, comments: comments, attachments: attachments, reentered: reentered))
        )
    }

    // MARK: Comments and attachments

    /// New and edited comments of the source that flow to the target (guide L7440–7496).
    func comments(
        _ source: Artifact, _ s: Side, _ pair: ArtifactPair?, markup declared: TextMarkup?, people listed: PersonDirectory? = nil,
        _ reasons: inout [Reason]
    ) -> [CommentWrite] {
        let target = self.collections[s == .left ? 1 : 0]
        guard self.rules.comments.allows(from: s), target.supportsComments, !source.comments.isEmpty else { return [] }
        let created = pair?[s].createdComments ?? [], flowedComments = pair?[s].flowedComments ?? [:]
        var writes: [CommentWrite] = []
        for c in source.comments {
            if !created.isEmpty && created.contains(c.id) { continue }
            let flowed = flowedComments.isEmpty ? nil : flowedComments[c.id]
            if flowed == c.version { continue }
            if c.isSynthetic {
                reasons.append(Reason(.commentSkipped, c.id, "synthetic comments do not flow"))
                continue
            }
            if c.isPrivate && !self.rules.comments.includePrivate {
                reasons.append(Reason(.commentSkipped, c.id, "private comments do not flow"))
                continue
            }
            var author: Person?
            if target.canImpersonate, let a = c.author {
                if let people = listed ?? target.people {
                    let (match, rule) = people.reconcile(a)
                    if rule != .fallback && rule != .unmatched { author = match }
                } else {
                    author = a
                }
            }
            // Written in the target's markup, converted only from a different one.
            let markup = declared ?? target.commentMarkup ?? c.markup
            var body = Markup.convert(c.body, from: c.markup, to: markup)
            if author == nil, let a = c.author {
                let name = a.displayName ?? a.username ?? a.email ?? a.id ?? "unknown"
                body = Markup.prefixed(body, markup: markup, with: "\(name): ")
            }
            writes.append(
                CommentWrite(sourceID: c.id, sourceVersion: c.version, body: body, markup: markup, author: author, isPrivate: c.isPrivate)
            )
            reasons.append(
                Reason(flowed == nil ? .commentNew : .commentEdited, c.id, flowed == nil ? "new comment" : "edited: flows as a new comment"))
        }
        return writes
    }

    /// New attachments of the source that flow to the target (guide L7505–7560).
    func attachments(_ source: Artifact, _ s: Side, _ target: Artifact?, _ pair: ArtifactPair?, _ reasons: inout [Reason]) -> [AttachmentCopy] {
        let flow = self.rules.attachments
        guard flow.allows(from: s), !source.attachments.isEmpty else { return [] }
        var checksums = Set(target?.attachments.map(\.checksum) ?? [])
        var copies: [AttachmentCopy] = []
        let created = pair?[s].createdAttachments ?? [], flowed = pair?[s].flowedAttachments ?? []
        for a in source.attachments {
            if created.contains(a.id) || flowed.contains(a.id) { continue }
            let skip: String?
            if let maximum = flow.maximumBytes, a.size > maximum {
                skip = "\(a.size) bytes is over the \(maximum)-byte limit"
            } else if flow.excludedTypes.contains(a.fileType) {
                skip = "file type '\(a.fileType)' is excluded"
            } else if a.isEncrypted && !flow.includeEncrypted {
                skip = "encrypted attachments are excluded"
            } else if !checksums.insert(a.checksum).inserted {
                skip = "the same content is already there"
            } else {
                skip = nil
            }
            if let skip {
                reasons.append(Reason(.attachmentSkipped, a.fileName, skip))
                continue
            }
            copies.append(AttachmentCopy(sourceID: a.id, fileName: a.fileName, checksum: a.checksum))
            reasons.append(Reason(.attachmentNew, a.fileName, "new attachment"))
        }
        return copies
    }

    // MARK: Recording

    /// The pair and ledger after the decision was carried out. `targetID` names a created twin. Comments and
    /// attachments are recorded as they are created (`ArtifactPair.recordComment`, `recordAttachment`).
    ///
    /// Snapshots move only where the sides agree or a change was consumed: a field the target won (it dominates) keeps
    /// its old source snapshot, and a target change not overwritten stays pending, so it flows back later.
    public func record(
        _ decision: SyncDecision, for input: SyncInput, targetID: String? = nil
    ) throws(SyncError) -> (pair: ArtifactPair, ledger: WriteLedger) {
        let s = decision.source, t = decision.target
        let source = input.sourceArtifact
        var ledger = input.ledger
        var pair =
            input.pair
            ?? ArtifactPair(
                leftID: s == .left ? source.id : targetID ?? "", rightID: s == .right ? source.id : targetID ?? ""
            )
        let before: Artifact
        let writes: [FieldWrite]
        switch decision.action {
        case .nothing, .conflict:
            return (pair, ledger)
        case .noLongerEligible(let plan):
            guard let final = plan.final else {
                pair.eligible = false
                for w in plan.fields { ledger[t][w.repositoryField] = w.value }
                return (pair, ledger)
            }
            // The last change flowed as an update does; the pair then leaves.
            before = input.targetArtifact ?? Artifact(id: targetID ?? "", project: "", fields: [:])
            writes = Self.writes(of: final, before: before) + plan.fields
        case .create(let plan):
            before = Artifact(id: targetID ?? "", project: plan.project, fields: [:], summary: source.summary)
            writes = plan.fields
        case .update(let plan):
            before = input.targetArtifact ?? Artifact(id: targetID ?? "", project: "", fields: [:])
            writes = Self.writes(of: plan, before: before)
        }
        let after = decision.apply(to: before)
        let sourceModel = try self.modelValues(source, s)
        let targetModel = try self.modelValues(after, t)
        var written = Set(writes.map(\.modelField))
        for i in self.fields.indices {
            if let mapping = self.fields[i].outbound(t), writes.contains(where: { $0.repositoryField == mapping.repositoryField }) {
                written.insert(self.fields[i].model.name)
            }
        }
        let lost = Set(decision.reasons.filter { $0.kind == .conflictLost }.map(\.subject))
        for i in self.fields.indices {
            let name = self.fields[i].model.name
            if let v = sourceModel[i], !lost.contains(name) { pair[s].synced[name] = v }
            if let v = targetModel[i], written.contains(name) || Self.sameContent(v, sourceModel[i]) { pair[t].synced[name] = v }
        }
        for w in writes { ledger[t][w.repositoryField] = w.value }
        // Once the source shows something other than Tandem's last write there, that write is no longer an echo.
        for (field, written) in ledger[s] where (source.fields[field] ?? .null) != written { ledger[s][field] = nil }
        if case .noLongerEligible = decision.action { pair.eligible = false } else { pair.eligible = true }
        return (pair, ledger)
    }

    /// An update's field writes with its transitions as the states they reach.
    static func writes(of plan: UpdatePlan, before: Artifact) -> [FieldWrite] {
        plan.fields
            + plan.transitions.map {
                FieldWrite(
                    repositoryField: $0.repositoryField, modelField: "", value: SyncDecision.state($0.to, like: before.fields[$0.repositoryField]))
            }
    }

    /// Records what a side holds after Tandem wrote to it, where it stores something other than what was written (a
    /// tool that normalises line ends, trims or rounds): the ledger and the pair's snapshot take the stored value, so
    /// the next detection compares against the write's own result and does not take the tool's normalisation for an
    /// edit. `after` is the artifact as read back; `stored` the repository fields that differ from what was written.
    public func recordStored(
        _ stored: [String: FieldValue], after: Artifact, on side: Side, pair: inout ArtifactPair, ledger: inout WriteLedger
    ) {
        guard !stored.isEmpty else { return }
        for (field, value) in stored where ledger[side][field] != nil { ledger[side][field] = value }
        for i in self.fields.indices {
            guard let mapping = self.fields[i].inbound(side), stored[mapping.repositoryField] != nil,
                let value = try? self.modelValue(after, side, i)
            else { continue }
            pair[side].synced[self.fields[i].model.name] = value
        }
    }

    /// A value as a conflict's record shows it: quoted, at most 200 characters.
    static func quoted(_ value: FieldValue) -> String {
        let text = value.text
        return "'" + (text.count > 200 ? String(text.prefix(200)) + "…" : text) + "'"
    }
}
