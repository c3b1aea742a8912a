import SpecIR
import SpecLang

/// add(conv(x), skip) becomes a conv whose epilogue adds `skip` before the store, so the
/// sum is written once instead of written, read back and written again.
public struct FuseResidualAdd: Pass {
    public let name = "fuse-residual"
    public let summary = "add each residual in the epilogue of the conv that produces the other operand"
    public init() {}

    public func run(_ graph: inout Graph) throws(SpecError) -> Bool {
        var changed = false
        // Re-read each node: earlier rewrites in this loop may have changed its operands.
        for id in graph.nodes.map(\.id) {
            let node = graph.node(id)
            guard case .add(let a, let b) = node.op else { continue }
            // Fuse into the operand computed later: the block's last conv, not the skip.
            let candidates = [(a, b), (b, a)].sorted { graph.index(of: $0.0)! > graph.index(of: $1.0)! }
            for (convID, skip) in candidates {
                guard graph.soleUser(of: convID)?.id == node.id, case .conv(var conv) = graph.node(convID).op,
                      conv.residual == nil, graph.index(of: skip)! < graph.index(of: convID)! else { continue }
                conv.residual = skip
                let name = graph.node(convID).name
                graph.replaceOp(of: convID, with: .conv(conv), name: name)
                graph.replaceUses(of: node.id, with: convID)
                changed = true
                break
            }
        }
        graph.removeDeadNodes()
        return changed
    }
}
