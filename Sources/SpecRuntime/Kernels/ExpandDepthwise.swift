/// A 1×1 expansion and the depthwise conv after it, band by band. The output rows are split
/// into up to `bands` bands (one per thread); each band keeps a ring of `kernelHeight`
/// expanded rows in `scratch`, expands its own share of the input rows, and runs the
/// depthwise conv from the ring. The expanded tensor, the widest of an inverted-residual
/// block, never exists in full, so it never leaves the cache.
///
/// Every expanded row is computed once. A band's own input rows start at the first row its
/// first output row reads, so it needs no rows from the band above; its last output rows
/// read the first `kernelHeight - stride` rows of the band below. Each band expands those
/// first rows into an edge buffer of its own instead of its ring, publishes them (which it
/// does early, since they are its first), and the band above reads them from there at its
/// end. On 14-row maps, recomputing those rows instead cost a seventh of each band's
/// expansion.
///
/// The expansion runs in whole 6-pixel tiles, the GEMM microkernel's shape, even where a
/// row's width is not a multiple of 6: the last tile runs on into the next row. That row's
/// ring slot is still in use, so those up to 5 pixels wait in a spill area after the ring
/// and move into the slot once the output row is done. Rows expanded one at a time would
/// each end in a 1–5 pixel remainder, at about half the microkernel's speed.
///
/// Weights: the expansion packed as for `pointwiseConv`, then the depthwise conv as for
/// `depthwiseConv`. `scratch` holds, per band, (2 × kernelHeight − stride) × inWidth ×
/// expanded floats and, when inWidth ≥ 6, 5 × expanded more (`ExpandDepthwise.ringFloats`
/// in the IR).
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
        var used = max(1, min(bands, threads.threadCount, outHeight))
        // Maps under 14 rows are split by channels instead: each thread expands and
        // convolves its own 16-channel panels over all rows, in its own ring. But the
        // projection after needs every channel of a pixel, so half the output moves between
        // cores: on 14 rows, two bands ran V2's 14×14 blocks 3–12% faster on two threads
        // than the channel split (BENCHMARKS.md).
        let panels = (expanded + 15) / 16
        let splitChannels = used > 1 && outHeight < 14 && panels >= 2 * used
        var rows = ExpandDepthwiseRows(geometry: geometry, inChannels: inChannels, bands: used)
        if used > 1 && !splitChannels && !rows.isValid {
            used = 1
            rows = ExpandDepthwiseRows(geometry: geometry, inChannels: inChannels, bands: 1)
        }
        let work = ExpandDepthwiseBands<E, D>(input: input, inChannels: inChannels, expandWeights: expandWeights,
                                              depthwiseWeights: depthwiseWeights, output: output, scratch: scratch,
                                              geometry: geometry, rows: rows, splitChannels: splitChannels, threads: threads)
        threads.parallelChunks(used, grain: 1, work)
    }
}

/// How the rows of a banded expansion + depthwise conv split into bands: each band's output
/// rows, and the input rows it expands. Computed when asked, so that nothing is allocated.
@usableFromInline
struct ExpandDepthwiseRows {
    @usableFromInline let geometry: ConvGeometry
    @usableFromInline let inChannels: Int
    @usableFromInline let bands: Int

    @inlinable
    init(geometry: ConvGeometry, inChannels: Int, bands: Int) {
        self.geometry = geometry
        self.inChannels = inChannels
        self.bands = bands
    }

    /// The first output row of band `band` (`outHeight` for `bands`). Bands are of about
    /// equal cost: an expanded row costs inWidth × inChannels MACs per channel, a depthwise
    /// row outWidth × kernel², at about half the GEMM's speed.
    @inlinable
    func firstOutputRow(_ band: Int) -> Int {
        let g = geometry
        if band == 0 { return 0 }
        if band >= bands { return g.outHeight }
        let expandRow = g.inWidth * inChannels, depthwiseRow = 2 * g.outWidth * g.kernelHeight * g.kernelWidth
        let total = g.inHeight * expandRow + g.outHeight * depthwiseRow
        var first = 0
        for b in 1...band {
            let target = total * b / bands
            var best = first + 1, bestGap = Int.max
            for row in (first + 1)..<max(first + 2, g.outHeight) {
                let gap = abs(firstInputRow(readBy: row) * expandRow + row * depthwiseRow - target)
                if gap < bestGap { (best, bestGap) = (row, gap) }
            }
            first = best
        }
        return first
    }

    /// The first input row band `band` expands; the band's own rows run to the next band's.
    @inlinable
    func ownStart(_ band: Int) -> Int {
        if band == 0 { return 0 }
        if band >= bands { return geometry.inHeight }
        return firstInputRow(readBy: firstOutputRow(band))
    }

    /// The first input row output row `row` reads, within the map.
    @inlinable
    func firstInputRow(readBy row: Int) -> Int {
        min(max(row * geometry.strideHeight - geometry.padTop, 0), geometry.inHeight)
    }

    /// Rows at the start of a band (after the first) that the band above also reads.
    @inlinable var edgeRows: Int { max(0, geometry.kernelHeight - geometry.strideHeight) }

    /// Whether every band has output rows, and the rows each band reads past its own lie
    /// in the next band's edge rows.
    @inlinable
    var isValid: Bool {
        let g = geometry
        for band in 0..<bands {
            let first = firstOutputRow(band), last = firstOutputRow(band + 1)
            guard first < last else { return false }
            if band + 1 < bands {
                let next = ownStart(band + 1)
                let readEnd = min(g.inHeight, (last - 1) * g.strideHeight - g.padTop + g.kernelHeight)
                guard readEnd <= next + edgeRows, next + edgeRows <= ownStart(band + 2) else { return false }
            }
        }
        return true
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
    @usableFromInline let rows: ExpandDepthwiseRows
    /// Whether bands split the channels (each band: all rows, a range of panels) rather
    /// than the rows.
    @usableFromInline let splitChannels: Bool
    @usableFromInline let threads: ThreadPool

    @inlinable
    init(input: UnsafePointer<Float>, inChannels: Int, expandWeights: UnsafePointer<Float>, depthwiseWeights: UnsafePointer<Float>,
         output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, geometry: ConvGeometry,
         rows: ExpandDepthwiseRows, splitChannels: Bool, threads: ThreadPool) {
        self.input = input
        self.inChannels = inChannels
        self.expandWeights = expandWeights
        self.depthwiseWeights = depthwiseWeights
        self.output = output
        self.scratch = scratch
        self.geometry = geometry
        self.rows = rows
        self.splitChannels = splitChannels
        self.threads = threads
    }

    @inlinable
    func run(_ bandRange: Range<Int>) {
        for band in bandRange { run(band: band) }
    }

    /// Where each expanded row of one band lives: its own edge rows in its edge buffer, the
    /// rows past its own in the next band's edge buffer, the rest in its ring.
    @usableFromInline
    struct Slots {
        @usableFromInline let ring: UnsafeMutablePointer<Float>
        @usableFromInline let kernelHeight, rowFloats: Int
        @usableFromInline let ownEdge: Range<Int>
        @usableFromInline let edge: UnsafeMutablePointer<Float>
        @usableFromInline let ownEnd: Int
        @usableFromInline let nextEdge: UnsafeMutablePointer<Float>

        @inlinable
        init(ring: UnsafeMutablePointer<Float>, kernelHeight: Int, rowFloats: Int, ownEdge: Range<Int>,
             edge: UnsafeMutablePointer<Float>, ownEnd: Int, nextEdge: UnsafeMutablePointer<Float>) {
            self.ring = ring
            self.kernelHeight = kernelHeight
            self.rowFloats = rowFloats
            self.ownEdge = ownEdge
            self.edge = edge
            self.ownEnd = ownEnd
            self.nextEdge = nextEdge
        }

        @inlinable @inline(__always)
        func row(_ row: Int) -> UnsafeMutablePointer<Float> {
            if row >= ownEnd { return nextEdge + (row - ownEnd) * rowFloats }
            if ownEdge.contains(row) { return edge + (row - ownEdge.lowerBound) * rowFloats }
            return ring + (row % kernelHeight) * rowFloats
        }
    }

    @inlinable
    func run(band: Int) {
        let g = geometry, channels = g.inChannels, k = g.kernelHeight, width = g.inWidth
        let rowFloats = width * channels
        let spillPixels = width >= 6 ? 5 : 0
        let edgeRows = rows.edgeRows
        let bandFloats = (k + edgeRows) * rowFloats + spillPixels * channels
        let ring = scratch + band * bandFloats
        let spill = ring + k * rowFloats, edge = spill + spillPixels * channels
        let panelCount = (channels + 15) / 16
        let (first, last) = splitChannels ? (0, g.outHeight) : (rows.firstOutputRow(band), rows.firstOutputRow(band + 1))
        let panels = splitChannels ? (panelCount * band / rows.bands)..<(panelCount * (band + 1) / rows.bands) : 0..<panelCount
        let ownChannels = (panels.lowerBound * 16)..<min(channels, panels.upperBound * 16)
        // Split by channels, every band expands all rows and shares none.
        let ownStart = splitChannels ? 0 : rows.ownStart(band)
        let ownEnd = splitChannels ? g.inHeight : rows.ownStart(band + 1)
        let ownEdge = ownStart..<(splitChannels || band == 0 ? ownStart : min(ownEnd, ownStart + edgeRows))
        let slots = Slots(ring: ring, kernelHeight: k, rowFloats: rowFloats, ownEdge: ownEdge, edge: edge,
                          ownEnd: ownEnd, nextEdge: edge + bandFloats)
        // Expanded pixels so far run from this band's first input row up to `frontier`.
        let bandStart = ownStart * width
        let streamsWeights = inChannels * roundUp(channels, 16) * MemoryLayout<Float>.size >= Kernels.prefetchedWeightBytes
        var frontier = bandStart
        var published = ownEdge.isEmpty, waited = ownEnd == g.inHeight
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: k) { window in
            for oh in first..<last {
                let ih0 = oh * g.strideHeight - g.padTop
                let khStart = max(0, -ih0), khEnd = min(k, g.inHeight - ih0)
                let needed = min(ih0 + khEnd, ownEnd) * width
                if frontier < needed {
                    let limit = min(ownEnd * width, needed + spillPixels)
                    let end = min(limit, frontier + roundUp(needed - frontier, 6))
                    expand(frontier..<end, panels: panels, spillRow: needed / width, slots: slots, spill: spill,
                           prefetch: frontier == bandStart && streamsWeights)
                    frontier = end
                }
                if !waited && ih0 + khEnd > ownEnd {
                    threads.waitForPublished(task: band + 1)
                    waited = true
                }
                for kh in khStart..<khEnd { window[kh] = UnsafePointer(slots.row(ih0 + kh)) }
                Kernels.depthwiseRow(rows: UnsafePointer(window.baseAddress!), taps: khStart..<khEnd, geometry: g,
                                     weights: depthwiseWeights, output: output + oh * g.outWidth * channels,
                                     channels: ownChannels, D.self)
                // The next output row no longer reads the spill row's slot: move this band's
                // channels of the spilled pixels in.
                let slot = slots.row(needed / width)
                for pixel in 0..<(frontier - needed) {
                    let offset = pixel * channels + ownChannels.lowerBound
                    (slot + offset).update(from: spill + offset, count: ownChannels.count)
                }
                if !published && frontier >= ownEdge.upperBound * width {
                    threads.publish(task: band)
                    published = true
                }
            }
        }
        // A band whose output rows never reach its edge rows' end still publishes them.
        if !published {
            expand(frontier..<(ownEdge.upperBound * width), panels: panels, spillRow: -1, slots: slots, spill: spill, prefetch: false)
            threads.publish(task: band)
        }
    }

    /// Expands input pixels `pixels` (row-major over the image) into their ring slots, for
    /// the 16-channel `panels`; pixels of row `spillRow` go to `spill`. With `prefetch` (the
    /// band's first rows, which read the weights from L3 or memory, as in pointwiseConv),
    /// the next panel's weights are fetched into L2 while the tiles run over this one.
    @inlinable
    func expand(_ pixels: Range<Int>, panels: Range<Int>, spillRow: Int, slots: Slots,
                spill: UnsafeMutablePointer<Float>, prefetch: Bool) {
        let channels = geometry.inChannels, width = geometry.inWidth
        let bias = expandWeights + inChannels * roundUp(channels, 16)
        let rowsPerTile = (inChannels * 6 + pixels.count - 1) / pixels.count
        @inline(__always) func rowStart(_ row: Int) -> UnsafeMutablePointer<Float> {
            row == spillRow ? spill : slots.row(row)
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
