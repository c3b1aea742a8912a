/// Depthwise k×k convolution over an NHWC tensor, vectorized across channels.
/// Weights packed [kh][kw][channels padded to 16], then the bias.
public enum DepthwisePacking {
    public static func floats(channels: Int, kernelHeight: Int, kernelWidth: Int) -> Int {
        roundUp(channels, 16) * (kernelHeight * kernelWidth + 1)
    }
}

extension Kernels {
    @inlinable
    public static func depthwiseConv<A: ActivationFunction>(
        input: UnsafePointer<Float>, channels: Int, inHeight: Int, inWidth: Int,
        weights: UnsafePointer<Float>, kernelHeight: Int, kernelWidth: Int,
        strideHeight: Int, strideWidth: Int, padTop: Int, padLeft: Int,
        output: UnsafeMutablePointer<Float>, outHeight: Int, outWidth: Int,
        activation: A.Type, threads: ThreadPool
    ) {
        let geometry = ConvGeometry(inChannels: channels, inHeight: inHeight, inWidth: inWidth,
                                    outChannels: channels, outHeight: outHeight, outWidth: outWidth,
                                    kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                                    strideHeight: strideHeight, strideWidth: strideWidth, padTop: padTop, padLeft: padLeft)
        // Few rows (7×7 late layers) split unevenly over threads; then, as when the weights
        // outgrow L1, the channels go in blocks of 64.
        let fewRows = threads.threadCount > 1 && outHeight < 8 * threads.threadCount
        let channelBlocks = fewRows || geometry.depthwiseWeightsOutgrowL1 ? (channels + 63) / 64 : 1
        threads.parallelChunks(outHeight * channelBlocks, grain: 1,
                               DepthwiseConv<A>(input: input, weights: weights, output: output, geometry: geometry,
                                                channelBlocks: channelBlocks))
    }
}

/// Shapes of a convolution, passed whole to the work structs.
public struct ConvGeometry: Sendable {
    public var inChannels, inHeight, inWidth: Int
    public var outChannels, outHeight, outWidth: Int
    public var kernelHeight, kernelWidth: Int
    public var strideHeight, strideWidth: Int
    public var padTop, padLeft: Int

    @inlinable
    public init(inChannels: Int, inHeight: Int, inWidth: Int, outChannels: Int, outHeight: Int, outWidth: Int,
                kernelHeight: Int, kernelWidth: Int, strideHeight: Int, strideWidth: Int, padTop: Int, padLeft: Int) {
        self.inChannels = inChannels
        self.inHeight = inHeight
        self.inWidth = inWidth
        self.outChannels = outChannels
        self.outHeight = outHeight
        self.outWidth = outWidth
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.padTop = padTop
        self.padLeft = padLeft
    }

    /// Whether a depthwise conv's weights (over 16 KB: 5×5 over 960 channels is 96 KB) would
    /// be streamed from L2 again for every output row; such convs go in blocks of 64
    /// channels, each block through all rows with its weights in L1.
    @inlinable
    public var depthwiseWeightsOutgrowL1: Bool {
        kernelHeight * kernelWidth * inChannels * MemoryLayout<Float>.size > 16 * 1024
    }
}

/// One thread's share of a depthwise conv: a range of output rows.
@usableFromInline
struct DepthwiseConv<A: ActivationFunction>: ParallelWork {
    @usableFromInline let input: UnsafePointer<Float>
    @usableFromInline let weights: UnsafePointer<Float>
    @usableFromInline let output: UnsafeMutablePointer<Float>
    @usableFromInline let geometry: ConvGeometry
    /// Blocks of 64 channels each output row is split into (1: whole rows).
    @usableFromInline let channelBlocks: Int

    @inlinable
    init(input: UnsafePointer<Float>, weights: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, geometry: ConvGeometry,
         channelBlocks: Int = 1) {
        self.input = input
        self.weights = weights
        self.output = output
        self.geometry = geometry
        self.channelBlocks = channelBlocks
    }

    /// Items are (channel block, output row) pairs, block-major.
    @inlinable
    func run(_ items: Range<Int>) {
        let g = geometry
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: g.kernelHeight) { rows in
            for item in items {
                let block = item / g.outHeight, oh = item % g.outHeight
                let channels = channelBlocks == 1 ? 0..<g.inChannels : (block * 64)..<min(g.inChannels, block * 64 + 64)
                let ih0 = oh * g.strideHeight - g.padTop
                let taps = max(0, -ih0)..<min(g.kernelHeight, g.inHeight - ih0)
                for kh in taps { rows[kh] = input + (ih0 + kh) * g.inWidth * g.inChannels }
                Kernels.depthwiseRow(rows: UnsafePointer(rows.baseAddress!), taps: taps, geometry: g, weights: weights,
                                     output: output + oh * g.outWidth * g.inChannels, channels: channels, A.self)
            }
        }
    }
}
