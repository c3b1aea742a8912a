import SpecIR
import SpecLang

/// Dynamic Shift-Max's generic layers
///
///     p = global_avg_pool(x); h = linear_relu(p); c = linear_hardsigmoid(h); y = shift_max(x, c)
///
/// become one `dy_shift_max x` op that computes the coefficients into scratch and combines.
public struct FuseDynamicShiftMax: Pass {
    public let name = "fuse-dy-shift-max"
    public let summary = "replace pool → linear → linear → shift_max with one dy_shift_max op"
    public init() {}

    public func run(_ graph: inout Graph) throws -> Bool {
        var changed = false
        for id in graph.nodes.map(\.id) {
            guard let node = graph.nodeIfPresent(id) else { continue }
            guard case .shiftMax(let x, let coefficients, let params) = node.op,
                  case .linear(let expand) = graph.node(coefficients).op, expand.activation == .hardsigmoid,
                  expand.foldedNorm == nil, graph.soleUser(of: coefficients)?.id == id,
                  case .linear(let reduce) = graph.node(expand.input).op, reduce.activation == .relu,
                  reduce.foldedNorm == nil, graph.soleUser(of: expand.input)?.id == coefficients,
                  case .globalAveragePool(let pooled, .identity, .identity) = graph.node(reduce.input).op, pooled == x,
                  graph.soleUser(of: reduce.input)?.id == expand.input
            else { continue }
            let fused = DYShiftMax(input: x, squeezeChannels: reduce.outFeatures, reduce: reduce.weight, expand: expand.weight, params: params)
            let name = node.name.hasSuffix(".shift_max") ? String(node.name.dropLast(".shift_max".count)) : node.name
            graph.replaceOp(of: id, with: .dyShiftMax(fused), name: name)
            changed = true
            // Drop what the rewrite left unread, so it no longer counts as a reader.
            graph.removeDeadNodes()
        }
        return changed
    }
}
