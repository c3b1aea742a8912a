import SpecRuntime
import Testing

/// Each kernel against a plain loop over NCHW-free, obviously-correct indexing, on shapes
/// that hit every tail (channel counts not multiples of 16, pixel counts not multiples of 6).
@Suite struct KernelTests {
    static let threadCounts = [1, 3]

    // Pixel counts leave every remainder after 6-pixel tiles: 1 (7, 13, 25, 49), 2 (14),
    // 3 (3), 4 (10) and 5 (11). With 3 threads, 13 pixels × 200 channels is split by
    // channel panels rather than by pixels. Channel counts 8 past a multiple of 16 (24, 40,
    // 72, 200) run their last 24 channels 4 pixels at a time with 32 vector registers,
    // with remainders of 1 (13), 2 (10, 14, and 250 pixels in blocks of 108), 3 (7, 3), 0 (8),
    // and 3 at a time with 16, with remainders of 1 (7, 13, 10), 2 (8, 14), 0 (3); 8 alone
    // does not. With AVX-512,
    // neighbouring panels go four or two at a time: 70 channels are four and a partial
    // one, 60 four with the last partial, 200 (less its last 24) four, four, two and one.
    @Test("pointwise conv with bias, activation and residual", arguments: [
        (1, 1, 1), (7, 3, 24), (13, 40, 40), (6, 16, 32), (25, 33, 70), (49, 96, 16),
        (14, 5, 16), (3, 64, 24), (10, 7, 40), (11, 9, 8), (13, 20, 200), (250, 300, 72), (11, 17, 60),
        (8, 12, 24), (14, 24, 56),
    ], threadCounts)
    func pointwise(shape: (pixels: Int, cin: Int, cout: Int), threads: Int) {
        var random = SplitMix64(seed: UInt64(shape.pixels * 1000 + shape.cin * 10 + shape.cout))
        let input = (0..<(shape.pixels * shape.cin)).map { _ in random.uniform(-1, 1) }
        let weight = (0..<(shape.cout * shape.cin)).map { _ in random.uniform(-1, 1) }
        let bias = (0..<shape.cout).map { _ in random.uniform(-1, 1) }
        let residual = (0..<(shape.pixels * shape.cout)).map { _ in random.uniform(-1, 1) }
        let layer = LayerWeights(.pointwise, "pw", out: shape.cout, in: shape.cin, weight: ["w"], bias: true, at: 0)
        let packed = pack(layer, weight, bias)
        var output = [Float](repeating: .nan, count: shape.pixels * shape.cout)
        Kernels.pointwiseConv(input: input, pixels: shape.pixels, inChannels: shape.cin, weights: packed,
                              outChannels: shape.cout, residual: residual, output: &output,
                              activation: HardSwish.self, threads: ThreadPool(threads: threads))
        var expected = [Float](repeating: 0, count: output.count)
        for p in 0..<shape.pixels {
            for o in 0..<shape.cout {
                var sum = bias[o]
                for i in 0..<shape.cin { sum += input[p * shape.cin + i] * weight[o * shape.cin + i] }
                expected[p * shape.cout + o] = hardswish(sum) + residual[p * shape.cout + o]
            }
        }
        expectClose(output, expected)
    }

    // A 7×7 map of 160→960 (8 full tiles × 15 spans of 64 channels) and 14×14 of 480→112
    // fetch a later layer's weights in their 6×64 tiles' k loops; a fetch is only a hint, so
    // the outputs are those of the conv without it, bit for bit, on any thread count.
    @Test("fetching a later layer's weights leaves the output unchanged", arguments: [(49, 160, 960), (196, 480, 112)], threadCounts)
    func lookahead(shape: (pixels: Int, cin: Int, cout: Int), threads: Int) {
        var random = SplitMix64(seed: UInt64(shape.pixels + shape.cin + shape.cout))
        let input = (0..<(shape.pixels * shape.cin)).map { _ in random.uniform(-1, 1) }
        let layer = LayerWeights(.pointwise, "pw", out: shape.cout, in: shape.cin, weight: ["w"], bias: true, at: 0)
        let packed = pack(layer, (0..<(shape.cout * shape.cin)).map { _ in random.uniform(-1, 1) },
                          (0..<shape.cout).map { _ in random.uniform(-1, 1) })
        let later = [Float](repeating: 1, count: 462_000)
        var plain = [Float](repeating: .nan, count: shape.pixels * shape.cout), fetching = plain
        let pool = ThreadPool(threads: threads)
        Kernels.pointwiseConv(input: input, pixels: shape.pixels, inChannels: shape.cin, weights: packed, outChannels: shape.cout,
                              residual: nil, output: &plain, activation: HardSwish.self, threads: pool)
        later.withUnsafeBufferPointer { later in
            Kernels.pointwiseConv(input: input, pixels: shape.pixels, inChannels: shape.cin, weights: packed, outChannels: shape.cout,
                                  residual: nil, output: &fetching, lookahead: later.baseAddress!, lookaheadFloats: later.count,
                                  activation: HardSwish.self, threads: pool)
        }
        #expect(fetching == plain)
        #expect(!plain.contains { $0.isNaN })
    }

    // Stride-1 3×3 and 5×5 rows with channels in multiples of 8 run whole in octets of 8
    // pixels: the first and last skip the columns past the row's edges, the last overlaps
    // the one before it unless the width is a multiple of 8 (13, 14, 21, 30, 37 wide), and
    // an 8-wide row is one octet with both edges, a 7-wide one the same octet storing 7.
    // With AVX-512 an octet's channels go 16 at a time, and a count 8 past a multiple of 16
    // (24, 40, 72, 200) ends in one strip of 8.
    // Wide channel counts go in blocks (264 channels of 5×5: 64 at a time). Stride-2 rows 7
    // or more output pixels wide go in octets too, each reading 14 + k input columns: 40,
    // 37, 17, 112 and 28 wide (the last octet overlaps, and on 37 and 17 it reaches past
    // the right edge), 16 and 15 (one octet with both edges), 14 and 13 (7 pixels: one octet
    // storing 7); 96 channels of 3×3 go in blocks of 64. A 9-wide 5×5 row, whose octets
    // would reach past both edges, and narrower stride-2 rows run four interior pixels at a
    // time, then single pixels. With 3 threads, the few rows of the 7×7 and
    // 5×13 cases are split into blocks of 64 channels; with any number, so are the channels
    // of the 200-channel case, whose 5×5 weights (20 KB) would not stay in L1 from one row
    // to the next.
    @Test("depthwise conv with padding and stride", arguments: [
        (1, 5, 5, 3, 1), (24, 7, 9, 3, 2), (40, 14, 14, 5, 1), (17, 6, 11, 5, 2), (16, 1, 1, 3, 1), (33, 8, 8, 3, 2),
        (136, 7, 7, 5, 1), (72, 5, 13, 3, 1), (24, 6, 30, 3, 1), (16, 4, 21, 5, 1), (16, 5, 40, 3, 2), (24, 6, 37, 5, 2),
        (200, 7, 7, 5, 1), (16, 3, 8, 3, 1), (24, 4, 8, 5, 1), (8, 3, 9, 5, 1), (32, 3, 10, 5, 1), (48, 5, 16, 3, 1),
        (264, 3, 12, 5, 1), (8, 4, 56, 3, 1), (16, 5, 7, 3, 1), (24, 7, 7, 3, 1),
        (40, 5, 14, 5, 2), (16, 4, 16, 3, 2), (24, 3, 15, 5, 2), (32, 3, 112, 3, 2), (96, 3, 28, 3, 2), (72, 5, 14, 3, 2),
        (16, 3, 17, 3, 2), (8, 3, 13, 5, 2),
    ], threadCounts)
    func depthwise(shape: (channels: Int, height: Int, width: Int, kernel: Int, stride: Int), threads: Int) {
        let (c, h, w, k, s) = shape
        let pad = k / 2
        let oh = (h + 2 * pad - k) / s + 1, ow = (w + 2 * pad - k) / s + 1
        var random = SplitMix64(seed: UInt64(c * h * w + k + s))
        let input = (0..<(h * w * c)).map { _ in random.uniform(-1, 1) }
        let weight = (0..<(c * k * k)).map { _ in random.uniform(-1, 1) }
        let bias = (0..<c).map { _ in random.uniform(-1, 1) }
        let layer = LayerWeights(.depthwise, "dw", out: c, in: 1, kernel: (k, k), weight: ["w"], bias: true, at: 0)
        var output = [Float](repeating: .nan, count: oh * ow * c)
        Kernels.depthwiseConv(input: input, channels: c, inHeight: h, inWidth: w, weights: pack(layer, weight, bias),
                              kernelHeight: k, kernelWidth: k, strideHeight: s, strideWidth: s, padTop: pad, padLeft: pad,
                              output: &output, outHeight: oh, outWidth: ow, activation: ReLU6.self, threads: ThreadPool(threads: threads))
        var expected = [Float](repeating: 0, count: output.count)
        for y in 0..<oh {
            for x in 0..<ow {
                for ch in 0..<c {
                    var sum = bias[ch]
                    for ky in 0..<k {
                        for kx in 0..<k {
                            let iy = y * s - pad + ky, ix = x * s - pad + kx
                            guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                            sum += input[(iy * w + ix) * c + ch] * weight[(ch * k + ky) * k + kx]
                        }
                    }
                    expected[(y * ow + x) * c + ch] = min(max(sum, 0), 6)
                }
            }
        }
        expectClose(output, expected)
    }

    // 30 and 27 wide: rows with interior runs of six pixels (3 channels, 3×3: the unrolled
    // stem), and runs that end in an overlapping tile; 32 and 64 output channels go two
    // panels per tile on AVX-512; 4 channels take the general path.
    @Test("direct conv (the stem), reading HWC or the caller's CHW image",
          arguments: [(3, 16, 9, 9, 3, 2), (3, 20, 8, 7, 3, 1), (5, 8, 6, 6, 5, 2), (3, 16, 32, 30, 3, 2), (3, 40, 12, 27, 3, 1),
                      (4, 8, 10, 20, 3, 1), (3, 32, 10, 27, 3, 2), (3, 64, 7, 17, 3, 1)], [InputLayout.hwc, .chw])
    func directConv(shape: (cin: Int, cout: Int, height: Int, width: Int, kernel: Int, stride: Int), layout: InputLayout) {
        let threads = 3  // more workers than some row counts
        let (ci, co, h, w, k, s) = shape
        let pad = k / 2
        let oh = (h + 2 * pad - k) / s + 1, ow = (w + 2 * pad - k) / s + 1
        var random = SplitMix64(seed: UInt64(ci * co * h * w))
        let input = (0..<(h * w * ci)).map { _ in random.uniform(-1, 1) }
        let weight = (0..<(co * ci * k * k)).map { _ in random.uniform(-1, 1) }
        let bias = (0..<co).map { _ in random.uniform(-1, 1) }
        let layer = LayerWeights(.directConv, "stem", out: co, in: ci, kernel: (k, k), weight: ["w"], bias: true, at: 0)
        var output = [Float](repeating: .nan, count: oh * ow * co)
        Kernels.directConv(input: input, inChannels: ci, inHeight: h, inWidth: w, weights: pack(layer, weight, bias),
                           outChannels: co, kernelHeight: k, kernelWidth: k, strideHeight: s, strideWidth: s,
                           padTop: pad, padLeft: pad, output: &output, outHeight: oh, outWidth: ow,
                           inputLayout: layout, activation: Identity.self, threads: ThreadPool(threads: threads))
        var expected = [Float](repeating: 0, count: output.count)
        for y in 0..<oh {
            for x in 0..<ow {
                for o in 0..<co {
                    var sum = bias[o]
                    for i in 0..<ci {
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let iy = y * s - pad + ky, ix = x * s - pad + kx
                                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                let at = layout == .hwc ? (iy * w + ix) * ci + i : (i * h + iy) * w + ix
                                sum += input[at] * weight[((o * ci + i) * k + ky) * k + kx]
                            }
                        }
                    }
                    expected[(y * ow + x) * co + o] = sum
                }
            }
        }
        expectClose(output, expected)
    }

    // Output counts give every last panel: 16 wide (10, 70, 130), 32 (96), 48 (240), none
    // (64); 600 × 512 and 1000 × 256 (over 128 KB: full panels go two at a time) are large
    // enough to be split over threads, and 1000's 15 full panels leave one of a share unpaired.
    // 168 and 240 outputs are SE layers' three and four panels, split unevenly. Any split
    // computes each output the same way, so 2 and 3 threads give one thread's bits.
    @Test("dense layer", arguments: [(1, 1), (24, 10), (100, 70), (64, 64), (37, 130), (20, 96), (30, 240), (512, 600),
                                     (256, 1000), (672, 168), (960, 240)])
    func dense(shape: (inFeatures: Int, outFeatures: Int)) {
        var random = SplitMix64(seed: UInt64(shape.inFeatures * 7 + shape.outFeatures))
        let input = (0..<shape.inFeatures).map { _ in random.uniform(-1, 1) }
        let weight = (0..<(shape.outFeatures * shape.inFeatures)).map { _ in random.uniform(-1, 1) }
        let bias = (0..<shape.outFeatures).map { _ in random.uniform(-1, 1) }
        let layer = LayerWeights(.dense, "fc", out: shape.outFeatures, in: shape.inFeatures, linear: true, weight: ["w"], bias: true, at: 0)
        var output = [Float](repeating: .nan, count: shape.outFeatures)
        let packed = pack(layer, weight, bias)
        Kernels.dense(input: input, inFeatures: shape.inFeatures, weights: packed, outFeatures: shape.outFeatures,
                      output: &output, activation: HardSigmoid.self, threads: ThreadPool(threads: 2))
        let expected = (0..<shape.outFeatures).map { o in
            hardsigmoid((0..<shape.inFeatures).reduce(bias[o]) { $0 + input[$1] * weight[o * shape.inFeatures + $1] })
        }
        expectClose(output, expected)
        for threads in [1, 3] {
            var other = [Float](repeating: .nan, count: shape.outFeatures)
            Kernels.dense(input: input, inFeatures: shape.inFeatures, weights: packed, outFeatures: shape.outFeatures,
                          output: &other, activation: HardSigmoid.self, threads: ThreadPool(threads: threads))
            #expect(other == output, "\(threads) threads")
        }
    }

    // Channel counts with a partial last vector (20, 200, 136), 49 pixels as on a 7×7 map,
    // and maps large enough for two threads to split the scaling.
    @Test("squeeze-and-excite scales its input in place by the gate", arguments: [
        (10, 20, 8), (49, 200, 48), (196, 136, 32),
    ], [1, 2])
    func squeezeExcite(shape: (pixels: Int, channels: Int, squeeze: Int), threads: Int) {
        let (pixels, c, s) = shape
        var random = SplitMix64(seed: UInt64(42 + c))
        var tensor = (0..<(pixels * c)).map { _ in random.uniform(-1, 1) }
        let original = tensor
        let w1 = (0..<(s * c)).map { _ in random.uniform(-1, 1) }, b1 = (0..<s).map { _ in random.uniform(-1, 1) }
        let w2 = (0..<(c * s)).map { _ in random.uniform(-1, 1) }, b2 = (0..<c).map { _ in random.uniform(-1, 1) }
        let reduce = pack(LayerWeights(.dense, "r", out: s, in: c, weight: ["r"], bias: true, at: 0), w1, b1)
        let expand = pack(LayerWeights(.dense, "e", out: c, in: s, weight: ["e"], bias: true, at: 0), w2, b2)
        var scratch = [Float](repeating: .nan, count: c + s)
        Kernels.squeezeExcite(&tensor, pixels: pixels, channels: c, squeeze: s, reduce: reduce, expand: expand,
                              scratch: &scratch, inner: ReLU.self, gate: HardSigmoid.self, threads: ThreadPool(threads: threads))
        let means = (0..<c).map { ch in (0..<pixels).reduce(Float(0)) { $0 + original[$1 * c + ch] } / Float(pixels) }
        let squeezed = (0..<s).map { j in max(0, (0..<c).reduce(b1[j]) { $0 + means[$1] * w1[j * c + $1] }) }
        let gate = (0..<c).map { ch in hardsigmoid((0..<s).reduce(b2[ch]) { $0 + squeezed[$1] * w2[ch * s + $1] }) }
        expectClose(tensor, (0..<(pixels * c)).map { original[$0] * gate[$0 % c] })
    }

    // Up to eight channel vectors pool together: counts below, at and past one group of
    // eight (128, 136, 248), partial last vectors of 8 and 4 lanes, and a 7×7 head's 960.
    @Test("global average pool sums each channel's pixels in order", arguments: [
        (9, 8), (784, 72), (784, 120), (49, 128), (196, 136), (25, 248), (49, 960), (3, 4),
    ])
    func globalAveragePool(shape: (pixels: Int, channels: Int)) {
        let (pixels, c) = shape
        var random = SplitMix64(seed: UInt64(pixels * 31 + c))
        let x = (0..<(pixels * c)).map { _ in random.uniform(-4, 4) }
        var output = [Float](repeating: .nan, count: c + 16)
        Kernels.globalAveragePool(input: x, pixels: pixels, channels: c, output: &output, before: ReLU.self, after: Identity.self)
        // The same float sums in the same order, so the same bits, and nothing written past c.
        let expected = (0..<c).map { ch in (0..<pixels).reduce(Float(0)) { $0 + max(0, x[$1 * c + ch]) } * (1 / Float(pixels)) }
        #expect(Array(output[..<c]) == expected)
        #expect(output[c...].allSatisfy { $0.isNaN })
    }

    @Test("activations follow PyTorch's formulas", arguments: [-5, -3, -1.5, 0, 0.5, 2.9, 3, 7] as [Float])
    func activations(x: Float) {
        let v = Vec(repeating: x)
        #expect(ReLU.apply(v)[0] == max(x, 0))
        #expect(ReLU6.apply(v)[0] == min(max(x, 0), 6))
        #expect(abs(HardSwish.apply(v)[0] - x * min(max(x + 3, 0), 6) / 6) <= 1e-6 * max(1, abs(x)))
        #expect(abs(HardSigmoid.apply(v)[0] - min(max(x + 3, 0), 6) / 6) <= 1e-6)
        #expect(Identity.apply(v)[0] == x)
    }

    @Test("a thread pool runs every index of a loop exactly once", arguments: [1, 2, 3, 8])
    func threadPoolCoversEveryIndex(threads: Int) {
        let pool = ThreadPool(threads: threads)
        for count in [1, 5, 64, 1000] {
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
            hits.initialize(repeating: 0, count: count)
            pool.parallelChunks(count, grain: 3, CountHits(hits: hits))
            #expect((0..<count).allSatisfy { hits[$0] == 1 })
            hits.deallocate()
        }
    }

    struct CountHits: ParallelWork {
        let hits: UnsafeMutablePointer<Int>
        func run(_ range: Range<Int>) { for i in range { hits[i] += 1 } }
    }

    func hardswish(_ x: Float) -> Float { x * min(max(x + 3, 0), 6) / 6 }
    func hardsigmoid(_ x: Float) -> Float { min(max(x + 3, 0), 6) / 6 }

    /// Packs [out][in][kh][kw] weights the way the loader does, through the public loader.
    func pack(_ layer: LayerWeights, _ weight: [Float], _ bias: [Float]) -> [Float] {
        let info = NetworkInfo(name: "kernel", specFile: "-", input: (channels: 1, height: 1, width: 1), classes: 1,
                               arenaBytes: 0, weightFloats: layer.packedFloats, params: 0, macs: 0,
                               conventions: [Convention("test", batchNormEps: 1e-5)], layers: [layer])
        let checkpoint = MemoryCheckpoint(["w.weight": TensorData(shape: layer.weightShape, floats: weight),
                                           "w.bias": TensorData(shape: [layer.outChannels], floats: bias)]
                                          .mapKeys { $0.replacingOccurrences(of: "w.", with: layer.weight[0] + ".") })
        var packed = [Float](repeating: .nan, count: layer.packedFloats)
        _ = try! WeightLoader.load(info, from: checkpoint, into: &packed)
        return packed
    }

}

/// The in-place depthwise conv against the out-of-place one.
@Suite struct DepthwiseInPlaceTests {
    // 168 and 170 channels of 5×5 weights (over 16 KB) go in blocks of 64 channels, each
    // through all rows; 170 leaves blocks whose channels are not a multiple of 8. The last
    // five split by rows on two threads (two bands): 3×3 and 5×5, bands of equal and of
    // unequal height, one of two rows under a 5×5 kernel, whose halo below reaches past
    // the band below it.
    @Test("in place, with a line buffer, it computes what the out-of-place kernel does", arguments: [
        (24, 9, 7, 3, 1, 1), (40, 14, 14, 5, 1, 1), (72, 12, 10, 3, 2, 1), (33, 11, 13, 3, 2, 1), (16, 1, 1, 3, 1, 1),
        (8, 1, 5, 3, 2, 1), (168, 7, 7, 5, 1, 1), (170, 6, 6, 5, 1, 1),
        (32, 12, 9, 3, 1, 2), (16, 13, 7, 3, 1, 2), (24, 11, 6, 5, 1, 2), (40, 4, 5, 5, 1, 2), (8, 2, 3, 3, 1, 2),
    ], [1, 2])
    func matches(shape: (channels: Int, height: Int, width: Int, kernel: Int, stride: Int, rowBands: Int), threads: Int) throws {
        let (c, h, w, k, s, bands) = shape
        let pad = k / 2
        let oh = (h + 2 * pad - k) / s + 1, ow = (w + 2 * pad - k) / s + 1
        var random = SplitMix64(seed: UInt64(c * h * w + k * 10 + s))
        let input = (0..<(h * w * c)).map { _ in random.uniform(-1, 1) }
        let weight = (0..<(c * k * k)).map { _ in random.uniform(-1, 1) }
        let bias = (0..<c).map { _ in random.uniform(-1, 1) }
        let layer = LayerWeights(.depthwise, "dw", out: c, in: 1, kernel: (k, k), weight: ["w"], bias: true, at: 0)
        let info = NetworkInfo(name: "dw", specFile: "-", input: (channels: 1, height: 1, width: 1), classes: 1,
                               arenaBytes: 0, weightFloats: layer.packedFloats, params: 0, macs: 0,
                               conventions: [Convention("test", batchNormEps: 1e-5)], layers: [layer])
        var packed = [Float](repeating: .nan, count: layer.packedFloats)
        _ = try WeightLoader.load(info, from: MemoryCheckpoint(["w.weight": TensorData(shape: [c, 1, k, k], floats: weight),
                                                                 "w.bias": TensorData(shape: [c], floats: bias)]),
                                  into: &packed)
        var expected = [Float](repeating: .nan, count: oh * ow * c)
        Kernels.depthwiseConv(input: input, channels: c, inHeight: h, inWidth: w, weights: packed, kernelHeight: k, kernelWidth: k,
                              strideHeight: s, strideWidth: s, padTop: pad, padLeft: pad, output: &expected,
                              outHeight: oh, outWidth: ow, activation: HardSwish.self, threads: ThreadPool(threads: 1))
        var tensor = input
        // Exactly what the IR plans (`Graph.scratchElements`), then a sentinel.
        let scratchFloats = bands > 1 ? bands * (pad + k) * w * c : ow * c + (s == 1 ? pad * w * c : 0)
        var scratch = [Float](repeating: .nan, count: scratchFloats) + [Float](repeating: 7, count: 64)
        Kernels.depthwiseConvInPlace(&tensor, channels: c, inHeight: h, inWidth: w, weights: packed, kernelHeight: k, kernelWidth: k,
                                     strideHeight: s, strideWidth: s, padTop: pad, padLeft: pad, outHeight: oh, outWidth: ow,
                                     scratch: &scratch, rowBands: bands, activation: HardSwish.self,
                                     threads: ThreadPool(threads: threads))
        let same = Array(tensor[0..<(oh * ow * c)]) == expected
        #expect(same)
        #expect(scratch[scratchFloats...].allSatisfy { $0 == 7 })
    }
}

/// The banded expand + depthwise kernel against the two kernels one after the other. Row
/// widths cover tiles that run on into the next row (7, 9, 14, 13: not multiples of 6),
/// rows narrower than a tile (5, 4), 6 exactly, strides 1 and 2, 3×3 and 5×5, one band and
/// two (split by rows, or by channel panels on maps under 16 rows: 96, 64 and 72 channels).
/// The scratch is exactly the size the IR plans (`ExpandDepthwise.ringFloats`), so a kernel
/// that wrote past it would write into the sentinel after it.
@Suite struct ExpandDepthwiseTests {
    @Test("band by band, it computes what expansion then depthwise conv compute", arguments: [
        (8, 24, 7, 7, 3, 1), (5, 40, 14, 14, 5, 1), (16, 72, 13, 9, 3, 2), (3, 17, 5, 5, 3, 1), (12, 33, 4, 4, 5, 2),
        (6, 20, 6, 6, 3, 2), (24, 96, 14, 14, 3, 1), (10, 16, 1, 1, 3, 1), (8, 24, 9, 36, 3, 2), (8, 16, 6, 40, 5, 2),
        (8, 64, 7, 7, 5, 1), (8, 72, 14, 14, 3, 2), (8, 40, 28, 28, 5, 1), (6, 48, 27, 27, 5, 2), (4, 16, 20, 112, 3, 2),
    ], [1, 2])
    func matches(shape: (cin: Int, expanded: Int, height: Int, width: Int, kernel: Int, stride: Int), threads: Int) throws {
        let (cin, c, h, w, k, s) = shape
        let pad = k / 2
        let oh = (h + 2 * pad - k) / s + 1, ow = (w + 2 * pad - k) / s + 1
        var random = SplitMix64(seed: UInt64(cin * 1000 + c * h * w + k * 10 + s))
        let input = (0..<(h * w * cin)).map { _ in random.uniform(-1, 1) }
        let expand = LayerWeights(.pointwise, "pw", out: c, in: cin, weight: ["pw"], bias: true, at: 0)
        let depthwise = LayerWeights(.depthwise, "dw", out: c, in: 1, kernel: (k, k), weight: ["dw"], bias: true, at: expand.packedFloats)
        let info = NetworkInfo(name: "banded", specFile: "-", input: (channels: 1, height: 1, width: 1), classes: 1,
                               arenaBytes: 0, weightFloats: expand.packedFloats + depthwise.packedFloats, params: 0, macs: 0,
                               conventions: [Convention("test", batchNormEps: 1e-5)], layers: [expand, depthwise])
        let tensors = [
            "pw.weight": TensorData(shape: [c, cin, 1, 1], floats: (0..<(c * cin)).map { _ in random.uniform(-1, 1) }),
            "pw.bias": TensorData(shape: [c], floats: (0..<c).map { _ in random.uniform(-1, 1) }),
            "dw.weight": TensorData(shape: [c, 1, k, k], floats: (0..<(c * k * k)).map { _ in random.uniform(-1, 1) }),
            "dw.bias": TensorData(shape: [c], floats: (0..<c).map { _ in random.uniform(-1, 1) }),
        ]
        var packed = [Float](repeating: .nan, count: info.weightFloats)
        _ = try WeightLoader.load(info, from: MemoryCheckpoint(tensors), into: &packed)

        let one = ThreadPool(threads: 1)
        var expanded = [Float](repeating: .nan, count: h * w * c)
        var expected = [Float](repeating: .nan, count: oh * ow * c)
        packed.withUnsafeBufferPointer { weights in
            Kernels.pointwiseConv(input: input, pixels: h * w, inChannels: cin, weights: weights.baseAddress!, outChannels: c,
                                  residual: nil, output: &expanded, activation: HardSwish.self, threads: one)
            Kernels.depthwiseConv(input: expanded, channels: c, inHeight: h, inWidth: w, weights: weights.baseAddress! + expand.packedFloats,
                                  kernelHeight: k, kernelWidth: k, strideHeight: s, strideWidth: s, padTop: pad, padLeft: pad,
                                  output: &expected, outHeight: oh, outWidth: ow, activation: ReLU6.self, threads: one)
        }
        let ringFloats = ((2 * k - s) * w + (w >= 6 ? 5 : 0)) * c
        let sentinel: Float = 12345
        var scratch = [Float](repeating: .nan, count: 2 * ringFloats) + [sentinel]
        var output = [Float](repeating: .nan, count: oh * ow * c)
        packed.withUnsafeBufferPointer { weights in
            Kernels.expandDepthwise(input: input, inChannels: cin, inHeight: h, inWidth: w, expandWeights: weights.baseAddress!,
                                    expanded: c, expandActivation: HardSwish.self,
                                    depthwiseWeights: weights.baseAddress! + expand.packedFloats, kernel: k, stride: s, pad: pad,
                                    output: &output, outHeight: oh, outWidth: ow, depthwiseActivation: ReLU6.self,
                                    scratch: &scratch, bands: 2, threads: ThreadPool(threads: threads))
        }
        // Not bit for bit: a band's pixels can fall in differently shaped tiles, which sum in
        // another order.
        expectClose(output, expected)
        #expect(scratch.last == sentinel)
    }
}
