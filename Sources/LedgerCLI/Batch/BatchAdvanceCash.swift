import AllowanceLedger
import AllowanceViews
import AllowanceOffice
import ArgumentParser

extension Allowance.Batch {
    struct AdvanceCash: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "advance-cash",
            abstract: "Record the cash handed to the commune cash desks for the batch's cash items: Dr 1200 / Cr 1000.",
            discussion: "Once per batch; running it again changes nothing. Paying the items out (`settle-cash`) then leaves each desk at zero.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "Batch number.") var batch: BatchID
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let result = try store.open().payouts.advanceCash(batch, by: try user.user())
            let total = Money(dong: result.perCommune.values.reduce(0) { $0 + $1.dong })
            if output.json {
                JSON.object([("batch", .int(batch.rawValue)), ("total", .int(total.dong)), ("already_recorded", .bool(result.alreadyRecorded)),
                             ("communes", .object(result.perCommune.sorted { $0.key < $1.key }.map { ($0.key, JSON.int($0.value.dong)) }))]).print()
            } else if result.alreadyRecorded {
                print("Cash for batch \(batch) was already handed to the commune desks; nothing posted twice.")
            } else {
                print("Recorded \(total.shown) handed to \(result.perCommune.count) commune cash desk(s) for batch \(batch).")
            }
        }
    }
}
