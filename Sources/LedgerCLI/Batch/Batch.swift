import AllowanceLedger
import ArgumentParser

extension Allowance {
    struct Batch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The month's payout: create, approve (a second person), export for the carrier, settle cash.",
            subcommands: [Create.self, Approve.self, Cancel.self, Export.self, AdvanceCash.self, SettleCash.self, Retry.self, Show.self, List.self])
    }
}

extension BatchID: ExpressibleByArgument {
    public init?(argument: String) {
        guard let value = Int64(argument), value > 0 else { return nil }
        self.init(value)
    }
}

enum BatchView {
    static func json(_ batch: AllowanceLedger.Batch) -> JSON {
        .object([
            ("batch", .int(batch.id.rawValue)), ("period", .string(batch.period.description)),
            ("communes", .array(batch.communes.map { .string($0.value) })), ("status", .string(batch.status.rawValue)),
            ("created_by", .string(batch.createdBy)), ("created_at", .string(batch.createdAt)),
            ("approved_by", .optional(batch.approvedBy)), ("approved_at", .optional(batch.approvedAt)),
            ("exported_at", .optional(batch.exportedAt)), ("held_out", .int(batch.heldOut)),
            ("retry_of", batch.retryOf.map { .int($0.rawValue) } ?? .null),
        ])
    }

    static func lines(_ lines: [BatchSummary.Line]) -> JSON {
        .array(lines.map { .object([("key", .string($0.key)), ("items", .int($0.items)), ("amount", .int($0.amount.dong))]) })
    }
}
