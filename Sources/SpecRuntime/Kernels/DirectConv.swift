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
    /// FMAs; six pixels are six chains (twelve AVX2 registers) sharing each weight load,
    /// as in the 1×1 GEMM's tile. The stem's 3×3 taps over 3 channels are constants, so
    /// the 27 taps unroll completely.
    @inlinable
    func run(_ rows: Range<Int>) {
        if geometry.kernelWidth == 3 && geometry.inChannels == 3 {
            run(rows, Count3.self, Count3.self)
        } else {
            run(rows, RuntimeCount.self, RuntimeCount.self)
        }
    }

    @inlinable
    func run<K: StaticCount, C: StaticCount>(_ rows: Range<Int>, _: K.Type, _: C.Type) {
        let g = geometry
        let k = K.value(g.kernelWidth), channels = C.value(g.inChannels)
        let padded = roundUp(g.outChannels, 16)
        let bias = weights + g.kernelHeight * k * channels * padded
        let interiorStart = min(g.outWidth, (g.padLeft + g.strideWidth - 1) / g.strideWidth)
        let interiorEnd = max(interiorStart, min(g.outWidth, (g.inWidth - k + g.padLeft) / g.strideWidth + 1))
        let step = g.strideWidth * pixelStride
        for oh in rows {
            let ih0 = oh * g.strideHeight - g.padTop
            let taps = max(0, -ih0)..<min(g.kernelHeight, g.inHeight - ih0)
            var o = 0
            while o < padded {
                let n = min(16, g.outChannels - o)
                let b = load(bias + o)
                let out = output + oh * g.outWidth * g.outChannels + o
                var ow = 0
                while ow < interiorStart {
                    pixel(ow, ih0: ih0, taps: taps, channel: o, bias: b, padded: padded, output: out, count: n)
                    ow += 1
                }
                while ow + 6 <= interiorEnd {
                    // In-range offsets: wrapping arithmetic drops the overflow checks.
                    let iw0 = ow &* g.strideWidth &- g.padLeft
                    var a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b
                    for kh in taps {
                        for kw in 0..<k {
                            let column: Int = (ih0 &+ kh) &* g.inWidth &+ iw0 &+ kw
                            let x = input + column &* pixelStride
                            let tap: Int = kh &* k &+ kw
                            let w = weights + (tap &* channels &* padded &+ o)
                            for ci in 0..<channels {
                                let weight = load(w + ci &* padded), xc = x + ci &* channelStride
                                a0 = a0.addingProduct(Vec(repeating: xc[0]), weight)
                                a1 = a1.addingProduct(Vec(repeating: xc[step]), weight)
                                a2 = a2.addingProduct(Vec(repeating: xc[2 &* step]), weight)
                                a3 = a3.addingProduct(Vec(repeating: xc[3 &* step]), weight)
                                a4 = a4.addingProduct(Vec(repeating: xc[4 &* step]), weight)
                                a5 = a5.addingProduct(Vec(repeating: xc[5 &* step]), weight)
                            }
                        }
                    }
                    let y = out + ow &* g.outChannels
                    store(A.apply(a0), y, count: n)
                    store(A.apply(a1), y + g.outChannels, count: n)
                    store(A.apply(a2), y + 2 &* g.outChannels, count: n)
                    store(A.apply(a3), y + 3 &* g.outChannels, count: n)
                    store(A.apply(a4), y + 4 &* g.outChannels, count: n)
                    store(A.apply(a5), y + 5 &* g.outChannels, count: n)
                    ow += 6
                }
                while ow < g.outWidth {
                    pixel(ow, ih0: ih0, taps: taps, channel: o, bias: b, padded: padded, output: out, count: n)
                    ow += 1
                }
                o += 16
            }
        }
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
