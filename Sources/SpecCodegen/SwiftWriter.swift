/// Builds Swift source line by line with indentation, so formatting lives in one place.
struct SwiftWriter {
    private(set) var text = ""
    private var depth = 0

    mutating func line(_ s: String = "") {
        text += s.isEmpty ? "\n" : String(repeating: "    ", count: depth) + s + "\n"
    }

    mutating func comment(_ s: String) { line("// " + s) }

    /// `header {`, the body one level deeper, `}`.
    mutating func block(_ header: String, _ body: (inout SwiftWriter) throws -> Void) rethrows {
        line(header + " {")
        depth += 1
        try body(&self)
        depth -= 1
        line("}")
    }

    /// A call whose arguments go one per group on continuation lines.
    mutating func call(_ function: String, _ argumentLines: [String]) {
        guard argumentLines.count > 1 else {
            line("\(function)(\(argumentLines.first ?? ""))")
            return
        }
        line("\(function)(")
        depth += 1
        for (i, argument) in argumentLines.enumerated() {
            line(argument + (i == argumentLines.count - 1 ? ")" : ","))
        }
        depth -= 1
    }
}

/// Swift spellings of values.
enum Literal {
    /// 1404928 → "1_404_928", as Swift allows and people read.
    static func int(_ n: Int) -> String {
        let digits = String(abs(n))
        guard digits.count > 4 else { return String(n) }
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append("_") }
            out.append(ch)
        }
        return n < 0 ? "-" + out : out
    }

    static func string(_ s: String) -> String {
        "\"" + s.replacingOccurrences("\\", "\\\\").replacingOccurrences("\"", "\\\"") + "\""
    }

    static func strings(_ list: [String]) -> String { "[" + list.map(string).joined(separator: ", ") + "]" }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
