/// The non-cash report as one self-contained HTML page: inline CSS and SVG, no script, font or link from outside,
/// Vietnamese labels and number style (1.234.567 ₫, 52,3 %), laid out to print on A4.
extension NonCashReport {
    /// At most this many rows in the ranked chart (the lowest shares: where the office must act); the table has all.
    public static let chartRowsMax = 40

    public func html(office: String?) -> String {
        var page = HTMLPage()
        let title = "Chi trả trợ cấp không dùng tiền mặt — \(periodText)"
        page.raw("""
            <!DOCTYPE html>
            <html lang="vi">
            <head>
            <meta charset="utf-8">
            <title>\(htmlEscaped(title))</title>
            <style>
            @page { size: A4; margin: 14mm; }
            body { font-family: "Noto Sans", "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #1d2733; margin: 0 auto;
                   max-width: 182mm; font-size: 10pt; line-height: 1.35; }
            h1 { font-size: 16pt; margin: 0 0 2mm; }
            h2 { font-size: 11.5pt; margin: 6mm 0 2mm; }
            p.sub { color: #55606d; margin: 0 0 4mm; }
            .kpis { display: flex; gap: 4mm; flex-wrap: wrap; }
            .kpi { border: 1px solid #d5dbe3; border-radius: 2mm; padding: 2mm 3mm; flex: 1 1 38mm; }
            .kpi b { display: block; font-size: 16pt; }
            .kpi.lag b { color: #b3261e; }
            .kpi span { color: #55606d; font-size: 8.5pt; }
            table { border-collapse: collapse; width: 100%; font-size: 7.5pt; }
            th, td { padding: 0.8mm 1mm; border-bottom: 1px solid #e3e7ec; text-align: left; }
            th { font-weight: 600; vertical-align: bottom; }
            th { background: #f2f4f7; }
            td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
            tr.lag td.share { color: #b3261e; font-weight: bold; }
            tr.total td { font-weight: bold; border-top: 1.5px solid #1d2733; }
            svg { width: 100%; height: auto; display: block; }
            section { break-inside: avoid; }
            dl { font-size: 8.5pt; } dt { font-weight: bold; margin-top: 1.5mm; } dd { margin: 0 0 0 4mm; }
            </style>
            </head>
            <body>

            """)
        page.raw("<h1>\(htmlEscaped(title))</h1>\n")
        let subtitle = [office, "Kỳ \(periodText)", "Theo \(groupingLabel.lowercased())", "Mục tiêu \(target.vietnamese)"].compactMap { $0 }
        page.raw("<p class=\"sub\">\(htmlEscaped(subtitle.joined(separator: " · ")))</p>\n")

        // Headline figures.
        let lags = isBelowTarget(total)
        page.raw("<div class=\"kpis\">\n")
        page.kpi(total.noncashShare?.vietnamese ?? "—", "người nhận được chi trả không dùng tiền mặt (\(count(total.noncashRecipients)) / \(count(total.recipients)))",
                 lag: lags)
        page.kpi(total.amountShare?.vietnamese ?? "—", "số tiền chi qua tài khoản (\(dong(total.noncashAmount)) / \(dong(total.amountTotal)))", lag: false)
        page.kpi(coverage.share?.vietnamese ?? "—", "đối tượng đang hưởng có tài khoản (\(count(coverage.withMobileMoney)) / \(count(coverage.active)))", lag: false)
        page.kpi(count(total.failedMobileMoney), "khoản chi qua tài khoản thất bại hoặc bị hoàn", lag: false)
        page.raw("</div>\n")

        page.raw("<section>\n<h2>Xu hướng theo tháng</h2>\n")
        page.raw(trendChart())
        page.raw("</section>\n")

        page.raw("<section>\n<h2>\(htmlEscaped(groupingLabel)) xếp theo tỷ lệ, thấp nhất trước</h2>\n")
        page.raw(rankedChart())
        page.raw("</section>\n")

        page.raw("<h2>Bảng số liệu</h2>\n<table>\n<thead><tr>")
        var headers = [(groupingLabel, false), ("Người nhận", true), ("Không dùng tiền mặt", true), ("Tỷ lệ", true), ("Tổng số tiền", true),
                       ("Chi qua tài khoản", true), ("Tỷ lệ số tiền", true), ("Thất bại", true)]
        if grouping == .commune { headers.append(("Độ phủ tài khoản", true)) }
        for (header, numeric) in headers { page.raw(numeric ? "<th class=\"n\">\(htmlEscaped(header))</th>" : "<th>\(htmlEscaped(header))</th>") }
        page.raw("</tr></thead>\n<tbody>\n")
        func row(_ key: String, _ figures: NonCashFigures, _ coverage: Coverage?, total isTotal: Bool) {
            let lag = !isTotal && isBelowTarget(figures)
            page.raw(isTotal ? "<tr class=\"total\">" : lag ? "<tr class=\"lag\">" : "<tr>")
            page.raw("<td>\(htmlEscaped(key))</td>")
            for cell in [count(figures.recipients), count(figures.noncashRecipients)] { page.raw("<td class=\"n\">\(htmlEscaped(cell))</td>") }
            page.raw("<td class=\"n share\">\(htmlEscaped(figures.noncashShare?.vietnamese ?? "—"))</td>")
            for cell in [dong(figures.amountTotal), dong(figures.noncashAmount), figures.amountShare?.vietnamese ?? "—", count(figures.failedMobileMoney)] {
                page.raw("<td class=\"n\">\(htmlEscaped(cell))</td>")
            }
            if grouping == .commune { page.raw("<td class=\"n\">\(htmlEscaped(coverage?.share?.vietnamese ?? "—"))</td>") }
            page.raw("</tr>\n")
        }
        for item in rows { row(item.label, item.figures, item.coverage, total: false) }
        row("Tổng cộng", total, coverage, total: true)
        page.raw("</tbody>\n</table>\n")

        page.raw("<section>\n<h2>Lý do chi trả thất bại thường gặp</h2>\n")
        if failureReasons.isEmpty {
            page.raw("<p>Không có khoản chi qua tài khoản nào thất bại trong kỳ.</p>\n")
        } else {
            page.raw("<table>\n<thead><tr><th>Lý do (mã và nội dung của nhà mạng)</th><th class=\"n\">Số khoản</th></tr></thead>\n<tbody>\n")
            for reason in failureReasons { page.raw("<tr><td>\(htmlEscaped(reason.reason))</td><td class=\"n\">\(htmlEscaped(count(reason.count)))</td></tr>\n") }
            page.raw("</tbody>\n</table>\n")
        }
        page.raw("</section>\n")

        page.raw("""
            <section>
            <h2>Định nghĩa</h2>
            <dl>
            <dt>Người nhận</dt><dd>Đối tượng có khoản chi trong một đợt chi trả đã được phê duyệt của kỳ (khoản chi lại không tính thêm người). Khi báo cáo nhiều tháng, mỗi người được tính một lần cho mỗi tháng.</dd>
            <dt>Không dùng tiền mặt</dt><dd>Người nhận có khoản chi qua tài khoản di động được nhà mạng xác nhận đã trả. Khoản chi qua tài khoản thất bại rồi trả bằng tiền mặt tính là tiền mặt; khoản đã bị nhà mạng hoàn lại không tính.</dd>
            <dt>Tỷ lệ số tiền</dt><dd>Số tiền đã trả vào tài khoản di động trên tổng số tiền người nhận được hưởng trong kỳ.</dd>
            <dt>Độ phủ tài khoản</dt><dd>Đối tượng đang hưởng có tài khoản di động trên tổng số đối tượng đang hưởng, theo danh sách hiện tại.</dd>
            <dt>Nguồn số liệu</dt><dd>Sổ cái: các đợt chi trả đã phê duyệt và kết quả đối soát với nhà mạng, không chỉ danh sách đối tượng.</dd>
            </dl>
            </section>
            </body>
            </html>

            """)
        return page.text
    }

    private var periodText: String { from == to ? from.vietnamese : "\(from.vietnamese) – \(to.vietnamese)" }

    private var groupingLabel: String {
        switch grouping {
        case .commune: "Xã, phường"
        case .category: "Nhóm đối tượng"
        case .carrier: "Nhà mạng"
        }
    }

    private func count(_ value: Int64) -> String { Money(dong: value).grouped }
    /// `1.234.567 ₫`, a no-break space before the sign.
    private func dong(_ value: Int64) -> String { Money(dong: value).grouped + "\u{00A0}₫" }

    /// A line of the non-cash share per month over 0–100 %, the target dashed; months without payments leave a gap.
    private func trendChart() -> String {
        let width = 640, height = 220, left = 44, right = 30, top = 14, bottom = 30
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func y(_ basisPoints: Int64) -> Int { top + plotHeight - Int(basisPoints) * plotHeight / 10_000 }
        // The first and last points sit inside the axes, clear of the percentage labels.
        let inset = 24
        func x(_ index: Int) -> Int {
            months.count == 1 ? left + plotWidth / 2 : left + inset + index * (plotWidth - 2 * inset) / (months.count - 1)
        }
        // Up to a year, every point has its value; beyond, only the last one, or the labels would run together.
        let labelsEveryPoint = months.count <= 12
        var svg = "<svg viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"Tỷ lệ không dùng tiền mặt theo tháng\">\n"
        for step in stride(from: 0, through: 10_000, by: 2_500) {
            svg += "<line x1=\"\(left)\" y1=\"\(y(Int64(step)))\" x2=\"\(width - right)\" y2=\"\(y(Int64(step)))\" stroke=\"#e3e7ec\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(y(Int64(step)) + 4)\" font-size=\"10\" text-anchor=\"end\" fill=\"#55606d\">\(step / 100) %</text>\n"
        }
        svg += "<line x1=\"\(left)\" y1=\"\(y(target.basisPoints))\" x2=\"\(width - right)\" y2=\"\(y(target.basisPoints))\" stroke=\"#b3261e\" stroke-dasharray=\"6 4\"/>"
        // The target's label sits at the left, clear of the latest month's point on the right.
        svg += "<text x=\"\(left + 4)\" y=\"\(y(target.basisPoints) - 4)\" font-size=\"10\" text-anchor=\"start\" fill=\"#b3261e\">Mục tiêu \(htmlEscaped(target.vietnamese))</text>\n"
        var segment: [String] = []
        func flush() {
            if segment.count > 1 { svg += "<polyline points=\"\(segment.joined(separator: " "))\" fill=\"none\" stroke=\"#1f6fb2\" stroke-width=\"2.5\"/>\n" }
            segment = []
        }
        let labelEvery = max(1, (months.count + 11) / 12)
        for (index, month) in months.enumerated() {
            if index % labelEvery == 0 || index == months.count - 1 {
                svg += "<text x=\"\(x(index))\" y=\"\(height - 10)\" font-size=\"10\" text-anchor=\"middle\" fill=\"#55606d\">\(month.period.vietnamese)</text>\n"
            }
            guard let share = month.figures.noncashShare else {
                flush()
                continue
            }
            segment.append("\(x(index)),\(y(share.basisPoints))")
            svg += "<circle cx=\"\(x(index))\" cy=\"\(y(share.basisPoints))\" r=\"3.5\" fill=\"#1f6fb2\"/>"
            if labelsEveryPoint || index == months.count - 1 {
                svg += "<text x=\"\(x(index))\" y=\"\(y(share.basisPoints) - 8)\" font-size=\"9.5\" text-anchor=\"middle\" fill=\"#1d2733\">\(htmlEscaped(share.vietnamese))</text>"
            }
            svg += "\n"
        }
        flush()
        if months.allSatisfy({ $0.figures.noncashShare == nil }) {
            svg += "<text x=\"\(left + plotWidth / 2)\" y=\"\(top + plotHeight / 2)\" font-size=\"12\" text-anchor=\"middle\" fill=\"#55606d\">Chưa có đợt chi trả nào được phê duyệt trong kỳ</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// One bar per group, lowest share first, with the target as a dashed line.
    private func rankedChart() -> String {
        let shown = Array(rows.prefix(Self.chartRowsMax))
        let width = 640, left = 150, right = 60, top = 8, barHeight = 16, gap = 4
        let plotWidth = width - left - right
        let height = top * 2 + max(1, shown.count) * (barHeight + gap) + 14
        func x(_ basisPoints: Int64) -> Int { left + Int(basisPoints) * plotWidth / 10_000 }
        var svg = "<svg viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(htmlEscaped(groupingLabel)) theo tỷ lệ\">\n"
        for (index, row) in shown.enumerated() {
            let y = top + index * (barHeight + gap)
            let basisPoints = row.figures.noncashShare?.basisPoints ?? 0
            let lag = isBelowTarget(row.figures)
            svg += "<text x=\"\(left - 6)\" y=\"\(y + barHeight - 4)\" font-size=\"10\" text-anchor=\"end\" fill=\"#1d2733\">\(htmlEscaped(row.label))</text>"
            svg += "<rect x=\"\(left)\" y=\"\(y)\" width=\"\(x(basisPoints) - left)\" height=\"\(barHeight)\" fill=\"\(lag ? "#e8a09a" : "#7fb3dc")\"/>"
            svg += "<text x=\"\(x(basisPoints) + 4)\" y=\"\(y + barHeight - 4)\" font-size=\"9.5\" fill=\"#1d2733\">\(htmlEscaped(row.figures.noncashShare?.vietnamese ?? "—"))</text>\n"
        }
        let bottom = top + max(1, shown.count) * (barHeight + gap)
        if shown.isEmpty {
            return svg + "<text x=\"\(left)\" y=\"\(top + barHeight)\" font-size=\"11\" fill=\"#55606d\">Chưa có số liệu trong kỳ</text>\n</svg>\n"
        }
        svg += "<line x1=\"\(x(target.basisPoints))\" y1=\"\(top - 4)\" x2=\"\(x(target.basisPoints))\" y2=\"\(bottom)\" stroke=\"#b3261e\" stroke-dasharray=\"6 4\"/>"
        svg += "<text x=\"\(x(target.basisPoints))\" y=\"\(bottom + 11)\" font-size=\"10\" text-anchor=\"middle\" fill=\"#b3261e\">Mục tiêu \(htmlEscaped(target.vietnamese))</text>\n"
        if rows.count > shown.count {
            svg += "<text x=\"\(left)\" y=\"\(bottom + 11)\" font-size=\"9.5\" fill=\"#55606d\">\(rows.count - shown.count) dòng cao hơn có trong bảng</text>\n"
        }
        return svg + "</svg>\n"
    }
}

/// Builds the page's text.
private struct HTMLPage {
    var text = ""

    mutating func raw(_ html: String) { text += html }

    mutating func kpi(_ value: String, _ label: String, lag: Bool) {
        text += "<div class=\"kpi\(lag ? " lag" : "")\"><b>\(htmlEscaped(value))</b><span>\(htmlEscaped(label))</span></div>\n"
    }
}

/// Text made safe inside HTML and SVG, in content and in quoted attributes.
package func htmlEscaped(_ text: String) -> String {
    // Per Unicode scalar, not per Character: `"` followed by a combining mark is one Character that is not `"`, and
    // would pass through whole, closing an attribute.
    var out = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out.append(contentsOf: "&amp;".unicodeScalars)
        case "<": out.append(contentsOf: "&lt;".unicodeScalars)
        case ">": out.append(contentsOf: "&gt;".unicodeScalars)
        case "\"": out.append(contentsOf: "&quot;".unicodeScalars)
        case "'": out.append(contentsOf: "&#39;".unicodeScalars)
        default: out.append(scalar)
        }
    }
    return String(out)
}
