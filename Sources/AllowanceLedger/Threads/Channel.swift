import Foundation

/// A bounded queue between two threads.
public final class Channel<Element: Sendable>: @unchecked Sendable {
    // Safe to share: every stored property is touched only with `condition` locked.
    private let condition = NSCondition()
    private var queue: [Element] = []
    private var cancelled = false
    private let capacity: Int

    public init(capacity: Int) { self.capacity = capacity }

    /// Waits for room; false once the reader has gone away.
    public func put(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        queue.append(element)
        condition.broadcast()
        return true
    }

    public func take() -> Element {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty { condition.wait() }
        let element = queue.removeFirst()
        condition.broadcast()
        return element
    }

    public func cancel() {
        condition.lock()
        cancelled = true
        queue.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}
