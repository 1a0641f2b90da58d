/// What went wrong, for a person to read: a stable code (`register.msisdn_landline`) and the values its words need,
/// already masked. The words come from the reader's language (`Wording`): the CLI prints English unless told otherwise,
/// a page prints Vietnamese. Nothing below an interface builds the sentence.
public struct Problem: Sendable, Hashable, CustomStringConvertible {
    public let code: String
    public let fields: [String: String]
    /// Problems worded inside this one's words, in the same language: `{problem}` in a header's message.
    public let parts: [String: Problem]

    public init(_ code: String, _ fields: [String: String] = [:], parts: [String: Problem] = [:]) {
        self.code = code
        self.fields = fields
        self.parts = parts
    }

    /// A message not yet given a code of its own: the same text in every language.
    public init(text: String) {
        self.init("text", ["text": text])
    }

    /// `a and b and c` in the reader's language: a field value whose items the wording joins with its own word
    /// (`list.and`).
    public static func and(_ items: [String]) -> String { items.joined(separator: Wording.andSeparator) }

    /// The English words, as the CLI prints them.
    public var description: String { Wording.english.words(for: self) }
}

/// An error that says what went wrong as a `Problem`.
public protocol ProblemConvertible: Error, CustomStringConvertible {
    var problem: Problem { get }
}

extension ProblemConvertible {
    public var description: String { problem.description }
}

/// A list as messages write it: `a, b, c`.
package func listed<S: Sequence>(_ values: S) -> String where S.Element == String {
    values.joined(separator: ", ")
}
