import SpecIR
import SpecLang

/// conv → batchnorm (or linear → BatchNorm1d) becomes one layer whose weights and bias absorb the BatchNorm:
/// w' = w · γ/√(σ² + ε), b' = (b − μ) · γ/√(σ² + ε) + β. The arithmetic happens when
/// weights are loaded (ε depends on the checkpoint's convention); the IR records which
/// BatchNorm each conv absorbed.
public struct FoldBatchNorm: Pass {
    public let name = "fold-batchnorm"
    public let summary = "fold each BatchNorm into the conv before it"
    public init() {}

    public func run(_ graph: inout Graph) throws -> Bool {
        var changed = false
        // Re-read each node: earlier rewrites in this loop may have changed its operands.
        for id in graph.nodes.map(\.id) {
            guard let node = graph.nodeIfPresent(id) else { continue }
            guard case .batchNorm(let input, let module) = node.op else { continue }
            let folded: Op
            switch graph.node(input).op {
            case .conv(var conv) where conv.foldedNorm == nil && conv.activation == .identity && conv.residual == nil && conv.outputShuffles.isEmpty:
                conv.foldedNorm = module
                folded = .conv(conv)
            case .linear(var linear) where linear.foldedNorm == nil && linear.activation == .identity:
                linear.foldedNorm = module
                folded = .linear(linear)
            default:
                throw SpecError("BatchNorm '\(node.name)' does not follow a conv or linear layer it can be folded into; speccc runs BatchNorm only folded", at: node.origin.location)
            }
            guard graph.soleUser(of: input)?.id == node.id else {
                throw SpecError("BatchNorm '\(node.name)' follows a layer whose output is also used unnormalized", at: node.origin.location)
            }
            graph.replaceOp(of: input, with: folded)
            graph.replaceUses(of: node.id, with: input)
            changed = true
            // Drop what the rewrite left unread, so it no longer counts as a reader.
            graph.removeDeadNodes()
        }
        return changed
    }
}
