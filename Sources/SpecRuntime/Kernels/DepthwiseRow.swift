/// One output row of a depthwise conv, shared by the plain, banded and in-place kernels,
/// which differ only in where the input rows live.
///
/// A single pixel's k×k taps form one chain of dependent FMAs, which runs at the FMA's
/// latency, not its throughput. Stride-1 rows of 3 or 5 taps therefore go eight pixels at
/// a time, edges included; other rows' interior pixels four at a time, four independent
/// accumulators sharing each weight load, and their edge pixels one at a time with bounds.
extension Kernels {
    /// Computes output row `rows`' pixels for channels `channels`. `rows[kh]` is the input
    /// row `ih0 + kh` (pixel 0, channel 0) for every kh in `taps`; input and output pixels
    /// are `geometry.inChannels` floats apart. `output` is the output row's pixel 0.
    @inlinable @inline(__always)
    static func depthwiseRow<A: ActivationFunction>(
        rows: UnsafePointer<UnsafePointer<Float>>, taps: Range<Int>, geometry g: ConvGeometry,
        weights: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, channels: Range<Int>, _: A.Type
    ) {
        // A constant kernel width unrolls each row of taps and folds their offsets into
        // the addressing; 3 and 5 are the widths the seed networks use.
        switch g.kernelWidth {
        case 3:
            depthwiseRow(rows: rows, taps: taps, geometry: g, weights: weights, output: output, channels: channels, A.self, Count3.self)
        case 5:
            depthwiseRow(rows: rows, taps: taps, geometry: g, weights: weights, output: output, channels: channels, A.self, Count5.self)
        default:
            depthwiseRow(rows: rows, taps: taps, geometry: g, weights: weights, output: output, channels: channels, A.self, RuntimeCount.self)
        }
    }

    @inlinable
    static func depthwiseRow<A: ActivationFunction, W: StaticCount>(
        rows: UnsafePointer<UnsafePointer<Float>>, taps: Range<Int>, geometry g: ConvGeometry,
        weights: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, channels: Range<Int>, _: A.Type, _: W.Type
    ) {
        let k = W.value(g.kernelWidth)
        let padded = roundUp(g.inChannels, 16)
        let bias = weights + g.kernelHeight * k * padded
        // Stride-1 rows of 3 or 5 taps, padded to keep their width, run whole in octets (see
        // depthwiseOctetRow), in blocks of channels whose octet spans fit in 16 KB. Not with
        // 3 taps where pixels are a multiple of 2 KB apart (512, 1024 channels): an octet's
        // 30 input lines then fall in two L1 sets, and MobileNetV1's 512×14×14 and 1024×7×7
        // ran 11% and 42% slower in octets than pixels and quads do.
        // Stride-2 rows of 3 or 5 taps, 7 or more pixels wide, likewise: each input column
        // loaded once (17 loads for an octet's 24 FMAs with 3 taps; quads load 30), and the
        // edge pixels inside octets. The quads and the one-pixel edges had run the 3×3
        // stride-2 convs after V2's and LCNet's 112×112 expansions at a quarter of the FMA
        // peak.
        let octetStride: Int? = switch g.strideWidth {
        case 1 where g.inWidth == g.outWidth && (g.outWidth == 7 || g.outWidth == 8 || g.outWidth >= 8 + g.padLeft): 1
        case 2 where g.outWidth >= 7: 2
        default: nil
        }
        if let octetStride, (k == 3 || k == 5) && 2 * g.padLeft == k - 1 && !(k == 3 && g.inChannels % 512 == 0)
            && channels.lowerBound % 8 == 0 && channels.count % 8 == 0 {
            // An octet reads the input columns of its 8 outputs' taps.
            let perChannel = (7 * octetStride + k) * g.kernelHeight * MemoryLayout<Float>.size
            let block = channels.count * perChannel <= 16 * 1024 ? channels.count : max(16, 16 * 1024 / perChannel / 16 * 16)
            var start = channels.lowerBound
            while start < channels.upperBound {
                let end = min(channels.upperBound, start + block)
                if octetStride == 1 {
                    depthwiseOctetRow(rows: rows, taps: taps, geometry: g, weights: weights, bias: bias, padded: padded,
                                      output: output, channels: start..<end, A.self, Count1.self)
                } else {
                    depthwiseOctetRow(rows: rows, taps: taps, geometry: g, weights: weights, bias: bias, padded: padded,
                                      output: output, channels: start..<end, A.self, Count2.self)
                }
                start = end
            }
            return
        }
        // Output columns whose taps all fall inside the input need no bounds checks.
        let interiorStart = min(g.outWidth, (g.padLeft + g.strideWidth - 1) / g.strideWidth)
        let interiorEnd = max(interiorStart, min(g.outWidth, (g.inWidth - k + g.padLeft) / g.strideWidth + 1))
        // Other rows: the interior four pixels at a time.
        let quads = interiorStart..<(interiorStart + (interiorEnd - interiorStart) / 4 * 4)
        // The input columns that neighbouring quads share should still be in L1 when the
        // next quad reads them. With few channels, a quad's columns of every channel fit,
        // and quads go outermost (each pixel's channels are then read front to back); with
        // many, channel vectors go outermost and one vector's strip of the rows is a few KB.
        let quadFootprint = (4 * g.strideWidth + k) * g.kernelHeight * g.inChannels * MemoryLayout<Float>.size
        if quadFootprint <= 16 * 1024 {
            var ow = quads.lowerBound
            while ow < quads.upperBound {
                var c = channels.lowerBound
                while c + 16 <= channels.upperBound {
                    depthwiseQuad(rows: rows, taps: taps, g, weights: weights + c, bias: load(bias + c), padded: padded,
                                  output: output + c, channel: c, count: 16, column: ow, A.self, W.self, FullVector.self)
                    c += 16
                }
                if c < channels.upperBound {
                    depthwiseQuad(rows: rows, taps: taps, g, weights: weights + c, bias: load(bias + c), padded: padded,
                                  output: output + c, channel: c, count: channels.upperBound - c, column: ow,
                                  A.self, W.self, PartialVector.self)
                }
                ow += 4
            }
        } else {
            var c = channels.lowerBound
            while c < channels.upperBound {
                let n = min(16, channels.upperBound - c)
                let beta = load(bias + c)
                var ow = quads.lowerBound
                if n == 16 {
                    while ow < quads.upperBound {
                        depthwiseQuad(rows: rows, taps: taps, g, weights: weights + c, bias: beta, padded: padded,
                                      output: output + c, channel: c, count: 16, column: ow, A.self, W.self, FullVector.self)
                        ow += 4
                    }
                } else {
                    while ow < quads.upperBound {
                        depthwiseQuad(rows: rows, taps: taps, g, weights: weights + c, bias: beta, padded: padded,
                                      output: output + c, channel: c, count: n, column: ow, A.self, W.self, PartialVector.self)
                        ow += 4
                    }
                }
                c += 16
            }
        }
        // The rest (edges, and all of a narrow row): one pixel at a time, four channel
        // vectors at once so that four chains are in flight.
        for ow in 0..<interiorStart {
            depthwisePixel(rows: rows, taps: taps, g, weights: weights, bias: bias, padded: padded, output: output,
                           channels: channels, column: ow, A.self, W.self)
        }
        for ow in quads.upperBound..<g.outWidth {
            depthwisePixel(rows: rows, taps: taps, g, weights: weights, bias: bias, padded: padded, output: output,
                           channels: channels, column: ow, A.self, W.self)
        }
    }

    /// A whole stride-1 row of 3 or 5 taps, padded to keep its width, in octets of 8 pixels,
    /// edges included: the first octet skips the `pad` input columns left of the row, the last
    /// the `pad` right of it, and when the width is not a multiple of 8 the last octet overlaps
    /// the one before it (those pixels are computed twice, the same way); a row 8 or 7 wide
    /// is one octet with both edges. Edge pixels one at a time, with bounds, had taken a
    /// quarter of a 56-pixel row's time. Octets go outermost and channel strips innermost, so
    /// each input pixel's cache lines serve all their strips while in L1: the caller passes
    /// blocks of channels whose octet spans fit in 16 KB.
    @inlinable @inline(__always)
    static func depthwiseOctetRow<A: ActivationFunction, S: StaticCount>(
        rows: UnsafePointer<UnsafePointer<Float>>, taps: Range<Int>, geometry g: ConvGeometry,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, padded: Int, output: UnsafeMutablePointer<Float>,
        channels: Range<Int>, _: A.Type, _: S.Type
    ) {
        let pixel = g.inChannels
        // With 32 vector registers, 16-channel strips and, where the count is 8 past a
        // multiple of 16 (72, 120, 184, 200 channels), one 8-channel strip at the end: all
        // strips of 8 had run those layers at half the vector width.
        let wideEnd = Kernels.has32VectorRegisters ? channels.lowerBound + channels.count / 16 * 16 : channels.lowerBound
        let lastOctet = g.outWidth - 8
        @inline(__always) func strips<E: OctetEdge, V: SIMD>(at ow: Int, _ strip: Range<Int>, _: E.Type, _: V.Type)
        where V.Scalar == Float {
            let firstColumn = ow * S.value(g.strideWidth) - g.padLeft
            let offset = firstColumn * pixel
            for c in stride(from: strip.lowerBound, to: strip.upperBound, by: V.scalarCount) {
                depthwiseOctetStrip(rows: rows, taps: taps, g, weights: weights, bias: bias, padded: padded,
                                    output: output + ow * pixel, offset: offset, columns: g.inWidth - firstColumn, channel: c,
                                    A.self, V.self, E.self, S.self)
            }
        }
        @inline(__always) func octets<E: OctetEdge>(at ow: Int, _: E.Type) {
            if wideEnd > channels.lowerBound { strips(at: ow, channels.lowerBound..<wideEnd, E.self, SIMD16<Float>.self) }
            if wideEnd < channels.upperBound { strips(at: ow, wideEnd..<channels.upperBound, E.self, SIMD8<Float>.self) }
        }
        if lastOctet <= 0 {
            if lastOctet == 0 { octets(at: 0, BothEdges.self) } else { octets(at: 0, SevenWide.self) }
            return
        }
        octets(at: 0, LeftEdge.self)
        var ow = 8
        while ow < lastOctet {
            octets(at: ow, NoEdge.self)
            ow += 8
        }
        octets(at: lastOctet, RightEdge.self)
    }

    /// One octet, one channel strip, of the row's kernel width.
    @inlinable @inline(__always)
    static func depthwiseOctetStrip<A: ActivationFunction, V: SIMD, E: OctetEdge, S: StaticCount>(
        rows: UnsafePointer<UnsafePointer<Float>>, taps: Range<Int>, _ g: ConvGeometry,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, padded: Int, output: UnsafeMutablePointer<Float>,
        offset: Int, columns: Int, channel c: Int, _: A.Type, _: V.Type, _: E.Type, _: S.Type
    ) where V.Scalar == Float {
        switch (S.value(g.strideWidth), g.kernelWidth) {
        case (1, 3):
            depthwiseOctet(rows: rows, offset: offset + c, pixel: g.inChannels, taps: taps, weights: weights + c, padded: padded,
                           bias: bias + c, output: output + c, A.self, V.self, Count3.self, E.self)
        case (1, _):
            depthwiseOctet(rows: rows, offset: offset + c, pixel: g.inChannels, taps: taps, weights: weights + c, padded: padded,
                           bias: bias + c, output: output + c, A.self, V.self, Count5.self, E.self)
        case (_, 3):
            depthwiseOctetStride2(rows: rows, offset: offset + c, pixel: g.inChannels, columns: columns, taps: taps,
                                  weights: weights + c, padded: padded, bias: bias + c, output: output + c,
                                  A.self, V.self, Count3.self, E.self)
        default:
            depthwiseOctetStride2(rows: rows, offset: offset + c, pixel: g.inChannels, columns: columns, taps: taps,
                                  weights: weights + c, padded: padded, bias: bias + c, output: output + c,
                                  A.self, V.self, Count5.self, E.self)
        }
    }

    /// Eight pixels of a stride-2 row of 3 or 5 taps for one strip of channels, as
    /// `depthwiseOctet`: output i reads input columns 2i to 2i + W − 1 of the octet's span,
    /// so even column 2i feeds outputs i, i − 1 (and i − 2 with 5 taps) and odd column
    /// 2i + 1 outputs i (and i − 1). Of the span, `columns` lie inside the input row; on the
    /// right edge the rest are zero and not read, on the left the first `pad`.
    @inlinable @inline(__always)
    static func depthwiseOctetStride2<A: ActivationFunction, V: SIMD, W: StaticCount, E: OctetEdge>(
        rows: UnsafePointer<UnsafePointer<Float>>, offset: Int, pixel p: Int, columns: Int, taps: Range<Int>,
        weights w: UnsafePointer<Float>, padded: Int, bias: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, _: A.Type, _: V.Type, _: W.Type, _: E.Type
    ) where V.Scalar == Float {
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        let k = W.value(0), pad = (k - 1) / 2
        @inline(__always) func column(_ x: UnsafePointer<Float>, _ j: Int) -> V {
            (E.left && j < pad) || (E.right && j >= columns) ? V() : load(x + j &* p)
        }
        let b = load(bias)
        var a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b
        for kh in taps {
            let x = rows[kh] + offset
            let wk = w + kh &* k &* padded
            // Column j feeds output i with weight j − 2i, written out so every accumulator
            // is a register.
            if k == 3 {
                let w0 = load(wk), w1 = load(wk + padded), w2 = load(wk + 2 &* padded)
                var xj = column(x, 0)
                a0 = a0.addingProduct(xj, w0)
                xj = column(x, 1)
                a0 = a0.addingProduct(xj, w1)
                xj = column(x, 2)
                a1 = a1.addingProduct(xj, w0); a0 = a0.addingProduct(xj, w2)
                xj = column(x, 3)
                a1 = a1.addingProduct(xj, w1)
                xj = column(x, 4)
                a2 = a2.addingProduct(xj, w0); a1 = a1.addingProduct(xj, w2)
                xj = column(x, 5)
                a2 = a2.addingProduct(xj, w1)
                xj = column(x, 6)
                a3 = a3.addingProduct(xj, w0); a2 = a2.addingProduct(xj, w2)
                xj = column(x, 7)
                a3 = a3.addingProduct(xj, w1)
                xj = column(x, 8)
                a4 = a4.addingProduct(xj, w0); a3 = a3.addingProduct(xj, w2)
                xj = column(x, 9)
                a4 = a4.addingProduct(xj, w1)
                xj = column(x, 10)
                a5 = a5.addingProduct(xj, w0); a4 = a4.addingProduct(xj, w2)
                xj = column(x, 11)
                a5 = a5.addingProduct(xj, w1)
                xj = column(x, 12)
                a6 = a6.addingProduct(xj, w0); a5 = a5.addingProduct(xj, w2)
                xj = column(x, 13)
                a6 = a6.addingProduct(xj, w1)
                xj = column(x, 14)
                a7 = a7.addingProduct(xj, w0); a6 = a6.addingProduct(xj, w2)
                xj = column(x, 15)
                a7 = a7.addingProduct(xj, w1)
                xj = column(x, 16)
                a7 = a7.addingProduct(xj, w2)
            } else {
                let w0 = load(wk), w1 = load(wk + padded), w2 = load(wk + 2 &* padded)
                let w3 = load(wk + 3 &* padded), w4 = load(wk + 4 &* padded)
                var xj = column(x, 0)
                a0 = a0.addingProduct(xj, w0)
                xj = column(x, 1)
                a0 = a0.addingProduct(xj, w1)
                xj = column(x, 2)
                a1 = a1.addingProduct(xj, w0); a0 = a0.addingProduct(xj, w2)
                xj = column(x, 3)
                a1 = a1.addingProduct(xj, w1); a0 = a0.addingProduct(xj, w3)
                xj = column(x, 4)
                a2 = a2.addingProduct(xj, w0); a1 = a1.addingProduct(xj, w2); a0 = a0.addingProduct(xj, w4)
                xj = column(x, 5)
                a2 = a2.addingProduct(xj, w1); a1 = a1.addingProduct(xj, w3)
                xj = column(x, 6)
                a3 = a3.addingProduct(xj, w0); a2 = a2.addingProduct(xj, w2); a1 = a1.addingProduct(xj, w4)
                xj = column(x, 7)
                a3 = a3.addingProduct(xj, w1); a2 = a2.addingProduct(xj, w3)
                xj = column(x, 8)
                a4 = a4.addingProduct(xj, w0); a3 = a3.addingProduct(xj, w2); a2 = a2.addingProduct(xj, w4)
                xj = column(x, 9)
                a4 = a4.addingProduct(xj, w1); a3 = a3.addingProduct(xj, w3)
                xj = column(x, 10)
                a5 = a5.addingProduct(xj, w0); a4 = a4.addingProduct(xj, w2); a3 = a3.addingProduct(xj, w4)
                xj = column(x, 11)
                a5 = a5.addingProduct(xj, w1); a4 = a4.addingProduct(xj, w3)
                xj = column(x, 12)
                a6 = a6.addingProduct(xj, w0); a5 = a5.addingProduct(xj, w2); a4 = a4.addingProduct(xj, w4)
                xj = column(x, 13)
                a6 = a6.addingProduct(xj, w1); a5 = a5.addingProduct(xj, w3)
                xj = column(x, 14)
                a7 = a7.addingProduct(xj, w0); a6 = a6.addingProduct(xj, w2); a5 = a5.addingProduct(xj, w4)
                xj = column(x, 15)
                a7 = a7.addingProduct(xj, w1); a6 = a6.addingProduct(xj, w3)
                xj = column(x, 16)
                a7 = a7.addingProduct(xj, w2); a6 = a6.addingProduct(xj, w4)
                xj = column(x, 17)
                a7 = a7.addingProduct(xj, w3)
                xj = column(x, 18)
                a7 = a7.addingProduct(xj, w4)
            }
        }
        storeOctet(a0, a1, a2, a3, a4, a5, a6, a7, output, pixel: p, A.self, E.self)
    }

    /// Eight pixels of a stride-1 row of 3 or 5 taps (W, a known width) for one strip of
    /// V.scalarCount channels. Each input column is loaded once and feeds the up to W outputs
    /// that read it: a row of 3 taps costs 10 input and 3 weight loads for 24 FMAs (the quad
    /// kernel: one load per FMA). Input column j of tap row kh is at `rows[kh] + offset + j·pixel`
    /// and output pixel i at `output + i·pixel`; `weights` and `bias` start at the strip's
    /// channel. Columns the edge E leaves out lie outside the row: they are zero, which adds
    /// exactly nothing, and are not read.
    @inlinable @inline(__always)
    static func depthwiseOctet<A: ActivationFunction, V: SIMD, W: StaticCount, E: OctetEdge>(
        rows: UnsafePointer<UnsafePointer<Float>>, offset: Int, pixel p: Int, taps: Range<Int>,
        weights w: UnsafePointer<Float>, padded: Int, bias: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, _: A.Type, _: V.Type, _: W.Type, _: E.Type
    ) where V.Scalar == Float {
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        let k = W.value(0), pad = (k - 1) / 2
        @inline(__always) func column(_ x: UnsafePointer<Float>, _ j: Int) -> V {
            (E.left && j < pad) || (E.right && j >= E.pixels + pad) ? V() : load(x + j &* p)
        }
        let b = load(bias)
        var a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b
        for kh in taps {
            let x = rows[kh] + offset
            let wk = w + kh &* k &* padded
            // Column j feeds output j − kw with weight kw, written out so every accumulator
            // is a register.
            if k == 3 {
                let w0 = load(wk), w1 = load(wk + padded), w2 = load(wk + 2 &* padded)
                var xj = column(x, 0)
                a0 = a0.addingProduct(xj, w0)
                xj = column(x, 1)
                a1 = a1.addingProduct(xj, w0); a0 = a0.addingProduct(xj, w1)
                xj = column(x, 2)
                a2 = a2.addingProduct(xj, w0); a1 = a1.addingProduct(xj, w1); a0 = a0.addingProduct(xj, w2)
                xj = column(x, 3)
                a3 = a3.addingProduct(xj, w0); a2 = a2.addingProduct(xj, w1); a1 = a1.addingProduct(xj, w2)
                xj = column(x, 4)
                a4 = a4.addingProduct(xj, w0); a3 = a3.addingProduct(xj, w1); a2 = a2.addingProduct(xj, w2)
                xj = column(x, 5)
                a5 = a5.addingProduct(xj, w0); a4 = a4.addingProduct(xj, w1); a3 = a3.addingProduct(xj, w2)
                xj = column(x, 6)
                a6 = a6.addingProduct(xj, w0); a5 = a5.addingProduct(xj, w1); a4 = a4.addingProduct(xj, w2)
                xj = column(x, 7)
                a7 = a7.addingProduct(xj, w0); a6 = a6.addingProduct(xj, w1); a5 = a5.addingProduct(xj, w2)
                xj = column(x, 8)
                a7 = a7.addingProduct(xj, w1); a6 = a6.addingProduct(xj, w2)
                xj = column(x, 9)
                a7 = a7.addingProduct(xj, w2)
            } else {
                let w0 = load(wk), w1 = load(wk + padded), w2 = load(wk + 2 &* padded)
                let w3 = load(wk + 3 &* padded), w4 = load(wk + 4 &* padded)
                var xj = column(x, 0)
                a0 = a0.addingProduct(xj, w0)
                xj = column(x, 1)
                a1 = a1.addingProduct(xj, w0); a0 = a0.addingProduct(xj, w1)
                xj = column(x, 2)
                a2 = a2.addingProduct(xj, w0); a1 = a1.addingProduct(xj, w1); a0 = a0.addingProduct(xj, w2)
                xj = column(x, 3)
                a3 = a3.addingProduct(xj, w0); a2 = a2.addingProduct(xj, w1); a1 = a1.addingProduct(xj, w2)
                a0 = a0.addingProduct(xj, w3)
                xj = column(x, 4)
                a4 = a4.addingProduct(xj, w0); a3 = a3.addingProduct(xj, w1); a2 = a2.addingProduct(xj, w2)
                a1 = a1.addingProduct(xj, w3); a0 = a0.addingProduct(xj, w4)
                xj = column(x, 5)
                a5 = a5.addingProduct(xj, w0); a4 = a4.addingProduct(xj, w1); a3 = a3.addingProduct(xj, w2)
                a2 = a2.addingProduct(xj, w3); a1 = a1.addingProduct(xj, w4)
                xj = column(x, 6)
                a6 = a6.addingProduct(xj, w0); a5 = a5.addingProduct(xj, w1); a4 = a4.addingProduct(xj, w2)
                a3 = a3.addingProduct(xj, w3); a2 = a2.addingProduct(xj, w4)
                xj = column(x, 7)
                a7 = a7.addingProduct(xj, w0); a6 = a6.addingProduct(xj, w1); a5 = a5.addingProduct(xj, w2)
                a4 = a4.addingProduct(xj, w3); a3 = a3.addingProduct(xj, w4)
                xj = column(x, 8)
                a7 = a7.addingProduct(xj, w1); a6 = a6.addingProduct(xj, w2); a5 = a5.addingProduct(xj, w3)
                a4 = a4.addingProduct(xj, w4)
                xj = column(x, 9)
                a7 = a7.addingProduct(xj, w2); a6 = a6.addingProduct(xj, w3); a5 = a5.addingProduct(xj, w4)
                xj = column(x, 10)
                a7 = a7.addingProduct(xj, w3); a6 = a6.addingProduct(xj, w4)
                xj = column(x, 11)
                a7 = a7.addingProduct(xj, w4)
            }
        }
        storeOctet(a0, a1, a2, a3, a4, a5, a6, a7, output, pixel: p, A.self, E.self)
    }

    /// An octet's E.pixels pixels' strips, activated and stored.
    @inlinable @inline(__always)
    static func storeOctet<A: ActivationFunction, V: SIMD, E: OctetEdge>(
        _ a0: V, _ a1: V, _ a2: V, _ a3: V, _ a4: V, _ a5: V, _ a6: V, _ a7: V,
        _ output: UnsafeMutablePointer<Float>, pixel p: Int, _: A.Type, _: E.Type
    ) where V.Scalar == Float {
        storePair(a0, a1, output, pixel: p, A.self)
        storePair(a2, a3, output + 2 &* p, pixel: p, A.self)
        storePair(a4, a5, output + 4 &* p, pixel: p, A.self)
        if E.pixels == 8 {
            storePair(a6, a7, output + 6 &* p, pixel: p, A.self)
        } else {
            storePair(a6, a6, output + 6 &* p, pixel: 0, A.self)
        }
    }

    /// Two neighbouring pixels' strips, activated and stored; strips of 8 channels are
    /// activated as one 16-lane vector.
    @inlinable @inline(__always)
    static func storePair<A: ActivationFunction, V: SIMD>(
        _ first: V, _ second: V, _ out: UnsafeMutablePointer<Float>, pixel: Int, _: A.Type
    ) where V.Scalar == Float {
        if V.scalarCount == 16 {
            store(A.apply(unsafeBitCast(first, to: Vec.self)), out)
            store(A.apply(unsafeBitCast(second, to: Vec.self)), out + pixel)
        } else {
            let both = A.apply(Vec(lowHalf: unsafeBitCast(first, to: SIMD8<Float>.self),
                                   highHalf: unsafeBitCast(second, to: SIMD8<Float>.self)))
            store8(both.lowHalf, out)
            store8(both.highHalf, out + pixel)
        }
    }

    /// Four interior pixels, `column` to `column + 3`, for one vector of channels.
    @inlinable @inline(__always)
    static func depthwiseQuad<A: ActivationFunction, W: StaticCount, V: ChannelVector>(
        rows: UnsafePointer<UnsafePointer<Float>>, taps: Range<Int>, _ g: ConvGeometry,
        weights w: UnsafePointer<Float>, bias b: Vec, padded: Int, output: UnsafeMutablePointer<Float>,
        channel c: Int, count: Int, column ow: Int, _: A.Type, _: W.Type, _: V.Type
    ) {
        let k = W.value(g.kernelWidth), n = V.count(count)
        // Offsets are in range by construction: wrapping arithmetic drops overflow checks.
        let pixel = g.inChannels
        let step = g.strideWidth &* pixel
        let iw0 = ow &* g.strideWidth &- g.padLeft
        var a0 = b, a1 = b, a2 = b, a3 = b
        for kh in taps {
            let x = rows[kh] + (iw0 &* pixel &+ c)
            let wk = w + kh &* k &* padded
            for kw in 0..<k {
                let weight = load(wk + kw &* padded)
                let xk = x + kw &* pixel
                a0 = a0.addingProduct(load(xk, count: n), weight)
                a1 = a1.addingProduct(load(xk + step, count: n), weight)
                a2 = a2.addingProduct(load(xk + 2 &* step, count: n), weight)
                a3 = a3.addingProduct(load(xk + 3 &* step, count: n), weight)
            }
        }
        let out = output + ow &* pixel
        store(A.apply(a0), out, count: n)
        store(A.apply(a1), out + pixel, count: n)
        store(A.apply(a2), out + 2 * pixel, count: n)
        store(A.apply(a3), out + 3 * pixel, count: n)
    }

    /// One output pixel, taps clipped to the input, for all of `channels`: four vectors of
    /// channels at a time, then the rest one by one.
    @inlinable @inline(__always)
    static func depthwisePixel<A: ActivationFunction, W: StaticCount>(
        rows: UnsafePointer<UnsafePointer<Float>>, taps: Range<Int>, _ g: ConvGeometry,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, padded: Int, output: UnsafeMutablePointer<Float>,
        channels: Range<Int>, column ow: Int, _: A.Type, _: W.Type
    ) {
        let k = W.value(g.kernelWidth)
        let pixel = g.inChannels
        let iw0 = ow * g.strideWidth - g.padLeft
        let kwStart = max(0, -iw0), kwEnd = min(k, g.inWidth - iw0)
        let out = output + ow * pixel
        var c = channels.lowerBound
        while c + 64 <= channels.upperBound {
            var a0 = load(bias + c), a1 = load(bias + c + 16), a2 = load(bias + c + 32), a3 = load(bias + c + 48)
            for kh in taps {
                let x = rows[kh] + iw0 * pixel + c
                let wk = weights + kh * k * padded + c
                for kw in kwStart..<kwEnd {
                    let xk = x + kw * pixel, wkw = wk + kw * padded
                    a0 = a0.addingProduct(load(xk), load(wkw))
                    a1 = a1.addingProduct(load(xk + 16), load(wkw + 16))
                    a2 = a2.addingProduct(load(xk + 32), load(wkw + 32))
                    a3 = a3.addingProduct(load(xk + 48), load(wkw + 48))
                }
            }
            store(A.apply(a0), out + c)
            store(A.apply(a1), out + c + 16)
            store(A.apply(a2), out + c + 32)
            store(A.apply(a3), out + c + 48)
            c += 64
        }
        while c < channels.upperBound {
            let n = min(16, channels.upperBound - c)
            var acc = load(bias + c)
            for kh in taps {
                let x = rows[kh] + iw0 * pixel + c
                let wk = weights + kh * k * padded + c
                for kw in kwStart..<kwEnd {
                    acc = acc.addingProduct(load(x + kw * pixel, count: n), load(wk + kw * padded))
                }
            }
            store(A.apply(acc), out + c, count: n)
            c += 16
        }
    }
}

/// A small count (a kernel width, a channel count) known to the compiler, or read at run
/// time. Kernels take it as a generic parameter, not as an inlined constant: the optimizer
/// does not always inline the inner functions, but it always specializes them.
public protocol StaticCount { static func value(_ runtime: Int) -> Int }
public enum Count1: StaticCount { @inlinable @inline(__always) public static func value(_: Int) -> Int { 1 } }
public enum Count2: StaticCount { @inlinable @inline(__always) public static func value(_: Int) -> Int { 2 } }
public enum Count3: StaticCount { @inlinable @inline(__always) public static func value(_: Int) -> Int { 3 } }
public enum Count4: StaticCount { @inlinable @inline(__always) public static func value(_: Int) -> Int { 4 } }
public enum Count5: StaticCount { @inlinable @inline(__always) public static func value(_: Int) -> Int { 5 } }
public enum RuntimeCount: StaticCount { @inlinable @inline(__always) public static func value(_ runtime: Int) -> Int { runtime } }

/// A channel vector that is known to be full (16 lanes) or may be partial.
public protocol ChannelVector { static func count(_ runtime: Int) -> Int }
public enum FullVector: ChannelVector { @inlinable @inline(__always) public static func count(_: Int) -> Int { 16 } }
public enum PartialVector: ChannelVector { @inlinable @inline(__always) public static func count(_ runtime: Int) -> Int { runtime } }

/// Which edge of a row an octet lies on: there its span reaches `pad` columns past the row
/// (left, right, or both when the row is one octet wide, or seven), which are not read.
public protocol OctetEdge {
    static var left: Bool { get }
    static var right: Bool { get }
    /// Pixels the octet computes and stores: 8, or 7 for a row 7 wide (the 8th is left out).
    static var pixels: Int { get }
}
extension OctetEdge {
    @inlinable @inline(__always) public static var left: Bool { false }
    @inlinable @inline(__always) public static var right: Bool { false }
    @inlinable @inline(__always) public static var pixels: Int { 8 }
}
public enum NoEdge: OctetEdge {}
public enum LeftEdge: OctetEdge {
    @inlinable @inline(__always) public static var left: Bool { true }
}
public enum RightEdge: OctetEdge {
    @inlinable @inline(__always) public static var right: Bool { true }
}
public enum BothEdges: OctetEdge {
    @inlinable @inline(__always) public static var left: Bool { true }
    @inlinable @inline(__always) public static var right: Bool { true }
}
public enum SevenWide: OctetEdge {
    @inlinable @inline(__always) public static var left: Bool { true }
    @inlinable @inline(__always) public static var right: Bool { true }
    @inlinable @inline(__always) public static var pixels: Int { 7 }
}
