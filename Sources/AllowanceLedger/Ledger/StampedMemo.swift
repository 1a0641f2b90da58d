import Foundation

/// Answers already computed, kept while the ledger's write stamp stays the same: a page many people open (the
/// dashboard, a batch) is computed once per change to the ledger, not once per request. A new stamp drops every older
/// answer; the memo holds at most `capacity` answers.
///
/// The stamp is whatever changes with every write that could change an answer: `ReportsStorage.writeStamp()` (the
/// journal's head, the register chain's head, the last result file), and for a batch its status too (a cancellation
/// posts nothing).
package final class StampedMemo<Key: Hashable, Value>: @unchecked Sendable {
    private struct Entry: Hashable {
        let key: Key
        let stamp: [Int64]
    }

    private let lock = NSLock()
    private var values: [Entry: Value] = [:]
    private let capacity: Int

    package init(capacity: Int = 64) { self.capacity = capacity }

    /// The kept answer for `key` at `stamp`, or `compute()`'s, kept.
    package func value(for key: Key, stamp: [Int64], _ compute: () throws -> Value) rethrows -> Value {
        let entry = Entry(key: key, stamp: stamp)
        if let known = lock.withLock({ values[entry] }) { return known }
        let value = try compute()
        lock.withLock {
            values = values.filter { $0.key.stamp == stamp }
            if values.count >= capacity { values.removeAll() }
            values[entry] = value
        }
        return value
    }
}
