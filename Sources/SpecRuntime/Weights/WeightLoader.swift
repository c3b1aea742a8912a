/// Reads a network's parameters from a checkpoint, folds each BatchNorm into the conv
/// before it, and packs everything in kernel order. Loading is strict, as PyTorch's
/// `load_state_dict` is by default: every expected tensor must be there with its shape,
/// and nothing else may be (except BatchNorm's `num_batches_tracked`).
public enum WeightLoader {
    /// Loads into `destination` (`info.weightFloats` floats) and returns the convention used.
    public static func load(
        _ info: NetworkInfo, from checkpoint: some Checkpoint, convention requested: String? = nil,
        into destination: UnsafeMutablePointer<Float>
    ) throws -> Convention {
        // Checkpoints saved from nn.DataParallel name every tensor 'module.…'.
        let names = checkpoint.tensorNames
        if !names.isEmpty, names.allSatisfy({ $0.hasPrefix("module.") }) {
            return try load(info, from: PrefixedCheckpoint(base: checkpoint, prefix: "module."), convention: requested, into: destination)
        }
        let c = try chooseConvention(info, checkpoint, requested: requested)
        let eps = info.conventions[c].batchNormEps
        var used: Set<String> = []
        var position = 0
        for layer in info.layers {
            precondition(layer.offset == position, "\(info.name): packed weights of \(layer.layer) at \(layer.offset), expected \(position)")
            var values: [[Float]] = []
            for (name, shape) in layer.tensors(convention: c) {
                values.append(try read(name, shape: shape, from: checkpoint))
                used.insert(name)
            }
            if layer.packing == .shiftIndices {
                Packer.packShiftIndices(layer, into: destination + layer.offset)
                position += layer.packedFloats
                continue
            }
            var weight = values[0]
            var bias = layer.hasBias ? values[1] : [Float](repeating: 0, count: layer.outChannels)
            if layer.norm != nil {
                let bn = values.suffix(4).map { $0 }
                let (gamma, beta, mean, variance) = (bn[0], bn[1], bn[2], bn[3])
                let perOutput = weight.count / layer.outChannels
                for o in 0..<layer.outChannels {
                    guard variance[o] + eps > 0 else {
                        throw CheckpointError(file: checkpoint.source, tensor: layer.norm![c] + ".running_var",
                                              "variance \(variance[o]) at channel \(o) is negative beyond eps")
                    }
                    let scale = Double(gamma[o]) / (Double(variance[o]) + Double(eps)).squareRoot()
                    for j in 0..<perOutput { weight[o * perOutput + j] = Float(Double(weight[o * perOutput + j]) * scale) }
                    bias[o] = Float((Double(bias[o]) - Double(mean[o])) * scale + Double(beta[o]))
                }
            }
            // The grouped 1×1 kernel stores through a position table instead.
            if !layer.shuffles.isEmpty && layer.packing != .groupedPointwise {
                (weight, bias) = Packer.reorderOutputs(layer, weight: weight, bias: bias)
            }
            Packer.pack(layer, weight: weight, bias: bias, into: destination + layer.offset)
            position += layer.packedFloats
        }
        precondition(position == info.weightFloats, "\(info.name): packed \(position) floats, expected \(info.weightFloats)")
        let unexpected = checkpoint.tensorNames.filter { !used.contains($0) && !$0.hasSuffix(".num_batches_tracked") }.sorted()
        if let first = unexpected.first {
            throw CheckpointError(file: checkpoint.source, tensor: first,
                                  "unexpected tensor: \(info.name) (\(info.conventions[c].name) names) has no such parameter; \(unexpected.count) tensor\(unexpected.count == 1 ? "" : "s") of this checkpoint would go unused")
        }
        return info.conventions[c]
    }

    /// The convention whose name for the first parameter the checkpoint holds.
    static func chooseConvention(_ info: NetworkInfo, _ checkpoint: some Checkpoint, requested: String?) throws -> Int {
        if let requested {
            guard let c = info.conventions.firstIndex(where: { $0.name == requested }) else {
                throw CheckpointError(file: checkpoint.source, "\(info.name) has no '\(requested)' convention (it accepts \(info.conventions.map(\.name).joined(separator: ", ")))")
            }
            return c
        }
        let names = Set(checkpoint.tensorNames)
        let firstKeys = info.conventions.indices.map { info.layers[0].tensors(convention: $0)[0].name }
        if let c = firstKeys.firstIndex(where: names.contains) { return c }
        let expected = zip(info.conventions, firstKeys).map { "'\($1)' (\($0.name))" }.joined(separator: " or ")
        throw CheckpointError(file: checkpoint.source, "no tensor \(expected): this is not a \(info.name) checkpoint in a naming convention it knows")
    }

    /// A tensor as floats, checked for presence, dtype, shape and finiteness.
    static func read(_ name: String, shape: [Int], from checkpoint: some Checkpoint) throws -> [Float] {
        guard let tensor = try checkpoint.tensor(named: name) else {
            throw CheckpointError(file: checkpoint.source, tensor: name, "missing: the network needs this tensor of shape \(shape)")
        }
        guard tensor.dtype.isFloatingPoint else {
            throw CheckpointError(file: checkpoint.source, tensor: name, "dtype \(tensor.dtype.rawValue) where a floating-point tensor is needed")
        }
        // A 1×1 conv and a linear layer hold the same values: [o, i, 1, 1] and [o, i] both fit.
        guard trimmingTrailingOnes(tensor.shape) == trimmingTrailingOnes(shape) else {
            throw CheckpointError(file: checkpoint.source, tensor: name, "expected shape \(shape), found \(tensor.shape)")
        }
        guard let values = tensor.floats() else {
            throw CheckpointError(file: checkpoint.source, tensor: name, "data size does not match its shape")
        }
        let allFinite = values.withUnsafeBufferPointer { buffer in
            var i = 0
            while i < buffer.count, buffer[i].isFinite { i += 1 }
            return i == buffer.count
        }
        guard allFinite else {
            throw CheckpointError(file: checkpoint.source, tensor: name, "holds NaN or infinite values")
        }
        return values
    }

    static func trimmingTrailingOnes(_ shape: [Int]) -> [Int] {
        var s = shape
        while s.count > 1, s.last == 1 { s.removeLast() }
        return s
    }
}

/// A checkpoint whose tensor names all carry a prefix, seen without it.
struct PrefixedCheckpoint<Base: Checkpoint>: Checkpoint {
    let base: Base
    let prefix: String

    var source: String { base.source }
    var tensorNames: [String] { base.tensorNames.map { String($0.dropFirst(prefix.count)) } }
    func tensor(named name: String) throws -> TensorData? { try base.tensor(named: prefix + name) }
}

/// Reorders a layer's folded weights [out][in][kh][kw] into its kernel's packed layout.
enum Packer {
    /// Rows in the order the layer writes its outputs: each of its `blocks` blocks of
    /// channels permuted by its shuffles.
    static func reorderOutputs(_ layer: LayerWeights, weight: [Float], bias: [Float]) -> ([Float], [Float]) {
        let perBlock = layer.outChannels / layer.blocks
        let sources = ChannelOrder.sources(channels: perBlock, shuffles: layer.shuffles)
        let row = weight.count / layer.outChannels
        var w = weight, b = bias
        for block in 0..<layer.blocks {
            for (position, source) in sources.enumerated() {
                let to = block * perBlock + position, from = block * perBlock + source
                b[to] = bias[from]
                for k in 0..<row { w[to * row + k] = weight[from * row + k] }
            }
        }
        return (w, b)
    }

    /// Dynamic Shift-Max's gathers: for each output position, the input channel of x and of
    /// its circular shift (`ShiftMaxPacking`).
    static func packShiftIndices(_ layer: LayerWeights, into dst: UnsafeMutablePointer<Float>) {
        let c = layer.outChannels, g = layer.shiftGroups, gc = c / g
        let sources = ChannelOrder.sources(channels: c, shuffles: layer.shuffles)
        let padded = roundUp(c, 16)
        dst.initialize(repeating: 0, count: layer.packedFloats)
        let table = UnsafeMutableRawPointer(dst)
        let shifted = sources.map { ((($0 / gc + 1) % g) * gc + ($0 % gc + 1) % gc) }
        for position in 0..<c {
            table.storeBytes(of: Int32(sources[position]), toByteOffset: 4 * position, as: Int32.self)
            table.storeBytes(of: Int32(shifted[position]), toByteOffset: 4 * (padded + position), as: Int32.self)
        }
        // The permute plan needs whole windows of 16 channels; fewer run the scalar loop.
        guard c >= 16 else { return }
        for first in stride(from: 0, to: c, by: 16) {
            let positions = first..<min(first + 16, c)
            let stepsA = ShiftMaxPacking.steps(gathering: sources[positions], channels: c)
            let stepsB = ShiftMaxPacking.steps(gathering: shifted[positions], channels: c)
            let chunk = table + 4 * 2 * padded + 4 * (first / 16) * ShiftMaxPacking.chunkInts
            let ints = [Int32(stepsA.count / ShiftMaxPacking.stepInts), Int32(stepsB.count / ShiftMaxPacking.stepInts)] + stepsA + stepsB
            for (i, value) in ints.enumerated() { chunk.storeBytes(of: value, toByteOffset: 4 * i, as: Int32.self) }
        }
    }

    static func pack(_ layer: LayerWeights, weight w: [Float], bias: [Float], into dst: UnsafeMutablePointer<Float>) {
        let out = layer.outChannels, cin = layer.inChannels
        let kh = layer.kernelHeight, kw = layer.kernelWidth
        let padded = roundUp(out, 16)
        dst.initialize(repeating: 0, count: layer.packedFloats)
        switch layer.packing {
        case .pointwise:
            // Panels of 16 output channels, each [in][16]. Grouped: output row o (already in
            // output order) reads the `cin` inputs of its source channel's group; the other
            // weights stay zero.
            let total = cin * layer.groups, outPerGroup = out / layer.groups
            let order = ChannelOrder.sources(channels: out, shuffles: layer.shuffles)
            for o in 0..<out {
                let panel = dst + (o / 16) * total * 16, first = order[o] / outPerGroup * cin
                for i in 0..<cin { panel[(first + i) * 16 + o % 16] = w[o * cin + i] }
            }
            for o in 0..<out { dst[total * padded + o] = bias[o] }
        case .depthwise:
            for c in 0..<out {
                for y in 0..<kh {
                    for x in 0..<kw { dst[(y * kw + x) * padded + c] = w[(c * kh + y) * kw + x] }
                }
                dst[kh * kw * padded + c] = bias[c]
            }
        case .directConv:
            // Grouped: output row o (already in output order) reads the `cin` input channels
            // of the group of the channel it was shuffled from; the other weights stay zero.
            let total = cin * layer.groups, outPerGroup = out / layer.groups
            let order = ChannelOrder.sources(channels: out, shuffles: layer.shuffles)
            for o in 0..<out {
                let first = order[o] / outPerGroup * cin
                for i in 0..<cin {
                    for y in 0..<kh {
                        for x in 0..<kw { dst[((y * kw + x) * total + first + i) * padded + o] = w[((o * cin + i) * kh + y) * kw + x] }
                    }
                }
                dst[kh * kw * total * padded + o] = bias[o]
            }
        case .dense:
            for o in 0..<out {
                for i in 0..<cin { dst[DensePacking.index(output: o, input: i, inFeatures: cin, outFeatures: out)] = w[o * cin + i] }
                dst[cin * padded + o] = bias[o]
            }
        case .grouped:
            // Per output position: [kh][kw][in per group] weights, the bias, and the first
            // input channel of its group (Int32 bits). Rows are already in output order; each
            // row's group comes from the channel it was shuffled from.
            let taps = kh * kw
            let outPerGroup = out / layer.groups
            let order = ChannelOrder.sources(channels: out, shuffles: layer.shuffles)
            let stride = GroupedConvPacking.floatsPerOutput(inChannelsPerGroup: cin, taps: taps)
            for o in 0..<out {
                let row = dst + o * stride
                for t in 0..<taps {
                    for i in 0..<cin { row[t * cin + i] = w[(o * cin + i) * taps + t] }
                }
                row[taps * cin] = bias[o]
                UnsafeMutableRawPointer(row + taps * cin + 1).storeBytes(of: Int32(order[o] / outPerGroup * cin), as: Int32.self)
            }
        case .groupedPointwise:
            let perGroup = out / layer.groups
            let panelsPerGroup = (perGroup + 15) / 16
            let panels = layer.groups * panelsPerGroup
            let positions = dst + panels * 16 * (cin + 1)
            for (position, source) in ChannelOrder.sources(channels: out, shuffles: layer.shuffles).enumerated() {
                positions[source] = Float(position)
            }
            for o in 0..<out {
                let g = o / perGroup, local = o % perGroup
                let index = g * panelsPerGroup + local / 16
                for i in 0..<cin { dst[index * 16 * cin + i * 16 + local % 16] = w[o * cin + i] }
                dst[panels * 16 * cin + index * 16 + local % 16] = bias[o]
            }
        case .depthwiseMultiplier:
            // Per 16 input channels: [kh][kw][2][16], then 2×16 biases.
            let taps = kh * kw
            for o in 0..<out {
                let c = o / 2, j = o % 2
                let chunk = dst + (c / 16) * 32 * (taps + 1)
                for t in 0..<taps { chunk[t * 32 + j * 16 + c % 16] = w[o * taps + t] }
                chunk[taps * 32 + j * 16 + c % 16] = bias[o]
            }
        case .shiftIndices:
            preconditionFailure("shift indices are packed by packShiftIndices")
        }
    }
}
