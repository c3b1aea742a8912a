import SpecIR
import SpecLang

/// conv → batchnorm becomes one conv whose weights and bias absorb the BatchNorm:
/// w' = w · γ/√(σ² + ε), b' = (b − μ) · γ/√(σ² + ε) + β. The arithmetic happens when
/// weights are loaded (ε depends on the checkpoint's convention); the IR records which
/// BatchNorm each conv absorbed.
public struct FoldBatchNorm: Pass {
    public let name = "fold-batchnorm"
    public let summary = "fold each BatchNorm into the conv before it"
    public init() {}

    public func run(_ graph: inout Graph) throws(SpecError) -> Bool {
        var changed = false
        // Re-read each node: earlier rewrites in this loop may have changed its operands.
        for id in graph.nodes.map(\.id) {
            let node = graph.node(id)
            guard case .batchNorm(let input, let module) = node.op else { continue }
            guard graph.soleUser(of: input)?.id == node.id, case .conv(var conv) = graph.node(input).op,
                  conv.foldedNorm == nil, conv.activation == .identity, conv.residual == nil else {
                throw SpecError("BatchNorm '\(node.name)' does not follow a conv it can be folded into; speccc runs BatchNorm only folded", at: node.origin.location)
            }
            conv.foldedNorm = module
            graph.replaceOp(of: input, with: .conv(conv))
            graph.replaceUses(of: node.id, with: input)
            changed = true
        }
        graph.removeDeadNodes()
        return changed
    }
}
