/// Collection aliases, as Milvus has them: a second name that reads and writes reach a collection by.
///
/// An alias names one collection; a collection may have several. Every call that takes a collection
/// name accepts an alias too, except `dropCollection` and `renameCollection`, which go by the
/// collection's own name. Aliases and collection names share one namespace, so neither may take a
/// name the other holds. Renaming a collection keeps its aliases; dropping it drops them. Moving an
/// alias (`alterAlias`) is how a reader switches to a rebuilt collection in one step.
extension LoupeClient {
    /// Gives collection `collection` (its own name, not another alias) the alias `alias`. Giving it
    /// an alias it already has does nothing, as in Milvus.
    public func createAlias(_ alias: String, collection: String) throws {
        try checkWritable()
        try refreshIfChanged()
        try checkAliasName(alias)
        let target = try aliasTarget(collection, alias: alias)
        if let current = aliases[alias] {
            guard current == target.name else {
                throw StoreError(.alreadyExists, "the alias already names collection '\(current)'", collection: collection,
                                 alias: alias)
            }
            return
        }
        try sqlite.write { db in
            try db.execute(sql: "INSERT INTO aliases (name, collection_id) VALUES (?, ?)", arguments: [alias, target.id])
        }
        aliases[alias] = target.name
    }

    /// Points an existing alias at another collection, in one write.
    public func alterAlias(_ alias: String, collection: String) throws {
        try checkWritable()
        try refreshIfChanged()
        try checkAliasName(alias)
        let target = try aliasTarget(collection, alias: alias)
        guard aliases[alias] != nil else { throw StoreError(.notFound, "no such alias", alias: alias) }
        try sqlite.write { db in
            try db.execute(sql: "UPDATE aliases SET collection_id = ? WHERE name = ?", arguments: [target.id, alias])
        }
        aliases[alias] = target.name
    }

    /// Removes an alias; its collection is untouched. Dropping an alias that does not exist does
    /// nothing, as in Milvus; the result says whether there was one.
    @discardableResult
    public func dropAlias(_ alias: String) throws -> Bool {
        try checkWritable()
        try refreshIfChanged()
        guard aliases[alias] != nil else { return false }
        try sqlite.write { db in try db.execute(sql: "DELETE FROM aliases WHERE name = ?", arguments: [alias]) }
        aliases[alias] = nil
        return true
    }

    /// The collection an alias names.
    public func describeAlias(_ alias: String) throws -> String {
        guard isOpen else { throw StoreError(.invalidArgument, "the client is closed", path: path) }
        try refreshIfChanged()
        guard let collection = aliases[alias] else { throw StoreError(.notFound, "no such alias", alias: alias) }
        return collection
    }

    /// Aliases, sorted: of one collection (by its name or one of its aliases), or all of them.
    public func listAliases(collection: String? = nil) throws -> [String] {
        guard let collection else {
            guard isOpen else { throw StoreError(.invalidArgument, "the client is closed", path: path) }
            try refreshIfChanged()
            return aliases.keys.sorted()
        }
        return aliases(of: try self.collection(collection).name)
    }

    /// The collection's own name for `name`, which may be an alias; nil when neither exists.
    public func resolveCollectionName(_ name: String) -> String? {
        try? refreshIfChanged()
        if collections[name] != nil { return name }
        return aliases[name].flatMap { collections[$0] == nil ? nil : $0 }
    }

    func aliases(of collection: String) -> [String] {
        aliases.filter { $0.value == collection }.keys.sorted()
    }

    /// Throws when `name` is taken by an alias (a collection may not be created or renamed onto it).
    func checkNotAlias(_ name: String) throws {
        if let target = aliases[name] {
            throw StoreError(.alreadyExists, "the name is an alias of collection '\(target)'; drop the alias first",
                             collection: name, alias: name)
        }
    }

    private func checkAliasName(_ alias: String) throws {
        guard CollectionSchema.isValidName(alias) else {
            throw StoreError(.invalidArgument, "an alias must start with a letter or _ and hold only letters, digits and _",
                             alias: alias)
        }
        if collections[alias] != nil {
            throw StoreError(.alreadyExists, "a collection has this name, so it cannot be an alias", collection: alias,
                             alias: alias)
        }
    }

    /// The collection an alias may name: an existing collection by its own name.
    private func aliasTarget(_ collection: String, alias: String) throws -> CollectionState {
        guard isOpen else { throw StoreError(.invalidArgument, "the client is closed", path: path) }
        guard let target = collections[collection] else {
            if let real = aliases[collection] {
                throw StoreError(.notFound, "'\(collection)' is itself an alias (of '\(real)'); an alias names a collection",
                                 collection: collection, alias: alias)
            }
            throw StoreError(.notFound, "no such collection", collection: collection)
        }
        return target
    }
}
