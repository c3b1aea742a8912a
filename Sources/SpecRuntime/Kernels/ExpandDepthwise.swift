/// A 1×1 expansion and the depthwise conv after it, band by band. The output rows are split
/// into up to `bands` bands (one per thread); each band keeps a ring of `kernelHeight`
/// expanded rows in `scratch`, computes every expanded pixel it needs exactly once (rows at
/// a band's edge are computed by both bands), and runs the depthwise conv from the ring. The
/// expanded tensor, the widest of an inverted-residual block, never exists in full, so it
/// never leaves the cache.
///
/// The expansion runs in whole 6-pixel tiles, the GEMM microkernel's shape, even where a
/// row's width is not a multiple of 6: the last tile runs on into the next row. That row's
/// ring slot is still in use, so those up to 5 pixels wait in a spill area after the ring
/// and move into the slot once the output row is done. Rows expanded one at a time would
/// each end in a 1–5 pixel remainder, at about half the microkernel's speed.
///
/// Weights: the expansion packed as for `pointwiseConv`, then the depthwise conv as for
/// `depthwiseConv`. `scratch` holds, per band, kernelHeight × inWidth × expanded floats and,
/// when inWidth ≥ 6, 5 × expanded more (`ExpandDepthwise.ringFloats` in the IR).
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
        // Bands of few rows recompute a large share of expanded rows at their edges. Maps under
        // 14 rows are split by channels instead: each thread expands and convolves its own
        // 16-channel panels over all rows, in its own ring, and nothing is computed twice.
        // But the projection after needs every channel of a pixel, so half the output moves
        // between cores: on 14 rows, two bands (16 rows expanded instead of 14) ran V2's
        // 14×14 blocks 3–12% faster on two threads than the channel split (BENCHMARKS.md).
        let panels = (expanded + 15) / 16
        let splitChannels = used > 1 && outHeight < 14 && panels >= 2 * used
        let work = ExpandDepthwiseBands<E, D>(input: input, inChannels: inChannels, expandWeights: expandWeights,
                                              depthwiseWeights: depthwiseWeights, output: output, scratch: scratch,
                                              geometry: geometry, bands: used, splitChannels: splitChannels)
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
    /// Whether bands split the channels (each band: all rows, a range of panels) rather
    /// than the rows.
    @usableFromInline let splitChannels: Bool

    @inlinable
    init(input: UnsafePointer<Float>, inChannels: Int, expandWeights: UnsafePointer<Float>, depthwiseWeights: UnsafePointer<Float>,
         output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, geometry: ConvGeometry, bands: Int,
         splitChannels: Bool = false) {
        self.input = input
        self.inChannels = inChannels
        self.expandWeights = expandWeights
        self.depthwiseWeights = depthwiseWeights
        self.output = output
        self.scratch = scratch
        self.geometry = geometry
        self.bands = bands
        self.splitChannels = splitChannels
    }

    @inlinable
    func run(_ bandRange: Range<Int>) {
        for band in bandRange { run(band: band) }
    }

    @inlinable
    func run(band: Int) {
        let g = geometry, channels = g.inChannels, k = g.kernelHeight, width = g.inWidth
        let rowFloats = width * channels
        let spillPixels = width >= 6 ? 5 : 0
        let ring = scratch + band * (k * rowFloats + spillPixels * channels)
        let spill = ring + k * rowFloats
        let panelCount = (channels + 15) / 16
        let (first, last) = splitChannels ? (0, g.outHeight) : (g.outHeight * band / bands, g.outHeight * (band + 1) / bands)
        let panels = splitChannels ? (panelCount * band / bands)..<(panelCount * (band + 1) / bands) : 0..<panelCount
        let ownChannels = (panels.lowerBound * 16)..<min(channels, panels.upperBound * 16)
        // Expanded pixels so far run from this band's first input row up to `frontier`.
        let bandStart = max(0, first * g.strideHeight - g.padTop) * width
        let streamsWeights = inChannels * roundUp(channels, 16) * MemoryLayout<Float>.size >= Kernels.prefetchedWeightBytes
        var frontier = bandStart
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: k) { rows in
            for oh in first..<last {
                let ih0 = oh * g.strideHeight - g.padTop
                let khStart = max(0, -ih0), khEnd = min(k, g.inHeight - ih0)
                let needed = (ih0 + khEnd) * width
                if frontier < needed {
                    let limit = min(g.inHeight * width, needed + spillPixels)
                    let end = min(limit, frontier + roundUp(needed - frontier, 6))
                    expand(frontier..<end, panels: panels, spillRow: ih0 + khEnd, ring: ring, spill: spill,
                           prefetch: frontier == bandStart && streamsWeights)
                    frontier = end
                }
                for kh in khStart..<khEnd { rows[kh] = UnsafePointer(ring + ((ih0 + kh) % k) * rowFloats) }
                Kernels.depthwiseRow(rows: UnsafePointer(rows.baseAddress!), taps: khStart..<khEnd, geometry: g,
                                     weights: depthwiseWeights, output: output + oh * g.outWidth * channels,
                                     channels: ownChannels, D.self)
                // The next output row no longer reads the spill row's slot: move this band's
                // channels of the spilled pixels in.
                let slot = ring + ((ih0 + khEnd) % k) * rowFloats
                for pixel in 0..<(frontier - needed) {
                    let offset = pixel * channels + ownChannels.lowerBound
                    (slot + offset).update(from: spill + offset, count: ownChannels.count)
                }
            }
        }
    }

    /// Expands input pixels `pixels` (row-major over the image) into their ring slots, for
    /// the 16-channel `panels`; pixels of row `spillRow` go to `spill`. With `prefetch` (the
    /// band's first rows, which read the weights from L3 or memory, as in pointwiseConv),
    /// the next panel's weights are fetched into L2 while the tiles run over this one.
    @inlinable
    func expand(_ pixels: Range<Int>, panels: Range<Int>, spillRow: Int, ring: UnsafeMutablePointer<Float>,
                spill: UnsafeMutablePointer<Float>, prefetch: Bool) {
        let channels = geometry.inChannels, width = geometry.inWidth, k = geometry.kernelHeight
        let rowFloats = width * channels
        let bias = expandWeights + inChannels * roundUp(channels, 16)
        let rowsPerTile = (inChannels * 6 + pixels.count - 1) / pixels.count
        @inline(__always) func rowStart(_ row: Int) -> UnsafeMutablePointer<Float> {
            row == spillRow ? spill : ring + (row % k) * rowFloats
        }
        var panel = panels.lowerBound
        while panel < panels.upperBound {
            let b = expandWeights + panel * inChannels * 16, column = panel * 16
            let span = Kernels.panelSpan(remaining: panels.upperBound - panel)
            // Row and column advance with the tiles: a division per tile costs as much as
            // a few k-steps of the tile when the input has 16 channels.
            var p = pixels.lowerBound
            var row = p / width, col = p % width
            var start = rowStart(row)
            // The panels after these, contiguous with them, are prefetched.
            let following = min(span, panels.upperBound - panel - span)
            let prefetchNext = prefetch && following > 0
            var prefetched = 0
            while p < pixels.upperBound {
                let fetch = prefetchNext ? min(following * rowsPerTile, following * inChannels - prefetched) : 0
                let fetchFrom = b + span * inChannels * 16 + prefetched * 16
                prefetched += fetch
                let c = start + col * channels + column
                let a = input + p * inChannels
                let inRow = min(pixels.upperBound - p, width - col)
                let step: Int
                if inRow >= 6 {
                    Kernels.tilePanels(span: span, rows: 6, a: a, k: inChannels, b: b, bias: bias + column, c: c, ldc: channels,
                                       residual: nil, validColumns: channels - column,
                                       prefetch: fetchFrom, prefetchRows: fetch, E.self)
                    step = 6
                } else if width >= 6 && inRow < pixels.upperBound - p && pixels.upperBound - p >= 6 {
                    // Six pixels across the end of a row into the next.
                    Kernels.tilePanels(span: span, rows: 6, a: a, k: inChannels, b: b, bias: bias + column, c: c, ldc: channels,
                                       residual: nil, split: inRow, next: rowStart(row + 1) + column,
                                       validColumns: channels - column,
                                       prefetch: fetchFrom, prefetchRows: fetch, E.self)
                    step = 6
                } else {
                    Kernels.tilePanels(span: span, rows: inRow, a: a, k: inChannels, b: b, bias: bias + column, c: c,
                                       ldc: channels, residual: nil, validColumns: channels - column,
                                       prefetch: fetchFrom, prefetchRows: fetch, E.self)
                    step = inRow
                }
                p += step
                col += step
                if col >= width {
                    col -= width
                    row += 1
                    start = rowStart(row)
                }
            }
            panel += span
        }
    }
}
