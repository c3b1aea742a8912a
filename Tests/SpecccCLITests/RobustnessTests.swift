import Foundation
import SpecccCLI
import SpecLang
import SpecPasses
import Testing

/// Mangled specs must fail with a diagnostic, never crash the compiler.
@Suite struct RobustnessTests {
    static let spec: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return (try? String(contentsOfFile: url.path + "/Specs/mobilenet_v3_large.spec", encoding: .utf8)) ?? ""
    }()

    static let replacements = ["0", "-1", "1", "2", "3", "7", "65536", "1e9", "0.5", "-", "x3", "SE", "HS", "=", ",",
                               "\"", "stage", "end", "blocks", "stem", "head", "include", "{stage}", "#", "classes", "k=3", ""]

    /// One random edit: replace, delete or duplicate a token, or delete or duplicate a line.
    static func mutate(_ text: String, _ random: inout SplitMix) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let l = Int(random.next() % UInt64(lines.count))
        var tokens = lines[l].split(separator: " ").map(String.init)
        switch random.next() % 5 {
        case 0 where !tokens.isEmpty:
            tokens[Int(random.next() % UInt64(tokens.count))] = replacements[Int(random.next() % UInt64(replacements.count))]
        case 1 where !tokens.isEmpty:
            tokens.remove(at: Int(random.next() % UInt64(tokens.count)))
        case 2 where !tokens.isEmpty:
            tokens.insert(replacements[Int(random.next() % UInt64(replacements.count))], at: Int(random.next() % UInt64(tokens.count)))
        case 3:
            lines.remove(at: l)
            return lines.joined(separator: "\n")
        default:
            lines.insert(lines[l], at: l)
            return lines.joined(separator: "\n")
        }
        lines[l] = tokens.joined(separator: " ")
        return lines.joined(separator: "\n")
    }

    @Test("500 random edits of a real spec: each compiles or fails with file:line:column: error:")
    func mutatedSpecs() {
        #expect(!Self.spec.isEmpty)
        var random = SplitMix(state: 2026)
        var failures = 0
        for _ in 0..<500 {
            var text = Self.spec
            for _ in 0..<(1 + Int(random.next() % 3)) { text = Self.mutate(text, &random) }
            let out = Speccc.run(["generate", "m.spec"], source: InMemorySource(["m.spec": text]))
            if out.exitCode != 0 {
                failures += 1
                #expect(out.exitCode == 1)
                let first = out.stderr.split(separator: "\n").first.map(String.init) ?? ""
                #expect(first.hasPrefix("m.spec:") && first.contains(": error: "), "\(first)")
            } else {
                #expect(out.stdout.contains("CompiledNetwork"))
            }
        }
        #expect(failures > 100, "the mutations should break most specs")
    }
}
