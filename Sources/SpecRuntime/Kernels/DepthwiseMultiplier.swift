/// Depthwise convolution with a channel multiplier of 2 (groups = in, out = 2·in): each
/// input channel c feeds outputs 2c and 2c+1. Vectorized over 16 input channels, whose
/// two accumulators are interleaved into 32 consecutive outputs on store. MicroNet's
/// spatially separable k×1 and 1×k convs have this form.
///
/// Packed per chunk of 16 input channels: [kh][kw][2][16] weights (the 16 channels'
/// first outputs, then their second), then 2×16 biases.
public enum DepthwiseMultiplierPacking {
    public static func floats(inChannels: Int, kernelHeight: Int, kernelWidth: Int) -> Int {
        (inChannels + 15) / 16 * 32 * (kernelHeight * kernelWidth + 1)
    }
}

extension Kernels {
    @inlinable
    public static func depthwiseMultiplier2<A: ActivationFunction>(
        input: UnsafePointer<Float>, channels: Int, inHeight: Int, inWidth: Int,
        weights: UnsafePointer<Float>, kernelHeight: Int, kernelWidth: Int,
        strideHeight: Int, strideWidth: Int, padTop: Int, padLeft: Int,
        output: UnsafeMutablePointer<Float>, outHeight: Int, outWidth: Int,
        activation: A.Type, threads: ThreadPool
    ) {
        let geometry = ConvGeometry(inChannels: channels, inHeight: inHeight, inWidth: inWidth,
                                    outChannels: 2 * channels, outHeight: outHeight, outWidth: outWidth,
                                    kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                                    strideHeight: strideHeight, strideWidth: strideWidth, padTop: padTop, padLeft: padLeft)
        threads.parallelChunks(outHeight, grain: 1, DepthwiseMultiplier2<A>(input: input, weights: weights, output: output, geometry: geometry))
    }
}

@usableFromInline
struct DepthwiseMultiplier2<A: ActivationFunction>: ParallelWork {
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
        let taps = g.kernelHeight * g.kernelWidth
        let chunkFloats = 32 * (taps + 1)
        for oh in rows {
            let ih0 = oh * g.strideHeight - g.padTop
            let khStart = max(0, -ih0), khEnd = min(g.kernelHeight, g.inHeight - ih0)
            var c = 0
            while c < channels {
                let n = min(16, channels - c)
                let chunk = weights + (c / 16) * chunkFloats
                let bias0 = load(chunk + taps * 32), bias1 = load(chunk + taps * 32 + 16)
                for ow in 0..<g.outWidth {
                    let iw0 = ow * g.strideWidth - g.padLeft
                    let kwStart = max(0, -iw0), kwEnd = min(g.kernelWidth, g.inWidth - iw0)
                    var acc0 = bias0, acc1 = bias1
                    for kh in khStart..<khEnd {
                        for kw in kwStart..<kwEnd {
                            let x = load(input + ((ih0 + kh) * g.inWidth + iw0 + kw) * channels + c, count: n)
                            let w = chunk + (kh * g.kernelWidth + kw) * 32
                            acc0 = acc0.addingProduct(x, load(w))
                            acc1 = acc1.addingProduct(x, load(w + 16))
                        }
                    }
                    let v0 = A.apply(acc0), v1 = A.apply(acc1)
                    // Outputs 2c, 2c+1, 2c+2, …: interleave the two accumulators.
                    let low = Vec(v0[0], v1[0], v0[1], v1[1], v0[2], v1[2], v0[3], v1[3],
                                  v0[4], v1[4], v0[5], v1[5], v0[6], v1[6], v0[7], v1[7])
                    let high = Vec(v0[8], v1[8], v0[9], v1[9], v0[10], v1[10], v0[11], v1[11],
                                   v0[12], v1[12], v0[13], v1[13], v0[14], v1[14], v0[15], v1[15])
                    let out = output + (oh * g.outWidth + ow) * 2 * channels + 2 * c
                    SpecRuntime.store(low, out, count: min(16, 2 * n))
                    if n > 8 { SpecRuntime.store(high, out + 16, count: 2 * n - 16) }
                }
                c += 16
            }
        }
    }
}
