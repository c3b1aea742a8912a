import SpecIR
import SpecLang
import Testing

/// A small spec in the shape of the real ones; each error case edits one line of it.
let tinySpec = """
    network tiny
    resolution 32
    classes 10
    checkpoint timm bn_eps=1e-5
    stem
      conv k=3 s=2 out=16 bn act=HS   timm=conv_stem,bn1
    end
    blocks bneck  timm=blocks.{stage}.{index}
      k   exp  out  se  nl  s
      3   16   16   -   RE  1
      3   64   24   SE  HS  2
    end
    head
      avgpool
      linear out=classes bias   timm=classifier
    end
    """

func lower(_ text: String) throws -> Graph {
    try Lowering.lower(SpecLoader.load(text: text, name: "tiny.spec", includes: InMemorySource([:])))
}

func lowering(_ text: String, fails expected: String) {
    do {
        _ = try lower(text)
        Issue.record("expected: \(expected)")
    } catch let error as SpecError {
        #expect(error.description == expected)
    } catch {
        Issue.record("unexpected error \(error)")
    }
}

@Suite struct LoweringTests {
    @Test("a bneck table lowers to conv, BatchNorm and activation layers with shapes")
    func shapes() throws {
        let graph = try lower(tinySpec)
        let summary = graph.nodes.map { "\($0.name) \($0.op.mnemonic) \($0.shape)" }
        #expect(summary == [
            "input input 3x32x32",
            "stem.conv conv2d 16x16x16", "stem.conv.bn batchnorm 16x16x16", "stem.conv.hardswish hardswish 16x16x16",
            "block0.dw dwconv2d 16x16x16", "block0.dw.bn batchnorm 16x16x16", "block0.dw.relu relu 16x16x16",
            "block0.project conv2d 16x16x16", "block0.project.bn batchnorm 16x16x16", "block0.add add 16x16x16",
            "block1.expand conv2d 64x16x16", "block1.expand.bn batchnorm 64x16x16", "block1.expand.hardswish hardswish 64x16x16",
            "block1.dw dwconv2d 64x8x8", "block1.dw.bn batchnorm 64x8x8", "block1.dw.hardswish hardswish 64x8x8",
            "block1.se.pool global_avg_pool 64x1x1", "block1.se.reduce conv2d 16x1x1", "block1.se.reduce.relu relu 16x1x1",
            "block1.se.expand conv2d 64x1x1", "block1.se.expand.hardsigmoid hardsigmoid 64x1x1", "block1.se.scale scale_channels 64x8x8",
            "block1.project conv2d 24x8x8", "block1.project.bn batchnorm 24x8x8",
            "head.avgpool global_avg_pool 24x1x1", "head.linear linear 10x1x1",
        ])
        try Verifier.verify(graph)
    }

    @Test("every node remembers its spec row")
    func origins() throws {
        let graph = try lower(tinySpec)
        let dw = try #require(graph.nodes.first { $0.name == "block1.dw" })
        #expect(dw.origin.location == SpecLang.SourceLocation(file: "tiny.spec", line: 11, column: 3))
        #expect(dw.origin.text == "3   64   24   SE  HS  2")
    }

    @Test("checkpoint names follow the table's key pattern and the block's layout")
    func keyNames() throws {
        let graph = try lower(tinySpec)
        var names: [String] = []
        for node in graph.nodes {
            switch node.op {
            case .conv(let c): names.append(c.weight.description)
            case .batchNorm(_, let m): names.append(m.description)
            case .linear(let l): names.append(l.weight.description)
            default: break
            }
        }
        #expect(names == [
            "conv_stem", "bn1",
            "blocks.0.0.conv_dw", "blocks.0.0.bn1", "blocks.0.0.conv_pw", "blocks.0.0.bn2",
            "blocks.1.0.conv_pw", "blocks.1.0.bn1", "blocks.1.0.conv_dw", "blocks.1.0.bn2",
            "blocks.1.0.se.conv_reduce", "blocks.1.0.se.conv_expand", "blocks.1.0.conv_pwl", "blocks.1.0.bn3",
            "classifier",
        ])
    }

    @Test("make_divisible rounds as timm and torchvision do", arguments: [
        (16 * 0.75, 16), (18.0, 24), (5.6, 8), (88.08, 88), (201.6, 200), (358.4, 360), (1280.0, 1280), (36.0, 40),
    ])
    func makeDivisibleRounds(value: Double, expected: Int) {
        #expect(makeDivisible(value, divisor: 8) == expected)
    }

    @Test("bad specs fail with file:line:column and a message", arguments: [
        ("  linear out=classes bias   timm=classifier", "  fully out=classes bias   timm=classifier",
         "tiny.spec:15:3: error: unknown op 'fully' (stem and head rows take conv, avgpool, linear, act, shuffle, dropout)"),
        ("blocks bneck  timm", "blocks bottleneck  timm",
         "tiny.spec:8:1: error: unknown block kind 'bottleneck' (known: bneck, dsconv, ir, micro)"),
        ("  k   exp  out  se  nl  s", "  k   exp  out  se  nl  stride",
         "tiny.spec:9:25: error: unknown column 'stride' for bneck blocks (columns: k exp out se nl s [res])"),
        ("  k   exp  out  se  nl  s", "  k   exp  out  se  nl",
         "tiny.spec:9:3: error: missing column 's' for bneck blocks (columns: k exp out se nl s [res])"),
        ("  3   64   24   SE  HS  2", "  3   64   24   SE  HS",
         "tiny.spec:11:3: error: row has 5 values but the table has 6 columns (k exp out se nl s)"),
        ("  3   64   24   SE  HS  2", "  3   64   -24   SE  HS  2",
         "tiny.spec:11:12: error: channel count must be a whole number in 1...65536, found -24"),
        ("  3   64   24   SE  HS  2", "  3   64   0   SE  HS  2",
         "tiny.spec:11:12: error: channel count must be a whole number in 1...65536, found 0"),
        ("  3   64   24   SE  HS  2", "  3   640000   24   SE  HS  2",
         "tiny.spec:11:7: error: channel count must be a whole number in 1...65536, found 640000"),
        ("  3   64   24   SE  HS  2", "  3   64   24   SE  HS  0",
         "tiny.spec:11:25: error: stride must be a whole number in 1...16, found 0"),
        ("  3   64   24   SE  HS  2", "  3   64   24   SE  HS  64",
         "tiny.spec:11:25: error: stride must be a whole number in 1...16, found 64"),
        ("  3   64   24   SE  HS  2", "  4   64   24   SE  HS  2",
         "tiny.spec:11:3: error: kernel size must be odd (padding is k/2 on each side), found 4"),
        ("  3   64   24   SE  HS  2", "  3   64   24   SE  XX  2",
         "tiny.spec:11:21: error: unknown activation 'XX' in column 'nl' (known: RE, RE6, HS, identity)"),
        ("  3   64   24   SE  HS  2", "  3   64   24   maybe  HS  2",
         "tiny.spec:11:17: error: column 'se' takes SE or se or yes or -, found 'maybe'"),
        ("  conv k=3 s=2 out=16", "  conv k=3 s=2 out=0",
         "tiny.spec:6:16: error: channel count must be a whole number in 1...65536, found 0"),
        ("  conv k=3 s=2 out=16", "  conv k=3 s=-2 out=16",
         "tiny.spec:6:12: error: stride must be a whole number in 1...16, found -2"),
        ("  conv k=3 s=2 out=16 bn act=HS   timm=conv_stem,bn1", "  conv k=3 s=2 out=16 bn act=HS   timm=conv_stem",
         "tiny.spec:6:35: error: 'timm=' needs 2 names (conv and BatchNorm modules), found conv_stem"),
        ("  conv k=3 s=2 out=16 bn act=HS   timm=conv_stem,bn1", "  conv k=3 s=2 out=16 bn act=HS",
         "tiny.spec:6:3: error: missing checkpoint names for convention 'timm': add timm=<conv and BatchNorm modules>"),
        ("  conv k=3 s=2 out=16", "  conv k=3 s=2 out=16 dilation=2",
         "tiny.spec:6:23: error: unknown option 'dilation' for conv"),
        ("checkpoint timm bn_eps=1e-5", "checkpoint timm",
         "tiny.spec:4:12: error: checkpoint 'timm' needs bn_eps=…: BatchNorm eps is not stored in checkpoints"),
        ("blocks bneck  timm=blocks.{stage}.{index}", "blocks bneck  timm=blocks.{layer}",
         "tiny.spec:8:15: error: unknown placeholder '{layer}' in key pattern (known: {stage}, {index}, {block}, optionally with +N or -N)"),
        ("  linear out=classes bias   timm=classifier", "",
         "tiny.spec:13:1: error: the network ends in a 24x1x1 tensor, not 10 class scores; end the head with 'avgpool' and 'linear out=classes'"),
    ])
    func diagnostics(original: String, replacement: String, expected: String) {
        #expect(tinySpec.contains(original), "test case edits a line the spec does not have")
        lowering(tinySpec.replacingFirst(original, with: replacement), fails: expected)
    }

    @Test("a residual whose shapes do not match is rejected")
    func residualMismatch() {
        let spec = tinySpec
            .replacingFirst("  k   exp  out  se  nl  s", with: "  k   exp  out  se  nl  s  res")
            .replacingFirst("  3   16   16   -   RE  1", with: "  3   16   16   -   RE  1  -")
            .replacingFirst("  3   64   24   SE  HS  2", with: "  3   64   24   SE  HS  2  yes")
        lowering(spec, fails: "tiny.spec:11:3: error: residual add of 16x16x16 to 24x8x8: shapes do not match")
    }

    @Test("width multiplier ≤ 0 is rejected")
    func nonPositiveWidth() {
        lowering(tinySpec + "\nwidth 0", fails: "tiny.spec:17:1: error: width multiplier must be > 0, found 0")
        lowering(tinySpec + "\nwidth -1", fails: "tiny.spec:17:1: error: width multiplier must be > 0, found -1")
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
