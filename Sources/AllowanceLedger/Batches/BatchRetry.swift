public struct BatchRetryResult: Sendable, Equatable {
    public let batch: Batch
    public let retryOf: BatchID
    public let items: Int
    public let total: Money
    /// Items the carrier reported failed (or reversed), and items no result file named.
    public let failed: Int
    public let missing: Int
    public let mobileMoneyItems: Int
    public let cashItems: Int
    /// Left out, with why: a beneficiary no longer active, or held by an open flag.
    public let leftOut: [String: Int]

    package init(batch: Batch, retryOf: BatchID, items: Int, total: Money, failed: Int, missing: Int,
                 mobileMoneyItems: Int, cashItems: Int, leftOut: [String: Int]) {
        self.batch = batch
        self.retryOf = retryOf
        self.items = items
        self.total = total
        self.failed = failed
        self.missing = missing
        self.mobileMoneyItems = mobileMoneyItems
        self.cashItems = cashItems
        self.leftOut = leftOut
    }
}
