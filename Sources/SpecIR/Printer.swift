import SpecLang

/// Renders a graph for people (text), programs (JSON) and Graphviz (dot).
public enum GraphPrinter {
    public enum Format: String, CaseIterable, Sendable { case text, json, dot }

    public static func render(_ graph: Graph, as format: Format) -> String {
        switch format {
        case .text: return text(graph)
        case .json: return json(graph).rendered() + "\n"
        case .dot: return dot(graph)
        }
    }

    /// One line per node: `%id = op operands attributes : shape   name  file:line`.
    public static func text(_ graph: Graph) -> String {
        let conventions = graph.conventions.map { "\($0.name) (bn_eps \(Value.number($0.batchNormEps)))" }.joined(separator: ", ")
        var lines = ["graph \(graph.network)  # \(Path.fileName(of: graph.specFile)), width \(Value.number(graph.width)), checkpoints: \(conventions)"]
        let rows = graph.nodes.map { node in
            (lhs: "\(node.id) = \(node.op.mnemonic) \(describe(node.op))".trimmingTrailingSpaces(), shape: node.shape.description,
             note: "\(node.name)  line \(node.origin.location.line)")
        }
        let lhsWidth = rows.map(\.lhs.count).max() ?? 0
        let shapeWidth = rows.map(\.shape.count).max() ?? 0
        for row in rows {
            lines.append("  " + row.lhs.padded(to: lhsWidth) + " : " + row.shape.padded(to: shapeWidth) + "  # " + row.note)
        }
        lines.append("  return \(graph.output)")
        if let plan = graph.memoryPlan {
            lines.append("memory plan: arena \(plan.arenaBytes) bytes, lower bound \(plan.lowerBoundBytes), greedy-by-size \(plan.greedyBytes), naive \(plan.naiveBytes), alignment \(plan.alignment)")
            for buffer in plan.buffers.sorted(by: { ($0.firstStep, $0.offset) < ($1.firstStep, $1.offset) }) {
                let tensors = buffer.tensors.map(\.description).joined(separator: ",")
                lines.append("  \(tensors.padded(to: 10)) offset \(String(buffer.offset).leftPadded(to: 9))  size \(String(buffer.size).leftPadded(to: 9))  live \(buffer.firstStep)...\(buffer.lastStep)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Operands and attributes of an op, as the text dump shows them.
    public static func describe(_ op: Op) -> String {
        switch op {
        case .input: return ""
        case .conv(let c):
            var parts = [c.input.description]
            if let r = c.residual { parts[0] += ", \(r)" }
            parts.append("k=\(c.kernelHeight)x\(c.kernelWidth) s=\(c.strideHeight)x\(c.strideWidth) p=\(c.padHeight)x\(c.padWidth) g=\(c.groups)")
            parts.append("w=\(c.weight)")
            if c.hasBias { parts.append("bias") }
            if let norm = c.foldedNorm { parts.append("bn=\(norm)") }
            if !c.outputShuffles.isEmpty { parts.append("shuffle=" + c.outputShuffles.map(String.init).joined(separator: ",")) }
            return parts.joined(separator: " ")
        case .batchNorm(let x, let module): return "\(x) \(module)"
        case .activation(let x, _), .globalAveragePool(let x, _, _): return x.description
        case .channelShuffle(let x, let groups): return "\(x) groups=\(groups)"
        case .shiftMax(let x, let coefficients, let p): return "\(x), \(coefficients) \(describe(p))"
        case .expandDepthwise(let f):
            return describe(.conv(f.expand)) + " | " + describe(.conv(f.depthwise)).split(separator: " ", maxSplits: 1).last.map(String.init)!
        case .dyShiftMax(let d):
            return "\(d.input)\(d.residual.map { ", \($0)" } ?? "") squeeze=\(d.squeezeChannels) \(describe(d.params)) fc1=\(d.reduce) fc2=\(d.expand)"
        case .add(let a, let b): return "\(a), \(b)"
        case .scaleChannels(let x, let gate): return "\(x), \(gate)"
        case .linear(let l): return "\(l.input) w=\(l.weight)\(l.hasBias ? " bias" : "")\(l.foldedNorm.map { " bn=\($0)" } ?? "")"
        case .squeezeExcite(let se):
            return "\(se.input) squeeze=\(se.squeezeChannels) \(se.innerActivation.rawValue)/\(se.gateActivation.rawValue) reduce=\(se.reduce) expand=\(se.expand)"
        }
    }

    static func describe(_ p: ShiftMaxParams) -> String {
        let numbers = { (values: [Double]) in values.map { Value.number($0).description }.joined(separator: ",") }
        let shuffles = p.outputShuffles.isEmpty ? "" : " shuffle=" + p.outputShuffles.map(String.init).joined(separator: ",")
        return "coefficients=\(p.coefficients) shift_groups=\(p.shiftGroups) act_max=\(Value.number(p.actMax)) init_a=\(numbers(p.initA)) init_b=\(numbers(p.initB))\(shuffles)"
    }

    public static func json(_ graph: Graph) -> JSON {
        var object: [(String, JSON)] = [
            ("network", .string(graph.network)),
            ("spec", .string(graph.specFile)),
            ("width", .double(graph.width)),
            ("classes", .int(graph.classes)),
            ("conventions", .array(graph.conventions.map { .object([("name", .string($0.name)), ("bn_eps", .double($0.batchNormEps))]) })),
            ("nodes", .array(graph.nodes.map(json))),
            ("output", .int(graph.output.raw)),
        ]
        if let plan = graph.memoryPlan { object.append(("memory_plan", json(plan))) }
        return .object(object)
    }

    static func json(_ node: Node) -> JSON {
        var attributes: [(String, JSON)] = []
        switch node.op {
        case .conv(let c):
            attributes = [
                ("kernel", .array([.int(c.kernelHeight), .int(c.kernelWidth)])),
                ("stride", .array([.int(c.strideHeight), .int(c.strideWidth)])),
                ("padding", .array([.int(c.padHeight), .int(c.padWidth)])),
                ("groups", .int(c.groups)), ("out_channels", .int(c.outChannels)),
                ("weight", modules(c.weight)), ("bias", .bool(c.hasBias)),
                ("folded_bn", c.foldedNorm.map(modules) ?? .null),
                ("activation", .string(c.activation.rawValue)),
                ("residual", c.residual.map { .int($0.raw) } ?? .null),
                ("output_shuffles", .array(c.outputShuffles.map(JSON.int))),
            ]
        case .batchNorm(_, let module): attributes = [("module", modules(module))]
        case .activation(_, let a): attributes = [("activation", .string(a.rawValue))]
        case .linear(let l):
            attributes = [("out_features", .int(l.outFeatures)), ("weight", modules(l.weight)), ("bias", .bool(l.hasBias)),
                          ("folded_bn", l.foldedNorm.map(modules) ?? .null), ("activation", .string(l.activation.rawValue))]
        case .squeezeExcite(let se):
            attributes = [("squeeze_channels", .int(se.squeezeChannels)), ("reduce", modules(se.reduce)), ("expand", modules(se.expand)),
                          ("inner_activation", .string(se.innerActivation.rawValue)), ("gate_activation", .string(se.gateActivation.rawValue))]
        case .globalAveragePool(_, let before, let after):
            attributes = [("before", .string(before.rawValue)), ("after", .string(after.rawValue))]
        case .expandDepthwise(let f):
            let expand = json(Node(id: node.id, op: .conv(f.expand), shape: node.shape, name: node.name, origin: node.origin))
            let depthwise = json(Node(id: node.id, op: .conv(f.depthwise), shape: node.shape, name: node.name, origin: node.origin))
            if case .object(let e) = expand, case .object(let d) = depthwise {
                attributes = [("expand", e.first { $0.0 == "attributes" }!.1), ("depthwise", d.first { $0.0 == "attributes" }!.1),
                              ("max_bands", .int(ExpandDepthwise.maxBands))]
            }
        case .channelShuffle(_, let groups): attributes = [("groups", .int(groups))]
        case .shiftMax(_, _, let p): attributes = json(p)
        case .dyShiftMax(let d):
            attributes = [("squeeze_channels", .int(d.squeezeChannels)), ("fc1", modules(d.reduce)), ("fc2", modules(d.expand))]
                + json(d.params)
        case .input, .add, .scaleChannels: break
        }
        return .object([
            ("id", .int(node.id.raw)),
            ("op", .string(node.op.mnemonic)),
            ("operands", .array(node.op.operands.map { .int($0.raw) })),
            ("shape", .array([.int(node.shape.channels), .int(node.shape.height), .int(node.shape.width)])),
            ("name", .string(node.name)),
            ("location", .string(node.origin.location.description)),
            ("row", .string(node.origin.text)),
            ("attributes", .object(attributes)),
        ])
    }

    static func json(_ p: ShiftMaxParams) -> [(String, JSON)] {
        [("coefficients", .int(p.coefficients)), ("shift_groups", .int(p.shiftGroups)), ("act_max", .double(p.actMax)),
         ("init_a", .array(p.initA.map(JSON.double))), ("init_b", .array(p.initB.map(JSON.double))),
         ("output_shuffles", .array(p.outputShuffles.map(JSON.int)))]
    }

    static func modules(_ name: ModuleName) -> JSON { .array(name.perConvention.map(JSON.string)) }

    public static func json(_ plan: MemoryPlan) -> JSON {
        var overwrites: [(String, JSON)] = []
        for node in plan.overwrites.keys.sorted() {
            overwrites.append((String(node.raw), .int(plan.overwrites[node]!.raw)))
        }
        var buffers: [JSON] = []
        for buffer in plan.buffers {
            var tensors: [JSON] = []
            for tensor in buffer.tensors { tensors.append(.int(tensor.raw)) }
            buffers.append(.object([
                ("tensors", .array(tensors)),
                ("offset", .int(buffer.offset)), ("size", .int(buffer.size)),
                ("first_step", .int(buffer.firstStep)), ("last_step", .int(buffer.lastStep)),
            ]))
        }
        return .object([
            ("arena_bytes", .int(plan.arenaBytes)),
            ("lower_bound_bytes", .int(plan.lowerBoundBytes)),
            ("naive_bytes", .int(plan.naiveBytes)),
            ("greedy_bytes", .int(plan.greedyBytes)),
            ("lower_bound_without_in_place_bytes", .int(plan.lowerBoundWithoutInPlaceBytes)),
            ("alignment", .int(plan.alignment)),
            ("input_in_arena", .bool(plan.inputInArena)),
            ("overwrites", .object(overwrites)),
            ("buffers", .array(buffers)),
        ])
    }

    public static func dot(_ graph: Graph) -> String {
        var lines = ["digraph \"\(graph.network)\" {", "  rankdir=TB;", "  node [shape=box, fontname=\"Helvetica\", fontsize=10];"]
        for node in graph.nodes {
            let label = "\(node.id) \(node.op.mnemonic)\\n\(node.name)\\n\(node.shape)"
            lines.append("  n\(node.id.raw) [label=\"\(label)\"];")
            for operand in node.op.operands { lines.append("  n\(operand.raw) -> n\(node.id.raw);") }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}

extension String {
    func padded(to width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
    func trimmingTrailingSpaces() -> String {
        var s = self[...]
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
