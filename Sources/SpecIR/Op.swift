/// A convolution over NCHW-shaped tensors with PyTorch semantics (zero padding).
/// Fusion passes fill in the epilogue: folded BatchNorm, activation, residual add.
public struct Conv: Hashable, Sendable {
    public var input: NodeID
    public var outChannels: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var strideHeight: Int
    public var strideWidth: Int
    public var padHeight: Int
    public var padWidth: Int
    public var groups: Int
    /// Weight tensor `<module>.weight` of shape [out, in/groups, kh, kw].
    public var weight: ModuleName
    /// The conv's own bias, `<module>.bias`.
    public var hasBias: Bool
    /// A BatchNorm folded into weight and bias by the fold-batchnorm pass.
    public var foldedNorm: ModuleName?
    public var activation: Activation
    /// Added after the activation: output = activation(conv + bias) + residual (the inverted residual's skip).
    public var residual: NodeID?
    /// Channel shuffles folded into the output order (group counts, applied in order): the
    /// conv writes its channels already shuffled, so no copy is made.
    public var outputShuffles: [Int]

    public init(input: NodeID, outChannels: Int, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
                groups: Int, weight: ModuleName, hasBias: Bool) {
        self.input = input
        self.outChannels = outChannels
        (kernelHeight, kernelWidth) = kernel
        (strideHeight, strideWidth) = stride
        (padHeight, padWidth) = padding
        self.groups = groups
        self.weight = weight
        self.hasBias = hasBias
        self.foldedNorm = nil
        self.activation = .identity
        self.residual = nil
        self.outputShuffles = []
    }

    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1 && padHeight == 0 && padWidth == 0
    }
}

/// A fully connected layer on a C×1×1 tensor, weight [out, in].
public struct Linear: Hashable, Sendable {
    public var input: NodeID
    public var outFeatures: Int
    public var weight: ModuleName
    public var hasBias: Bool
    /// A BatchNorm1d folded into weight and bias.
    public var foldedNorm: ModuleName?
    public var activation: Activation

    public init(input: NodeID, outFeatures: Int, weight: ModuleName, hasBias: Bool, activation: Activation) {
        self.input = input
        self.outFeatures = outFeatures
        self.weight = weight
        self.hasBias = hasBias
        self.foldedNorm = nil
        self.activation = activation
    }
}

/// Squeeze-and-excitation as one fused operation: global average pool, 1×1 conv to
/// `squeezeChannels` with bias and `innerActivation`, 1×1 conv back with bias and
/// `gateActivation`, and the channel scaling of the input, in place.
public struct SqueezeExcite: Hashable, Sendable {
    public var input: NodeID
    public var squeezeChannels: Int
    public var reduce: ModuleName
    public var expand: ModuleName
    public var innerActivation: Activation
    public var gateActivation: Activation

    public init(input: NodeID, squeezeChannels: Int, reduce: ModuleName, expand: ModuleName,
                innerActivation: Activation, gateActivation: Activation) {
        self.input = input
        self.squeezeChannels = squeezeChannels
        self.reduce = reduce
        self.expand = expand
        self.innerActivation = innerActivation
        self.gateActivation = gateActivation
    }
}

/// The parameters of Dynamic Shift-Max (Li et al. 2021, MicroNet) beyond its FC branch:
/// y = max over branches e of (x · a_e + x[shift] · b_e), with (a, b) computed per image as
/// (hardsigmoid(fc) - 0.5) · actMax + init.
public struct ShiftMaxParams: Hashable, Sendable {
    /// 2 (one affine branch) or 4 (the max of two).
    public var coefficients: Int
    /// Groups of the circular shift: channel i·gc + j takes x[((i+1) mod G)·gc + (j+1) mod gc].
    public var shiftGroups: Int
    public var actMax: Double
    public var initA: [Double]
    public var initB: [Double]
    /// Channel shuffles folded into the output order (group counts, in order).
    public var outputShuffles: [Int]

    public init(coefficients: Int, shiftGroups: Int, actMax: Double, initA: [Double], initB: [Double]) {
        self.coefficients = coefficients
        self.shiftGroups = shiftGroups
        self.actMax = actMax
        self.initA = initA
        self.initB = initB
        self.outputShuffles = []
    }

    /// The channel each channel is shifted from.
    public func shiftSource(channels: Int) -> [Int] {
        let g = shiftGroups, gc = channels / shiftGroups
        return (0..<channels).map { c in ((c / gc + 1) % g) * gc + (c % gc + 1) % gc }
    }
}

/// Dynamic Shift-Max as one fused op: pool, FC + ReLU, FC + hardsigmoid into coefficients
/// (in scratch), then the shift-max of the input, written to a new tensor.
public struct DYShiftMax: Hashable, Sendable {
    public var input: NodeID
    public var squeezeChannels: Int
    public var reduce: ModuleName
    public var expand: ModuleName
    public var params: ShiftMaxParams
    /// Added to the result (the block's skip), after any shuffle.
    public var residual: NodeID?

    public init(input: NodeID, squeezeChannels: Int, reduce: ModuleName, expand: ModuleName, params: ShiftMaxParams) {
        self.input = input
        self.squeezeChannels = squeezeChannels
        self.reduce = reduce
        self.expand = expand
        self.params = params
        self.residual = nil
    }
}

/// A 1×1 expansion conv and the depthwise conv after it, run band by band: each thread keeps
/// a ring of `kernelHeight` expanded rows, computes each expanded pixel once, and the
/// depthwise conv reads from the ring. The expanded tensor never exists in full.
public struct ExpandDepthwise: Hashable, Sendable {
    public var expand: Conv
    public var depthwise: Conv
    /// The most bands (threads) run at once; each has its own ring in the scratch.
    public static let maxBands = 2

    /// Floats of each band's ring: `kernelHeight` expanded rows, room for the up to 5
    /// pixels that the expansion's last 6-pixel tile runs on into the next row (on rows of
    /// at least 6 pixels), and the `kernelHeight - stride` edge rows the band above reads
    /// (`Kernels.expandDepthwise`).
    public func ringFloats(inWidth: Int) -> Int {
        let edgeRows = max(0, depthwise.kernelHeight - depthwise.strideHeight)
        return ((depthwise.kernelHeight + edgeRows) * inWidth + (inWidth >= 6 ? 5 : 0)) * expand.outChannels
    }

    public init(expand: Conv, depthwise: Conv) {
        self.expand = expand
        self.depthwise = depthwise
    }
}

/// The operations of the IR. Generic layers come out of lowering; fused forms come out of passes.
public enum Op: Hashable, Sendable {
    /// The network input, one image.
    case input
    case conv(Conv)
    /// Inference BatchNorm over channels, `<module>.weight/.bias/.running_mean/.running_var`.
    case batchNorm(input: NodeID, module: ModuleName)
    case activation(input: NodeID, Activation)
    case add(NodeID, NodeID)
    /// Mean over pixels, with an activation before (on every element) and after.
    case globalAveragePool(input: NodeID, before: Activation, after: Activation)
    /// x · gate, gate being C×1×1.
    case scaleChannels(input: NodeID, gate: NodeID)
    case linear(Linear)
    case squeezeExcite(SqueezeExcite)
    /// ShuffleNet's channel shuffle: view (G, C/G), transpose, flatten.
    case channelShuffle(input: NodeID, groups: Int)
    /// The combining step of Dynamic Shift-Max, given raw coefficients (the FC branch's
    /// hardsigmoid output, C × coefficients).
    case shiftMax(input: NodeID, coefficients: NodeID, ShiftMaxParams)
    case dyShiftMax(DYShiftMax)
    case expandDepthwise(ExpandDepthwise)

    /// The tensors this op reads, in order.
    public var operands: [NodeID] {
        switch self {
        case .input: return []
        case .conv(let c): return [c.input] + (c.residual.map { [$0] } ?? [])
        case .batchNorm(let x, _), .activation(let x, _), .globalAveragePool(let x, _, _), .channelShuffle(let x, _): return [x]
        case .shiftMax(let x, let coefficients, _): return [x, coefficients]
        case .dyShiftMax(let d): return [d.input] + (d.residual.map { [$0] } ?? [])
        case .expandDepthwise(let f): return [f.expand.input]
        case .add(let a, let b): return [a, b]
        case .scaleChannels(let x, let gate): return [x, gate]
        case .linear(let l): return [l.input]
        case .squeezeExcite(let se): return [se.input]
        }
    }

    /// The same op reading `f(operand)` instead of each operand.
    public func mapOperands(_ f: (NodeID) -> NodeID) -> Op {
        switch self {
        case .input: return self
        case .conv(var c):
            c.input = f(c.input)
            c.residual = c.residual.map(f)
            return .conv(c)
        case .batchNorm(let x, let m): return .batchNorm(input: f(x), module: m)
        case .activation(let x, let a): return .activation(input: f(x), a)
        case .globalAveragePool(let x, let before, let after): return .globalAveragePool(input: f(x), before: before, after: after)
        case .channelShuffle(let x, let groups): return .channelShuffle(input: f(x), groups: groups)
        case .shiftMax(let x, let c, let p): return .shiftMax(input: f(x), coefficients: f(c), p)
        case .dyShiftMax(var d):
            d.input = f(d.input)
            d.residual = d.residual.map(f)
            return .dyShiftMax(d)
        case .expandDepthwise(var fused):
            fused.expand.input = f(fused.expand.input)
            return .expandDepthwise(fused)
        case .add(let a, let b): return .add(f(a), f(b))
        case .scaleChannels(let x, let g): return .scaleChannels(input: f(x), gate: f(g))
        case .linear(var l):
            l.input = f(l.input)
            return .linear(l)
        case .squeezeExcite(var se):
            se.input = f(se.input)
            return .squeezeExcite(se)
        }
    }

    /// The op's name in dumps, naming what a fused op fuses (conv2d_bn_hardswish_add).
    public var mnemonic: String {
        switch self {
        case .input: return "input"
        case .conv(let c):
            var name = c.groups > 1 && c.groups == c.outChannels ? "dwconv2d" : "conv2d"
            if c.foldedNorm != nil { name += "_bn" }
            if !c.outputShuffles.isEmpty { name += "_shuffle" }
            if c.residual != nil { name += "_add" }
            if c.activation != .identity { name += "_\(c.activation.rawValue)" }
            return name
        case .batchNorm: return "batchnorm"
        case .activation(_, let a): return a.rawValue
        case .add: return "add"
        case .globalAveragePool(_, let before, let after):
            return (before == .identity ? "" : before.rawValue + "_") + "global_avg_pool" + (after == .identity ? "" : "_" + after.rawValue)
        case .channelShuffle: return "channel_shuffle"
        case .shiftMax(_, _, let p): return p.outputShuffles.isEmpty ? "shift_max" : "shift_max_shuffle"
        case .expandDepthwise(let f):
            return Op.conv(f.expand).mnemonic + "+" + Op.conv(f.depthwise).mnemonic + "_banded"
        case .dyShiftMax(let d):
            return "dy_shift_max" + (d.params.outputShuffles.isEmpty ? "" : "_shuffle") + (d.residual == nil ? "" : "_add")
        case .scaleChannels: return "scale_channels"
        case .linear(let l):
            return "linear" + (l.foldedNorm != nil ? "_bn" : "") + (l.activation == .identity ? "" : "_\(l.activation.rawValue)")
        case .squeezeExcite: return "squeeze_excite"
        }
    }

    /// True when the op writes its result over its first operand (no new buffer).
    public var isInPlace: Bool {
        if case .squeezeExcite = self { return true }
        return false
    }
}
