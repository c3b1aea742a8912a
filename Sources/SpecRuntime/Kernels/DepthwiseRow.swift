/// One output row of a depthwise conv, shared by the plain, banded and in-place kernels,
/// which differ only in where the input rows live.
///
/// A single pixel's k×k taps form one chain of dependent FMAs, which runs at the FMA's
/// latency, not its throughput. Interior pixels therefore go four at a time: four
/// independent accumulators share each weight load.
/// Edge pixels, whose taps fall partly outside the input, go one at a time with bounds.
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
        // Output columns whose taps all fall inside the input need no bounds checks.
        let interiorStart = min(g.outWidth, (g.padLeft + g.strideWidth - 1) / g.strideWidth)
        let interiorEnd = max(interiorStart, min(g.outWidth, (g.inWidth - k + g.padLeft) / g.strideWidth + 1))
        // Stride-1 rows of 3 or 5 taps go eight pixels at a time, in strips of 8 channels,
        // loading each input column once for all the outputs that read it (see
        // depthwiseOctetK3); the rest of the interior goes four pixels at a time.
        var quadStart = interiorStart
        if g.strideWidth == 1 && (k == 3 || k == 5) && channels.lowerBound % 8 == 0 && channels.count % 8 == 0 {
            let octetEnd = interiorStart + (interiorEnd - interiorStart) / 8 * 8
            var c = channels.lowerBound
            // Strips of 16 channels need 8 accumulators of 16 lanes, which AVX-512's 32
            // registers hold and AVX2's 16 do not (they would spill): there, strips of 8.
            while c + 16 <= channels.upperBound && Kernels.has32VectorRegisters {
                depthwiseOctets(rows: rows, taps: taps, g, weights: weights, bias: bias, padded: padded, output: output,
                                channel: c, columns: interiorStart..<octetEnd, A.self, SIMD16<Float>.self)
                c += 16
            }
            while c < channels.upperBound {
                depthwiseOctets(rows: rows, taps: taps, g, weights: weights, bias: bias, padded: padded, output: output,
                                channel: c, columns: interiorStart..<octetEnd, A.self, SIMD8<Float>.self)
                c += 8
            }
            quadStart = octetEnd
        }
        let quads = quadStart..<(quadStart + (interiorEnd - quadStart) / 4 * 4)
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

    /// Runs the octet kernel of the row's width over `columns` (a multiple of 8 wide) for
    /// one strip of V.scalarCount channels.
    @inlinable @inline(__always)
    static func depthwiseOctets<A: ActivationFunction, V: SIMD>(
        rows: UnsafePointer<UnsafePointer<Float>>, taps: Range<Int>, _ g: ConvGeometry,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, padded: Int, output: UnsafeMutablePointer<Float>,
        channel c: Int, columns: Range<Int>, _: A.Type, _: V.Type
    ) where V.Scalar == Float {
        var ow = columns.lowerBound
        while ow < columns.upperBound {
            if g.kernelWidth == 3 {
                depthwiseOctetK3(rows: rows, taps: taps, g, weights: weights, bias: bias, padded: padded,
                                 output: output, channel: c, column: ow, A.self, V.self)
            } else {
                depthwiseOctetK5(rows: rows, taps: taps, g, weights: weights, bias: bias, padded: padded,
                                 output: output, channel: c, column: ow, A.self, V.self)
            }
            ow += 8
        }
    }

    /// Eight interior pixels of a stride-1, 3-wide row for 8 channels. Each input column
    /// is loaded once and feeds the up to 3 outputs that read it, so a row of taps costs
    /// 10 input and 3 weight loads for 24 FMAs (the quad kernel: one load per FMA). The
    /// body is the rule "column j feeds output j − kw with weight kw" written out, so that
    /// every accumulator is a register; depthwiseOctetK5 is the same rule for 5 taps.
    @inlinable @inline(__always)
    static func depthwiseOctetK3<A: ActivationFunction, V: SIMD>(
        rows: UnsafePointer<UnsafePointer<Float>>, taps: Range<Int>, _ g: ConvGeometry,
        weights w: UnsafePointer<Float>, bias: UnsafePointer<Float>, padded: Int, output: UnsafeMutablePointer<Float>,
        channel c: Int, column ow: Int, _: A.Type, _: V.Type
    ) where V.Scalar == Float {
        @inline(__always) func loadStrip(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        let pixel = g.inChannels
        let b = loadStrip(bias + c)
        var a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b
        for kh in taps {
            let x = rows[kh] + ((ow &- g.padLeft) &* pixel &+ c)
            let wk = w + (kh &* 3 &* padded &+ c)
            let w0 = loadStrip(wk), w1 = loadStrip(wk + 1 &* padded), w2 = loadStrip(wk + 2 &* padded)
            let x0 = loadStrip(x)
            a0 = a0.addingProduct(x0, w0)
            let x1 = loadStrip(x + 1 &* pixel)
            a1 = a1.addingProduct(x1, w0)
            a0 = a0.addingProduct(x1, w1)
            let x2 = loadStrip(x + 2 &* pixel)
            a2 = a2.addingProduct(x2, w0)
            a1 = a1.addingProduct(x2, w1)
            a0 = a0.addingProduct(x2, w2)
            let x3 = loadStrip(x + 3 &* pixel)
            a3 = a3.addingProduct(x3, w0)
            a2 = a2.addingProduct(x3, w1)
            a1 = a1.addingProduct(x3, w2)
            let x4 = loadStrip(x + 4 &* pixel)
            a4 = a4.addingProduct(x4, w0)
            a3 = a3.addingProduct(x4, w1)
            a2 = a2.addingProduct(x4, w2)
            let x5 = loadStrip(x + 5 &* pixel)
            a5 = a5.addingProduct(x5, w0)
            a4 = a4.addingProduct(x5, w1)
            a3 = a3.addingProduct(x5, w2)
            let x6 = loadStrip(x + 6 &* pixel)
            a6 = a6.addingProduct(x6, w0)
            a5 = a5.addingProduct(x6, w1)
            a4 = a4.addingProduct(x6, w2)
            let x7 = loadStrip(x + 7 &* pixel)
            a7 = a7.addingProduct(x7, w0)
            a6 = a6.addingProduct(x7, w1)
            a5 = a5.addingProduct(x7, w2)
            let x8 = loadStrip(x + 8 &* pixel)
            a7 = a7.addingProduct(x8, w1)
            a6 = a6.addingProduct(x8, w2)
            let x9 = loadStrip(x + 9 &* pixel)
            a7 = a7.addingProduct(x9, w2)
        }
        let out = output + (ow &* pixel &+ c)
        storePair(a0, a1, out, pixel: pixel, A.self)
        storePair(a2, a3, out + 2 &* pixel, pixel: pixel, A.self)
        storePair(a4, a5, out + 4 &* pixel, pixel: pixel, A.self)
        storePair(a6, a7, out + 6 &* pixel, pixel: pixel, A.self)
    }

    /// depthwiseOctetK3 for 5-wide rows: 12 input and 5 weight loads per row of taps for 40 FMAs.
    @inlinable @inline(__always)
    static func depthwiseOctetK5<A: ActivationFunction, V: SIMD>(
        rows: UnsafePointer<UnsafePointer<Float>>, taps: Range<Int>, _ g: ConvGeometry,
        weights w: UnsafePointer<Float>, bias: UnsafePointer<Float>, padded: Int, output: UnsafeMutablePointer<Float>,
        channel c: Int, column ow: Int, _: A.Type, _: V.Type
    ) where V.Scalar == Float {
        @inline(__always) func loadStrip(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        let pixel = g.inChannels
        let b = loadStrip(bias + c)
        var a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b
        for kh in taps {
            let x = rows[kh] + ((ow &- g.padLeft) &* pixel &+ c)
            let wk = w + (kh &* 5 &* padded &+ c)
            let w0 = loadStrip(wk), w1 = loadStrip(wk + 1 &* padded), w2 = loadStrip(wk + 2 &* padded), w3 = loadStrip(wk + 3 &* padded), w4 = loadStrip(wk + 4 &* padded)
            let x0 = loadStrip(x)
            a0 = a0.addingProduct(x0, w0)
            let x1 = loadStrip(x + 1 &* pixel)
            a1 = a1.addingProduct(x1, w0)
            a0 = a0.addingProduct(x1, w1)
            let x2 = loadStrip(x + 2 &* pixel)
            a2 = a2.addingProduct(x2, w0)
            a1 = a1.addingProduct(x2, w1)
            a0 = a0.addingProduct(x2, w2)
            let x3 = loadStrip(x + 3 &* pixel)
            a3 = a3.addingProduct(x3, w0)
            a2 = a2.addingProduct(x3, w1)
            a1 = a1.addingProduct(x3, w2)
            a0 = a0.addingProduct(x3, w3)
            let x4 = loadStrip(x + 4 &* pixel)
            a4 = a4.addingProduct(x4, w0)
            a3 = a3.addingProduct(x4, w1)
            a2 = a2.addingProduct(x4, w2)
            a1 = a1.addingProduct(x4, w3)
            a0 = a0.addingProduct(x4, w4)
            let x5 = loadStrip(x + 5 &* pixel)
            a5 = a5.addingProduct(x5, w0)
            a4 = a4.addingProduct(x5, w1)
            a3 = a3.addingProduct(x5, w2)
            a2 = a2.addingProduct(x5, w3)
            a1 = a1.addingProduct(x5, w4)
            let x6 = loadStrip(x + 6 &* pixel)
            a6 = a6.addingProduct(x6, w0)
            a5 = a5.addingProduct(x6, w1)
            a4 = a4.addingProduct(x6, w2)
            a3 = a3.addingProduct(x6, w3)
            a2 = a2.addingProduct(x6, w4)
            let x7 = loadStrip(x + 7 &* pixel)
            a7 = a7.addingProduct(x7, w0)
            a6 = a6.addingProduct(x7, w1)
            a5 = a5.addingProduct(x7, w2)
            a4 = a4.addingProduct(x7, w3)
            a3 = a3.addingProduct(x7, w4)
            let x8 = loadStrip(x + 8 &* pixel)
            a7 = a7.addingProduct(x8, w1)
            a6 = a6.addingProduct(x8, w2)
            a5 = a5.addingProduct(x8, w3)
            a4 = a4.addingProduct(x8, w4)
            let x9 = loadStrip(x + 9 &* pixel)
            a7 = a7.addingProduct(x9, w2)
            a6 = a6.addingProduct(x9, w3)
            a5 = a5.addingProduct(x9, w4)
            let x10 = loadStrip(x + 10 &* pixel)
            a7 = a7.addingProduct(x10, w3)
            a6 = a6.addingProduct(x10, w4)
            let x11 = loadStrip(x + 11 &* pixel)
            a7 = a7.addingProduct(x11, w4)
        }
        let out = output + (ow &* pixel &+ c)
        storePair(a0, a1, out, pixel: pixel, A.self)
        storePair(a2, a3, out + 2 &* pixel, pixel: pixel, A.self)
        storePair(a4, a5, out + 4 &* pixel, pixel: pixel, A.self)
        storePair(a6, a7, out + 6 &* pixel, pixel: pixel, A.self)
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
public enum Count5: StaticCount { @inlinable @inline(__always) public static func value(_: Int) -> Int { 5 } }
public enum RuntimeCount: StaticCount { @inlinable @inline(__always) public static func value(_ runtime: Int) -> Int { runtime } }

/// A channel vector that is known to be full (16 lanes) or may be partial.
public protocol ChannelVector { static func count(_ runtime: Int) -> Int }
public enum FullVector: ChannelVector { @inlinable @inline(__always) public static func count(_: Int) -> Int { 16 } }
public enum PartialVector: ChannelVector { @inlinable @inline(__always) public static func count(_ runtime: Int) -> Int { runtime } }
