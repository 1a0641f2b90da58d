import Foundation

/// Work running on a thread of its own beside the caller's, joined when the caller needs it: the one way this package
/// runs work in parallel (a file's reader beside the transaction that stores it, a second connection reading half a
/// batch, the lanes of an audit export and its verification).
public final class Beside<Value: Sendable>: @unchecked Sendable {
    // Safe to share: the thread writes `outcome` once, before it signals `done`; `join` reads it only after `done`,
    // which orders the two.
    private var outcome: Result<Value, any Error>?
    private let done = DispatchSemaphore(value: 0)
    private var joined = false

    /// Starts `body` on a new thread.
    public init(_ body: @escaping @Sendable () throws -> Value) {
        let thread = Thread { [self] in
            outcome = Result { try body() }
            done.signal()
        }
        thread.start()
    }

    /// Waits for the work to end; its value, or the error it threw. The caller's thread only, once.
    public func join() throws -> Value {
        precondition(!joined, "a thread's work is joined once")
        joined = true
        done.wait()
        return try outcome!.get()
    }

    /// Runs every body on a thread of its own and waits for all of them; their outcomes in the bodies' order.
    public static func all(_ bodies: [@Sendable () throws -> Value]) -> [Result<Value, any Error>] {
        let started = bodies.map { Beside($0) }
        return started.map { work in Result { try work.join() } }
    }
}

extension Beside where Value == Void {
    /// Waits for work that cannot fail.
    public func wait() {
        precondition(!joined, "a thread's work is joined once")
        joined = true
        done.wait()
    }
}
