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
        threads.parallelChunks(outHeight, grain: 1, DepthwiseConv<A>(input: input, weights: weights, output: output, geometry: geometry))
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
}

/// One thread's share of a depthwise conv: a range of output rows.
@usableFromInline
struct DepthwiseConv<A: ActivationFunction>: ParallelWork {
    @usableFromInline let input: UnsafePointer<Float>
    @usableFromInline let weights: UnsafePointer<Float>
    @usableFromInline let output: UnsafeMutablePointer<Float>
    @usableFromInline let geometry: ConvGeometry

    @inlinable
    init(input: UnsafePointer<Float>, weights: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, geometry: ConvGeometry) {
        self.input = input
        self.weights = weights
        self.output = output
        self.geometry = geometry
    }

    @inlinable
    func run(_ rows: Range<Int>) {
        let g = geometry
        let channels = g.inChannels
        let padded = roundUp(channels, 16)
        let bias = weights + g.kernelHeight * g.kernelWidth * padded
        // Output columns whose taps all fall inside the input need no bounds checks.
        let interiorStart = min(g.outWidth, (g.padLeft + g.strideWidth - 1) / g.strideWidth)
        let interiorEnd = max(interiorStart, min(g.outWidth, (g.inWidth - g.kernelWidth + g.padLeft) / g.strideWidth + 1))
        for oh in rows {
            let ih0 = oh * g.strideHeight - g.padTop
            let khStart = max(0, -ih0), khEnd = min(g.kernelHeight, g.inHeight - ih0)
            var c = 0
            while c < channels {
                let n = min(16, channels - c)
                let b = load(bias + c)
                let out = output + oh * g.outWidth * channels + c
                for ow in 0..<g.outWidth {
                    let iw0 = ow * g.strideWidth - g.padLeft
                    var acc = b
                    if ow >= interiorStart && ow < interiorEnd {
                        // Every tap inside the input: no column bounds to check.
                        for kh in khStart..<khEnd {
                            let x = input + ((ih0 + kh) * g.inWidth + iw0) * channels + c
                            let w = weights + kh * g.kernelWidth * padded + c
                            for kw in 0..<g.kernelWidth {
                                acc = acc.addingProduct(load(x + kw * channels, count: n), load(w + kw * padded))
                            }
                        }
                    } else {
                        let kwStart = max(0, -iw0), kwEnd = min(g.kernelWidth, g.inWidth - iw0)
                        for kh in khStart..<khEnd {
                            let x = input + ((ih0 + kh) * g.inWidth + iw0) * channels + c
                            let w = weights + kh * g.kernelWidth * padded + c
                            for kw in kwStart..<kwEnd {
                                acc = acc.addingProduct(load(x + kw * channels, count: n), load(w + kw * padded))
                            }
                        }
                    }
                    store(A.apply(acc), out + ow * channels, count: n)
                }
                c += 16
            }
        }
    }
}
