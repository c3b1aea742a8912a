/// A checkpoint key-naming convention a network accepts, and the BatchNorm eps its
/// models were built with (eps is not stored in checkpoints).
public struct Convention: Sendable, Hashable {
    public var name: String
    public var batchNormEps: Float

    public init(_ name: String, batchNormEps: Float) {
        self.name = name
        self.batchNormEps = batchNormEps
    }
}

/// The parameters of one fused layer: which checkpoint modules they come from under each
/// convention, their shapes, and how the kernel wants them packed.
public struct LayerWeights: Sendable {
    public enum Packing: Sendable {
        /// 1×1 conv: panels of 32 (or 16) output channels, [in][32]. See `PointwisePacking`.
        case pointwise
        /// Depthwise conv: [kh][kw][channels]. See `DepthwisePacking`.
        case depthwise
        /// Dense k×k conv: [kh][kw][in][out]. See `DirectConvPacking`. A grouped conv
        /// packed this way (`inChannels` per group) gets zeros outside each output's group.
        case directConv
        /// Fully connected on a vector: [in][out]. See `DensePacking`.
        case dense
        /// Any conv with groups, a channel multiplier or shuffled outputs. See `GroupedConvPacking`.
        case grouped
        /// 1×1 conv with groups; shuffled outputs through a position table. See `GroupedPointwisePacking`.
        case groupedPointwise
        /// Depthwise conv with 2 outputs per input channel. See `DepthwiseMultiplierPacking`.
        case depthwiseMultiplier
        /// No checkpoint tensors: the gather indices of Dynamic Shift-Max. See `ShiftMaxPacking`.
        case shiftIndices
    }

    public var layer: String
    public var packing: Packing
    public var outChannels: Int
    /// Input channels per group (1 for a depthwise conv).
    public var inChannels: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    /// Saved as nn.Linear, [out, in], rather than as a conv, [out, in, kh, kw].
    public var isLinear: Bool
    /// The module holding `.weight` (and `.bias`), per convention.
    public var weight: [String]
    public var hasBias: Bool
    /// A BatchNorm folded into this layer, per convention.
    public var norm: [String]?
    /// Where the packed floats start in the network's weight buffer.
    public var offset: Int
    /// Groups of a grouped conv (`inChannels` is then per group).
    public var groups: Int
    /// Channel shuffles folded into the output order (group counts, in order).
    public var shuffles: [Int]
    /// For a dense layer whose outputs are `blocks` vectors of out/blocks channels, each
    /// reordered by `shuffles` (Dynamic Shift-Max's coefficients).
    public var blocks: Int
    /// Shift groups, for `.shiftIndices`.
    public var shiftGroups: Int

    public init(
        _ packing: Packing, _ layer: String, out: Int, in inChannels: Int, kernel: (Int, Int) = (1, 1), groups: Int = 1,
        linear: Bool = false, weight: [String] = [], bias: Bool = false, norm: [String]? = nil,
        shuffles: [Int] = [], blocks: Int = 1, shiftGroups: Int = 0, at offset: Int
    ) {
        self.layer = layer
        self.packing = packing
        self.outChannels = out
        self.inChannels = inChannels
        (kernelHeight, kernelWidth) = kernel
        self.isLinear = linear
        self.weight = weight
        self.hasBias = bias
        self.norm = norm
        self.offset = offset
        self.groups = groups
        self.shuffles = shuffles
        self.blocks = blocks
        self.shiftGroups = shiftGroups
    }

    /// Floats the packed form takes.
    public var packedFloats: Int {
        switch packing {
        case .pointwise: return PointwisePacking.floats(inChannels: inChannels * groups, outChannels: outChannels)
        case .depthwise: return DepthwisePacking.floats(channels: outChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth)
        case .directConv: return DirectConvPacking.floats(inChannels: inChannels * groups, outChannels: outChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth)
        case .dense: return DensePacking.floats(inFeatures: inChannels, outFeatures: outChannels)
        case .grouped: return GroupedConvPacking.floats(outChannels: outChannels, inChannelsPerGroup: inChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth)
        case .shiftIndices: return ShiftMaxPacking.floats(channels: outChannels)
        case .groupedPointwise: return GroupedPointwisePacking.floats(outChannels: outChannels, inChannelsPerGroup: inChannels, groups: groups)
        case .depthwiseMultiplier: return DepthwiseMultiplierPacking.floats(inChannels: outChannels / 2, kernelHeight: kernelHeight, kernelWidth: kernelWidth)
        }
    }

    public var weightShape: [Int] {
        isLinear ? [outChannels, inChannels] : [outChannels, inChannels, kernelHeight, kernelWidth]
    }

    /// Every tensor this layer reads under convention `c`, with its shape.
    public func tensors(convention c: Int) -> [(name: String, shape: [Int])] {
        if packing == .shiftIndices { return [] }
        var list = [(weight[c] + ".weight", weightShape)]
        if hasBias { list.append((weight[c] + ".bias", [outChannels])) }
        if let norm {
            for field in ["weight", "bias", "running_mean", "running_var"] {
                list.append((norm[c] + "." + field, [outChannels]))
            }
        }
        return list
    }
}

/// One kernel call of a generated network: its layer, the fused op it runs, its MACs.
public struct KernelInfo: Sendable {
    public var layer: String
    public var op: String
    public var macs: Int

    public init(_ layer: String, _ op: String, macs: Int) {
        self.layer = layer
        self.op = op
        self.macs = macs
    }
}

/// What a compiled network is, as constants: read them to know its footprint before running.
public struct NetworkInfo: Sendable {
    public var name: String
    public var specFile: String
    public var inputChannels: Int
    public var inputHeight: Int
    public var inputWidth: Int
    public var classes: Int
    /// Bytes of the activation arena one inference uses.
    public var arenaBytes: Int
    /// Floats of packed weights.
    public var weightFloats: Int
    public var params: Int
    public var macs: Int
    public var conventions: [Convention]
    public var layers: [LayerWeights]
    /// The kernel calls of `run`, in order, for profiles.
    public var kernels: [KernelInfo]

    public init(name: String, specFile: String, input: (channels: Int, height: Int, width: Int), classes: Int,
                arenaBytes: Int, weightFloats: Int, params: Int, macs: Int,
                conventions: [Convention], layers: [LayerWeights], kernels: [KernelInfo] = []) {
        self.name = name
        self.specFile = specFile
        (inputChannels, inputHeight, inputWidth) = input
        self.classes = classes
        self.arenaBytes = arenaBytes
        self.weightFloats = weightFloats
        self.params = params
        self.macs = macs
        self.conventions = conventions
        self.layers = layers
        self.kernels = kernels
    }

    public var weightBytes: Int { weightFloats * MemoryLayout<Float>.size }
    public var inputElements: Int { inputChannels * inputHeight * inputWidth }
}

/// The order of a tensor's channels after shuffles folded into the op that writes it.
public enum ChannelOrder {
    /// For each position, the channel (in unshuffled order) that lands there. A shuffle with
    /// G groups views the channels as (G, C/G), transposes and flattens:
    /// position j·G + i takes position i·(C/G) + j.
    public static func sources(channels: Int, shuffles: [Int]) -> [Int] {
        var sources = Array(0..<channels)
        for groups in shuffles {
            let perGroup = channels / groups
            var next = sources
            for i in 0..<groups {
                for j in 0..<perGroup { next[j * groups + i] = sources[i * perGroup + j] }
            }
            sources = next
        }
        return sources
    }
}
