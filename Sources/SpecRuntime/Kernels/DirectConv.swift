/// Dense k×k convolution for few input channels (the stem): each output pixel's
/// channels are accumulated as vectors from broadcast input values.
/// Weights packed [kh][kw][in][out padded to 16], then the bias.
public enum DirectConvPacking {
    public static func floats(inChannels: Int, outChannels: Int, kernelHeight: Int, kernelWidth: Int) -> Int {
        roundUp(outChannels, 16) * (kernelHeight * kernelWidth * inChannels + 1)
    }
}

extension Kernels {
    @inlinable
    public static func directConv<A: ActivationFunction>(
        input: UnsafePointer<Float>, inChannels: Int, inHeight: Int, inWidth: Int,
        weights: UnsafePointer<Float>, outChannels: Int, kernelHeight: Int, kernelWidth: Int,
        strideHeight: Int, strideWidth: Int, padTop: Int, padLeft: Int,
        output: UnsafeMutablePointer<Float>, outHeight: Int, outWidth: Int,
        inputLayout: InputLayout = .hwc, activation: A.Type, threads: ThreadPool
    ) {
        let geometry = ConvGeometry(inChannels: inChannels, inHeight: inHeight, inWidth: inWidth,
                                    outChannels: outChannels, outHeight: outHeight, outWidth: outWidth,
                                    kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                                    strideHeight: strideHeight, strideWidth: strideWidth, padTop: padTop, padLeft: padLeft)
        let (pixelStride, channelStride) = inputLayout == .hwc ? (inChannels, 1) : (1, inHeight * inWidth)
        threads.parallelChunks(outHeight, grain: 1, DirectConv<A>(input: input, weights: weights, output: output, geometry: geometry,
                                                                  pixelStride: pixelStride, channelStride: channelStride))
    }
}

/// How a tensor's elements are laid out: channels innermost (the arena's tensors), or
/// channel planes (CHW, the caller's image as PyTorch holds it).
public enum InputLayout: Sendable {
    case hwc, chw
}

/// One thread's share of a direct conv: a range of output rows.
@usableFromInline
struct DirectConv<A: ActivationFunction>: ParallelWork {
    @usableFromInline let input: UnsafePointer<Float>
    @usableFromInline let weights: UnsafePointer<Float>
    @usableFromInline let output: UnsafeMutablePointer<Float>
    @usableFromInline let geometry: ConvGeometry
    @usableFromInline let pixelStride: Int
    @usableFromInline let channelStride: Int

    @inlinable
    init(input: UnsafePointer<Float>, weights: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, geometry: ConvGeometry,
         pixelStride: Int, channelStride: Int) {
        self.input = input
        self.weights = weights
        self.output = output
        self.geometry = geometry
        self.pixelStride = pixelStride
        self.channelStride = channelStride
    }

    /// Interior pixels go six at a time: one pixel's taps are a single chain of dependent
    /// FMAs; six pixels are six chains sharing each weight load, as in the 1×1 GEMM's tile.
    /// With AVX-512's 32 registers a tile covers two 16-channel panels, so each broadcast
    /// input value feeds two FMAs. The stem's 3×3 taps over 3 channels are constants, so
    /// the 27 taps unroll completely.
    @inlinable
    func run(_ rows: Range<Int>) {
        if geometry.kernelWidth == 3 && geometry.inChannels == 3 {
            // The caller's CHW image at stride 2: neighbouring pixels' values 2 floats apart,
            // a constant that folds into the addressing of each broadcast.
            if geometry.strideWidth * pixelStride == 2 {
                run(rows, Count3.self, Count3.self, Count2.self)
            } else {
                run(rows, Count3.self, Count3.self, RuntimeCount.self)
            }
        } else {
            run(rows, RuntimeCount.self, RuntimeCount.self, RuntimeCount.self)
        }
    }

    @inlinable
    func run<K: StaticCount, C: StaticCount, S: StaticCount>(_ rows: Range<Int>, _: K.Type, _: C.Type, _: S.Type) {
        let g = geometry
        let padded = roundUp(g.outChannels, 16)
        let bias = weights + g.kernelHeight * K.value(g.kernelWidth) * C.value(g.inChannels) * padded
        let interiorStart = min(g.outWidth, (g.padLeft + g.strideWidth - 1) / g.strideWidth)
        let interiorEnd = max(interiorStart, min(g.outWidth, (g.inWidth - K.value(g.kernelWidth) + g.padLeft) / g.strideWidth + 1))
        let panelPairs = Kernels.has32VectorRegisters && g.outChannels % 32 == 0
        for oh in rows {
            let ih0 = oh * g.strideHeight - g.padTop
            let taps = max(0, -ih0)..<min(g.kernelHeight, g.inHeight - ih0)
            let out = output + oh * g.outWidth * g.outChannels
            // Pixels whose taps leave the input go one at a time, with bounds.
            func edgePixel(_ ow: Int, panels: Range<Int>) {
                for o in stride(from: panels.lowerBound, to: panels.upperBound, by: 16) {
                    pixel(ow, ih0: ih0, taps: taps, channel: o, bias: load(bias + o), padded: padded, output: out + o,
                          count: min(16, g.outChannels - o))
                }
            }
            // When the interior is not a multiple of 6 wide, the last tile overlaps the one
            // before it: recomputing a few pixels is cheaper than single-pixel chains.
            let tiled = interiorEnd - interiorStart >= 6 ? interiorEnd : interiorStart
            var o = 0
            while o < padded {
                let panels = o..<min(padded, o + (panelPairs ? 32 : 16))
                for ow in 0..<interiorStart { edgePixel(ow, panels: panels) }
                var ow = interiorStart
                while ow < tiled {
                    let column = min(ow, tiled - 6)
                    if panelPairs {
                        tile(column, ih0: ih0, taps: taps, channel: o, bias: bias, padded: padded, output: out, K.self, C.self, S.self, Count2.self)
                    } else {
                        tile(column, ih0: ih0, taps: taps, channel: o, bias: bias, padded: padded, output: out, K.self, C.self, S.self, Count1.self)
                    }
                    ow = column + 6
                }
                for ow in tiled..<g.outWidth { edgePixel(ow, panels: panels) }
                o = panels.upperBound
            }
        }
    }

    /// Six interior pixels from `ow`, for P 16-channel panels from `o` (P × 6 accumulators).
    @inlinable @inline(__always)
    func tile<K: StaticCount, C: StaticCount, S: StaticCount, P: StaticCount>(
        _ ow: Int, ih0: Int, taps: Range<Int>, channel o: Int, bias: UnsafePointer<Float>, padded: Int,
        output: UnsafeMutablePointer<Float>, _: K.Type, _: C.Type, _: S.Type, _: P.Type
    ) {
        let g = geometry
        let k = K.value(g.kernelWidth), channels = C.value(g.inChannels), pairs = P.value(0) == 2
        let n = min(16, g.outChannels - o)
        let step = S.value(g.strideWidth &* pixelStride)
        // In-range offsets: wrapping arithmetic drops the overflow checks.
        let iw0 = ow &* g.strideWidth &- g.padLeft
        let b = load(bias + o), b2 = pairs ? load(bias + o + 16) : b
        var first = (b, b, b, b, b, b), second = (b2, b2, b2, b2, b2, b2)
        for kh in taps {
            for kw in 0..<k {
                let column: Int = (ih0 &+ kh) &* g.inWidth &+ iw0 &+ kw
                let x = input + column &* pixelStride
                let tap: Int = kh &* k &+ kw
                let w = weights + (tap &* channels &* padded &+ o)
                for ci in 0..<channels {
                    let xc = x + ci &* channelStride
                    let pixels = (Vec(repeating: xc[0]), Vec(repeating: xc[step]), Vec(repeating: xc[2 &* step]),
                                  Vec(repeating: xc[3 &* step]), Vec(repeating: xc[4 &* step]), Vec(repeating: xc[5 &* step]))
                    Self.accumulate(&first, pixels, load(w + ci &* padded))
                    if pairs { Self.accumulate(&second, pixels, load(w + (ci &* padded &+ 16))) }
                }
            }
        }
        let y = output + (ow &* g.outChannels &+ o)
        storeSix(first, y, count: n)
        if pairs { storeSix(second, y + 16, count: 16) }
    }

    /// Six accumulators, one per pixel, each plus its pixel's value times the same weights.
    @inlinable @inline(__always)
    static func accumulate(_ sums: inout (Vec, Vec, Vec, Vec, Vec, Vec), _ x: (Vec, Vec, Vec, Vec, Vec, Vec), _ weight: Vec) {
        sums.0 = sums.0.addingProduct(x.0, weight)
        sums.1 = sums.1.addingProduct(x.1, weight)
        sums.2 = sums.2.addingProduct(x.2, weight)
        sums.3 = sums.3.addingProduct(x.3, weight)
        sums.4 = sums.4.addingProduct(x.4, weight)
        sums.5 = sums.5.addingProduct(x.5, weight)
    }

    /// Six pixels' `count` channels, activated, from `y` on.
    @inlinable @inline(__always)
    func storeSix(_ sums: (Vec, Vec, Vec, Vec, Vec, Vec), _ y: UnsafeMutablePointer<Float>, count n: Int) {
        let pixel = geometry.outChannels
        store(A.apply(sums.0), y, count: n)
        store(A.apply(sums.1), y + pixel, count: n)
        store(A.apply(sums.2), y + 2 &* pixel, count: n)
        store(A.apply(sums.3), y + 3 &* pixel, count: n)
        store(A.apply(sums.4), y + 4 &* pixel, count: n)
        store(A.apply(sums.5), y + 5 &* pixel, count: n)
    }

    /// One output pixel, with its taps clipped to the input.
    @inlinable @inline(__always)
    func pixel(_ ow: Int, ih0: Int, taps: Range<Int>, channel o: Int, bias: Vec, padded: Int,
               output: UnsafeMutablePointer<Float>, count n: Int) {
        let g = geometry
        let iw0 = ow * g.strideWidth - g.padLeft
        var acc = bias
        for kh in taps {
            for kw in max(0, -iw0)..<min(g.kernelWidth, g.inWidth - iw0) {
                let x = input + ((ih0 + kh) * g.inWidth + iw0 + kw) * pixelStride
                let w = weights + ((kh * g.kernelWidth + kw) * g.inChannels) * padded + o
                for ci in 0..<g.inChannels {
                    acc = acc.addingProduct(Vec(repeating: x[ci * channelStride]), load(w + ci * padded))
                }
            }
        }
        store(A.apply(acc), output + ow * g.outChannels, count: n)
    }
}
