import SpecIR
import SpecLang
import SpecPasses
import Foundation
import Testing

/// One inverted-residual block with SE and a residual, between a stem and a classifier:
/// every pass has something to do.
let blockSpec = """
    network tiny
    resolution 8
    classes 4
    checkpoint timm bn_eps=1e-5
    stem
      conv k=3 s=2 out=8 bn act=HS   timm=conv_stem,bn1
    end
    blocks bneck  timm=blocks.{stage}.{index}
      k   exp  out  se  nl  s
      3   16   8    SE  RE  1
    end
    head
      avgpool
      linear out=classes bias   timm=classifier
    end
    """

func lowered(_ text: String = blockSpec) throws -> Graph {
    try Lowering.lower(SpecLoader.load(text: text, name: "tiny.spec", includes: InMemorySource([:])))
}

/// The graph as `%id = op operands attributes : shape`, one node per line.
func ir(_ graph: Graph) -> String {
    graph.nodes.map { node in
        "\(node.id) = \(node.op.mnemonic) \(GraphPrinter.describe(node.op)) : \(node.shape)"
            .replacingOccurrences(of: "  ", with: " ")
    }.joined(separator: "\n")
}

/// Runs the pipeline up to and including `pass`.
func after(_ pass: String, _ text: String = blockSpec) throws -> Graph {
    var graph = try lowered(text)
    try Pipeline.run(&graph, through: pass)
    return graph
}

@Suite struct PassTests {
    @Test("lowered IR before any pass")
    func before() throws {
        #expect(ir(try lowered()) == """
            %0 = input : 3x8x8
            %1 = conv2d %0 k=3x3 s=2x2 p=1x1 g=1 w=conv_stem : 8x4x4
            %2 = batchnorm %1 bn1 : 8x4x4
            %3 = hardswish %2 : 8x4x4
            %4 = conv2d %3 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.conv_pw : 16x4x4
            %5 = batchnorm %4 blocks.0.0.bn1 : 16x4x4
            %6 = relu %5 : 16x4x4
            %7 = dwconv2d %6 k=3x3 s=1x1 p=1x1 g=16 w=blocks.0.0.conv_dw : 16x4x4
            %8 = batchnorm %7 blocks.0.0.bn2 : 16x4x4
            %9 = relu %8 : 16x4x4
            %10 = global_avg_pool %9 : 16x1x1
            %11 = conv2d %10 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.se.conv_reduce bias : 8x1x1
            %12 = relu %11 : 8x1x1
            %13 = conv2d %12 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.se.conv_expand bias : 16x1x1
            %14 = hardsigmoid %13 : 16x1x1
            %15 = scale_channels %9, %14 : 16x4x4
            %16 = conv2d %15 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.conv_pwl : 8x4x4
            %17 = batchnorm %16 blocks.0.0.bn3 : 8x4x4
            %18 = add %17, %3 : 8x4x4
            %19 = global_avg_pool %18 : 8x1x1
            %20 = linear %19 w=classifier bias : 4x1x1
            """)
    }

    @Test("fold-batchnorm: each conv absorbs the BatchNorm after it")
    func foldBatchNorm() throws {
        #expect(ir(try after("fold-batchnorm")) == """
            %0 = input : 3x8x8
            %1 = conv2d_bn %0 k=3x3 s=2x2 p=1x1 g=1 w=conv_stem bn=bn1 : 8x4x4
            %3 = hardswish %1 : 8x4x4
            %4 = conv2d_bn %3 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.conv_pw bn=blocks.0.0.bn1 : 16x4x4
            %6 = relu %4 : 16x4x4
            %7 = dwconv2d_bn %6 k=3x3 s=1x1 p=1x1 g=16 w=blocks.0.0.conv_dw bn=blocks.0.0.bn2 : 16x4x4
            %9 = relu %7 : 16x4x4
            %10 = global_avg_pool %9 : 16x1x1
            %11 = conv2d %10 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.se.conv_reduce bias : 8x1x1
            %12 = relu %11 : 8x1x1
            %13 = conv2d %12 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.se.conv_expand bias : 16x1x1
            %14 = hardsigmoid %13 : 16x1x1
            %15 = scale_channels %9, %14 : 16x4x4
            %16 = conv2d_bn %15 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.conv_pwl bn=blocks.0.0.bn3 : 8x4x4
            %18 = add %16, %3 : 8x4x4
            %19 = global_avg_pool %18 : 8x1x1
            %20 = linear %19 w=classifier bias : 4x1x1
            """)
    }

    @Test("fuse-activation: activations move into the conv before them")
    func fuseActivation() throws {
        #expect(ir(try after("fuse-activation")) == """
            %0 = input : 3x8x8
            %1 = conv2d_bn_hardswish %0 k=3x3 s=2x2 p=1x1 g=1 w=conv_stem bn=bn1 : 8x4x4
            %4 = conv2d_bn_relu %1 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.conv_pw bn=blocks.0.0.bn1 : 16x4x4
            %7 = dwconv2d_bn_relu %4 k=3x3 s=1x1 p=1x1 g=16 w=blocks.0.0.conv_dw bn=blocks.0.0.bn2 : 16x4x4
            %10 = global_avg_pool %7 : 16x1x1
            %11 = conv2d_relu %10 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.se.conv_reduce bias : 8x1x1
            %13 = conv2d_hardsigmoid %11 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.se.conv_expand bias : 16x1x1
            %15 = scale_channels %7, %13 : 16x4x4
            %16 = conv2d_bn %15 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.conv_pwl bn=blocks.0.0.bn3 : 8x4x4
            %18 = add %16, %1 : 8x4x4
            %19 = global_avg_pool %18 : 8x1x1
            %20 = linear %19 w=classifier bias : 4x1x1
            """)
    }

    @Test("fuse-squeeze-excite: pool, two 1x1 convs and the scale become one in-place op")
    func fuseSqueezeExcite() throws {
        #expect(ir(try after("fuse-squeeze-excite")) == """
            %0 = input : 3x8x8
            %1 = conv2d_bn_hardswish %0 k=3x3 s=2x2 p=1x1 g=1 w=conv_stem bn=bn1 : 8x4x4
            %4 = conv2d_bn_relu %1 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.conv_pw bn=blocks.0.0.bn1 : 16x4x4
            %7 = dwconv2d_bn_relu %4 k=3x3 s=1x1 p=1x1 g=16 w=blocks.0.0.conv_dw bn=blocks.0.0.bn2 : 16x4x4
            %15 = squeeze_excite %7 squeeze=8 relu/hardsigmoid reduce=blocks.0.0.se.conv_reduce expand=blocks.0.0.se.conv_expand : 16x4x4
            %16 = conv2d_bn %15 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.conv_pwl bn=blocks.0.0.bn3 : 8x4x4
            %18 = add %16, %1 : 8x4x4
            %19 = global_avg_pool %18 : 8x1x1
            %20 = linear %19 w=classifier bias : 4x1x1
            """)
        let graph = try after("fuse-squeeze-excite")
        let fused = graph.node(NodeID(15))
        #expect(fused.op.isInPlace)
    }

    @Test("fuse-residual: the add moves into the projecting conv's epilogue")
    func fuseResidual() throws {
        #expect(ir(try after("fuse-residual")) == """
            %0 = input : 3x8x8
            %1 = conv2d_bn_hardswish %0 k=3x3 s=2x2 p=1x1 g=1 w=conv_stem bn=bn1 : 8x4x4
            %4 = conv2d_bn_relu %1 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.conv_pw bn=blocks.0.0.bn1 : 16x4x4
            %7 = dwconv2d_bn_relu %4 k=3x3 s=1x1 p=1x1 g=16 w=blocks.0.0.conv_dw bn=blocks.0.0.bn2 : 16x4x4
            %15 = squeeze_excite %7 squeeze=8 relu/hardsigmoid reduce=blocks.0.0.se.conv_reduce expand=blocks.0.0.se.conv_expand : 16x4x4
            %16 = conv2d_bn_add %15, %1 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.conv_pwl bn=blocks.0.0.bn3 : 8x4x4
            %19 = global_avg_pool %16 : 8x1x1
            %20 = linear %19 w=classifier bias : 4x1x1
            """)
    }

    @Test("two residual blocks in a row each fuse their own add")
    func chainedResiduals() throws {
        let spec = blockSpec.replacingFirst("  3   16   8    SE  RE  1", with: "  3   16   8    -   RE  1   x2")
        let graph = try after("fuse-residual", spec)
        let adds = graph.nodes.compactMap { node -> String? in
            guard case .conv(let c) = node.op, let r = c.residual else { return nil }
            return "\(node.id) adds \(r)"
        }
        #expect(adds == ["%10 adds %1", "%19 adds %10"])
        #expect(!graph.nodes.contains { if case .add = $0.op { return true } else { return false } })
    }

    @Test("fuse-expand-depthwise: expansion and depthwise conv run band by band, unless the expansion has 2 MB of weights or its output fits in 256 KB")
    func fuseExpandDepthwise() throws {
        // 32 rows after the stem, so two bands of a 3-row ring are smaller than the map.
        // Expanded: 96×32×32 floats (384 KB, banded), 1024 channels from 512 (2 MB of
        // weights, not banded), 48×32×32 (192 KB, not banded).
        let spec = blockSpec.replacingFirst("resolution 8", with: "resolution 64")
            .replacingFirst("  3   16   8    SE  RE  1", with: "  3   96   512  -   RE  1\n  3   1024 512  -   RE  1\n  3   48   24   -   RE  1")
        let before = try after("fuse-residual", spec), fused = try after("fuse-expand-depthwise", spec)
        let lines = { (graph: Graph) in ir(graph).split(separator: "\n").filter { $0.contains("blocks.") }.joined(separator: "\n") }
        #expect(lines(before) == """
            %4 = conv2d_bn_relu %1 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.conv_pw bn=blocks.0.0.bn1 : 96x32x32
            %7 = dwconv2d_bn_relu %4 k=3x3 s=1x1 p=1x1 g=96 w=blocks.0.0.conv_dw bn=blocks.0.0.bn2 : 96x32x32
            %10 = conv2d_bn %7 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.conv_pwl bn=blocks.0.0.bn3 : 512x32x32
            %12 = conv2d_bn_relu %10 k=1x1 s=1x1 p=0x0 g=1 w=blocks.1.0.conv_pw bn=blocks.1.0.bn1 : 1024x32x32
            %15 = dwconv2d_bn_relu %12 k=3x3 s=1x1 p=1x1 g=1024 w=blocks.1.0.conv_dw bn=blocks.1.0.bn2 : 1024x32x32
            %18 = conv2d_bn_add %15, %10 k=1x1 s=1x1 p=0x0 g=1 w=blocks.1.0.conv_pwl bn=blocks.1.0.bn3 : 512x32x32
            %21 = conv2d_bn_relu %18 k=1x1 s=1x1 p=0x0 g=1 w=blocks.2.0.conv_pw bn=blocks.2.0.bn1 : 48x32x32
            %24 = dwconv2d_bn_relu %21 k=3x3 s=1x1 p=1x1 g=48 w=blocks.2.0.conv_dw bn=blocks.2.0.bn2 : 48x32x32
            %27 = conv2d_bn %24 k=1x1 s=1x1 p=0x0 g=1 w=blocks.2.0.conv_pwl bn=blocks.2.0.bn3 : 24x32x32
            """)
        #expect(lines(fused) == """
            %7 = conv2d_bn_relu+dwconv2d_bn_relu_banded %1 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.conv_pw bn=blocks.0.0.bn1 | k=3x3 s=1x1 p=1x1 g=96 w=blocks.0.0.conv_dw bn=blocks.0.0.bn2 : 96x32x32
            %10 = conv2d_bn %7 k=1x1 s=1x1 p=0x0 g=1 w=blocks.0.0.conv_pwl bn=blocks.0.0.bn3 : 512x32x32
            %12 = conv2d_bn_relu %10 k=1x1 s=1x1 p=0x0 g=1 w=blocks.1.0.conv_pw bn=blocks.1.0.bn1 : 1024x32x32
            %15 = dwconv2d_bn_relu %12 k=3x3 s=1x1 p=1x1 g=1024 w=blocks.1.0.conv_dw bn=blocks.1.0.bn2 : 1024x32x32
            %18 = conv2d_bn_add %15, %10 k=1x1 s=1x1 p=0x0 g=1 w=blocks.1.0.conv_pwl bn=blocks.1.0.bn3 : 512x32x32
            %21 = conv2d_bn_relu %18 k=1x1 s=1x1 p=0x0 g=1 w=blocks.2.0.conv_pw bn=blocks.2.0.bn1 : 48x32x32
            %24 = dwconv2d_bn_relu %21 k=3x3 s=1x1 p=1x1 g=48 w=blocks.2.0.conv_dw bn=blocks.2.0.bn2 : 48x32x32
            %27 = conv2d_bn %24 k=1x1 s=1x1 p=0x0 g=1 w=blocks.2.0.conv_pwl bn=blocks.2.0.bn3 : 24x32x32
            """)
    }

    @Test("plan-memory: tensors share an arena; SE, the depthwise conv and the residual conv run in place")
    func planMemory() throws {
        let graph = try after("plan-memory")
        let plan = try #require(graph.memoryPlan)
        let buffers = plan.buffers.map { buffer in
            buffer.scratchOf.map { "scratch of \($0) @\(buffer.offset)+\(buffer.size) live \(buffer.firstStep)...\(buffer.lastStep)" }
                ?? "\(buffer.tensors.map(\.description).joined(separator: ",")) @\(buffer.offset)+\(buffer.size) live \(buffer.firstStep)...\(buffer.lastStep)"
        }
        // The stem reads the caller's CHW image, so the input %0 has no buffer. The depthwise
        // conv %7 writes over the expansion %4 (keeping one output row and one pad row aside:
        // 2 × 4 × 16 floats), SE %15 over %7, and the projection %16 over the block's input
        // %1, its residual, which nothing reads afterwards.
        #expect(buffers == [
            "%1,%16 @1024+512 live 1...6",
            "%4,%7,%15 @0+1024 live 2...5",
            "scratch of %7 @1536+512 live 3...3",
            "scratch of %15 @1536+128 live 4...4",
            "%19 @0+64 live 6...7",
            "%20 @64+64 live 7...7",
        ])
        #expect(plan.overwrites == [NodeID(7): NodeID(4), NodeID(15): NodeID(7), NodeID(16): NodeID(1)])
        // Step 3 holds %1, the %4/%7/%15 buffer and the line buffer: 512 + 1024 + 512.
        #expect(plan.arenaBytes == 2048)
        #expect(plan.lowerBoundBytes == 2048)
        // Without in-place execution the SE step holds %1, %7, %15 and SE's scratch: 2688.
        #expect(plan.lowerBoundWithoutInPlaceBytes == 2688)
        #expect(plan.naiveBytes == 4352)
        #expect(!plan.inputInArena)
        #expect(PlanVerifier.problems(in: plan, of: graph).isEmpty)
    }

    @Test("fusion keeps the parameter count")
    func fusedParams() throws {
        let fused = try after("plan-memory"), unfused = try lowered()
        #expect(NetworkStats(fused).params == NetworkStats(unfused).params)
    }

    @Test("passes are named and listed once, in order")
    func passList() {
        #expect(Pipeline.passes.map(\.name) == ["fold-batchnorm", "fold-channel-shuffle", "fuse-activation", "fuse-squeeze-excite",
                                                "fuse-dy-shift-max", "fuse-residual", "fuse-expand-depthwise", "plan-memory"])
    }

    @Test("an unknown pass name is an error")
    func unknownPass() throws {
        var graph = try lowered()
        #expect(throws: SpecError.self) { try Pipeline.run(&graph, through: "fuse-everything") }
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
