import Foundation
import SpecCodegen
import SpecLang
import Testing

/// A 1×1 conv one or two layers before a squeeze-excite or dense layer with 256 KB of
/// weights or more fetches those weights as it runs; the generated call says so.
@Suite struct LookaheadTests {
    static let v3Large: String = {
        let spec = GoldenTests.root + "/Specs/mobilenet_v3_large.spec"
        return (try? SwiftEmitter.generate(specAt: spec, from: FileSystemSource())) ?? ""
    }()

    /// The generated lines of layer `name`, from its header comment to its profiling mark.
    func layer(_ name: String, in swift: String = v3Large) -> String {
        let lines = swift.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.contains(" \(name): ") && $0.contains("// %") }) else { return "" }
        let end = lines[start...].firstIndex(where: { $0.contains("Profiling.mark") }) ?? lines.endIndex
        return lines[start..<end].joined(separator: "\n")
    }

    /// The float offset after `label: w + ` in `text`.
    func offset(after label: String, in text: String) -> Int? {
        guard let range = text.range(of: label + ": w + ") else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isNumber || $0 == "_" }.filter { $0 != "_" }
        return Int(digits)
    }

    @Test("block13.expand (7×7, 160→960) fetches block13.se's reduce and expand weights, two layers on")
    func beforeSqueezeExcite() throws {
        let expand = layer("block13.expand"), se = layer("block13.se")
        #expect(expand.contains("// Meanwhile fetches block13.se's 1,848,000 bytes of weights, read once per image"))
        // 960→240 and 240→960, each padded to 16 outputs, plus their biases.
        #expect(expand.contains("lookaheadFloats: 462_000,"))
        let fetched = try #require(offset(after: "lookahead", in: expand))
        #expect(fetched == offset(after: "reduce", in: se))
    }

    @Test("head.conv fetches, across the global average pool, head.conv2's weights and the classifier's after them")
    func beforeDense() throws {
        let conv = layer("head.conv"), conv2 = layer("head.conv2"), linear = layer("head.linear")
        #expect(conv.contains("// Meanwhile fetches the head.conv2 and head.linear layers' 10,085,312 bytes of weights"))
        let fetched = try #require(offset(after: "lookahead", in: conv))
        #expect(fetched == offset(after: "weights", in: conv2))
        // 960→1280 with its bias, then 1280→1000 padded to 1008 outputs with its bias.
        #expect(offset(after: "weights", in: linear) == fetched + 960 * 1280 + 1280)
        #expect(conv.contains("lookaheadFloats: 2_521_328,"))
    }

    @Test("no fetching where no such layer follows within two layers, or its weights are small", arguments: [
        "block1.project", "block12.project", "block13.project", "block14.project", "block3.project", "block4.project",
    ])
    func none(name: String) {
        let text = layer(name)
        #expect(text.contains("Kernels.pointwiseConv("))
        #expect(!text.contains("lookahead"))
    }
}
