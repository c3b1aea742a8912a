/// Any convolution the specialized kernels do not cover: groups, a depthwise channel
/// multiplier, k×1 or 1×k kernels with a stride per axis, shuffled outputs. Vectorized over
/// 16 output channels at a time; each lane reads its own input channel (its group's),
/// broadcast when all lanes of a chunk share one group and gathered otherwise.
///
/// Packed per chunk of 16 output positions: [kh][kw][in per group][16] weights, 16 biases,
/// and 16 input base channels (as floats).
public enum GroupedConvPacking {
    public static func chunkFloats(inChannelsPerGroup: Int, taps: Int) -> Int {
        16 * (taps * inChannelsPerGroup + 2)
    }

    public static func floats(outChannels: Int, inChannelsPerGroup: Int, kernelHeight: Int, kernelWidth: Int) -> Int {
        (outChannels + 15) / 16 * chunkFloats(inChannelsPerGroup: inChannelsPerGroup, taps: kernelHeight * kernelWidth)
    }
}

extension Kernels {
    @inlinable
    public static func groupedConv<A: ActivationFunction>(
        input: UnsafePointer<Float>, inChannels: Int, inHeight: Int, inWidth: Int, inChannelsPerGroup: Int,
        weights: UnsafePointer<Float>, outChannels: Int, kernelHeight: Int, kernelWidth: Int,
        strideHeight: Int, strideWidth: Int, padTop: Int, padLeft: Int,
        residual: UnsafePointer<Float>? = nil, output: UnsafeMutablePointer<Float>, outHeight: Int, outWidth: Int,
        activation: A.Type, threads: ThreadPool
    ) {
        let geometry = ConvGeometry(inChannels: inChannels, inHeight: inHeight, inWidth: inWidth,
                                    outChannels: outChannels, outHeight: outHeight, outWidth: outWidth,
                                    kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                                    strideHeight: strideHeight, strideWidth: strideWidth, padTop: padTop, padLeft: padLeft)
        let work = GroupedConv<A>(input: input, weights: weights, residual: residual, output: output, geometry: geometry,
                                  inChannelsPerGroup: inChannelsPerGroup)
        threads.parallelChunks(outHeight, grain: 1, work)
    }
}

/// One thread's share of a grouped conv: a range of output rows.
@usableFromInline
struct GroupedConv<A: ActivationFunction>: ParallelWork {
    @usableFromInline let input: UnsafePointer<Float>
    @usableFromInline let weights: UnsafePointer<Float>
    @usableFromInline let residual: UnsafePointer<Float>?
    @usableFromInline let output: UnsafeMutablePointer<Float>
    @usableFromInline let geometry: ConvGeometry
    @usableFromInline let inChannelsPerGroup: Int

    @inlinable
    init(input: UnsafePointer<Float>, weights: UnsafePointer<Float>, residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
         geometry: ConvGeometry, inChannelsPerGroup: Int) {
        self.input = input
        self.weights = weights
        self.residual = residual
        self.output = output
        self.geometry = geometry
        self.inChannelsPerGroup = inChannelsPerGroup
    }

    @inlinable
    func run(_ rows: Range<Int>) {
        let g = geometry, cin = inChannelsPerGroup
        let taps = g.kernelHeight * g.kernelWidth
        let chunkFloats = GroupedConvPacking.chunkFloats(inChannelsPerGroup: cin, taps: taps)
        for oh in rows {
            let ih0 = oh * g.strideHeight - g.padTop
            let khStart = max(0, -ih0), khEnd = min(g.kernelHeight, g.inHeight - ih0)
            var o = 0
            while o < g.outChannels {
                let chunk = weights + (o / 16) * chunkFloats
                let bias = load(chunk + taps * cin * 16)
                let baseVector = load(chunk + taps * cin * 16 + 16)
                let first = Int(baseVector[0])
                let uniform = baseVector == Vec(repeating: baseVector[0])
                let n = min(16, g.outChannels - o)
                for ow in 0..<g.outWidth {
                    let iw0 = ow * g.strideWidth - g.padLeft
                    let kwStart = max(0, -iw0), kwEnd = min(g.kernelWidth, g.inWidth - iw0)
                    var acc = bias
                    for kh in khStart..<khEnd {
                        for kw in kwStart..<kwEnd {
                            let pixel = input + ((ih0 + kh) * g.inWidth + iw0 + kw) * g.inChannels
                            let w = chunk + (kh * g.kernelWidth + kw) * cin * 16
                            if uniform {
                                for i in 0..<cin { acc = acc.addingProduct(Vec(repeating: pixel[first + i]), load(w + i * 16)) }
                            } else {
                                for i in 0..<cin {
                                    var x = Vec.zero
                                    for lane in 0..<n { x[lane] = pixel[Int(baseVector[lane]) + i] }
                                    acc = acc.addingProduct(x, load(w + i * 16))
                                }
                            }
                        }
                    }
                    let at = (oh * g.outWidth + ow) * g.outChannels + o
                    var v = A.apply(acc)
                    if let residual { v += load(residual + at, count: n) }
                    store(v, output + at, count: n)
                }
                o += 16
            }
        }
    }
}
