import Foundation

extension LoupeClient {
    /// For a reader: catches up with what other connections committed since the last call. Cheap when
    /// nothing changed (one `PRAGMA data_version`); otherwise collections created, dropped or renamed are
    /// picked up and changed collections load their new rows and drop their deleted ones.
    func refreshIfChanged() throws {
        guard configuration.readOnly, isOpen else { return }
        let version = try sqlite.dataVersion()
        guard version != dataVersion else { return }
        let known = Dictionary(uniqueKeysWithValues: collections.values.map { ($0.id, $0) })
        var next: [String: CollectionState] = [:]
        for stored in try sqlite.loadCollections() {
            guard let state = known[stored.id] else {
                next[stored.name] = try Self.openState(stored, sqlite: sqlite, indexDirectory: indexDirectory,
                                                       loadIndexes: configuration.persistIndexes)
                continue
            }
            state.name = stored.name
            if state.changeSeq != stored.changeSeq {
                // Reading the rows after the sequence number: a commit in between is caught by the next call.
                try sqlite.read { db in try state.refresh(from: db) }
                state.changeSeq = stored.changeSeq
            }
            state.nextAutoID = stored.nextAutoID
            state.partitions = Set(try sqlite.partitions(collectionID: stored.id))
            next[stored.name] = state
        }
        collections = next
        aliases = try sqlite.loadAliases()
        dataVersion = version
    }
}
