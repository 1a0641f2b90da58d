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
