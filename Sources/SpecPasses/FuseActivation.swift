import SpecIR
import SpecLang

/// conv → activation (or linear → activation) becomes one op whose epilogue applies the
/// activation while the result is still in registers. Activations next to a global
/// average pool move into it: after it, or before it (applied to each element summed).
public struct FuseActivation: Pass {
    public let name = "fuse-activation"
    public let summary = "apply each activation in the epilogue of the layer before it (or as a pooling prologue)"
    public init() {}

    public func run(_ graph: inout Graph) throws -> Bool {
        var changed = false
        // Re-read each node: earlier rewrites in this loop may have changed its operands.
        for id in graph.nodes.map(\.id) {
            guard case .activation(let input, let activation) = graph.nodeIfPresent(id)?.op else { continue }
            if let fused = epilogue(activation, on: graph.node(input).op), graph.soleUser(of: input)?.id == id {
                graph.replaceOp(of: input, with: fused)
                graph.replaceUses(of: id, with: input)
                changed = true
            } else if let pool = graph.soleUser(of: id), case .globalAveragePool(_, .identity, let after) = pool.op {
                graph.replaceOp(of: pool.id, with: .globalAveragePool(input: input, before: activation, after: after))
                graph.replaceUses(of: id, with: input)
                changed = true
                graph.removeDeadNodes()
            }
        }
        graph.removeDeadNodes()
        return changed
    }

    /// The producer's op with the activation fused after it, if it has an epilogue free.
    func epilogue(_ activation: Activation, on op: Op) -> Op? {
        switch op {
        case .conv(var conv) where conv.activation == .identity && conv.residual == nil:
            conv.activation = activation
            return .conv(conv)
        case .linear(var linear) where linear.activation == .identity:
            linear.activation = activation
            return .linear(linear)
        case .globalAveragePool(let x, let before, .identity):
            return .globalAveragePool(input: x, before: before, after: activation)
        default:
            return nil
        }
    }
}
