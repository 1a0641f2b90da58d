import Foundation

/// The words of one language for every `Problem` code, from that language's `.strings` table (`en.strings`,
/// `vi.strings` beside this file, compiled into the binary). A template names its values in braces:
/// `"register.missing_columns" = "{file}:1: the header lacks {columns}; …";`.
public struct Wording: Sendable {
    public enum Language: String, Sendable, CaseIterable {
        case english = "en"
        case vietnamese = "vi"
    }

    /// Stands between the items of a `Problem.and` list until the wording puts its own word there.
    static let andSeparator = "\u{1F}"

    public let language: Language
    /// Template by code.
    public let templates: [String: String]

    public static let english = Wording(language: .english, table: PackageResources.en_strings)
    public static let vietnamese = Wording(language: .vietnamese, table: PackageResources.vi_strings)

    public static func of(_ language: Language) -> Wording {
        switch language {
        case .english: english
        case .vietnamese: vietnamese
        }
    }

    init(language: Language, table: [UInt8]) {
        self.language = language
        // The tables are part of the build, checked by WordingTests: a broken one is a bug, not bad input.
        templates = try! StringsTable.parse(table)
    }

    /// The problem in this language; a code this table lacks falls back to English, then to the code itself.
    public func words(for problem: Problem) -> String {
        let template = templates[problem.code] ?? Wording.englishTemplate(problem.code) ?? problem.code
        var fields = problem.fields
        for (name, part) in problem.parts { fields[name] = words(for: part) }
        let words = Self.fill(template, with: fields)
        guard words.contains(Self.andSeparator) else { return words }
        return words.replacingOccurrences(of: Self.andSeparator, with: templates["list.and"] ?? " and ")
    }

    private static func englishTemplate(_ code: String) -> String? { english.templates[code] }

    /// The template with each `{name}` replaced by its value; a brace naming no value stays as written.
    static func fill(_ template: String, with fields: [String: String]) -> String {
        guard template.contains("{") else { return template }
        var out = ""
        var rest = template[...]
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            let name = String(rest[rest.index(after: open)..<close])
            if let value = fields[name] {
                out += value
            } else {
                out += rest[open...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return out
    }
}

/// Reads Apple's `.strings` format: `"key" = "value";` pairs, `/* … */` and `//` comments, `\"`, `\\` and `\n` escapes.
package enum StringsTable {
    struct Malformed: Error, CustomStringConvertible {
        let offset: Int
        var description: String { "malformed .strings table at byte \(offset)" }
    }

    package static func parse(_ bytes: [UInt8]) throws -> [String: String] {
        var table: [String: String] = [:]
        var index = 0
        func skipSpaceAndComments() {
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                    index += 1
                } else if byte == UInt8(ascii: "/"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "/") {
                    while index < bytes.count, bytes[index] != 0x0A { index += 1 }
                } else if byte == UInt8(ascii: "/"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "*") {
                    index += 2
                    while index + 1 < bytes.count, !(bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/")) { index += 1 }
                    index += 2
                } else {
                    return
                }
            }
        }
        func quoted() throws -> String {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw Malformed(offset: index) }
            index += 1
            var out: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                if byte == UInt8(ascii: "\\"), index < bytes.count {
                    let escaped = bytes[index]
                    index += 1
                    out.append(escaped == UInt8(ascii: "n") ? 0x0A : escaped)
                } else {
                    out.append(byte)
                }
            }
            throw Malformed(offset: index)
        }
        func expect(_ character: Character) throws {
            skipSpaceAndComments()
            guard index < bytes.count, bytes[index] == character.asciiValue! else { throw Malformed(offset: index) }
            index += 1
        }
        while true {
            skipSpaceAndComments()
            if index >= bytes.count { return table }
            let key = try quoted()
            try expect("=")
            skipSpaceAndComments()
            let value = try quoted()
            try expect(";")
            guard table.updateValue(value, forKey: key) == nil else { throw Malformed(offset: index) }
        }
    }
}
