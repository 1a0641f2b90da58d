/// Row identifiers, typed so that a batch's cannot be passed where a beneficiary's is expected.
public enum BeneficiaryTag {}
public enum BatchTag {}
public enum BatchItemTag {}
public enum JournalEntryTag {}

public struct RowID<Tag>: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: Int64
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public static func < (lhs: RowID, rhs: RowID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}

public typealias BeneficiaryID = RowID<BeneficiaryTag>
public typealias BatchID = RowID<BatchTag>
public typealias BatchItemID = RowID<BatchItemTag>
public typealias JournalEntryID = RowID<JournalEntryTag>
