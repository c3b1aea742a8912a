import Foundation
import SpecCodegen
import SpecLang
import Testing

/// Generated/ holds the Swift generated for every spec in Specs/. These tests keep it
/// identical to what the generator emits now. To update it after a deliberate change:
///
///     swift run speccc generate Specs/*.spec --output-dir Generated
@Suite struct GoldenTests {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let specs: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root + "/Specs")) ?? []
        return names.filter { $0.hasSuffix(".spec") }.sorted()
    }()

    @Test("Specs/ is not empty")
    func specsExist() {
        #expect(Self.specs.count >= 2)
    }

    @Test("Generated/<spec>.swift is what the generator emits", arguments: specs)
    func generatedCodeIsCurrent(spec: String) throws {
        let generated = try SwiftEmitter.generate(specAt: Self.root + "/Specs/" + spec, from: FileSystemSource())
        let golden = Self.root + "/Generated/" + spec.dropLast(".spec".count) + ".swift"
        try expectGolden(generated, at: golden)
    }

    @Test("Generated/NetworkRegistry.swift lists every spec")
    func registryIsCurrent() throws {
        var networks: [String] = []
        for spec in Self.specs {
            let loaded = try SpecLoader.load(Self.root + "/Specs/" + spec, from: FileSystemSource())
            networks.append(loaded.network)
        }
        try expectGolden(SwiftEmitter.registry(networks: networks), at: Self.root + "/Generated/NetworkRegistry.swift")
    }

    @Test("Generated/ holds nothing but goldens of current specs")
    func noStaleGoldens() throws {
        let expected = Set(Self.specs.map { $0.dropLast(".spec".count) + ".swift" } + ["NetworkRegistry.swift"])
        let present = Set(try FileManager.default.contentsOfDirectory(atPath: Self.root + "/Generated"))
        #expect(present.subtracting(expected).isEmpty, "stale files in Generated/: \(present.subtracting(expected).sorted())")
    }

    func expectGolden(_ generated: String, at path: String) throws {
        let golden = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let diff = LineDiff.diff(expected: golden, actual: generated)
        #expect(diff.isEmpty, """
            \(path) differs from the generator's output (- golden, + generated):
            \(diff)
            Regenerate with: swift run speccc generate Specs/*.spec --output-dir Generated
            """)
    }
}

@Suite struct LineDiffTests {
    @Test("a changed line shows as - and + with context")
    func changedLine() {
        let diff = LineDiff.diff(expected: "a\nb\nc\nd", actual: "a\nb\nX\nd", context: 1)
        #expect(diff == """
            @@ line 2 @@
              b
            - c
            + X
              d

            """)
    }

    @Test("identical texts have an empty diff")
    func identical() {
        #expect(LineDiff.diff(expected: "same\ntext", actual: "same\ntext").isEmpty)
    }

    @Test("added and removed lines")
    func addedAndRemoved() {
        let diff = LineDiff.diff(expected: "1\n2\n3", actual: "1\n3\n4", context: 0)
        #expect(diff == "@@ line 2 @@\n- 2\n@@ line 4 @@\n+ 4\n")
    }
}
