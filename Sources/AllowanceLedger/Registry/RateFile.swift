/// The rates as a file (`rate import`): one line per base level or category amount from a day, so that a change in
/// law is loaded as data, checked whole, in one transaction.
///
/// `kind,code,effective_from,coefficient,amount,province,basis,programme,description,qualifies_from_age,
/// qualifies_from_age_poor,becomes,becomes_at_age`. `kind` is `base_level` (an `amount`, national or a `province`'s)
/// or `category` (its `code` and a `coefficient` or an `amount`; a new category also needs its `description`, and takes
/// its `programme`, default SOCIAL_ALLOWANCE, and its rules of age from the line). Rates are history: a line already
/// loaded is unchanged, another value for a day already set is refused.
public enum RateFile {
    public static let columns = ["kind", "code", "effective_from", "coefficient", "amount", "province", "basis", "programme", "description",
                                 "qualifies_from_age", "qualifies_from_age_poor", "becomes", "becomes_at_age"]
    public static let requiredColumns = ["kind", "code", "effective_from", "coefficient", "amount"]

    enum Line {
        case baseLevel(RateTable.BaseLevel)
        case category(RateTable.Category?, Code, Registry.CategoryAmount, CalendarDate, basis: String)
    }
}

public struct RateImportResult: Sendable, Equatable {
    public var file: String
    public var lines = 0
    public var baseLevels = 0
    public var categories = 0
    public var rates = 0
    public var unchanged = 0

    package init(file: String) { self.file = file }
}

public enum RateImportError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptyFile(String)
    case missingColumns(String, [String])
    case invalidLines(String, count: Int)

    public var description: String {
        let header = RateFile.columns.joined(separator: ",")
        return switch self {
        case .emptyFile(let file): "\(file) is empty; a rates file starts with the header \(header)"
        case .missingColumns(let file, let columns): "\(file) has no \(columns.joined(separator: ", ")) column; the header is \(header)"
        case .invalidLines(let file, let count): "\(file): \(count) bad line\(count == 1 ? "" : "s"); nothing was loaded"
        }
    }
}

extension Registry {
    /// Loads a rates file: every line checked first (nothing loaded when one is bad), then all of it in one transaction.
    public func importRates(path: String, displayName: String? = nil, by user: UserName,
                            onProblem: (LineProblem) -> Void = { _ in }) throws -> RateImportResult {
        let file = displayName ?? path
        let table = try TableFile.open(path: path, displayName: file) { fields in
            Set(CSVHeader(fields: fields).names).isSuperset(of: RateFile.requiredColumns)
        }
        guard let fields = table.header else { throw RateImportError.emptyFile(file) }
        let reader = table.reader
        let header = CSVHeader(fields: fields)
        let missing = RateFile.requiredColumns.filter { header.index(of: $0) == nil }
        guard missing.isEmpty else { throw RateImportError.missingColumns(file, missing) }
        func field(_ name: String) -> String { header.index(of: name).flatMap { reader.string($0) }?.trimmingSpaces ?? "" }

        var lines: [(line: Int, RateFile.Line)] = []
        var problems: [LineProblem] = []
        while try reader.next() {
            if reader.isBlank { continue }
            if let error = reader.recordError {
                problems.append(LineProblem(file: table.label, line: reader.recordLine, problems: [error.problem]))
                continue
            }
            var reasons: [Problem] = []
            func attempt<T, E: ProblemConvertible>(_ body: () throws(E) -> T) -> T? {
                do { return try body() } catch { reasons.append(error.problem); return nil }
            }
            func age(_ name: String) -> Int? {
                let text = field(name)
                if text.isEmpty { return nil }
                guard let value = Int(text), (0...150).contains(value) else {
                    reasons.append(Problem(text: "\(name) \"\(text)\" is not an age in whole years (0 to 150)"))
                    return nil
                }
                return value
            }
            let day = attempt { () throws(FieldError) in try CalendarDate(parsing: field("effective_from"), field: "effective_from") }
            let basis = field("basis")
            let coefficientText = field("coefficient"), amountText = field("amount")
            func described<T>(_ body: () throws -> T) -> T? {
                do { return try body() } catch { reasons.append(Problem(text: "\(error)")); return nil }
            }
            let coefficient = coefficientText.isEmpty ? nil : described { try Coefficient(parsing: coefficientText) }
            let amount = amountText.isEmpty ? nil : described { try Money(parsing: amountText) }
            if let amount, amount.dong <= 0 { reasons.append(Problem(text: "amount must be positive")) }
            switch field("kind").lowercased() {
            case "base_level":
                let provinceText = field("province")
                let province = provinceText.isEmpty ? nil
                    : attempt { () throws(FieldError) in try Code(parsing: provinceText, field: "province", uppercase: false, lengthMax: 16) }
                if !coefficientText.isEmpty { reasons.append(Problem(text: "a base level has an amount, not a coefficient")) }
                if amountText.isEmpty { reasons.append(Problem(text: "a base level needs its amount")) }
                if reasons.isEmpty, let day, let amount {
                    lines.append((reader.recordLine, .baseLevel(RateTable.BaseLevel(effectiveFrom: day, amount: amount, province: province?.value,
                                                                                   basis: basis))))
                }
            case "category":
                let code = attempt { () throws(FieldError) in try Code(parsing: field("code"), field: "code", uppercase: true) }
                if coefficientText.isEmpty == amountText.isEmpty { reasons.append(Problem(text: RateError.coefficientOrAmount.description)) }
                if !field("province").isEmpty { reasons.append(Problem(text: "a category's amount is national; a province sets its own base level")) }
                let programmeText = field("programme")
                let programme = programmeText.isEmpty ? Code(trusted: "SOCIAL_ALLOWANCE")
                    : attempt { () throws(FieldError) in try Code(parsing: programmeText, field: "programme", uppercase: true) }
                let becomesText = field("becomes")
                let becomes = becomesText.isEmpty ? nil : attempt { () throws(FieldError) in try Code(parsing: becomesText, field: "becomes", uppercase: true) }
                let becomesAt = age("becomes_at_age")
                if (becomes == nil) != (becomesAt == nil) { reasons.append(Problem(text: "give becomes and becomes_at_age together")) }
                let description = field("description")
                let rules = description.isEmpty ? nil : programme.flatMap { programme in code.map { code in
                    RateTable.Category(code: code, description: description, programme: programme, qualifiesFromAge: age("qualifies_from_age"),
                                       qualifiesFromAgePoorHousehold: age("qualifies_from_age_poor"), becomes: becomes, becomesAtAge: becomesAt)
                } }
                if reasons.isEmpty, let code, let day, coefficient != nil || amount != nil {
                    let value: Registry.CategoryAmount = coefficient.map { Registry.CategoryAmount.coefficient($0) } ?? .fixed(amount!)
                    lines.append((reader.recordLine, .category(rules, code, value, day, basis: basis)))
                }
            default:
                reasons.append(Problem(text: "kind \"\(field("kind"))\" is base_level or category"))
            }
            if !reasons.isEmpty { problems.append(LineProblem(file: table.label, line: reader.recordLine, problems: reasons)) }
        }
        let now = clock.now()
        var result = RateImportResult(file: file)
        // Checked against the ledger inside the transaction: a line that contradicts what is loaded is a problem too.
        return try storage.write { tx in
            let rates = try tx.rateTable()
            var fileCategories = Set<Code>()
            for (_, line) in lines { if case .category(let rules?, _, _, _, _) = line { fileCategories.insert(rules.code) } }
            var pending: [(RateFile.Line, Bool)] = []
            for (number, line) in lines {
                var reasons: [Problem] = []
                var isNew = true
                switch line {
                case .baseLevel(let level):
                    if let same = rates.baseLevels.first(where: { $0.province == level.province && $0.effectiveFrom == level.effectiveFrom }) {
                        isNew = false
                        if same.amount != level.amount {
                            reasons.append(Problem(text: RateError.alreadySet("the base level \(level.province.map { "of province \($0) " } ?? "")from \(level.effectiveFrom)").description))
                        }
                    }
                case .category(let rules, let code, let value, let day, _):
                    if let existing = rates.categoryRules[code] {
                        if let rules, rules != existing {
                            reasons.append(Problem(text: "category \(code) exists with another description, programme or rules of age; an import adds amounts only"))
                        }
                        if let same = rates.categoryRates.first(where: { $0.category == code && $0.effectiveFrom == day }) {
                            isNew = false
                            if Registry.CategoryAmount(same) != value { reasons.append(Problem(text: RateError.alreadySet("a rate for \(code) from \(day)").description)) }
                        }
                    } else if let rules {
                        reasons += rates.refusals(adding: rules, alsoKnown: fileCategories).map { Problem(text: $0.description) }
                        if pending.contains(where: { if case .category(let earlier?, _, _, _, _) = $0.0 { earlier.code == code } else { false } }) {
                            reasons.append(Problem(text: "category \(code) is described on an earlier line; describe a new category once"))
                        }
                    } else if !pending.contains(where: { if case .category(let earlier?, _, _, _, _) = $0.0 { earlier.code == code } else { false } }) {
                        reasons.append(Problem(text: "category \(code) is not known; a new category's line needs its description"))
                    }
                }
                // Twice in the file: the second line would meet the first's row.
                let twice = pending.contains { earlier, _ in
                    switch (earlier, line) {
                    case (.baseLevel(let a), .baseLevel(let b)): a.province == b.province && a.effectiveFrom == b.effectiveFrom
                    case (.category(_, let a, _, let dayA, _), .category(_, let b, _, let dayB, _)): a == b && dayA == dayB
                    default: false
                    }
                }
                if twice { reasons.append(Problem(text: "an earlier line of the file sets the same rate for the same day; give it once")) }
                if reasons.isEmpty {
                    pending.append((line, isNew))
                } else {
                    problems.append(LineProblem(file: table.label, line: number, problems: reasons))
                }
            }
            // Categories that move on by age must end somewhere: a loop would move people round it every month.
            var next: [Code: Code] = [:]
            for (code, rules) in rates.categoryRules { if let to = rules.becomes { next[code] = to } }
            for (line, _) in pending { if case .category(let rules?, let code, _, _, _) = line, let to = rules.becomes { next[code] = to } }
            for (number, line) in lines {
                guard case .category(let rules?, let code, _, _, _) = line, rules.becomes != nil else { continue }
                var seen: Set<Code> = [code]
                var at = code
                while let to = next[at] {
                    if seen.contains(to) {
                        problems.append(LineProblem(file: table.label, line: number, problems: [Problem(text: "category \(code) moves on by age in a loop back to \(to)")]))
                        break
                    }
                    seen.insert(to)
                    at = to
                }
            }
            problems.sort { $0.line < $1.line }
            problems.forEach(onProblem)
            guard problems.isEmpty else { throw RateImportError.invalidLines(file, count: problems.count) }
            var created = Set<Code>()
            for (line, isNew) in pending {
                result.lines += 1
                guard isNew else {
                    result.unchanged += 1
                    continue
                }
                switch line {
                case .baseLevel(let level):
                    try tx.insertBaseLevel(level, at: now, by: user)
                    result.baseLevels += 1
                case .category(let rules, let code, let value, let day, let basis):
                    if let rules, rates.categoryRules[code] == nil, created.insert(code).inserted {
                        try tx.insertCategory(rules)
                        result.categories += 1
                    }
                    try tx.insertRate(value.rate(of: code, from: day), basis: basis, at: now, by: user)
                    result.rates += 1
                }
            }
            return result
        }
    }
}
