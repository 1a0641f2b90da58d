/// The non-cash report as files: CSV, JSON and a self-contained HTML page with inline SVG charts.
extension NonCashReport {
    public static let csvHeader = ["recipients", "noncash_recipients", "noncash_share", "amount_total", "noncash_amount", "amount_share",
                                   "failed_mobile_money", "active_beneficiaries", "with_mobile_money", "coverage", "name"]

    /// The columns' kinds in a workbook: counts as numbers, amounts `#,##0`, shares as per cents.
    static let columnKinds: [ColumnKind] = [.text, .number, .number, .percent, .amount, .amount, .percent, .number, .number, .number, .percent, .text]

    /// One row per group (ranked as in `rows`) and a last row `TOTAL`; the first column is named for the grouping.
    public func writeCSV(to path: String) throws { try write(to: path, format: .csv) }

    /// The same rows as CSV or as an xlsx workbook.
    public func write(to path: String, format: TableFormat) throws {
        let writer = try tableWriter(path: path, format: format, sheet: "noncash", columns: Self.columnKinds)
        try writer.row([grouping.rawValue] + Self.csvHeader)
        func row(_ key: String, _ name: String?, _ figures: NonCashFigures, _ coverage: Coverage?) throws {
            writer.text(key)
            writer.int(figures.recipients)
            writer.int(figures.noncashRecipients)
            writer.text(figures.noncashShare?.decimal ?? "")
            writer.int(figures.amountTotal)
            writer.int(figures.noncashAmount)
            writer.text(figures.amountShare?.decimal ?? "")
            writer.int(figures.failedMobileMoney)
            if let coverage {
                writer.int(coverage.active)
                writer.int(coverage.withMobileMoney)
                writer.text(coverage.share?.decimal ?? "")
            } else {
                writer.empty()
                writer.empty()
                writer.empty()
            }
            writer.text(name ?? "")
            try writer.endRow()
        }
        for item in rows { try row(item.key, item.name, item.figures, item.coverage) }
        try row("TOTAL", nil, total, coverage)
        try writer.commit()
    }

    private static func share(_ share: Share?) -> JSONValue { share.map { .double(Double($0.basisPoints) / 10_000) } ?? .null }

    private static func figures(_ figures: NonCashFigures) -> [String: JSONValue] {
        ["recipients": .integer(figures.recipients), "noncash_recipients": .integer(figures.noncashRecipients),
         "noncash_share": share(figures.noncashShare), "amount_total": .integer(figures.amountTotal),
         "noncash_amount": .integer(figures.noncashAmount), "amount_share": share(figures.amountShare),
         "failed_mobile_money": .integer(figures.failedMobileMoney)]
    }

    private static func coverage(_ coverage: Coverage) -> JSONValue {
        .object(["active_beneficiaries": .integer(coverage.active), "with_mobile_money": .integer(coverage.withMobileMoney),
                 "share": share(coverage.share)])
    }

    /// One JSON object (RFC 8785 canonical form: keys sorted, one line).
    public var json: String {
        var object = Self.figures(total)
        object["period"] = .string(periodLabel)
        object["from"] = .string(from.description)
        object["to"] = .string(to.description)
        object["by"] = .string(grouping.rawValue)
        object["target"] = Self.share(target)
        object["coverage"] = Self.coverage(coverage)
        object["rows"] = .array(rows.map { row in
            var item = Self.figures(row.figures)
            item["key"] = .string(row.key)
            if grouping == .commune { item["name"] = row.name.map { .string($0) } ?? .null }
            if let coverage = row.coverage { item["coverage"] = Self.coverage(coverage) }
            return .object(item)
        })
        object["months"] = .array(months.map { month in
            var item = Self.figures(month.figures)
            item["period"] = .string(month.period.description)
            return .object(item)
        })
        object["failure_reasons"] = .array(failureReasons.map { .object(["reason": .string($0.reason), "count": .integer($0.count)]) })
        do {
            return String(decoding: try JSONValue.object(object).canonicalBytes(), as: UTF8.self)
        } catch {
            // Counts and đồng of one office stay far below 2^53, and shares are finite: nothing here can fail.
            preconditionFailure("the report does not serialise: \(error)")
        }
    }
}
