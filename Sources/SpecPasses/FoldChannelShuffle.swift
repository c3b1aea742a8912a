import SpecIR
import SpecLang

/// A channel shuffle is a fixed permutation of channels, so no kernel needs to move data
/// for it: the op that produces its input writes its channels in shuffled order instead.
/// Folded into a conv (its weight rows are reordered when weights are packed) or into
/// Dynamic Shift-Max's combining step (it gathers in the shuffled order). Activations
/// between the producer and the shuffle act per channel and commute with it, so the fold
/// reaches through them. Consecutive shuffles compose. A shuffle after anything else, or
/// whose producer has other readers, is left in place.
public struct FoldChannelShuffle: Pass {
    public let name = "fold-channel-shuffle"
    public let summary = "write channels already shuffled: fold each channel shuffle into the conv or shift-max that produces it"
    public init() {}

    public func run(_ graph: inout Graph) throws -> Bool {
        var changed = false
        for id in graph.nodes.map(\.id) {
            guard case .channelShuffle(let input, let groups) = graph.nodeIfPresent(id)?.op, graph.soleUser(of: input)?.id == id else { continue }
            var producer = input
            while case .activation(let x, _) = graph.node(producer).op, graph.soleUser(of: x)?.id == producer { producer = x }
            switch graph.node(producer).op {
            case .conv(var conv) where conv.residual == nil:
                conv.outputShuffles.append(groups)
                graph.replaceOp(of: producer, with: .conv(conv))
            case .shiftMax(let x, let coefficients, var params):
                params.outputShuffles.append(groups)
                graph.replaceOp(of: producer, with: .shiftMax(input: x, coefficients: coefficients, params))
            default:
                continue
            }
            graph.replaceUses(of: id, with: input)
            changed = true
            // Drop what the rewrite left unread, so it no longer counts as a reader.
            graph.removeDeadNodes()
        }
        return changed
    }
}
