/// Depthwise convolution that writes its output over its input, row by row, as TinyEngine
/// does. With stride 1, output row r overwrites input row r, which it and the next `padTop`
/// output rows still read: input row r is first copied into a ring of `padTop + 1` rows,
/// and the rows at or above r are read from there. With stride 2 and a pad of at most 1 the
/// output (half as wide) only ever covers input rows no later row reads; each output row is
/// computed into a one-row buffer and then stored where it belongs.
/// Channels are independent, so threads split them: each works through all rows on its own
/// channels, with its own slice of the buffers.
///
/// `scratch` holds outWidth × channels floats, plus padTop × inWidth × channels for stride 1
/// (there outWidth = inWidth, as the IR only runs same-size stride-1 convs in place, so that
/// is padTop + 1 input rows). Weights are packed as for `depthwiseConv`.
///
/// With `rowBands` > 1 (stride 1, few channels: 16 or 32 channels at 112×112), threads split
/// the rows instead: split by channels, two cores would write alternate 64-byte lines of
/// every pixel, and read half of what the previous layer left in the other core's cache
/// (V2's 32-channel `block0.dw` ran 1.8× slower on two threads than on one). A band's
/// first rows overwrite rows the band above still reads, so every band first copies the
/// rows its neighbours will overwrite (its halo: padTop rows above, kernelHeight − 1 −
/// padTop below), and only once all have, computes its rows through a ring of its own.
/// `scratch` then holds rowBands × (padTop + kernelHeight) input rows: per band its ring
/// (padTop + 1 rows), then its halo.
extension Kernels {
    @inlinable
    public static func depthwiseConvInPlace<A: ActivationFunction>(
        _ tensor: UnsafeMutablePointer<Float>, channels: Int, inHeight: Int, inWidth: Int,
        weights: UnsafePointer<Float>, kernelHeight: Int, kernelWidth: Int,
        strideHeight: Int, strideWidth: Int, padTop: Int, padLeft: Int,
        outHeight: Int, outWidth: Int, scratch: UnsafeMutablePointer<Float>, rowBands: Int = 1,
        activation: A.Type, threads: ThreadPool
    ) {
        let geometry = ConvGeometry(inChannels: channels, inHeight: inHeight, inWidth: inWidth,
                                    outChannels: channels, outHeight: outHeight, outWidth: outWidth,
                                    kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                                    strideHeight: strideHeight, strideWidth: strideWidth, padTop: padTop, padLeft: padLeft)
        let bands = min(rowBands, threads.threadCount, inHeight)
        if bands > 1 && strideHeight == 1 {
            let work = DepthwiseInPlaceBands<A>(tensor: tensor, weights: weights, scratch: scratch, geometry: geometry, bands: bands)
            threads.parallelChunks(bands, grain: 1, DepthwiseInPlaceBands<A>.CopyHalos(bands: work))
            threads.parallelChunks(bands, grain: 1, work)
            return
        }
        let work = DepthwiseInPlace<A>(tensor: tensor, weights: weights, scratch: scratch, geometry: geometry)
        threads.parallelChunks((channels + 15) / 16, grain: 1, work)
    }
}

/// Stride 1 in place, split by rows: band b computes output rows rows(b) over all channels.
@usableFromInline
struct DepthwiseInPlaceBands<A: ActivationFunction>: ParallelWork {
    @usableFromInline let tensor: UnsafeMutablePointer<Float>
    @usableFromInline let weights: UnsafePointer<Float>
    @usableFromInline let scratch: UnsafeMutablePointer<Float>
    @usableFromInline let geometry: ConvGeometry
    @usableFromInline let bands: Int

    @inlinable
    init(tensor: UnsafeMutablePointer<Float>, weights: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
         geometry: ConvGeometry, bands: Int) {
        self.tensor = tensor
        self.weights = weights
        self.scratch = scratch
        self.geometry = geometry
        self.bands = bands
    }

    @inlinable var rowFloats: Int { geometry.inWidth * geometry.inChannels }
    @inlinable var ringRows: Int { geometry.padTop + 1 }
    /// Input rows below the band that the band below overwrites before this one reads them.
    @inlinable var rowsBelow: Int { geometry.kernelHeight - 1 - geometry.padTop }

    @inlinable func rows(_ band: Int) -> Range<Int> {
        (geometry.inHeight * band / bands) ..< (geometry.inHeight * (band + 1) / bands)
    }

    @inlinable func ring(_ band: Int) -> UnsafeMutablePointer<Float> {
        scratch + band * (geometry.padTop + geometry.kernelHeight) * rowFloats
    }

    /// The band's copy of input row `row` (above or below its rows), after its ring.
    @inlinable func halo(_ band: Int, row: Int) -> UnsafeMutablePointer<Float> {
        let own = rows(band)
        let slot = row < own.lowerBound ? row - (own.lowerBound - geometry.padTop) : geometry.padTop + row - own.upperBound
        return ring(band) + (ringRows + slot) * rowFloats
    }

    /// Phase one: each band copies the rows next to it that its neighbours will overwrite.
    @usableFromInline
    struct CopyHalos: ParallelWork {
        @usableFromInline let bands: DepthwiseInPlaceBands

        @inlinable init(bands: DepthwiseInPlaceBands) { self.bands = bands }

        @inlinable
        func run(_ range: Range<Int>) {
            let b = bands, g = b.geometry
            for band in range {
                let own = b.rows(band)
                for row in max(0, own.lowerBound - g.padTop) ..< own.lowerBound {
                    b.halo(band, row: row).update(from: b.tensor + row * b.rowFloats, count: b.rowFloats)
                }
                for row in own.upperBound ..< min(g.inHeight, own.upperBound + b.rowsBelow) {
                    b.halo(band, row: row).update(from: b.tensor + row * b.rowFloats, count: b.rowFloats)
                }
            }
        }
    }

    /// Phase two: each band's rows, over all channels, each input row copied into the ring
    /// just before the output row over it is written.
    @inlinable
    func run(_ range: Range<Int>) {
        let g = geometry, rowFloats = rowFloats, ringRows = ringRows
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: g.kernelHeight) { taps in
            for band in range {
                let own = rows(band), ring = ring(band)
                for oh in own {
                    let source = tensor + oh * rowFloats
                    (ring + ((oh - own.lowerBound) % ringRows) * rowFloats).update(from: source, count: rowFloats)
                    let ih0 = oh - g.padTop
                    let valid = max(0, -ih0)..<min(g.kernelHeight, g.inHeight - ih0)
                    for kh in valid {
                        let ih = ih0 + kh
                        let row: UnsafeMutablePointer<Float>
                        if ih < own.lowerBound || ih >= own.upperBound {
                            row = halo(band, row: ih)
                        } else if ih <= oh {
                            row = ring + ((ih - own.lowerBound) % ringRows) * rowFloats
                        } else {
                            row = tensor + ih * rowFloats
                        }
                        taps[kh] = UnsafePointer(row)
                    }
                    Kernels.depthwiseRow(rows: UnsafePointer(taps.baseAddress!), taps: valid, geometry: g, weights: weights,
                                         output: source, channels: 0..<g.inChannels, A.self)
                }
            }
        }
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
        let g = geometry
        let first = chunks.lowerBound * 16, last = min(g.inChannels, chunks.upperBound * 16)
        if g.strideHeight == 1 {
            let block = g.depthwiseWeightsOutgrowL1 ? 64 : last - first
            var start = first
            while start < last {
                runStrideOne(channels: start..<min(last, start + block))
                start += block
            }
        } else {
            runStrideTwo(channels: first..<last)
        }
    }

    /// Stride 1: copy input row r aside, then write output row r straight over it.
    @inlinable
    func runStrideOne(channels own: Range<Int>) {
        let g = geometry, channels = g.inChannels
        let rowFloats = g.inWidth * channels
        let ringRows = g.padTop + 1
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: g.kernelHeight) { rows in
            for oh in 0..<g.outHeight {
                let slot = scratch + (oh % ringRows) * rowFloats, source = tensor + oh * rowFloats
                if own.count == channels {
                    slot.update(from: source, count: rowFloats)
                } else if own.count % 8 == 0 {
                    for pixel in 0..<g.inWidth {
                        let offset = pixel * channels + own.lowerBound
                        copyVectors(source + offset, to: slot + offset, count: own.count)
                    }
                } else {
                    for pixel in 0..<g.inWidth {
                        (slot + pixel * channels + own.lowerBound).update(from: source + pixel * channels + own.lowerBound, count: own.count)
                    }
                }
                let ih0 = oh - g.padTop
                let taps = max(0, -ih0)..<min(g.kernelHeight, g.inHeight - ih0)
                for kh in taps {
                    let ih = ih0 + kh
                    rows[kh] = UnsafePointer(ih <= oh ? scratch + (ih % ringRows) * rowFloats : tensor + ih * rowFloats)
                }
                Kernels.depthwiseRow(rows: UnsafePointer(rows.baseAddress!), taps: taps, geometry: g, weights: weights,
                                     output: source, channels: own, A.self)
            }
        }
    }

    /// Stride 2: each output row goes through a one-row buffer; the input rows it covers
    /// are never read again.
    @inlinable
    func runStrideTwo(channels own: Range<Int>) {
        let g = geometry, channels = g.inChannels
        let rowIn = g.inWidth * channels, rowOut = g.outWidth * channels
        let pending = scratch
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: g.kernelHeight) { rows in
            for oh in 0..<g.outHeight {
                let ih0 = oh * g.strideHeight - g.padTop
                let taps = max(0, -ih0)..<min(g.kernelHeight, g.inHeight - ih0)
                for kh in taps { rows[kh] = UnsafePointer(tensor + (ih0 + kh) * rowIn) }
                Kernels.depthwiseRow(rows: UnsafePointer(rows.baseAddress!), taps: taps, geometry: g, weights: weights,
                                     output: pending, channels: own, A.self)
                let destination = tensor + oh * rowOut
                for pixel in 0..<g.outWidth {
                    (destination + pixel * channels + own.lowerBound).update(from: pending + pixel * channels + own.lowerBound,
                                                                              count: own.count)
                }
            }
        }
    }
}
