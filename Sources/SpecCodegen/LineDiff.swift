/// A readable line diff for golden files: `-` lines expected, `+` lines produced, with a
/// few lines of context around each change, numbered as in the expected file.
public enum LineDiff {
    public static func diff(expected: String, actual: String, context: Int = 2) -> String {
        let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let b = actual.split(separator: "\n", omittingEmptySubsequences: false)
        // Longest common subsequence table, from the ends.
        var lcs = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        enum Edit { case same(Int, Substring), removed(Int, Substring), added(Int, Substring) }
        var edits: [Edit] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                edits.append(.same(i, a[i])); i += 1; j += 1
            } else if i < a.count, j == b.count || lcs[i + 1][j] >= lcs[i][j + 1] {
                edits.append(.removed(i, a[i])); i += 1
            } else {
                edits.append(.added(i, b[j])); j += 1
            }
        }
        let changed = edits.indices.filter { if case .same = edits[$0] { return false } else { return true } }
        guard !changed.isEmpty else { return "" }
        var shown = Set<Int>()
        for index in changed { for k in max(0, index - context)...min(edits.count - 1, index + context) { shown.insert(k) } }
        var out: [String] = []
        var previous = -2
        for index in shown.sorted() {
            if index != previous + 1 { out.append("@@ line \(lineNumber(edits[index])) @@") }
            previous = index
            switch edits[index] {
            case .same(_, let line): out.append("  " + line)
            case .removed(_, let line): out.append("- " + line)
            case .added(_, let line): out.append("+ " + line)
            }
        }
        return out.joined(separator: "\n") + "\n"

        func lineNumber(_ edit: Edit) -> Int {
            switch edit {
            case .same(let n, _), .removed(let n, _), .added(let n, _): return n + 1
            }
        }
    }
}
