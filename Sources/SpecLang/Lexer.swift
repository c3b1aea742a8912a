/// A token of one spec line. Specs are line-oriented: a statement never spans lines.
public struct Token: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case word        // identifiers, key names, key patterns such as blocks.{stage}.{index}
        case number      // 3, 0.75, 1e-5, -2
        case string      // "path/to/file.spec"
        case equals      // =
        case comma       // ,
        case dash        // - : an absent table cell
    }

    public var kind: Kind
    /// The characters as written; for strings, the contents without quotes.
    public var text: String
    public var column: Int
    public var number: Double? { kind == .number ? Double(text) : nil }
}

enum Lexer {
    /// Splits one line (comments already allowed) into tokens. Throws on a character that
    /// cannot start a token or an unterminated string.
    static func tokens(of line: Substring, lineNumber: Int, file: String) throws -> [Token] {
        var tokens: [Token] = []
        let chars = Array(line.unicodeScalars)
        var i = 0
        func location(_ index: Int) -> SourceLocation {
            SourceLocation(file: file, line: lineNumber, column: index + 1)
        }
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" || c == "\r" { i += 1; continue }
            if c == "#" { break }
            let start = i
            switch c {
            case "=":
                tokens.append(Token(kind: .equals, text: "=", column: start + 1)); i += 1
            case ",":
                tokens.append(Token(kind: .comma, text: ",", column: start + 1)); i += 1
            case "\"":
                i += 1
                var text = ""
                while i < chars.count, chars[i] != "\"" { text.unicodeScalars.append(chars[i]); i += 1 }
                guard i < chars.count else { throw SpecError("unterminated string", at: location(start)) }
                i += 1
                tokens.append(Token(kind: .string, text: text, column: start + 1))
            case "-" where i + 1 >= chars.count || !isNumberStart(chars[i + 1]):
                tokens.append(Token(kind: .dash, text: "-", column: start + 1)); i += 1
            default:
                if isNumberStart(c) || c == "-" || c == "+" {
                    i += 1
                    while i < chars.count, isWordChar(chars[i]) || chars[i] == "-" && (chars[i - 1] == "e" || chars[i - 1] == "E") {
                        i += 1
                    }
                    let text = String(String.UnicodeScalarView(chars[start..<i]))
                    // `3x3` or `1.0x` lex as words; the parser reports them where a number belongs.
                    tokens.append(Token(kind: Double(text) != nil ? .number : .word, text: text, column: start + 1))
                } else if isWordStart(c) {
                    i += 1
                    while i < chars.count, isWordChar(chars[i]) { i += 1 }
                    tokens.append(Token(kind: .word, text: String(String.UnicodeScalarView(chars[start..<i])), column: start + 1))
                } else {
                    throw SpecError("unexpected character '\(c)'", at: location(start))
                }
            }
        }
        return tokens
    }

    private static func isNumberStart(_ c: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(c) || c == "."
    }

    private static func isWordStart(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" || c == "{"
    }

    private static func isWordChar(_ c: Unicode.Scalar) -> Bool {
        isWordStart(c) || ("0"..."9").contains(c) || c == "." || c == "}" || c == "+" || c == "/"
    }
}
