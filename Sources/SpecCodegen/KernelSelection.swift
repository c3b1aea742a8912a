import SpecIR
import SpecLang

/// The packed parameters of one kernel call, as the generated `LayerWeights` literal says.
struct WeightsEntry {
    enum Packing: String { case pointwise, depthwise, directConv, dense, grouped, groupedPointwise, depthwiseMultiplier, shiftIndices }
    var packing: Packing
    var layer: String
    var out: Int
    var inChannels: Int
    var kernel: (Int, Int) = (1, 1)
    var linear = false
    var weight: ModuleName
    var bias = false
    var norm: ModuleName?
    var groups = 1
    var shuffles: [Int] = []
    var blocks = 1
    var shiftGroups = 0
    var location: SourceLocation

    /// Must equal the runtime's `LayerWeights.packedFloats`; loading checks every offset.
    var packedFloats: Int {
        let padded = (out + 15) / 16 * 16
        switch packing {
        case .pointwise: return inChannels * groups * padded + padded
        case .dense: return inChannels * padded + padded
        case .depthwise: return padded * (kernel.0 * kernel.1 + 1)
        case .directConv: return padded * (kernel.0 * kernel.1 * inChannels * groups + 1)
        case .grouped: return out * (kernel.0 * kernel.1 * inChannels + 2)
        case .groupedPointwise: return groups * ((out / groups + 15) / 16) * 16 * (inChannels + 1) + out
        case .depthwiseMultiplier: return (out / 2 + 15) / 16 * 32 * (kernel.0 * kernel.1 + 1)
        case .shiftIndices: return 2 * padded + padded / 16 * (2 + 2 * 8 * 20)  // ShiftMaxPacking: tables, then permute steps
        }
    }

    func literal(offset: Int) -> String {
        var parts = [".\(packing.rawValue)", Literal.string(layer), "out: \(out)", "in: \(inChannels)"]
        if kernel != (1, 1) { parts.append("kernel: (\(kernel.0), \(kernel.1))") }
        if groups != 1 { parts.append("groups: \(groups)") }
        if linear { parts.append("linear: true") }
        if packing != .shiftIndices { parts.append("weight: \(Literal.strings(weight.perConvention))") }
        if bias { parts.append("bias: true") }
        if let norm { parts.append("norm: \(Literal.strings(norm.perConvention))") }
        if !shuffles.isEmpty { parts.append("shuffles: [\(shuffles.map(String.init).joined(separator: ", "))]") }
        if blocks != 1 { parts.append("blocks: \(blocks)") }
        if shiftGroups != 0 { parts.append("shiftGroups: \(shiftGroups)") }
        parts.append("at: \(Literal.int(offset))")
        return "LayerWeights(" + parts.joined(separator: ", ") + ")"
    }
}

/// One node of the fused graph, with the kernel chosen for it and the weights it reads.
struct KernelLayer {
    enum Kernel {
        case imageToNHWC
        case directConv(Conv)
        case depthwise(Conv)
        case pointwise(Conv)
        case grouped(Conv)
        case groupedPointwise(Conv)
        case depthwiseMultiplier(Conv)
        case dense(inFeatures: Int, outFeatures: Int, activation: Activation)
        case globalAveragePool(before: Activation, after: Activation)
        case squeezeExcite(SqueezeExcite)
        case dyShiftMax(DYShiftMax)
        case activate(Activation)
        case add
        case expandDepthwise(ExpandDepthwise)
    }

    var node: Node
    var kernel: Kernel
    var weights: [WeightsEntry]
    /// Float offset of this layer's first packed weight; filled in as layers are listed.
    var weightOffset = 0
    /// For a 1×1 conv: the layer soon after it whose weights it fetches into cache as it runs.
    var lookahead: Lookahead?

    struct Lookahead {
        /// The layers whose weights, contiguous, are fetched.
        var layers: [String]
        var offset: Int
        var floats: Int
    }

    var packedFloats: Int { weights.reduce(0) { $0 + $1.packedFloats } }

    /// Whether the kernel reads each weight once per image.
    var streamsWeights: Bool {
        switch kernel {
        case .squeezeExcite, .dense: return true
        default: return false
        }
    }
}

enum KernelSelection {
    /// Up to this many input channels, a k×k grouped conv runs as a dense direct conv.
    static let denseGroupedChannels = 16

    /// Whether a grouped 1×1 conv runs faster as a dense GEMM whose weights outside each
    /// output's group are zero than as one small GEMM per group. Work is counted in
    /// 16-channel output panels times the input channels each reads. A per-group panel
    /// costs about 1.4 times a dense one per input channel (its narrow 6×16 tile against the
    /// dense 6×64) plus a fixed 21 channels' worth (bias, activation, scattered store);
    /// fitted to MicroNet-M3's layers on AVX-512, where k = 4 per group stays dense and
    /// k = 8 with 48 outputs per group goes grouped.
    static func groupedPointwiseRunsDense(inChannels: Int, outChannels: Int, groups: Int) -> Bool {
        let k = inChannels / groups, panelsPerGroup = (outChannels / groups + 15) / 16
        let dense = Double((outChannels + 15) / 16 * inChannels)
        let grouped = 1.4 * Double(groups * panelsPerGroup * (k + 21))
        return dense <= grouped
    }

    /// Chooses a kernel for every node, in schedule order, and lays out their weights.
    static func layers(of graph: Graph) throws -> [KernelLayer] {
        var layers: [KernelLayer] = []
        var offset = 0
        for node in graph.nodes {
            var layer = try select(node, in: graph)
            layer.weightOffset = offset
            offset += layer.packedFloats
            layers.append(layer)
        }
        planLookahead(&layers)
        return layers
    }

    /// Squeeze-excite and dense layers read each of their weights once per image, so on 7×7
    /// and 1×1 maps they wait on memory for them: MobileNetV3-Large's 7×7 squeeze-excites ran
    /// at 74 µs with weights from memory against 27 µs with them in cache, its `head.conv2`
    /// at 0.16 ms against 0.09. A 1×1 conv one or two layers before such a layer (at least
    /// 256 KB of weights) fetches them while its FMAs run, and those of the layers right
    /// after it that stream theirs too (the classifier after `head.conv2`), as far as its
    /// tiles can carry (BENCHMARKS.md).
    static let lookaheadDistance = 2
    static let lookaheadMinimumFloats = 64 * 1024

    static func planLookahead(_ layers: inout [KernelLayer]) {
        for host in layers.indices {
            guard case .pointwise = layers[host].kernel else { continue }
            let later = layers[(host + 1)..<min(layers.count, host + 1 + lookaheadDistance)]
            guard let target = later.firstIndex(where: { $0.streamsWeights && $0.packedFloats >= lookaheadMinimumFloats }) else { continue }
            let run = layers[target...].prefix { $0.streamsWeights || $0.packedFloats == 0 }.filter(\.streamsWeights)
            layers[host].lookahead = KernelLayer.Lookahead(layers: run.map(\.node.name), offset: layers[target].weightOffset,
                                                           floats: run.reduce(0) { $0 + $1.packedFloats })
        }
    }

    static func select(_ node: Node, in graph: Graph) throws -> KernelLayer {
        let location = node.origin.location
        switch node.op {
        case .input:
            return KernelLayer(node: node, kernel: .imageToNHWC, weights: [])
        case .conv(let conv):
            let x = graph.node(conv.input).shape
            let entry = { (packing: WeightsEntry.Packing, inChannels: Int) in
                WeightsEntry(packing: packing, layer: node.name, out: conv.outChannels, inChannels: inChannels,
                             kernel: (conv.kernelHeight, conv.kernelWidth), weight: conv.weight,
                             bias: conv.hasBias, norm: conv.foldedNorm,
                             groups: [.grouped, .groupedPointwise, .directConv, .pointwise].contains(packing) ? conv.groups : 1,
                             shuffles: conv.outputShuffles, location: location)
            }
            // Shuffled outputs are a reordering of weight rows for every kernel that mixes
            // all input channels into each output; the others go to the grouped kernel.
            let plain = conv.groups == 1
            if conv.isPointwise, plain, x.height == 1, x.width == 1, conv.residual == nil {
                return KernelLayer(node: node, kernel: .dense(inFeatures: x.channels, outFeatures: conv.outChannels, activation: conv.activation),
                                   weights: [entry(.dense, x.channels)])
            }
            if conv.isPointwise, plain {
                return KernelLayer(node: node, kernel: .pointwise(conv), weights: [entry(.pointwise, x.channels)])
            }
            if conv.groups == x.channels, conv.outChannels == x.channels, conv.outputShuffles.isEmpty, conv.residual == nil {
                return KernelLayer(node: node, kernel: .depthwise(conv), weights: [entry(.depthwise, 1)])
            }
            if plain, conv.residual == nil {
                return KernelLayer(node: node, kernel: .directConv(conv), weights: [entry(.directConv, x.channels)])
            }
            // A k×k grouped conv over a few channels (MicroNet's stems and first blocks) runs
            // as a dense one whose weights outside each output's group are zero: a vector FMA
            // per input channel and tap beats a scalar loop over the few that are nonzero.
            if !conv.isPointwise, x.channels <= Self.denseGroupedChannels, conv.residual == nil {
                return KernelLayer(node: node, kernel: .directConv(conv), weights: [entry(.directConv, x.channels / conv.groups)])
            }
            if conv.isPointwise, Self.groupedPointwiseRunsDense(inChannels: x.channels, outChannels: conv.outChannels, groups: conv.groups) {
                return KernelLayer(node: node, kernel: .pointwise(conv), weights: [entry(.pointwise, x.channels / conv.groups)])
            }
            if conv.isPointwise {
                return KernelLayer(node: node, kernel: .groupedPointwise(conv), weights: [entry(.groupedPointwise, x.channels / conv.groups)])
            }
            if conv.groups == x.channels, conv.outChannels == 2 * x.channels, conv.outputShuffles.isEmpty, conv.residual == nil {
                return KernelLayer(node: node, kernel: .depthwiseMultiplier(conv), weights: [entry(.depthwiseMultiplier, 1)])
            }
            return KernelLayer(node: node, kernel: .grouped(conv), weights: [entry(.grouped, x.channels / conv.groups)])
        case .linear(let linear):
            let x = graph.node(linear.input).shape
            let entry = WeightsEntry(packing: .dense, layer: node.name, out: linear.outFeatures, inChannels: x.channels,
                                     linear: true, weight: linear.weight, bias: linear.hasBias, norm: linear.foldedNorm, location: location)
            return KernelLayer(node: node, kernel: .dense(inFeatures: x.channels, outFeatures: linear.outFeatures, activation: linear.activation),
                               weights: [entry])
        case .globalAveragePool(_, let before, let after):
            return KernelLayer(node: node, kernel: .globalAveragePool(before: before, after: after), weights: [])
        case .dyShiftMax(let d):
            let c = node.shape.channels, e = d.params.coefficients
            let fc1 = WeightsEntry(packing: .dense, layer: node.name + ".fc1", out: d.squeezeChannels, inChannels: c, linear: true,
                                   weight: d.reduce, bias: true, location: location)
            let fc2 = WeightsEntry(packing: .dense, layer: node.name + ".fc2", out: e * c, inChannels: d.squeezeChannels, linear: true,
                                   weight: d.expand, bias: true, shuffles: d.params.outputShuffles, blocks: e, location: location)
            let indices = WeightsEntry(packing: .shiftIndices, layer: node.name + ".indices", out: c, inChannels: c,
                                       weight: ModuleName([]), shuffles: d.params.outputShuffles, shiftGroups: d.params.shiftGroups, location: location)
            return KernelLayer(node: node, kernel: .dyShiftMax(d), weights: [fc1, fc2, indices])
        case .squeezeExcite(let se):
            let c = node.shape.channels
            let reduce = WeightsEntry(packing: .dense, layer: node.name + ".reduce", out: se.squeezeChannels, inChannels: c,
                                      weight: se.reduce, bias: true, location: location)
            let expand = WeightsEntry(packing: .dense, layer: node.name + ".expand", out: c, inChannels: se.squeezeChannels,
                                      weight: se.expand, bias: true, location: location)
            return KernelLayer(node: node, kernel: .squeezeExcite(se), weights: [reduce, expand])
        case .expandDepthwise(let f):
            let x = graph.node(f.expand.input).shape
            let expand = WeightsEntry(packing: .pointwise, layer: node.name + ".expand", out: f.expand.outChannels, inChannels: x.channels,
                                      weight: f.expand.weight, bias: f.expand.hasBias, norm: f.expand.foldedNorm, location: location)
            let depthwise = WeightsEntry(packing: .depthwise, layer: node.name + ".dw", out: f.depthwise.outChannels, inChannels: 1,
                                         kernel: (f.depthwise.kernelHeight, f.depthwise.kernelWidth), weight: f.depthwise.weight,
                                         bias: f.depthwise.hasBias, norm: f.depthwise.foldedNorm, location: location)
            return KernelLayer(node: node, kernel: .expandDepthwise(f), weights: [expand, depthwise])
        case .activation(_, let activation):
            return KernelLayer(node: node, kernel: .activate(activation), weights: [])
        case .add:
            return KernelLayer(node: node, kernel: .add, weights: [])
        case .batchNorm, .scaleChannels, .channelShuffle, .shiftMax:
            throw SpecError("no kernel for an unfused \(node.op.mnemonic) (\(node.name)); the fusion passes should have absorbed it", at: location)
        }
    }
}

extension KernelLayer {
    /// The kernel call for this layer, under a comment naming the node and quoting its spec row.
    func emitCall(graph: Graph, plan: MemoryPlan, into w: inout SwiftWriter) throws {
        func arena(_ id: NodeID) throws -> String {
            if id == graph.input.id && !plan.inputInArena { return "image" }
            guard let buffer = plan.buffer(of: id) else {
                throw SpecError("internal error: \(id) has no buffer in the memory plan", at: node.origin.location)
            }
            return "a + \(Literal.int(buffer.offset / 4))"
        }
        let shape = node.shape
        let isOutput = node.id == graph.output
        let output = isOutput ? "logits" : try arena(node.id)
        let operands = node.op.operands.map(\.description).joined(separator: ", ")
        w.comment("\(node.id) \(node.name): \(node.op.mnemonic)\(operands.isEmpty ? "" : " \(operands)") -> \(shape)")
        if node.op != .input {
            w.comment("\(Path.fileName(of: node.origin.location.file)):\(node.origin.location.line): \(node.origin.quoted)")
        }
        let weights = "w + \(Literal.int(weightOffset))"
        switch kernel {
        case .imageToNHWC:
            if plan.inputInArena {
                w.call("Kernels.imageToNHWC", [
                    "image, channels: \(shape.channels), height: \(shape.height), width: \(shape.width), output: \(output)",
                ])
            } else {
                w.comment("Read where it is: the stem reads the CHW image directly.")
            }
        case .depthwise(let conv) where plan.overwrites[node.id] == conv.input:
            let x = graph.node(conv.input).shape
            guard let scratch = plan.scratch(of: node.id) else {
                throw SpecError("internal error: in-place \(node.id) has no line buffer", at: node.origin.location)
            }
            let bands = graph.inPlaceDepthwiseRowBands(of: node)
            w.comment("In place over \(conv.input), keeping \(scratch.size) bytes of rows aside"
                      + (bands > 1 ? "; threads split it into \(bands) bands of rows." : "."))
            w.call("Kernels.depthwiseConvInPlace", [
                "\(output), channels: \(x.channels), inHeight: \(x.height), inWidth: \(x.width)",
                "weights: \(weights), kernelHeight: \(conv.kernelHeight), kernelWidth: \(conv.kernelWidth)",
                "strideHeight: \(conv.strideHeight), strideWidth: \(conv.strideWidth), padTop: \(conv.padHeight), padLeft: \(conv.padWidth)",
                "outHeight: \(shape.height), outWidth: \(shape.width), scratch: a + \(Literal.int(scratch.offset / 4))"
                    + (bands > 1 ? ", rowBands: \(bands)" : ""),
                "activation: \(Self.swiftType(conv.activation)).self, threads: threads",
            ])
        case .directConv(let conv), .depthwise(let conv):
            let x = graph.node(conv.input).shape
            let isDepthwise: Bool
            if case .depthwise = kernel { isDepthwise = true } else { isDepthwise = false }
            w.call(isDepthwise ? "Kernels.depthwiseConv" : "Kernels.directConv", [
                isDepthwise
                    ? "input: \(try arena(conv.input)), channels: \(x.channels), inHeight: \(x.height), inWidth: \(x.width)"
                    : "input: \(try arena(conv.input)), inChannels: \(x.channels), inHeight: \(x.height), inWidth: \(x.width)",
                isDepthwise
                    ? "weights: \(weights), kernelHeight: \(conv.kernelHeight), kernelWidth: \(conv.kernelWidth)"
                    : "weights: \(weights), outChannels: \(conv.outChannels), kernelHeight: \(conv.kernelHeight), kernelWidth: \(conv.kernelWidth)",
                "strideHeight: \(conv.strideHeight), strideWidth: \(conv.strideWidth), padTop: \(conv.padHeight), padLeft: \(conv.padWidth)",
                "output: \(output), outHeight: \(shape.height), outWidth: \(shape.width)" + (conv.input == graph.input.id && !plan.inputInArena ? ", inputLayout: .chw" : ""),
                "activation: \(Self.swiftType(conv.activation)).self, threads: threads",
            ])
        case .pointwise(let conv):
            let x = graph.node(conv.input).shape
            if let lookahead {
                let names = lookahead.layers.count == 1 ? lookahead.layers[0] + "'s" : "the " + lookahead.layers.joined(separator: " and ") + " layers'"
                w.comment("Meanwhile fetches \(names) \(grouped(lookahead.floats * 4)) bytes of weights, read once per image, as far as its tiles can carry.")
            }
            w.call("Kernels.pointwiseConv", [
                "input: \(try arena(conv.input)), pixels: \(x.pixels), inChannels: \(x.channels)",
                "weights: \(weights), outChannels: \(conv.outChannels)",
                "residual: \(try conv.residual.map { (id) throws in try arena(id) } ?? "nil"), output: \(output)",
            ] + (lookahead.map { ["lookahead: w + \(Literal.int($0.offset)), lookaheadFloats: \(Literal.int($0.floats))"] } ?? []) + [
                "activation: \(Self.swiftType(conv.activation)).self, threads: threads",
            ])
        case .grouped(let conv):
            let x = graph.node(conv.input).shape
            w.call("Kernels.groupedConv", [
                "input: \(try arena(conv.input)), inChannels: \(x.channels), inHeight: \(x.height), inWidth: \(x.width), inChannelsPerGroup: \(x.channels / conv.groups)",
                "weights: \(weights), outChannels: \(conv.outChannels), kernelHeight: \(conv.kernelHeight), kernelWidth: \(conv.kernelWidth)",
                "strideHeight: \(conv.strideHeight), strideWidth: \(conv.strideWidth), padTop: \(conv.padHeight), padLeft: \(conv.padWidth)",
                "residual: \(try conv.residual.map { (id) throws in try arena(id) } ?? "nil"), output: \(output), outHeight: \(shape.height), outWidth: \(shape.width)",
                "activation: \(Self.swiftType(conv.activation)).self, threads: threads",
            ])
        case .expandDepthwise(let f):
            let x = graph.node(f.expand.input).shape
            guard let scratch = plan.scratch(of: node.id) else {
                throw SpecError("internal error: \(node.id) has no ring buffer", at: node.origin.location)
            }
            w.comment("Band by band: the \(f.expand.outChannels)x\(x.height)x\(x.width) expansion lives only as a ring of \(f.depthwise.kernelHeight) rows per band.")
            w.call("Kernels.expandDepthwise", [
                "input: \(try arena(f.expand.input)), inChannels: \(x.channels), inHeight: \(x.height), inWidth: \(x.width)",
                "expandWeights: \(weights), expanded: \(f.expand.outChannels), expandActivation: \(Self.swiftType(f.expand.activation)).self",
                "depthwiseWeights: w + \(Literal.int(weightOffset + self.weights[0].packedFloats)), kernel: \(f.depthwise.kernelHeight), stride: \(f.depthwise.strideHeight), pad: \(f.depthwise.padHeight)",
                "output: \(output), outHeight: \(shape.height), outWidth: \(shape.width), depthwiseActivation: \(Self.swiftType(f.depthwise.activation)).self",
                "scratch: a + \(Literal.int(scratch.offset / 4)), bands: \(ExpandDepthwise.maxBands), threads: threads",
            ])
        case .activate(let activation):
            w.call("Kernels.activate", [
                "\(try arena(node.op.operands[0])), count: \(shape.elementCount), output: \(output), activation: \(Self.swiftType(activation)).self",
            ])
        case .add:
            w.call("Kernels.add", [
                "\(try arena(node.op.operands[0])), \(try arena(node.op.operands[1])), count: \(shape.elementCount), output: \(output)",
            ])
        case .groupedPointwise(let conv):
            let x = graph.node(conv.input).shape
            w.call("Kernels.groupedPointwiseConv", [
                "input: \(try arena(conv.input)), pixels: \(x.pixels), inChannels: \(x.channels), groups: \(conv.groups)",
                "weights: \(weights), outChannels: \(conv.outChannels), shuffled: \(!conv.outputShuffles.isEmpty)",
                "residual: \(try conv.residual.map { (id) throws in try arena(id) } ?? "nil"), output: \(output)",
                "activation: \(Self.swiftType(conv.activation)).self, threads: threads",
            ])
        case .depthwiseMultiplier(let conv):
            let x = graph.node(conv.input).shape
            w.call("Kernels.depthwiseMultiplier2", [
                "input: \(try arena(conv.input)), channels: \(x.channels), inHeight: \(x.height), inWidth: \(x.width)",
                "weights: \(weights), kernelHeight: \(conv.kernelHeight), kernelWidth: \(conv.kernelWidth)",
                "strideHeight: \(conv.strideHeight), strideWidth: \(conv.strideWidth), padTop: \(conv.padHeight), padLeft: \(conv.padWidth)",
                "output: \(output), outHeight: \(shape.height), outWidth: \(shape.width)",
                "activation: \(Self.swiftType(conv.activation)).self, threads: threads",
            ])
        case .dyShiftMax(let d):
            guard let scratch = plan.scratch(of: node.id) else {
                throw SpecError("internal error: \(node.id) has no scratch buffer", at: node.origin.location)
            }
            let fc2 = weightOffset + self.weights[0].packedFloats
            let float = { (x: Double) in Value.number(x).description }
            w.call("Kernels.dyShiftMax", [
                "input: \(try arena(d.input)), pixels: \(shape.pixels), channels: \(shape.channels), squeeze: \(d.squeezeChannels), coefficients: \(d.params.coefficients)",
                "fc1: \(weights), fc2: w + \(Literal.int(fc2)), indices: w + \(Literal.int(fc2 + self.weights[1].packedFloats))",
                "actMax: \(float(d.params.actMax)), initA: (\(d.params.initA.map(float).joined(separator: ", "))), initB: (\(d.params.initB.map(float).joined(separator: ", ")))",
                "scratch: a + \(Literal.int(scratch.offset / 4)), residual: \(try d.residual.map { (id) throws in try arena(id) } ?? "nil"), output: \(output), threads: threads",
            ])
        case .dense(let inFeatures, let outFeatures, let activation):
            w.call("Kernels.dense", [
                "input: \(try arena(node.op.operands[0])), inFeatures: \(inFeatures)",
                "weights: \(weights), outFeatures: \(outFeatures)",
                "output: \(output), activation: \(Self.swiftType(activation)).self, threads: threads",
            ])
        case .globalAveragePool(let before, let after):
            let x = graph.node(node.op.operands[0]).shape
            w.call("Kernels.globalAveragePool", [
                "input: \(try arena(node.op.operands[0])), pixels: \(x.pixels), channels: \(x.channels), output: \(output)",
                "before: \(Self.swiftType(before)).self, after: \(Self.swiftType(after)).self",
            ])
        case .squeezeExcite(let se):
            guard let scratch = plan.scratch(of: node.id) else {
                throw SpecError("internal error: \(node.id) has no scratch buffer", at: node.origin.location)
            }
            w.call("Kernels.squeezeExcite", [
                "\(try arena(node.id)), pixels: \(shape.pixels), channels: \(shape.channels), squeeze: \(se.squeezeChannels)",
                "reduce: \(weights), expand: w + \(Literal.int(weightOffset + self.weights[0].packedFloats))",
                "scratch: a + \(Literal.int(scratch.offset / 4))",
                "inner: \(Self.swiftType(se.innerActivation)).self, gate: \(Self.swiftType(se.gateActivation)).self, threads: threads",
            ])
            if isOutput {
                throw SpecError("a squeeze-and-excite block cannot end the network", at: node.origin.location)
            }
        }
    }

    static func swiftType(_ activation: Activation) -> String {
        switch activation {
        case .identity: return "Identity"
        case .relu: return "ReLU"
        case .relu6: return "ReLU6"
        case .hardswish: return "HardSwish"
        case .hardsigmoid: return "HardSigmoid"
        }
    }
}
