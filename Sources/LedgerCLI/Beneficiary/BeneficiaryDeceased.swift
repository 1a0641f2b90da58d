import AllowanceLedger
import ArgumentParser

extension Allowance.Beneficiary {
    struct Deceased: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a beneficiary's death; they get no further items.")
        @OptionGroup var options: StatusChangeOptions
        func run() throws { try options.apply(.deceased, verb: "is recorded as deceased") }
    }
}
