import SpecIR
import SpecLang

/// A 1×1 expansion conv whose only reader is a depthwise conv becomes one banded op: the
/// expanded tensor (the widest of an inverted-residual block) is computed a few rows at a
/// time into a ring that stays in cache, and never exists in full. Only where the rings
/// (bands × kernel height rows) are smaller than that tensor, and where the expansion's
/// weights are under 2 MB: the ring is refilled a row or two at a time, and each refill
/// reads all of them, which from beyond L2 costs more than the expanded tensor saves
/// (MobileNetV1's 512→1024 expansion on 7×7: 0.75 ms banded, 0.68 ms as two convs). And
/// only where the expanded tensor is over 256 KB: one that size stays in L2 between the two
/// convs anyway, while banding reads each 16-channel panel of weights for a row's few tiles
/// rather than all tiles at once (unbanded, PP-LCNet's 14×14×256 blocks ran 7.6% faster,
/// V2's 7×7×960 blocks 5–10%; BENCHMARKS.md).
public struct FuseExpandDepthwise: Pass {
    public let name = "fuse-expand-depthwise"
    public let summary = "run each 1x1 expansion and the depthwise conv after it band by band, never storing the expanded tensor"
    public init() {}

    static let maxExpansionWeightBytes = 2 << 20
    static let minExpandedBytes = 256 << 10

    public func run(_ graph: inout Graph) throws -> Bool {
        var changed = false
        for id in graph.nodes.map(\.id) {
            guard let node = graph.nodeIfPresent(id), case .conv(let depthwise) = node.op,
                  case .conv(let expand) = graph.node(depthwise.input).op,
                  graph.soleUser(of: depthwise.input)?.id == id,
                  expand.isPointwise, expand.groups == 1, expand.residual == nil, expand.outputShuffles.isEmpty,
                  depthwise.groups == expand.outChannels, depthwise.outChannels == expand.outChannels,
                  depthwise.residual == nil, depthwise.outputShuffles.isEmpty,
                  depthwise.kernelHeight == depthwise.kernelWidth, depthwise.strideHeight == depthwise.strideWidth,
                  depthwise.padHeight < depthwise.kernelHeight, depthwise.strideHeight <= 2,
                  // Only where the rings are smaller than the tensor they replace.
                  ExpandDepthwise.maxBands * depthwise.kernelHeight < graph.node(expand.input).shape.height,
                  graph.node(expand.input).shape.channels * expand.outChannels * MemoryLayout<Float>.size < Self.maxExpansionWeightBytes,
                  graph.node(depthwise.input).shape.elementCount * MemoryLayout<Float>.size > Self.minExpandedBytes
            else { continue }
            let name = node.name.hasSuffix(".dw") ? String(node.name.dropLast(3)) + ".expand_dw" : node.name
            graph.replaceOp(of: id, with: .expandDepthwise(ExpandDepthwise(expand: expand, depthwise: depthwise)), name: name)
            changed = true
            graph.removeDeadNodes()
        }
        return changed
    }
}
