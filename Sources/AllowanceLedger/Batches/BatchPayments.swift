public struct BatchExportResult: Sendable, Equatable {
    public let batch: Batch
    public let path: String
    public let lines: Int
    public let total: Money
    /// Carrier transfers posted by this run; empty when an earlier export already posted them.
    public let transfersPosted: [String: Money]
    public let transfersAlreadyPosted: [String: Money]
    /// Treasury balance after the transfers; negative means the budget was not recorded (`allowance fund`).
    public let treasuryBalance: Money

    package init(batch: Batch, path: String, lines: Int, total: Money, transfersPosted: [String: Money],
                 transfersAlreadyPosted: [String: Money], treasuryBalance: Money) {
        self.batch = batch
        self.path = path
        self.lines = lines
        self.total = total
        self.transfersPosted = transfersPosted
        self.transfersAlreadyPosted = transfersAlreadyPosted
        self.treasuryBalance = treasuryBalance
    }
}

public struct CashSettlementResult: Sendable, Equatable {
    public let batch: BatchID
    public let settled: Int
    public let amount: Money
    public let alreadySettled: Int
    public let entry: JournalEntryID?
    /// References that could not be settled, each with why.
    public let problems: [String]
    /// Commune cash desks that paid out more than they were handed (`batch advance-cash` not recorded).
    public var desksShort: [String: Money] = [:]

    package init(batch: BatchID, settled: Int, amount: Money, alreadySettled: Int, entry: JournalEntryID? = nil,
                 problems: [String], desksShort: [String: Money] = [:]) {
        self.batch = batch
        self.settled = settled
        self.amount = amount
        self.alreadySettled = alreadySettled
        self.entry = entry
        self.problems = problems
        self.desksShort = desksShort
    }
}

/// Which cash items `batch settle-cash` pays.
public enum CashSelection: Sendable {
    case all
    case references([CashReference])
}

/// An item reference, and where it came from (`refs.csv:3`) so that a problem with it names the place.
public struct CashReference: Sendable, Equatable, ExpressibleByStringLiteral {
    public let reference: String
    public let origin: String?

    public init(_ reference: String, origin: String? = nil) {
        self.reference = reference
        self.origin = origin
    }

    public init(stringLiteral value: String) { self.init(value) }

    /// The references in a file: a CSV with a `reference` column, or a plain list, one per line. Every line that holds
    /// none is reported; a file with any such line, or with no reference at all, gives none.
    public static func read(from path: String) throws -> [CashReference] {
        let reader = try CSVReader(path: path)
        var references: [CashReference] = []
        var column: Int?
        var first = true
        var problems: [LineProblem] = []
        while try reader.next() {
            if reader.isBlank { continue }
            if let error = reader.recordError {
                problems.append(LineProblem(file: path, line: reader.recordLine, problems: [error.problem]))
                continue
            }
            if first {
                first = false
                let header = CSVHeader(reader: reader)
                if let index = header.index(of: "reference") {
                    column = index
                    continue
                }
            }
            let index = column ?? 0
            guard index < reader.fieldCount, let value = reader.string(index)?.trimmingSpaces, !value.isEmpty else {
                problems.append(LineProblem(file: path, line: reader.recordLine, problems: [Problem("cash.no_reference")]))
                continue
            }
            references.append(CashReference(value, origin: "\(path):\(reader.recordLine)"))
        }
        guard problems.isEmpty else { throw CashReferenceFileError.badLines(problems) }
        guard !references.isEmpty else { throw CashReferenceFileError.noReferences(path) }
        return references
    }
}

/// Why a file of cash references gives none.
public enum CashReferenceFileError: ProblemConvertible, Sendable, Equatable {
    /// Lines that hold no reference, each as `FILE:LINE: reason`.
    case badLines([LineProblem])
    case noReferences(String)

    public var problem: Problem {
        switch self {
        case .badLines(let lines): Problem(text: lines.map(\.description).joined(separator: "\n"))
        case .noReferences(let file): Problem("cash.no_references", ["file": file])
        }
    }
}

/// Counts and totals of a batch, by method, commune and payment state.
/// A payee whose number in a batch is not the one they were last paid on.
public struct NumberChange: Sendable, Equatable {
    public let seq: Int64
    public let beneficiary: BeneficiaryID
    public let msisdn: String
    public let lastPaidMSISDN: String
    public let lastPaidPeriod: String

    package init(seq: Int64, beneficiary: BeneficiaryID, msisdn: String, lastPaidMSISDN: String, lastPaidPeriod: String) {
        self.seq = seq
        self.beneficiary = beneficiary
        self.msisdn = msisdn
        self.lastPaidMSISDN = lastPaidMSISDN
        self.lastPaidPeriod = lastPaidPeriod
    }
}

public struct BatchSummary: Sendable, Equatable {
    public struct Line: Sendable, Equatable {
        public let key: String
        public let items: Int
        public let amount: Money

        package init(key: String, items: Int, amount: Money) {
            self.key = key
            self.items = items
            self.amount = amount
        }
    }

    public let batch: Batch
    public let items: Int
    public let total: Money
    public let byMethod: [Line]
    public let byCommune: [Line]
    public let byState: [Line]
    public let byCarrier: [Line]
    public let heldOutByReason: [Line]
    public let entries: [(id: Int64, kind: String, at: String, amount: Money)]

    package init(batch: Batch, items: Int, total: Money, byMethod: [Line], byCommune: [Line], byState: [Line],
                 byCarrier: [Line], heldOutByReason: [Line],
                 entries: [(id: Int64, kind: String, at: String, amount: Money)]) {
        self.batch = batch
        self.items = items
        self.total = total
        self.byMethod = byMethod
        self.byCommune = byCommune
        self.byState = byState
        self.byCarrier = byCarrier
        self.heldOutByReason = heldOutByReason
        self.entries = entries
    }

    public static func == (lhs: BatchSummary, rhs: BatchSummary) -> Bool {
        lhs.batch == rhs.batch && lhs.items == rhs.items && lhs.total == rhs.total && lhs.byMethod == rhs.byMethod
            && lhs.byCommune == rhs.byCommune && lhs.byState == rhs.byState
    }
}
