import SpecIR
import SpecLang

/// The squeeze-and-excitation sub-network
///
///     p = global_avg_pool(x); r = conv1x1_relu(p); g = conv1x1_hardsigmoid(r); y = x · g
///
/// becomes one `squeeze_excite x` op that computes the gate into a small scratch buffer and
/// scales x in place, so the block needs no second full-size tensor.
public struct FuseSqueezeExcite: Pass {
    public let name = "fuse-squeeze-excite"
    public let summary = "replace pool → 1x1 conv → 1x1 conv → scale with one in-place squeeze_excite op"
    public init() {}

    public func run(_ graph: inout Graph) throws -> Bool {
        var changed = false
        // Re-read each node: earlier rewrites in this loop may have changed its operands.
        for id in graph.nodes.map(\.id) {
            guard let node = graph.nodeIfPresent(id) else { continue }
            guard case .scaleChannels(let x, let gate) = node.op,
                  case .conv(let expand) = graph.node(gate).op, isFullyConnected(expand, graph), graph.soleUser(of: gate)?.id == node.id,
                  case .conv(let reduce) = graph.node(expand.input).op, isFullyConnected(reduce, graph), graph.soleUser(of: expand.input)?.id == gate,
                  case .globalAveragePool(let pooled, .identity, .identity) = graph.node(reduce.input).op, pooled == x, graph.soleUser(of: reduce.input)?.id == expand.input,
                  Set(graph.users(of: x).map(\.id)) == [reduce.input, node.id], x != graph.output
            else { continue }
            let se = SqueezeExcite(input: x, squeezeChannels: reduce.outChannels, reduce: reduce.weight, expand: expand.weight,
                                   innerActivation: reduce.activation, gateActivation: expand.activation)
            let name = node.name.hasSuffix(".scale") ? String(node.name.dropLast(".scale".count)) : node.name
            graph.replaceOp(of: node.id, with: .squeezeExcite(se), name: name)
            changed = true
            // Drop what the rewrite left unread, so it no longer counts as a reader.
            graph.removeDeadNodes()
        }
        return changed
    }

    /// A 1×1 conv with its own bias and nothing else fused, on a pooled C×1×1 tensor.
    private func isFullyConnected(_ conv: Conv, _ graph: Graph) -> Bool {
        let input = graph.node(conv.input).shape
        return conv.isPointwise && conv.groups == 1 && conv.hasBias && conv.foldedNorm == nil && conv.residual == nil
            && input.height == 1 && input.width == 1
    }
}
