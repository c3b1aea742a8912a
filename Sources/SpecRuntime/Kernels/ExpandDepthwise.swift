/// A 1×1 expansion and the depthwise conv after it, band by band. The output rows are split
/// into up to `bands` bands (one per thread); each band keeps a ring of `kernelHeight`
/// expanded rows in `scratch`, computes every expanded row it needs exactly once (rows at a
/// band's edge are computed by both bands), and runs the depthwise conv from the ring. The
/// expanded tensor, the widest of an inverted-residual block, never exists in full, so it
/// never leaves the cache.
///
/// Weights: the expansion packed as for `pointwiseConv`, then the depthwise conv as for
/// `depthwiseConv`. `scratch` holds bands × kernelHeight × inWidth × expanded floats.
extension Kernels {
    @inlinable
    public static func expandDepthwise<E: ActivationFunction, D: ActivationFunction>(
        input: UnsafePointer<Float>, inChannels: Int, inHeight: Int, inWidth: Int,
        expandWeights: UnsafePointer<Float>, expanded: Int, expandActivation: E.Type,
        depthwiseWeights: UnsafePointer<Float>, kernel: Int, stride: Int, pad: Int,
        output: UnsafeMutablePointer<Float>, outHeight: Int, outWidth: Int, depthwiseActivation: D.Type,
        scratch: UnsafeMutablePointer<Float>, bands: Int, threads: ThreadPool
    ) {
        let geometry = ConvGeometry(inChannels: expanded, inHeight: inHeight, inWidth: inWidth,
                                    outChannels: expanded, outHeight: outHeight, outWidth: outWidth,
                                    kernelHeight: kernel, kernelWidth: kernel, strideHeight: stride, strideWidth: stride,
                                    padTop: pad, padLeft: pad)
        let used = max(1, min(bands, threads.threadCount, outHeight))
        let work = ExpandDepthwiseBands<E, D>(input: input, inChannels: inChannels, expandWeights: expandWeights,
                                              depthwiseWeights: depthwiseWeights, output: output, scratch: scratch,
                                              geometry: geometry, bands: used)
        threads.parallelChunks(used, grain: 1, work)
    }
}

@usableFromInline
struct ExpandDepthwiseBands<E: ActivationFunction, D: ActivationFunction>: ParallelWork {
    @usableFromInline let input: UnsafePointer<Float>
    @usableFromInline let inChannels: Int
    @usableFromInline let expandWeights: UnsafePointer<Float>
    @usableFromInline let depthwiseWeights: UnsafePointer<Float>
    @usableFromInline let output: UnsafeMutablePointer<Float>
    @usableFromInline let scratch: UnsafeMutablePointer<Float>
    /// The depthwise conv's geometry; its input is the expanded tensor.
    @usableFromInline let geometry: ConvGeometry
    @usableFromInline let bands: Int

    @inlinable
    init(input: UnsafePointer<Float>, inChannels: Int, expandWeights: UnsafePointer<Float>, depthwiseWeights: UnsafePointer<Float>,
         output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, geometry: ConvGeometry, bands: Int) {
        self.input = input
        self.inChannels = inChannels
        self.expandWeights = expandWeights
        self.depthwiseWeights = depthwiseWeights
        self.output = output
        self.scratch = scratch
        self.geometry = geometry
        self.bands = bands
    }

    @inlinable
    func run(_ bandRange: Range<Int>) {
        for band in bandRange { run(band: band) }
    }

    @inlinable
    func run(band: Int) {
        let g = geometry, channels = g.inChannels, k = g.kernelHeight
        let rowFloats = g.inWidth * channels
        let ring = scratch + band * k * rowFloats
        // Which expanded row each ring slot holds (-1: none). Kernels are at most 15 tall.
        var held = (-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)
        let first = g.outHeight * band / bands, last = g.outHeight * (band + 1) / bands
        for oh in first..<last {
            let ih0 = oh * g.strideHeight - g.padTop
            let khStart = max(0, -ih0), khEnd = min(k, g.inHeight - ih0)
            for kh in khStart..<khEnd {
                let ih = ih0 + kh, slot = ih % k
                let holds = withUnsafeBytes(of: &held) { $0.load(fromByteOffset: slot * MemoryLayout<Int>.stride, as: Int.self) }
                if holds != ih {
                    // Expand input row ih into its ring slot: one row of pixels through the 1×1 kernel.
                    let rowWork = PointwiseConv<E>(input: input + ih * g.inWidth * inChannels, pixels: g.inWidth, inChannels: inChannels,
                                                   weights: expandWeights, outChannels: channels, residual: nil, output: ring + slot * rowFloats)
                    rowWork.run(0..<((g.inWidth + 5) / 6))
                    withUnsafeMutableBytes(of: &held) { $0.storeBytes(of: ih, toByteOffset: slot * MemoryLayout<Int>.stride, as: Int.self) }
                }
            }
            // The ring rows this output row reads.
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: k) { rows in
                for kh in khStart..<khEnd { rows[kh] = UnsafePointer(ring + ((ih0 + kh) % k) * rowFloats) }
                Kernels.depthwiseRow(rows: UnsafePointer(rows.baseAddress!), taps: khStart..<khEnd, geometry: g,
                                     weights: depthwiseWeights, output: output + oh * g.outWidth * channels,
                                     channels: 0..<channels, D.self)
            }
        }
    }
}
