import SpecSIMD

/// 1×1 convolution over an NHWC tensor: a GEMM of [pixels × in] by [in × out].
///
/// Weights are packed at load time into panels of 16 output channels, each [in][16],
/// zero-padded, then the bias (padded to 16). On AVX2 the microkernel keeps a 6-pixel ×
/// 16-channel tile of results in 12 registers (SIMD16 is two there): per input channel it
/// loads one weight vector and broadcasts six pixel values, and nothing spills. With
/// AVX-512's 32 registers a tile covers four neighbouring panels (6×64), or two (6×32),
/// so each broadcast feeds four or two FMAs. Pixels are blocked so a block's inputs stay in
/// L2 while every panel of weights passes over them.
public enum PointwisePacking {
    public static func floats(inChannels: Int, outChannels: Int) -> Int {
        let padded = roundUp(outChannels, 16)
        return inChannels * padded + padded
    }
}

extension Kernels {
    @inlinable
    ///
    /// With `lookahead`, the conv also fetches up to `lookaheadFloats` floats from there into
    /// cache as it runs: the weights of a layer soon after it that reads them once per image
    /// (a squeeze-excite or dense layer on a 7×7 or 1×1 map), which would otherwise wait on
    /// memory for them. The fetches ride in the 6×64 tiles' k loops, at most two lines per
    /// step; what those cannot carry is not fetched.
    public static func pointwiseConv<A: ActivationFunction>(
        input: UnsafePointer<Float>, pixels: Int, inChannels: Int,
        weights: UnsafePointer<Float>, outChannels: Int,
        residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
        lookahead: UnsafePointer<Float>? = nil, lookaheadFloats: Int = 0,
        activation: A.Type, threads: ThreadPool
    ) {
        let work = PointwiseConv<A>(input: input, pixels: pixels, inChannels: inChannels, weights: weights,
                                    outChannels: outChannels, residual: residual, output: output,
                                    lookahead: lookahead, lookaheadLines: lookahead == nil ? 0 : (lookaheadFloats + 15) / 16)
        let tiles = (pixels + 5) / 6, panels = (outChannels + 15) / 16
        // Late layers have few pixels (7×7 is 9 tiles) and many channels: threads then
        // split the output channels, so that they get equal shares: one contiguous range
        // per thread, since each pass of the microkernel over the input covers up to four
        // panels. Tasks of one or two panels (10 panels in 8 tasks: V3-Large's 960→160)
        // passed over the input 2–4 times as often, and two threads ran no faster than one.
        if threads.threadCount > 1 && tiles < 16 * threads.threadCount && panels >= 4 * threads.threadCount {
            let share = (panels + threads.threadCount - 1) / threads.threadCount
            threads.parallelChunks(panels, grain: share, PointwisePanels(conv: work))
        } else {
            threads.parallelChunks(tiles, grain: 4, work)
        }
    }
}

/// One thread's share of a pointwise conv over few pixels: a range of 16-channel panels.
@usableFromInline
struct PointwisePanels<A: ActivationFunction>: ParallelWork {
    @usableFromInline let conv: PointwiseConv<A>

    @inlinable
    init(conv: PointwiseConv<A>) { self.conv = conv }

    @inlinable
    func run(_ panels: Range<Int>) { conv.run(tiles: 0..<((conv.pixels + 5) / 6), panels: panels) }
}

/// One thread's share of a pointwise conv: a range of 6-pixel tiles.
@usableFromInline
struct PointwiseConv<A: ActivationFunction>: ParallelWork {
    @usableFromInline let input: UnsafePointer<Float>
    @usableFromInline let pixels: Int
    @usableFromInline let inChannels: Int
    @usableFromInline let weights: UnsafePointer<Float>
    @usableFromInline let outChannels: Int
    @usableFromInline let residual: UnsafePointer<Float>?
    @usableFromInline let output: UnsafeMutablePointer<Float>
    /// A later layer's weights to fetch into cache, in 64-byte lines (see pointwiseConv),
    /// and each full 6×64 tile's share of them.
    @usableFromInline let lookahead: UnsafePointer<Float>?
    @usableFromInline let lookaheadLines: Int
    @usableFromInline let lookaheadPerTile: Int

    @inlinable
    init(input: UnsafePointer<Float>, pixels: Int, inChannels: Int, weights: UnsafePointer<Float>,
         outChannels: Int, residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
         lookahead: UnsafePointer<Float>? = nil, lookaheadLines: Int = 0) {
        self.input = input
        self.pixels = pixels
        self.inChannels = inChannels
        self.weights = weights
        self.outChannels = outChannels
        self.residual = residual
        self.output = output
        self.lookahead = lookahead
        self.lookaheadLines = lookaheadLines
        let tiles = (pixels / 6) * ((outChannels + 63) / 64)
        lookaheadPerTile = min(2 * inChannels, (lookaheadLines + tiles - 1) / max(1, tiles))
    }

    /// The lines of `lookahead` that the tile at `tile` over the panels from `panel` fetches:
    /// every full 6×64 tile gets the same share, at most two lines per k step, found from its
    /// place in the conv, so that threads need no shared state to split the lines.
    @inlinable @inline(__always)
    func lookaheadShare(tile: Int, panel: Int) -> (UnsafePointer<Float>?, Int) {
        guard let lookahead, lookaheadLines > 0 else { return (nil, 0) }
        let first = (tile * ((outChannels + 63) / 64) + panel / 4) * lookaheadPerTile
        return (lookahead + first * 16, max(0, min(lookaheadPerTile, lookaheadLines - first)))
    }

    @inlinable
    func run(_ tiles: Range<Int>) { run(tiles: tiles, panels: 0..<((outChannels + 15) / 16)) }

    @inlinable
    func run(tiles: Range<Int>, panels: Range<Int>) {
        let k = inChannels
        let bias = weights + k * roundUp(outChannels, 16)
        // Tiles per block: the block's inputs (6 rows of k floats per tile) fill ~256 KB, a
        // quarter of L2. A 7×7 map of 1024 channels (200 KB) is then one block, and its 4 MB
        // of weights pass through once, not once per block.
        let blockTiles = max(1, 256 * 1024 / (6 * k * 4))
        // When the last panel is half empty (24, 40, 72 channels), the last 24 channels go
        // 4 pixels at a time with 32 vector registers (12 FMAs for 7 loads), 3 with 16 (where
        // 4 rows spill), where two 6×16 tiles would spend a quarter of their FMAs on padding.
        // The two panels go together wherever threads split the panels (the share that has
        // the first runs both), so each output is computed the same way for any split.
        let panelCount = (outChannels + 15) / 16
        let paired = outChannels % 16 == 8 && panelCount >= 2
        let wide = paired && panels.contains(panelCount - 2)
        let narrowPanels = panels.clamped(to: 0..<(paired ? panelCount - 2 : panelCount))
        // A network's weights do not stay in L2 from one inference to the next, so they come
        // from L3 or memory, and the first tile over each panel would wait for them: while
        // the tiles run over one panel, the next is fetched into L2 (LCNet's and V1's 7×7
        // layers, 0.5–4 MB of weights: 8–11% faster). Below 128 KB it made no difference.
        let streamsWeights = k * roundUp(outChannels, 16) * MemoryLayout<Float>.size >= Kernels.prefetchedWeightBytes
        var blockStart = tiles.lowerBound
        while blockStart < tiles.upperBound {
            let blockEnd = min(tiles.upperBound, blockStart + blockTiles)
            if wide {
                let first = blockStart * 6, end = min(pixels, blockEnd * 6)
                run24(pixels: first..<end, panel: panelCount - 2, bias: bias)
            }
            var panel = narrowPanels.lowerBound
            while panel < narrowPanels.upperBound {
                let b = weights + panel * k * 16
                let column = panel * 16
                let span = Kernels.panelSpan(remaining: narrowPanels.upperBound - panel)
                // The panels after these, contiguous with them, are prefetched.
                let following = min(span, narrowPanels.upperBound - panel - span)
                let prefetch = streamsWeights && following > 0
                let tileCount = blockEnd - blockStart
                let rowsPerTile = (following * k + tileCount - 1) / tileCount
                var prefetched = 0
                for tile in blockStart..<blockEnd {
                    // This tile's share of the following panels' rows, fetched as it runs.
                    let fetch = prefetch ? min(rowsPerTile, following * k - prefetched) : 0
                    let p0 = tile * 6
                    let ahead = span == 4 && pixels - p0 >= 6 ? lookaheadShare(tile: tile, panel: panel) : (nil, 0)
                    Kernels.tilePanels(span: span, rows: min(6, pixels - p0), a: input + p0 * k, k: k, b: b, bias: bias + column,
                                       c: output + p0 * outChannels + column, ldc: outChannels,
                                       residual: residual.map { $0 + p0 * outChannels + column },
                                       validColumns: outChannels - column,
                                       prefetch: b + span * k * 16 + prefetched * 16, prefetchRows: fetch,
                                       lookahead: ahead.0, lookaheadRows: ahead.1, A.self)
                    prefetched += fetch
                }
                panel += span
            }
            blockStart = blockEnd
        }
    }
}

extension PointwiseConv {
    /// Output channels 16·panel ..< 16·panel + 24 (the last 24) of `pixels`, 4 at a time
    /// with 32 vector registers, else 3 at a time: 4 × 24 channels are 12 accumulators on
    /// AVX2, which with the 3 weight vectors and a broadcast fill all 16 registers, and the
    /// compiler spilled accumulators in the k loop (V2's 56×56 96→24 ran at 25 GFLOP/s
    /// against 35 for 96→32 on a Zen 1).
    @inlinable
    func run24(pixels: Range<Int>, panel: Int, bias: UnsafePointer<Float>) {
        if Kernels.has32VectorRegisters {
            run24(pixels: pixels, panel: panel, bias: bias, Count4.self)
        } else {
            run24(pixels: pixels, panel: panel, bias: bias, Count3.self)
        }
    }

    @inlinable @inline(__always)
    func run24<R: StaticCount>(pixels: Range<Int>, panel: Int, bias: UnsafePointer<Float>, _: R.Type) {
        let k = inChannels
        let b = weights + panel * k * 16, column = panel * 16
        let tileRows = R.value(0)
        var p = pixels.lowerBound
        while p < pixels.upperBound {
            let rows = min(tileRows, pixels.upperBound - p)
            Kernels.tile24(rows: rows, a: input + p * k, k: k, b: b, bias: bias + column,
                           c: output + p * outChannels + column, ldc: outChannels,
                           residual: residual.map { $0 + p * outChannels + column }, A.self, R.self)
            p += rows
        }
    }
}

extension Kernels {
    /// Up to R (3 or 4) pixels × 24 channels: the 16 of panel `b` and the first 8 of the
    /// panel after it (`b + 16·k`), in 2R accumulators (3R on AVX2); per input channel 3
    /// weight loads and R broadcasts feed 3R FMAs. With fewer than R `rows` the last repeats
    /// and is not stored, so every pixel's sum runs in the same order as in a full tile, and
    /// the same for either R.
    @inlinable @inline(__always)
    static func tile24<A: ActivationFunction, R: StaticCount>(
        rows: Int, a: UnsafePointer<Float>, k: Int, b: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, residual: UnsafePointer<Float>?, _: A.Type, _: R.Type
    ) {
        let four = R.value(0) == 4
        var c0 = Vec.zero, c1 = Vec.zero, c2 = Vec.zero, c3 = Vec.zero
        var d0 = SIMD8<Float>.zero, d1 = SIMD8<Float>.zero, d2 = SIMD8<Float>.zero, d3 = SIMD8<Float>.zero
        var a0 = a, a1 = a + min(1, rows - 1) * k, a2 = a + min(2, rows - 1) * k, a3 = a + min(3, rows - 1) * k
        var w = b, v = b + 16 * k
        // Four steps of k per iteration with constant offsets, as in accumulate6x16.
        @inline(__always) func step(_ j: Int) {
            let wj = load(w + j &* 16), vj = load8(v + j &* 16)
            let x0 = a0[j], x1 = a1[j], x2 = a2[j], x3 = a3[j]
            c0 = c0.addingProduct(Vec(repeating: x0), wj)
            d0 = d0.addingProduct(SIMD8(repeating: x0), vj)
            c1 = c1.addingProduct(Vec(repeating: x1), wj)
            d1 = d1.addingProduct(SIMD8(repeating: x1), vj)
            c2 = c2.addingProduct(Vec(repeating: x2), wj)
            d2 = d2.addingProduct(SIMD8(repeating: x2), vj)
            if four {
                c3 = c3.addingProduct(Vec(repeating: x3), wj)
                d3 = d3.addingProduct(SIMD8(repeating: x3), vj)
            }
        }
        @inline(__always) func advance(_ n: Int) {
            a0 += n; a1 += n; a2 += n; a3 += n
            w += n &* 16
            v += n &* 16
        }
        var i = 0
        while i &+ 4 <= k {
            step(0); step(1); step(2); step(3)
            advance(4)
            i &+= 4
        }
        while i < k {
            step(0)
            advance(1)
            i &+= 1
        }
        let beta = load(bias), gamma = Vec(lowHalf: load8(bias + 16), highHalf: .zero)
        @inline(__always) func row(_ i: Int, _ wide: Vec, _ narrow: SIMD8<Float>) {
            let r = residual.map { $0 + i &* ldc }
            finish(wide, bias: beta, c + i &* ldc, residual: r, count: 16, A.self)
            finish(Vec(lowHalf: narrow, highHalf: .zero), bias: gamma, c + i &* ldc + 16, residual: r.map { $0 + 16 }, count: 8, A.self)
        }
        row(0, c0, d0)
        if rows > 1 { row(1, c1, d1) }
        if rows > 2 { row(2, c2, d2) }
        if four && rows > 3 { row(3, c3, d3) }
    }

    @inlinable @inline(__always)
    static func finish<A: ActivationFunction>(
        _ acc: Vec, bias: Vec, _ c: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?, count: Int, _: A.Type
    ) {
        var v = A.apply(acc + bias)
        if let residual { v += load(residual, count: count) }
        store(v, c, count: count)
    }

    /// How many neighbouring panels one tile covers when `remaining` are left: four or two
    /// where there are 32 vector registers for their accumulators (tile6x64, tile6x32).
    @inlinable @inline(__always)
    static func panelSpan(remaining: Int) -> Int {
        has32VectorRegisters ? (remaining >= 4 ? 4 : remaining >= 2 ? 2 : 1) : 1
    }

    /// `rows` pixels × the `span` panels from `b` on (the next panel 16·k floats further), of
    /// which `validColumns` channels are real: one tile6x16/6x32/6x64 when there are 6 rows
    /// (rows from `split` on at `next`, as in tile6x16), else remainder tiles panel by panel.
    @inlinable @inline(always)
    static func tilePanels<A: ActivationFunction>(
        span: Int, rows: Int, a: UnsafePointer<Float>, k: Int, b: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, residual: UnsafePointer<Float>?,
        split: Int = 6, next: UnsafeMutablePointer<Float>? = nil, validColumns: Int,
        prefetch: UnsafePointer<Float>? = nil, prefetchRows: Int = 0,
        lookahead: UnsafePointer<Float>? = nil, lookaheadRows: Int = 0, _: A.Type
    ) {
        // Only the 6×64 tile spreads its prefetches over its k loop; the others fetch first.
        var spread = 0
        if let prefetch, prefetchRows > 0 {
            spread = rows == 6 && span == 4 ? min(k, prefetchRows) : 0
            for row in spread..<prefetchRows { spec_prefetch_l2(prefetch + row &* 16) }
        }
        guard rows == 6 else {
            for i in 0..<span {
                tileRemainder(rows: rows, a: a, k: k, b: b + i * k * 16, bias: bias + 16 * i, c: c + 16 * i, ldc: ldc,
                              residual: residual.map { $0 + 16 * i }, validColumns: min(16, validColumns - 16 * i), A.self)
            }
            return
        }
        switch span {
        case 4:
            tile6x64(a: a, k: k, b: b, bias: bias, c: c, ldc: ldc, residual: residual, split: split, next: next,
                     validColumns4: min(16, validColumns - 48), prefetch: prefetch, prefetchRows: spread,
                     lookahead: lookahead, lookaheadRows: lookaheadRows, A.self)
        case 2:
            tile6x32(a: a, k: k, b: b, b2: b + k * 16, bias: bias, c: c, ldc: ldc, residual: residual, split: split, next: next,
                     validColumns2: min(16, validColumns - 16), A.self)
        default:
            tile6x16(a: a, k: k, b: b, bias: bias, c: c, ldc: ldc, residual: residual, split: split, next: next,
                     validColumns: min(16, validColumns), A.self)
        }
    }

    /// One 6×16 tile: output row i starts at `c + i·ldc` (its residual at `residual + i·ldc`).
    /// With `split` < 6, rows from `split` on start at `next` instead: six pixels that run from
    /// the end of one image row into the next when the two rows are not adjacent in memory
    /// (the banded expansion's ring).
    @inlinable @inline(always)
    static func tile6x16<A: ActivationFunction>(
        a: UnsafePointer<Float>, k: Int, b: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, residual: UnsafePointer<Float>?,
        split: Int = 6, next: UnsafeMutablePointer<Float>? = nil, validColumns: Int, _: A.Type
    ) {
        let (c0, c1, c2, c3, c4, c5) = accumulate6x16(a: a, lda: k, k: k, b: b)
        let beta = load(bias)
        @inline(__always) func row(_ i: Int) -> UnsafeMutablePointer<Float> {
            i < split ? c + i &* ldc : next.unsafelyUnwrapped + (i &- split) &* ldc
        }
        // A full panel, nearly every tile, without the general epilogue's per-row checks:
        // with 16 input channels those cost a third as many instructions as the k loop.
        if validColumns == 16 {
            // One branch on the residual for the whole tile, not one per row.
            if let residual {
                @inline(__always) func put(_ i: Int, _ acc: Vec) { store(A.apply(acc + beta) + load(residual + i &* ldc), row(i)) }
                put(0, c0); put(1, c1); put(2, c2); put(3, c3); put(4, c4); put(5, c5)
            } else {
                @inline(__always) func put(_ i: Int, _ acc: Vec) { store(A.apply(acc + beta), row(i)) }
                put(0, c0); put(1, c1); put(2, c2); put(3, c3); put(4, c4); put(5, c5)
            }
            return
        }
        finish(c0, bias: beta, row(0), residual: residual, count: validColumns, A.self)
        finish(c1, bias: beta, row(1), residual: residual.map { $0 + ldc }, count: validColumns, A.self)
        finish(c2, bias: beta, row(2), residual: residual.map { $0 + 2 * ldc }, count: validColumns, A.self)
        finish(c3, bias: beta, row(3), residual: residual.map { $0 + 3 * ldc }, count: validColumns, A.self)
        finish(c4, bias: beta, row(4), residual: residual.map { $0 + 4 * ldc }, count: validColumns, A.self)
        finish(c5, bias: beta, row(5), residual: residual.map { $0 + 5 * ldc }, count: validColumns, A.self)
    }

    /// Two neighbouring panels at once: the 6×32 tile of a[6 rows, k] × (b[k, 16] | b2[k, 16]),
    /// stored as tile6x16 stores each half (`validColumns2` for the second). Only where there
    /// are 32 vector registers: its 12 accumulators are enough independent FMA chains to
    /// keep two FMA pipes busy (6 are not, at a latency of 4), and each broadcast feeds two
    /// FMAs. Each output is the same chain of FMAs as in tile6x16, so the bits are too.
    /// `@inline(always)`, here and on tile6x16: with `@inline(__always)` both stayed out of
    /// line, and LLVM then merged each caller's activation variants into one body that
    /// called the tile through a function pointer, once per tile.
    @inlinable @inline(always)
    static func tile6x32<A: ActivationFunction>(
        a: UnsafePointer<Float>, k: Int, b: UnsafePointer<Float>, b2: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, residual: UnsafePointer<Float>?,
        split: Int = 6, next: UnsafeMutablePointer<Float>? = nil, validColumns2: Int, _: A.Type
    ) {
        let (left, right) = accumulate6x32(a: a, lda: k, k: k, b: b, b2: b2)
        let beta = load(bias), beta2 = load(bias + 16)
        @inline(__always) func row(_ i: Int) -> UnsafeMutablePointer<Float> {
            i < split ? c + i &* ldc : next.unsafelyUnwrapped + (i &- split) &* ldc
        }
        @inline(__always) func put(_ i: Int, _ acc: Vec, _ acc2: Vec) {
            let out = row(i)
            let r = residual.map { $0 + i &* ldc }
            if let r {
                store(A.apply(acc + beta) + load(r), out)
            } else {
                store(A.apply(acc + beta), out)
            }
            if validColumns2 == 16 {
                if let r { store(A.apply(acc2 + beta2) + load(r + 16), out + 16) } else { store(A.apply(acc2 + beta2), out + 16) }
            } else {
                finish(acc2, bias: beta2, out + 16, residual: r.map { $0 + 16 }, count: validColumns2, A.self)
            }
        }
        put(0, left.0, right.0); put(1, left.1, right.1); put(2, left.2, right.2)
        put(3, left.3, right.3); put(4, left.4, right.4); put(5, left.5, right.5)
    }

    /// Four neighbouring panels at once (`b`, then every 16·k floats): the 6×64 tile, stored
    /// as tile6x32 stores its halves (`validColumns4` for the last panel). 24 accumulators,
    /// 4 weight loads and 6 broadcasts per input channel: 0.42 loads per FMA against 0.67 in
    /// tile6x32, which matters when the core's loads are shared (this VM's slow regime).
    @inlinable @inline(always)
    static func tile6x64<A: ActivationFunction>(
        a: UnsafePointer<Float>, k: Int, b: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, residual: UnsafePointer<Float>?,
        split: Int = 6, next: UnsafeMutablePointer<Float>? = nil, validColumns4: Int,
        prefetch: UnsafePointer<Float>? = nil, prefetchRows: Int = 0,
        lookahead: UnsafePointer<Float>? = nil, lookaheadRows: Int = 0, _: A.Type
    ) {
        var c0 = Vec.zero, c1 = Vec.zero, c2 = Vec.zero, c3 = Vec.zero, c4 = Vec.zero, c5 = Vec.zero
        var d0 = Vec.zero, d1 = Vec.zero, d2 = Vec.zero, d3 = Vec.zero, d4 = Vec.zero, d5 = Vec.zero
        var e0 = Vec.zero, e1 = Vec.zero, e2 = Vec.zero, e3 = Vec.zero, e4 = Vec.zero, e5 = Vec.zero
        var f0 = Vec.zero, f1 = Vec.zero, f2 = Vec.zero, f3 = Vec.zero, f4 = Vec.zero, f5 = Vec.zero
        let panel = 16 &* k
        var p = a, q = a + 3 &* k, w = b
        let lda = k, lda2 = 2 &* k
        // `prefetchRows` (≤ k) rows of 16 floats from `prefetch`, evenly over the k steps: a
        // burst of hundreds of prefetches before the tile filled the core's miss buffers,
        // and the tile's own loads waited behind them (V1's 1024→1024 layer at 7×7 fetches
        // ~450 rows per tile).
        // `lookaheadRows` (≤ 2k) lines from `lookahead` likewise, for a later layer.
        var fetch = prefetch ?? b, credit = 0
        var ahead = lookahead ?? b, aheadCredit = 0
        for _ in 0..<k {
            credit &+= prefetchRows
            if credit >= k {
                credit &-= k
                spec_prefetch_l2(fetch)
                fetch += 16
            }
            aheadCredit &+= lookaheadRows
            while aheadCredit >= k {
                aheadCredit &-= k
                spec_prefetch_l2(ahead)
                ahead += 16
            }
            let w0 = load(w), w1 = load(w + panel), w2 = load(w + 2 &* panel), w3 = load(w + 3 &* panel)
            var x = Vec(repeating: p[0])
            c0 = c0.addingProduct(x, w0); d0 = d0.addingProduct(x, w1); e0 = e0.addingProduct(x, w2); f0 = f0.addingProduct(x, w3)
            x = Vec(repeating: p[lda])
            c1 = c1.addingProduct(x, w0); d1 = d1.addingProduct(x, w1); e1 = e1.addingProduct(x, w2); f1 = f1.addingProduct(x, w3)
            x = Vec(repeating: p[lda2])
            c2 = c2.addingProduct(x, w0); d2 = d2.addingProduct(x, w1); e2 = e2.addingProduct(x, w2); f2 = f2.addingProduct(x, w3)
            x = Vec(repeating: q[0])
            c3 = c3.addingProduct(x, w0); d3 = d3.addingProduct(x, w1); e3 = e3.addingProduct(x, w2); f3 = f3.addingProduct(x, w3)
            x = Vec(repeating: q[lda])
            c4 = c4.addingProduct(x, w0); d4 = d4.addingProduct(x, w1); e4 = e4.addingProduct(x, w2); f4 = f4.addingProduct(x, w3)
            x = Vec(repeating: q[lda2])
            c5 = c5.addingProduct(x, w0); d5 = d5.addingProduct(x, w1); e5 = e5.addingProduct(x, w2); f5 = f5.addingProduct(x, w3)
            p += 1
            q += 1
            w += 16
        }
        let beta0 = load(bias), beta1 = load(bias + 16), beta2 = load(bias + 32), beta3 = load(bias + 48)
        @inline(__always) func put(_ i: Int, _ v0: Vec, _ v1: Vec, _ v2: Vec, _ v3: Vec) {
            let out = i < split ? c + i &* ldc : next.unsafelyUnwrapped + (i &- split) &* ldc
            if let residual {
                let r = residual + i &* ldc
                store(A.apply(v0 + beta0) + load(r), out)
                store(A.apply(v1 + beta1) + load(r + 16), out + 16)
                store(A.apply(v2 + beta2) + load(r + 32), out + 32)
                finish(v3, bias: beta3, out + 48, residual: r + 48, count: validColumns4, A.self)
            } else {
                store(A.apply(v0 + beta0), out)
                store(A.apply(v1 + beta1), out + 16)
                store(A.apply(v2 + beta2), out + 32)
                if validColumns4 == 16 {
                    store(A.apply(v3 + beta3), out + 48)
                } else {
                    finish(v3, bias: beta3, out + 48, residual: nil, count: validColumns4, A.self)
                }
            }
        }
        put(0, c0, d0, e0, f0); put(1, c1, d1, e1, f1); put(2, c2, d2, e2, f2)
        put(3, c3, d3, e3, f3); put(4, c4, d4, e4, f4); put(5, c5, d5, e5, f5)
    }

    /// accumulate6x16 over two panels, `b` and `b2`, sharing each broadcast.
    @inlinable @inline(__always)
    static func accumulate6x32(
        a: UnsafePointer<Float>, lda: Int, k: Int, b: UnsafePointer<Float>, b2: UnsafePointer<Float>
    ) -> ((Vec, Vec, Vec, Vec, Vec, Vec), (Vec, Vec, Vec, Vec, Vec, Vec)) {
        var c0 = Vec.zero, c1 = Vec.zero, c2 = Vec.zero, c3 = Vec.zero, c4 = Vec.zero, c5 = Vec.zero
        var d0 = Vec.zero, d1 = Vec.zero, d2 = Vec.zero, d3 = Vec.zero, d4 = Vec.zero, d5 = Vec.zero
        var p = a, q = a + 3 &* lda, w = b, v = b2
        let lda2 = 2 &* lda
        @inline(__always) func step(_ j: Int) {
            let wj = load(w + j &* 16), vj = load(v + j &* 16)
            let x0 = Vec(repeating: p[j]), x1 = Vec(repeating: p[lda &+ j]), x2 = Vec(repeating: p[lda2 &+ j])
            c0 = c0.addingProduct(x0, wj); d0 = d0.addingProduct(x0, vj)
            c1 = c1.addingProduct(x1, wj); d1 = d1.addingProduct(x1, vj)
            c2 = c2.addingProduct(x2, wj); d2 = d2.addingProduct(x2, vj)
            let x3 = Vec(repeating: q[j]), x4 = Vec(repeating: q[lda &+ j]), x5 = Vec(repeating: q[lda2 &+ j])
            c3 = c3.addingProduct(x3, wj); d3 = d3.addingProduct(x3, vj)
            c4 = c4.addingProduct(x4, wj); d4 = d4.addingProduct(x4, vj)
            c5 = c5.addingProduct(x5, wj); d5 = d5.addingProduct(x5, vj)
        }
        var i = 0
        while i &+ 2 <= k {
            step(0); step(1)
            p += 2
            q += 2
            w += 32
            v += 32
            i &+= 2
        }
        if i < k { step(0) }
        return ((c0, c1, c2, c3, c4, c5), (d0, d1, d2, d3, d4, d5))
    }

    /// The 6×16 tile of a[6 rows, k] × b[k, 16]: rows of `a` are `lda` floats apart.
    /// Four steps of k per iteration, the rows addressed from two pointers (rows 0–2 and
    /// 3–5) with constant offsets: stepping six row pointers, or one index, spent five
    /// address instructions per two steps, and the loop issues at the edge of what the core
    /// dispatches (12 FMAs, 6 broadcasts, 2 loads per step).
    @inlinable @inline(__always)
    static func accumulate6x16(a: UnsafePointer<Float>, lda: Int, k: Int, b: UnsafePointer<Float>) -> (Vec, Vec, Vec, Vec, Vec, Vec) {
        var c0 = Vec.zero, c1 = Vec.zero, c2 = Vec.zero, c3 = Vec.zero, c4 = Vec.zero, c5 = Vec.zero
        var p = a, q = a + 3 &* lda, w = b
        let lda2 = 2 &* lda
        @inline(__always) func step(_ j: Int) {
            let wj = load(w + j &* 16)
            c0 = c0.addingProduct(Vec(repeating: p[j]), wj)
            c1 = c1.addingProduct(Vec(repeating: p[lda &+ j]), wj)
            c2 = c2.addingProduct(Vec(repeating: p[lda2 &+ j]), wj)
            c3 = c3.addingProduct(Vec(repeating: q[j]), wj)
            c4 = c4.addingProduct(Vec(repeating: q[lda &+ j]), wj)
            c5 = c5.addingProduct(Vec(repeating: q[lda2 &+ j]), wj)
        }
        var i = 0
        while i &+ 4 <= k {
            step(0); step(1); step(2); step(3)
            p += 4
            q += 4
            w += 64
            i &+= 4
        }
        while i < k {
            step(0)
            p += 1
            q += 1
            w += 16
            i &+= 1
        }
        return (c0, c1, c2, c3, c4, c5)
    }

    /// The last 1…5 pixels of a row. These matter when a banded expansion runs row by row
    /// (a 14-pixel row ends in 2). Fewer rows mean fewer independent FMA chains, so the
    /// sum over k is split into interleaved partial sums to keep enough chains in flight.
    @inlinable @inline(__always)
    static func tileRemainder<A: ActivationFunction>(
        rows: Int, a: UnsafePointer<Float>, k: Int, b: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, residual: UnsafePointer<Float>?, validColumns: Int, _: A.Type
    ) {
        var sums = (Vec.zero, Vec.zero, Vec.zero, Vec.zero, Vec.zero)
        switch rows {
        case 1:
            sums.0 = accumulate1x16(a: a, k: k, b: b)
        case 2:
            (sums.0, sums.1) = accumulate2x16(a: a, lda: k, k: k, b: b)
        default:
            // 3 to 5 rows: 6 to 10 chains, enough to cover the FMA latency.
            (sums.0, sums.1, sums.2, sums.3, sums.4) = accumulateUpTo5x16(rows: rows, a: a, lda: k, k: k, b: b)
        }
        let beta = load(bias)
        withUnsafeBytes(of: sums) { raw in
            for row in 0..<rows {
                finish(raw.load(fromByteOffset: row * MemoryLayout<Vec>.stride, as: Vec.self), bias: beta, c + row * ldc,
                       residual: residual.map { $0 + row * ldc }, count: validColumns, A.self)
            }
        }
    }

    /// One row: four partial sums over interleaved k, so four chains run at once.
    @inlinable @inline(__always)
    static func accumulate1x16(a: UnsafePointer<Float>, k: Int, b: UnsafePointer<Float>) -> Vec {
        var s0 = Vec.zero, s1 = Vec.zero, s2 = Vec.zero, s3 = Vec.zero
        var i = 0
        while i + 4 <= k {
            let w = b + i * 16
            s0 = s0.addingProduct(Vec(repeating: a[i]), load(w))
            s1 = s1.addingProduct(Vec(repeating: a[i + 1]), load(w + 16))
            s2 = s2.addingProduct(Vec(repeating: a[i + 2]), load(w + 32))
            s3 = s3.addingProduct(Vec(repeating: a[i + 3]), load(w + 48))
            i += 4
        }
        while i < k {
            s0 = s0.addingProduct(Vec(repeating: a[i]), load(b + i * 16))
            i += 1
        }
        return (s0 + s1) + (s2 + s3)
    }

    /// Two rows: two partial sums each.
    @inlinable @inline(__always)
    static func accumulate2x16(a: UnsafePointer<Float>, lda: Int, k: Int, b: UnsafePointer<Float>) -> (Vec, Vec) {
        var s00 = Vec.zero, s01 = Vec.zero, s10 = Vec.zero, s11 = Vec.zero
        let a0 = a, a1 = a + lda
        var i = 0
        while i + 2 <= k {
            let w0 = load(b + i * 16), w1 = load(b + i * 16 + 16)
            s00 = s00.addingProduct(Vec(repeating: a0[i]), w0)
            s10 = s10.addingProduct(Vec(repeating: a1[i]), w0)
            s01 = s01.addingProduct(Vec(repeating: a0[i + 1]), w1)
            s11 = s11.addingProduct(Vec(repeating: a1[i + 1]), w1)
            i += 2
        }
        if i < k {
            let w0 = load(b + i * 16)
            s00 = s00.addingProduct(Vec(repeating: a0[i]), w0)
            s10 = s10.addingProduct(Vec(repeating: a1[i]), w0)
        }
        return (s00 + s01, s10 + s11)
    }

    /// Three to five rows; rows past `rows` repeat the last one and are not stored.
    @inlinable @inline(__always)
    static func accumulateUpTo5x16(rows: Int, a: UnsafePointer<Float>, lda: Int, k: Int, b: UnsafePointer<Float>) -> (Vec, Vec, Vec, Vec, Vec) {
        var c0 = Vec.zero, c1 = Vec.zero, c2 = Vec.zero, c3 = Vec.zero, c4 = Vec.zero
        let a0 = a, a1 = a + lda, a2 = a + 2 * lda
        let a3 = a + min(3, rows - 1) * lda, a4 = a + min(4, rows - 1) * lda
        var w = b
        for i in 0..<k {
            let wi = load(w)
            w += 16
            c0 = c0.addingProduct(Vec(repeating: a0[i]), wi)
            c1 = c1.addingProduct(Vec(repeating: a1[i]), wi)
            c2 = c2.addingProduct(Vec(repeating: a2[i]), wi)
            c3 = c3.addingProduct(Vec(repeating: a3[i]), wi)
            c4 = c4.addingProduct(Vec(repeating: a4[i]), wi)
        }
        return (c0, c1, c2, c3, c4)
    }
}
