import SpecIR
import SpecLang

/// conv → activation (or linear → activation) becomes one op whose epilogue applies the
/// activation while the result is still in registers.
public struct FuseActivation: Pass {
    public let name = "fuse-activation"
    public let summary = "apply each activation in the epilogue of the conv or linear layer before it"
    public init() {}

    public func run(_ graph: inout Graph) throws(SpecError) -> Bool {
        var changed = false
        // Re-read each node: earlier rewrites in this loop may have changed its operands.
        for id in graph.nodes.map(\.id) {
            let node = graph.node(id)
            guard case .activation(let input, let activation) = node.op, graph.soleUser(of: input)?.id == node.id else { continue }
            switch graph.node(input).op {
            case .conv(var conv) where conv.activation == .identity && conv.residual == nil:
                conv.activation = activation
                graph.replaceOp(of: input, with: .conv(conv))
            case .linear(var linear) where linear.activation == .identity:
                linear.activation = activation
                graph.replaceOp(of: input, with: .linear(linear))
            default:
                continue
            }
            graph.replaceUses(of: node.id, with: input)
            changed = true
        }
        graph.removeDeadNodes()
        return changed
    }
}
