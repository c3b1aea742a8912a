import SpecLang

/// Parameters and multiply-accumulates, counted the way PyTorch models count them:
/// params are weights, biases and BatchNorm affine terms (not running statistics);
/// MACs are those of convolutions and linear layers.
public struct LayerStats: Hashable, Sendable {
    public var node: NodeID
    public var name: String
    public var op: String
    public var shape: TensorShape
    public var params: Int
    public var macs: Int
    public var location: SourceLocation
}

public struct NetworkStats: Sendable {
    public var network: String
    public var layers: [LayerStats]
    public var params: Int { layers.reduce(0) { $0 + $1.params } }
    public var macs: Int { layers.reduce(0) { $0 + $1.macs } }
    /// Multiplies outside convs and linear layers that papers sometimes count: Dynamic
    /// Shift-Max's x·a + x_shifted·b terms (one per coefficient, per element).
    public var elementwiseMacs: Int

    public init(_ graph: Graph) {
        network = graph.network
        elementwiseMacs = graph.nodes.reduce(0) { total, node in
            switch node.op {
            case .dyShiftMax(let d): return total + node.shape.elementCount * d.params.coefficients
            case .shiftMax(_, _, let p): return total + node.shape.elementCount * p.coefficients
            default: return total
            }
        }
        layers = graph.nodes.map { node in
            let (params, macs) = NetworkStats.cost(of: node, in: graph)
            return LayerStats(node: node.id, name: node.name, op: node.op.mnemonic, shape: node.shape,
                              params: params, macs: macs, location: node.origin.location)
        }
    }

    static func cost(of node: Node, in graph: Graph) -> (params: Int, macs: Int) {
        switch node.op {
        case .conv(let c):
            let inChannels = graph.node(c.input).shape.channels
            let weights = c.outChannels * (inChannels / c.groups) * c.kernelHeight * c.kernelWidth
            let params = weights + (c.hasBias ? c.outChannels : 0) + (c.foldedNorm != nil ? 2 * c.outChannels : 0)
            return (params, weights * node.shape.pixels)
        case .batchNorm:
            return (2 * node.shape.channels, 0)
        case .linear(let l):
            let weights = l.outFeatures * graph.node(l.input).shape.channels
            return (weights + (l.hasBias ? l.outFeatures : 0) + (l.foldedNorm != nil ? 2 * l.outFeatures : 0), weights)
        case .squeezeExcite(let se):
            let c = node.shape.channels, s = se.squeezeChannels
            return (2 * c * s + s + c, 2 * c * s)
        case .expandDepthwise(let f):
            let x = graph.node(f.expand.input).shape
            let expandWeights = f.expand.outChannels * x.channels
            let dwWeights = f.depthwise.outChannels * f.depthwise.kernelHeight * f.depthwise.kernelWidth
            let params = expandWeights + dwWeights + [f.expand, f.depthwise].reduce(0) { total, c in
                total + (c.hasBias ? c.outChannels : 0) + (c.foldedNorm != nil ? 2 * c.outChannels : 0)
            }
            return (params, expandWeights * x.pixels + dwWeights * node.shape.pixels)
        case .dyShiftMax(let d):
            let c = node.shape.channels, s = d.squeezeChannels, e = d.params.coefficients * c
            return (c * s + s + s * e + e, c * s + s * e)
        case .input, .activation, .add, .globalAveragePool, .scaleChannels, .channelShuffle, .shiftMax:
            return (0, 0)
        }
    }

    public func text() -> String {
        var rows: [[String]] = [["layer", "op", "output", "params", "MACs", "spec"]]
        for layer in layers where layer.params > 0 || layer.macs > 0 || layer.op == "input" {
            rows.append([layer.name, layer.op, layer.shape.description, grouped(layer.params), grouped(layer.macs),
                         "\(Path.fileName(of: layer.location.file)):\(layer.location.line)"])
        }
        rows.append(["total", "", "", grouped(params), grouped(macs), ""])
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        let numeric: Set<Int> = [3, 4]
        return rows.map { row in
            row.enumerated().map { column, cell in
                numeric.contains(column) ? cell.leftPadded(to: widths[column]) : cell.padded(to: widths[column])
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n") + "\n"
    }

    public func json() -> JSON {
        .object([
            ("network", .string(network)),
            ("params", .int(params)),
            ("macs", .int(macs)),
            ("layers", .array(layers.map { layer in
                .object([
                    ("name", .string(layer.name)), ("op", .string(layer.op)),
                    ("shape", .array([.int(layer.shape.channels), .int(layer.shape.height), .int(layer.shape.width)])),
                    ("params", .int(layer.params)), ("macs", .int(layer.macs)),
                    ("location", .string(layer.location.description)),
                ])
            })),
        ])
    }
}

/// 5483032 → "5,483,032".
public func grouped(_ n: Int) -> String {
    let digits = String(abs(n))
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return n < 0 ? "-" + out : out
}
