/// A commune or ward of the official list (since 2025-07-01 there are no districts: a commune belongs to one of 34
/// provinces), with the older communes merged into it.
public struct Commune: Sendable, Equatable {
    public let code: Code
    public let name: String
    public let provinceCode: Code
    public let provinceName: String
    public let validFrom: CalendarDate
    /// Codes of the communes merged into this one; a register still naming one of them is read as this one.
    public let replaces: [String]
    /// Where the name comes from (a decision and its date, or "invented" for the demo), kept with the row.
    public let source: String

    public init(code: Code, name: String, provinceCode: Code, provinceName: String, validFrom: CalendarDate, replaces: [String], source: String) {
        self.code = code
        self.name = name
        self.provinceCode = provinceCode
        self.provinceName = provinceName
        self.validFrom = validFrom
        self.replaces = replaces
        self.source = source
    }
}

public struct CommuneImportResult: Sendable, Equatable {
    public var file: String
    public var lines = 0
    public var created = 0
    public var updated = 0
    public var unchanged = 0
    /// Old codes now read as a listed commune.
    public var replacements = 0

    package init(file: String) { self.file = file }
}

public enum CommuneImportError: ProblemConvertible, Sendable, Equatable {
    case emptyFile(String)
    case unreadableHeader(String, Problem)
    case missingColumns(String, [String])
    case invalidLines(String, count: Int)

    public var problem: Problem {
        let header = CommuneList.columns.joined(separator: ",")
        return switch self {
        case .emptyFile(let file): Problem("commune.empty_file", ["file": file, "header": header])
        case .unreadableHeader(let file, let problem): Problem("commune.unreadable_header", ["file": file, "header": header], parts: ["problem": problem])
        case .missingColumns(let file, let columns): Problem("commune.missing_columns", ["file": file, "columns": listed(columns), "header": header])
        case .invalidLines(let file, let count): Problem("commune.invalid_lines", ["file": file, "count": String(count)])
        }
    }
}

/// The official list as a file: `code,name,province_code,province_name,valid_from,replaces,source`, `replaces` holding
/// the merged communes' codes separated by spaces or `;`.
public enum CommuneList {
    public static let columns = ["code", "name", "province_code", "province_name", "valid_from", "replaces", "source"]
    public static let requiredColumns = Array(columns.prefix(5))

    /// Reads and checks every line; the good communes, and each bad line with its reasons.
    static func read(path: String, file: String) throws -> (communes: [(line: Int, commune: Commune)], problems: [LineProblem]) {
        let table = try TableFile.open(path: path, displayName: file) { fields in
            let names = Set(CSVHeader(fields: fields).names)
            return requiredColumns.allSatisfy(names.contains)
        }
        guard let fields = table.header else { throw CommuneImportError.emptyFile(file) }
        let reader = table.reader
        if let problem = reader.recordError { throw CommuneImportError.unreadableHeader(file, problem.problem) }
        let header = CSVHeader(fields: fields)
        let missing = requiredColumns.filter { header.index(of: $0) == nil }
        guard missing.isEmpty else { throw CommuneImportError.missingColumns(file, missing) }
        func field(_ name: String) -> String { header.index(of: name).flatMap { reader.string($0) }?.trimmingSpaces ?? "" }
        var communes: [(Int, Commune)] = []
        var problems: [LineProblem] = []
        var seen: [String: Int] = [:]
        while try reader.next() {
            if reader.isBlank { continue }
            var reasons: [Problem] = []
            if let error = reader.recordError {
                problems.append(LineProblem(file: table.label, line: reader.recordLine, problems: [error.problem]))
                continue
            }
            func attempt<T, E: ProblemConvertible>(_ body: () throws(E) -> T) -> T? {
                do { return try body() } catch { reasons.append(error.problem); return nil }
            }
            let code = attempt { () throws(FieldError) in try Code(parsing: field("code"), field: "code", uppercase: false, lengthMax: 16) }
            let province = attempt { () throws(FieldError) in try Code(parsing: field("province_code"), field: "province_code", uppercase: false, lengthMax: 16) }
            let validFrom = attempt { () throws(FieldError) in try CalendarDate(parsing: field("valid_from"), field: "valid_from") }
            let name = field("name"), provinceName = field("province_name")
            if name.isEmpty { reasons.append(Problem("field.empty", ["field": "name"])) }
            if provinceName.isEmpty { reasons.append(Problem("field.empty", ["field": "province_name"])) }
            if RegisterValidator.hasControlCharacter(name + provinceName) || name.count > 200 || provinceName.count > 200 {
                reasons.append(Problem("commune.bad_name"))
            }
            var replaces: [String] = []
            for text in field("replaces").split(whereSeparator: { $0 == " " || $0 == ";" }).map(String.init) {
                if let old = attempt({ () throws(FieldError) in try Code(parsing: text, field: "replaces", uppercase: false, lengthMax: 16) }) {
                    replaces.append(old.value)
                }
            }
            if let code, let earlier = seen[code.value] {
                reasons.append(Problem("commune.twice", ["code": code.value, "line": String(earlier)]))
            }
            if let code, replaces.contains(code.value) { reasons.append(Problem("commune.replaces_itself", ["code": code.value])) }
            guard reasons.isEmpty, let code, let province, let validFrom else {
                problems.append(LineProblem(file: table.label, line: reader.recordLine, problems: reasons))
                continue
            }
            seen[code.value] = reader.recordLine
            communes.append((reader.recordLine, Commune(code: code, name: name, provinceCode: province, provinceName: provinceName,
                                                        validFrom: validFrom, replaces: replaces, source: field("source"))))
        }
        // An old code read as two communes would pay a person in either: refused on the second line naming it.
        var replacedBy: [String: String] = [:]
        var listed = Set(communes.map(\.1.code.value))
        for (line, commune) in communes {
            for old in commune.replaces {
                if let other = replacedBy[old] {
                    problems.append(LineProblem(file: table.label, line: line, problems: [Problem("commune.replaced_twice", ["code": old, "other": other])]))
                    listed.remove(commune.code.value)
                } else if listed.contains(old) {
                    problems.append(LineProblem(file: table.label, line: line, problems: [Problem("commune.replaces_listed", ["code": old])]))
                    listed.remove(commune.code.value)
                }
                replacedBy[old] = commune.code.value
            }
        }
        return (communes.filter { listed.contains($0.1.code.value) }, problems.sorted { $0.line < $1.line })
    }
}

extension Registry {
    /// Loads the official list of communes: new ones added, changed names updated, the merged codes recorded; all in
    /// one transaction, and nothing at all when a line is bad. Loading the same list again changes nothing.
    public func importCommunes(path: String, displayName: String? = nil, by user: UserName,
                               onProblem: (LineProblem) -> Void = { _ in }) throws -> CommuneImportResult {
        let file = displayName ?? path
        let (communes, problems) = try CommuneList.read(path: path, file: file)
        problems.forEach(onProblem)
        guard problems.isEmpty else { throw CommuneImportError.invalidLines(file, count: problems.count) }
        var result = CommuneImportResult(file: file)
        let now = clock.now()
        return try storage.write { tx in
            let known = Dictionary(try tx.communes().map { ($0.code.value, $0) }, uniquingKeysWith: { first, _ in first })
            for (_, commune) in communes {
                result.lines += 1
                result.replacements += commune.replaces.count
                if let old = known[commune.code.value] {
                    if old == commune {
                        result.unchanged += 1
                        continue
                    }
                    result.updated += 1
                } else {
                    result.created += 1
                }
                try tx.saveCommune(commune, at: now, by: user)
            }
            return result
        }
    }

    /// The communes loaded, by code.
    public func communes() throws -> [Commune] {
        try storage.read { try $0.communes() }.sorted { $0.code.value < $1.code.value }
    }

    /// Each listed commune's name by its code (empty when no list is loaded).
    public func communeNames() throws -> [String: String] {
        Dictionary(try communes().map { ($0.code.value, $0.name) }, uniquingKeysWith: { first, _ in first })
    }
}
