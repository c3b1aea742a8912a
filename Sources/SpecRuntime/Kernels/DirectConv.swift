/// Dense k×k convolution for few input channels (the stem): each output pixel's
/// channels are accumulated as vectors from broadcast input values.
/// Weights packed [kh][kw][in][out padded to 16], then the bias.
public enum DirectConvPacking {
    public static func floats(inChannels: Int, outChannels: Int, kernelHeight: Int, kernelWidth: Int) -> Int {
        roundUp(outChannels, 16) * (kernelHeight * kernelWidth * inChannels + 1)
    }
}

extension Kernels {
    @inlinable
    public static func directConv<A: ActivationFunction>(
        input: UnsafePointer<Float>, inChannels: Int, inHeight: Int, inWidth: Int,
        weights: UnsafePointer<Float>, outChannels: Int, kernelHeight: Int, kernelWidth: Int,
        strideHeight: Int, strideWidth: Int, padTop: Int, padLeft: Int,
        output: UnsafeMutablePointer<Float>, outHeight: Int, outWidth: Int,
        inputLayout: InputLayout = .hwc, activation: A.Type, threads: ThreadPool
    ) {
        let geometry = ConvGeometry(inChannels: inChannels, inHeight: inHeight, inWidth: inWidth,
                                    outChannels: outChannels, outHeight: outHeight, outWidth: outWidth,
                                    kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                                    strideHeight: strideHeight, strideWidth: strideWidth, padTop: padTop, padLeft: padLeft)
        let (pixelStride, channelStride) = inputLayout == .hwc ? (inChannels, 1) : (1, inHeight * inWidth)
        threads.parallelChunks(outHeight, grain: 1, DirectConv<A>(input: input, weights: weights, output: output, geometry: geometry,
                                                                  pixelStride: pixelStride, channelStride: channelStride))
    }
}

/// How a tensor's elements are laid out: channels innermost (the arena's tensors), or
/// channel planes (CHW, the caller's image as PyTorch holds it).
public enum InputLayout: Sendable {
    case hwc, chw
}

/// One thread's share of a direct conv: a range of output rows.
@usableFromInline
struct DirectConv<A: ActivationFunction>: ParallelWork {
    @usableFromInline let input: UnsafePointer<Float>
    @usableFromInline let weights: UnsafePointer<Float>
    @usableFromInline let output: UnsafeMutablePointer<Float>
    @usableFromInline let geometry: ConvGeometry
    @usableFromInline let pixelStride: Int
    @usableFromInline let channelStride: Int

    @inlinable
    init(input: UnsafePointer<Float>, weights: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, geometry: ConvGeometry,
         pixelStride: Int, channelStride: Int) {
        self.input = input
        self.weights = weights
        self.output = output
        self.geometry = geometry
        self.pixelStride = pixelStride
        self.channelStride = channelStride
    }

    @inlinable
    func run(_ rows: Range<Int>) {
        let g = geometry
        let padded = roundUp(g.outChannels, 16)
        let bias = weights + g.kernelHeight * g.kernelWidth * g.inChannels * padded
        for oh in rows {
            let ih0 = oh * g.strideHeight - g.padTop
            let khStart = max(0, -ih0), khEnd = min(g.kernelHeight, g.inHeight - ih0)
            for ow in 0..<g.outWidth {
                let iw0 = ow * g.strideWidth - g.padLeft
                let kwStart = max(0, -iw0), kwEnd = min(g.kernelWidth, g.inWidth - iw0)
                let out = output + (oh * g.outWidth + ow) * g.outChannels
                var o = 0
                while o < padded {
                    var acc = load(bias + o)
                    for kh in khStart..<khEnd {
                        for kw in kwStart..<kwEnd {
                            let x = input + ((ih0 + kh) * g.inWidth + iw0 + kw) * pixelStride
                            let w = weights + ((kh * g.kernelWidth + kw) * g.inChannels) * padded + o
                            for ci in 0..<g.inChannels {
                                acc = acc.addingProduct(Vec(repeating: x[ci * channelStride]), load(w + ci * padded))
                            }
                        }
                    }
                    store(A.apply(acc), out + o, count: g.outChannels - o)
                    o += 16
                }
            }
        }
    }
}
