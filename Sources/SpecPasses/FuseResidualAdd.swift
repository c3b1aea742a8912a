import SpecIR
import SpecLang

/// add(conv(x), skip) becomes a conv whose epilogue adds `skip` before the store, so the
/// sum is written once instead of written, read back and written again. Dynamic Shift-Max
/// takes a residual the same way.
public struct FuseResidualAdd: Pass {
    public let name = "fuse-residual"
    public let summary = "add each residual in the epilogue of the conv that produces the other operand"
    public init() {}

    public func run(_ graph: inout Graph) throws -> Bool {
        var changed = false
        // Re-read each node: earlier rewrites in this loop may have changed its operands.
        for id in graph.nodes.map(\.id) {
            guard let node = graph.nodeIfPresent(id) else { continue }
            guard case .add(let a, let b) = node.op else { continue }
            // Fuse into the operand computed later: the block's last layer, not the skip.
            let candidates = [(a, b), (b, a)].sorted { graph.index(of: $0.0)! > graph.index(of: $1.0)! }
            for (producer, skip) in candidates {
                guard graph.soleUser(of: producer)?.id == node.id, graph.index(of: skip)! < graph.index(of: producer)! else { continue }
                let fused: Op
                switch graph.node(producer).op {
                case .conv(var conv) where conv.residual == nil:
                    conv.residual = skip
                    fused = .conv(conv)
                case .dyShiftMax(var shiftMax) where shiftMax.residual == nil:
                    shiftMax.residual = skip
                    fused = .dyShiftMax(shiftMax)
                default:
                    continue
                }
                graph.replaceOp(of: producer, with: fused)
                graph.replaceUses(of: node.id, with: producer)
                changed = true
                graph.removeDeadNodes()
                break
            }
        }
        return changed
    }
}
