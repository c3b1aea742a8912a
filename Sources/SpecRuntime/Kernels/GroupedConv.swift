/// Any convolution the specialized kernels do not cover: groups, depthwise channel
/// multipliers other than 2, k×1 or 1×k kernels with a stride per axis, shuffled outputs.
/// Each output channel reads its own group's inputs, so this kernel is scalar: a gather per
/// element would cost more than the arithmetic. It serves small layers (MicroNet's stems).
///
/// Packed per output position: [kh][kw][in per group] weights, the bias, and the first
/// input channel of its group (Int32 bits).
public enum GroupedConvPacking {
    public static func floatsPerOutput(inChannelsPerGroup: Int, taps: Int) -> Int {
        taps * inChannelsPerGroup + 2
    }

    public static func floats(outChannels: Int, inChannelsPerGroup: Int, kernelHeight: Int, kernelWidth: Int) -> Int {
        outChannels * floatsPerOutput(inChannelsPerGroup: inChannelsPerGroup, taps: kernelHeight * kernelWidth)
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
        let stride = GroupedConvPacking.floatsPerOutput(inChannelsPerGroup: cin, taps: taps)
        for oh in rows {
            let ih0 = oh * g.strideHeight - g.padTop
            let khStart = max(0, -ih0), khEnd = min(g.kernelHeight, g.inHeight - ih0)
            for ow in 0..<g.outWidth {
                let iw0 = ow * g.strideWidth - g.padLeft
                let kwStart = max(0, -iw0), kwEnd = min(g.kernelWidth, g.inWidth - iw0)
                let at = (oh * g.outWidth + ow) * g.outChannels
                for o in 0..<g.outChannels {
                    let row = weights + o * stride
                    let base = Int(UnsafeRawPointer(row + taps * cin + 1).load(as: Int32.self))
                    var sum = row[taps * cin]
                    for kh in khStart..<khEnd {
                        for kw in kwStart..<kwEnd {
                            let pixel = input + ((ih0 + kh) * g.inWidth + iw0 + kw) * g.inChannels + base
                            let w = row + (kh * g.kernelWidth + kw) * cin
                            for i in 0..<cin { sum += pixel[i] * w[i] }
                        }
                    }
                    var v = A.apply(sum)
                    if let residual { v += residual[at + o] }
                    output[at + o] = v
                }
            }
        }
    }
}
