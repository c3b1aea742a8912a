/// Depthwise convolution that writes its output over its input, row by row, as TinyEngine
/// does: each output row is computed into a one-row buffer and then stored where it
/// belongs. With stride 1 the rows it overwrites are still read by the next `padTop` output
/// rows, so they are copied into a ring of `padTop` rows first; with stride 2 and a pad of
/// at most 1 the output (half as wide) only ever covers input rows no later row reads.
/// Channels are independent, so threads split them: each works through all rows on its own
/// channels, with its own slice of the buffers.
///
/// `scratch` holds outWidth × channels floats, plus padTop × inWidth × channels for stride 1.
/// Weights are packed as for `depthwiseConv`.
extension Kernels {
    @inlinable
    public static func depthwiseConvInPlace<A: ActivationFunction>(
        _ tensor: UnsafeMutablePointer<Float>, channels: Int, inHeight: Int, inWidth: Int,
        weights: UnsafePointer<Float>, kernelHeight: Int, kernelWidth: Int,
        strideHeight: Int, strideWidth: Int, padTop: Int, padLeft: Int,
        outHeight: Int, outWidth: Int, scratch: UnsafeMutablePointer<Float>,
        activation: A.Type, threads: ThreadPool
    ) {
        let geometry = ConvGeometry(inChannels: channels, inHeight: inHeight, inWidth: inWidth,
                                    outChannels: channels, outHeight: outHeight, outWidth: outWidth,
                                    kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                                    strideHeight: strideHeight, strideWidth: strideWidth, padTop: padTop, padLeft: padLeft)
        let work = DepthwiseInPlace<A>(tensor: tensor, weights: weights, scratch: scratch, geometry: geometry)
        threads.parallelChunks((channels + 15) / 16, grain: 1, work)
    }
}

@usableFromInline
struct DepthwiseInPlace<A: ActivationFunction>: ParallelWork {
    @usableFromInline let tensor: UnsafeMutablePointer<Float>
    @usableFromInline let weights: UnsafePointer<Float>
    @usableFromInline let scratch: UnsafeMutablePointer<Float>
    @usableFromInline let geometry: ConvGeometry

    @inlinable
    init(tensor: UnsafeMutablePointer<Float>, weights: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>, geometry: ConvGeometry) {
        self.tensor = tensor
        self.weights = weights
        self.scratch = scratch
        self.geometry = geometry
    }

    @inlinable
    func run(_ chunks: Range<Int>) {
        let g = geometry, channels = g.inChannels
        let rowIn = g.inWidth * channels, rowOut = g.outWidth * channels
        let pending = scratch                    // the output row being computed
        let ring = scratch + rowOut              // stride 1: overwritten input rows still needed
        let ringRows = g.strideHeight == 1 ? g.padTop : 0
        let first = chunks.lowerBound * 16, last = min(channels, chunks.upperBound * 16)
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: g.kernelHeight) { rows in
            for oh in 0..<g.outHeight {
                let ih0 = oh * g.strideHeight - g.padTop
                let taps = max(0, -ih0)..<min(g.kernelHeight, g.inHeight - ih0)
                for kh in taps {
                    let ih = ih0 + kh
                    // Rows above the current one were overwritten (stride 1): read their copies.
                    rows[kh] = UnsafePointer(ih < oh && ringRows > 0 ? ring + (ih % ringRows) * rowIn : tensor + ih * rowIn)
                }
                Kernels.depthwiseRow(rows: UnsafePointer(rows.baseAddress!), taps: taps, geometry: g, weights: weights,
                                     output: pending, channels: first..<last, A.self)
                if ringRows > 0 {
                    // Input row oh is about to be overwritten; output rows oh+1 … oh+padTop still read it.
                    let slot = ring + (oh % ringRows) * rowIn, source = tensor + oh * rowIn
                    for pixel in 0..<g.inWidth {
                        (slot + pixel * channels + first).update(from: source + pixel * channels + first, count: last - first)
                    }
                }
                let destination = tensor + oh * rowOut
                for pixel in 0..<g.outWidth {
                    (destination + pixel * channels + first).update(from: pending + pixel * channels + first, count: last - first)
                }
            }
        }
    }
}
