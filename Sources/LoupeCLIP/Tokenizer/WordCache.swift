import Foundation

/// A bounded, thread-safe cache of BPE results, keyed by a word's UTF-8 bytes.
///
/// Captions repeat the same few thousand words, so most words are encoded once. The cache
/// is emptied when it reaches `capacity` entries, which keeps memory bounded for
/// adversarial input without the bookkeeping of an LRU.
final class WordCache: @unchecked Sendable {
    // NSLock rather than Synchronization.Mutex, which needs macOS 15.
    private let lock = NSLock()
    private var storage: [[UInt8]: [Int32]] = [:]
    private let capacity: Int

    init(capacity: Int = 65_536) {
        self.capacity = capacity
    }

    subscript(word: [UInt8]) -> [Int32]? {
        get {
            lock.withLock { storage[word] }
        }
        set {
            lock.withLock {
                if storage.count >= capacity { storage.removeAll(keepingCapacity: true) }
                storage[word] = newValue
            }
        }
    }
}
