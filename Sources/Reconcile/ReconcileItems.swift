import AllowanceLedger

/// A batch's items as the matcher needs them, held in flat arrays indexed by `seq - 1`: a million items take
/// about 60 MB and no string per item.
///
/// The table also tracks what the file being imported has done so far, so that a second line for an item sees
/// the first.
public final class ReconcileItems {
    public let batch: Batch
    /// Carrier codes; an item's carrier is `carriers[carrierIndex - 1]`, 0 meaning a cash item.
    public let carriers: [String]
    /// Carriers the batch's funds were sent to (`batch export` posted their transfer).
    let exportedCarriers: [Bool]

    let ids: [Int64]
    let beneficiaries: [Int64]
    let amounts: [Int64]
    /// `84xxxxxxxxx` as a number; 0 for cash items.
    let msisdns: [UInt64]
    let carrierIndexes: [UInt8]
    private(set) var states: [ItemState]
    /// The states as loaded: an item open then has no `item_state` row yet.
    private let loadedStates: [ItemState]
    /// Some readable line, in any file, has named the item.
    private(set) var named: [Bool]
    /// The fingerprint and place of the line that gave the item its final outcome.
    private(set) var finalFingerprints: [Int64]
    private(set) var finalPlaces: [UInt64]
    /// For the few items paid and then reversed: the line that had paid them, so that a carrier resending it is a
    /// harmless repeat too.
    private(set) var paidBeforeReversal: [Int: (fingerprint: Int64, place: UInt64)] = [:]
    /// Items a retry batch took over, with the retry item's reference.
    let retriedAs: [Int: String]
    /// Names of earlier result files of this batch, by id, to say where a line was first reported.
    let fileNames: [Int64: String]

    public var count: Int { ids.count }
    /// How many connections read the items: 2 when the second half came through its own.
    let connections: Int
    /// `202611`: compared with every line's reference.
    private let periodCompact: Int

    /// The items as a storage read them: every array indexed by `seq - 1`, carriers numbered in code order.
    package init(batch: Batch, carriers: [String], exportedCarriers: [Bool], ids: [Int64], beneficiaries: [Int64], amounts: [Int64],
                 msisdns: [UInt64], carrierIndexes: [UInt8], states: [ItemState], named: [Bool], finalFingerprints: [Int64],
                 finalPlaces: [UInt64], paidBeforeReversal: [Int: (fingerprint: Int64, place: UInt64)], retriedAs: [Int: String],
                 fileNames: [Int64: String], connections: Int) {
        self.batch = batch
        periodCompact = batch.period.year * 100 + batch.period.month
        self.carriers = carriers
        self.exportedCarriers = exportedCarriers
        self.ids = ids
        self.beneficiaries = beneficiaries
        self.amounts = amounts
        self.msisdns = msisdns
        self.carrierIndexes = carrierIndexes
        self.states = states
        loadedStates = states
        self.named = named
        self.finalFingerprints = finalFingerprints
        self.finalPlaces = finalPlaces
        self.paidBeforeReversal = paidBeforeReversal
        self.retriedAs = retriedAs
        self.fileNames = fileNames
        self.connections = connections
    }

    /// The item a reference names in this batch, by position.
    public func index(of reference: ItemReference) -> Int? {
        guard reference.batch == batch.id, reference.periodCompact == periodCompact,
              reference.seq >= 1, reference.seq <= Int64(count) else { return nil }
        return Int(reference.seq - 1)
    }

    public func amount(at index: Int) -> Int64 { amounts[index] }
    /// The number the payment was sent to, as `84xxxxxxxxx` in a `UInt64`; 0 for a cash item.
    public func msisdn(at index: Int) -> UInt64 { msisdns[index] }
    public func isCash(at index: Int) -> Bool { carrierIndexes[index] == 0 }
    public func carrier(at index: Int) -> String? { carrierIndexes[index] == 0 ? nil : carriers[Int(carrierIndexes[index]) - 1] }
    /// The item's carrier as its place in `carriers`; nil for a cash item.
    func carrierNumber(at index: Int) -> Int? { carrierIndexes[index] == 0 ? nil : Int(carrierIndexes[index]) - 1 }
    /// The carrier was sent the funds for this item.
    public func wasSent(at index: Int) -> Bool { carrierIndexes[index] != 0 && exportedCarriers[Int(carrierIndexes[index]) - 1] }
    public func state(at index: Int) -> ItemState { states[index] }
    public func isNamed(at index: Int) -> Bool { named[index] }
    /// The reference of the retry item that took this one over, if any.
    public func retriedAs(at index: Int) -> String? { retriedAs[index] }

    /// The fingerprint of the line that made the item final, and where that line is (`result.csv:12`).
    public func finalLine(at index: Int, currentFile: (id: Int64, name: String)) -> (fingerprint: Int64, place: String)? {
        describe(finalFingerprints[index], finalPlaces[index], currentFile: currentFile)
    }

    /// For an item paid and then reversed, the line that had paid it.
    public func paidLineBeforeReversal(at index: Int, currentFile: (id: Int64, name: String)) -> (fingerprint: Int64, place: String)? {
        paidBeforeReversal[index].flatMap { describe($0.fingerprint, $0.place, currentFile: currentFile) }
    }

    private func describe(_ fingerprint: Int64, _ place: UInt64, currentFile: (id: Int64, name: String)) -> (fingerprint: Int64, place: String)? {
        guard place != 0 else { return nil }
        let file = Int64(place >> 32)
        let line = Int(place & 0xFFFF_FFFF)
        let name = file == currentFile.id ? currentFile.name : fileNames[file] ?? "file \(file)"
        return (fingerprint, "\(name):\(line)")
    }

    func markNamed(_ index: Int) { named[index] = true }

    /// The item had no `item_state` row when this file began: it was open.
    package func wasOpenAtLoad(_ index: Int) -> Bool { loadedStates[index] == .open }

    /// The line that made the item final is in file `file`: that file moved its state.
    package func wasMoved(at index: Int, byFile file: Int64) -> Bool { finalPlaces[index] >> 32 == UInt64(file) }

    func setFinal(_ index: Int, state: ItemState, fingerprint: Int64, file: Int64, line: Int) {
        if states[index] == .paid && state == .failed { paidBeforeReversal[index] = (finalFingerprints[index], finalPlaces[index]) }
        states[index] = state
        finalFingerprints[index] = fingerprint
        finalPlaces[index] = UInt64(file) << 32 | UInt64(line)
    }


    package func id(at index: Int) -> Int64 { ids[index] }
    func beneficiary(at index: Int) -> Int64 { beneficiaries[index] }
}
