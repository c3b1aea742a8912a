import SpecRuntime
import Testing

/// The kernels MicroNet needs, against plain loops over the same NHWC tensors.
@Suite struct MicroNetKernelTests {
    @Test("channel order: a shuffle views (G, C/G), transposes and flattens; shuffles compose")
    func channelOrder() {
        // ChannelShuffle(2) on 6 channels: [0,1,2 | 3,4,5] -> [0,3,1,4,2,5]
        #expect(ChannelOrder.sources(channels: 6, shuffles: [2]) == [0, 3, 1, 4, 2, 5])
        #expect(ChannelOrder.sources(channels: 6, shuffles: [3]) == [0, 2, 4, 1, 3, 5])
        // Shuffling by 2 then by 3 undoes itself on 6 channels.
        #expect(ChannelOrder.sources(channels: 6, shuffles: [2, 3]) == [0, 1, 2, 3, 4, 5])
        #expect(ChannelOrder.sources(channels: 5, shuffles: []) == [0, 1, 2, 3, 4])
    }

    /// (in, out, groups, kh, kw, sh, sw, shuffles, residual)
    @Test("grouped conv: groups, channel multipliers, k×1 and 1×k, strides per axis, shuffled outputs, residual; also as a dense conv", arguments: [
        (3, 4, 1, 3, 1, 2, 1, [Int](), false),      // MicroNet stem, first conv
        (4, 8, 2, 1, 3, 1, 2, [2], false),          // stem second conv, shuffled
        (8, 16, 8, 3, 1, 2, 1, [], false),          // depthwise with multiplier 2
        (16, 16, 16, 1, 5, 1, 1, [4], true),        // depthwise 1x5, shuffled, residual
        (24, 12, 4, 1, 1, 1, 1, [4, 6], true),      // grouped 1x1, two shuffles
        (48, 40, 8, 1, 1, 1, 1, [], false),         // grouped 1x1, 5 outputs per group
        (16, 96, 4, 1, 1, 1, 1, [4], true),         // grouped 1x1, 24 outputs per group, shuffled, residual
        (12, 36, 3, 3, 3, 2, 2, [3], false),        // grouped 3x3
    ] as [(Int, Int, Int, Int, Int, Int, Int, [Int], Bool)])
    func groupedConv(shape: (Int, Int, Int, Int, Int, Int, Int, [Int], Bool)) throws {
        let (ci, co, groups, kh, kw, sh, sw, shuffles, hasResidual) = shape
        let (h, w) = (7, 9)
        let (ph, pw) = (kh / 2, kw / 2)
        let oh = (h + 2 * ph - kh) / sh + 1, ow = (w + 2 * pw - kw) / sw + 1
        let cinG = ci / groups, coutG = co / groups
        var random = SplitMix64(seed: UInt64(ci * 100 + co + kh + 10 * kw))
        let input = (0..<(h * w * ci)).map { _ in random.uniform(-1, 1) }
        let weight = (0..<(co * cinG * kh * kw)).map { _ in random.uniform(-1, 1) }
        let bias = (0..<co).map { _ in random.uniform(-1, 1) }
        let residual = (0..<(oh * ow * co)).map { _ in random.uniform(-1, 1) }
        let layer = LayerWeights(.grouped, "g", out: co, in: cinG, kernel: (kh, kw), groups: groups, weight: ["w"], bias: true,
                                 shuffles: shuffles, at: 0)
        let packed = try pack(layer, weight, bias)
        var output = [Float](repeating: .nan, count: oh * ow * co)
        Kernels.groupedConv(input: input, inChannels: ci, inHeight: h, inWidth: w, inChannelsPerGroup: cinG,
                            weights: packed, outChannels: co, kernelHeight: kh, kernelWidth: kw,
                            strideHeight: sh, strideWidth: sw, padTop: ph, padLeft: pw,
                            residual: hasResidual ? residual : nil, output: &output, outHeight: oh, outWidth: ow,
                            activation: ReLU6.self, threads: ThreadPool(threads: 2))
        // k×k over few channels: the same conv packed as a dense direct conv, zeros outside each group.
        var dense: [Float]?, grouped: [Float]?
        if kh * kw > 1, !hasResidual {
            let denseLayer = LayerWeights(.directConv, "g", out: co, in: cinG, kernel: (kh, kw), groups: groups, weight: ["w"],
                                          bias: true, shuffles: shuffles, at: 0)
            var denseOutput = [Float](repeating: .nan, count: oh * ow * co)
            Kernels.directConv(input: input, inChannels: ci, inHeight: h, inWidth: w, weights: try pack(denseLayer, weight, bias),
                               outChannels: co, kernelHeight: kh, kernelWidth: kw, strideHeight: sh, strideWidth: sw,
                               padTop: ph, padLeft: pw, output: &denseOutput, outHeight: oh, outWidth: ow,
                               activation: ReLU6.self, threads: ThreadPool(threads: 2))
            dense = denseOutput
        }
        // 1×1 with few groups: a dense GEMM, zeros outside each group.
        if kh * kw == 1 {
            let denseLayer = LayerWeights(.pointwise, "g", out: co, in: cinG, groups: groups, weight: ["w"], bias: true,
                                          shuffles: shuffles, at: 0)
            var denseOutput = [Float](repeating: .nan, count: oh * ow * co)
            Kernels.pointwiseConv(input: input, pixels: oh * ow, inChannels: ci, weights: try pack(denseLayer, weight, bias),
                                  outChannels: co, residual: hasResidual ? residual : nil, output: &denseOutput,
                                  activation: ReLU6.self, threads: ThreadPool(threads: 2))
            dense = denseOutput
            // Many groups: one GEMM per group, stores scattered through the shuffle's positions.
            let groupedLayer = LayerWeights(.groupedPointwise, "g", out: co, in: cinG, groups: groups, weight: ["w"], bias: true,
                                            shuffles: shuffles, at: 0)
            var groupedOutput = [Float](repeating: .nan, count: oh * ow * co)
            Kernels.groupedPointwiseConv(input: input, pixels: oh * ow, inChannels: ci, groups: groups,
                                         weights: try pack(groupedLayer, weight, bias), outChannels: co, shuffled: !shuffles.isEmpty,
                                         residual: hasResidual ? residual : nil, output: &groupedOutput,
                                         activation: ReLU6.self, threads: ThreadPool(threads: 2))
            grouped = groupedOutput
        }
        let order = ChannelOrder.sources(channels: co, shuffles: shuffles)
        var expected = [Float](repeating: 0, count: output.count)
        for y in 0..<oh {
            for x in 0..<ow {
                for position in 0..<co {
                    let o = order[position], g = o / coutG
                    var sum = bias[o]
                    for i in 0..<cinG {
                        for ky in 0..<kh {
                            for kx in 0..<kw {
                                let iy = y * sh - ph + ky, ix = x * sw - pw + kx
                                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                sum += input[(iy * w + ix) * ci + g * cinG + i] * weight[((o * cinG + i) * kh + ky) * kw + kx]
                            }
                        }
                    }
                    let at = (y * ow + x) * co + position
                    expected[at] = min(max(sum, 0), 6) + (hasResidual ? residual[at] : 0)
                }
            }
        }
        expectClose(output, expected)
        if let dense { expectClose(dense, expected) }
        if let grouped { expectClose(grouped, expected) }
    }

    /// (channels, coefficients, shift groups, shuffles, residual). From 16 channels up the
    /// gathers run as permutes of 16-channel windows; 48 and 144 are M3's block0 and block3.
    @Test("Dynamic Shift-Max with two and four coefficients, shuffled, with a residual", arguments: [
        (8, 2, 2, [Int](), false), (12, 4, 3, [3, 6], false), (16, 2, 4, [4], true), (20, 4, 1, [], true),
        (40, 2, 5, [5], true), (48, 4, 12, [12, 24], false), (144, 4, 24, [72], true),
    ] as [(Int, Int, Int, [Int], Bool)])
    func dyShiftMax(shape: (Int, Int, Int, [Int], Bool)) throws {
        let (c, coefficients, groups, shuffles, hasResidual) = shape
        let (pixels, squeeze) = (10, 4)
        var random = SplitMix64(seed: UInt64(c * 10 + coefficients))
        let x = (0..<(pixels * c)).map { _ in random.uniform(-2, 2) }
        let w1 = (0..<(squeeze * c)).map { _ in random.uniform(-1, 1) }, b1 = (0..<squeeze).map { _ in random.uniform(-1, 1) }
        let w2 = (0..<(coefficients * c * squeeze)).map { _ in random.uniform(-1, 1) }
        let b2 = (0..<(coefficients * c)).map { _ in random.uniform(-1, 1) }
        let residual = (0..<(pixels * c)).map { _ in random.uniform(-1, 1) }
        let initA: (Float, Float) = (1, 0.5), initB: (Float, Float) = (0, 0.5)
        let fc1 = try pack(LayerWeights(.dense, "fc1", out: squeeze, in: c, linear: true, weight: ["w"], bias: true, at: 0), w1, b1)
        let fc2 = try pack(LayerWeights(.dense, "fc2", out: coefficients * c, in: squeeze, linear: true, weight: ["w"], bias: true,
                                        shuffles: shuffles, blocks: coefficients, at: 0), w2, b2)
        let indices = try pack(LayerWeights(.shiftIndices, "idx", out: c, in: c, shuffles: shuffles, shiftGroups: groups, at: 0), [], [])
        var scratch = [Float](repeating: .nan, count: c + squeeze + coefficients * c)
        var output = [Float](repeating: .nan, count: pixels * c)
        Kernels.dyShiftMax(input: x, pixels: pixels, channels: c, squeeze: squeeze, coefficients: coefficients,
                           fc1: fc1, fc2: fc2, indices: indices, actMax: 4, initA: initA, initB: initB,
                           scratch: &scratch, residual: hasResidual ? residual : nil, output: &output, threads: ThreadPool(threads: 2))

        // The official forward: pool, fc, ReLU, fc, h_sigmoid, (y - 0.5) * 4, + init, shift, max.
        let means = (0..<c).map { ch in (0..<pixels).reduce(Float(0)) { $0 + x[$1 * c + ch] } / Float(pixels) }
        let hidden = (0..<squeeze).map { j in max(0, (0..<c).reduce(b1[j]) { $0 + means[$1] * w1[j * c + $1] }) }
        let y = (0..<(coefficients * c)).map { k -> Float in
            var z = b2[k]
            for j in 0..<squeeze { z += hidden[j] * w2[k * squeeze + j] }
            let gate: Float = min(max(z + 3, 0), 6) / 6
            return (gate - 0.5) * 4
        }
        let gc = c / groups
        let shift = (0..<c).map { ch in ((ch / gc + 1) % groups) * gc + (ch % gc + 1) % gc }
        let order = ChannelOrder.sources(channels: c, shuffles: shuffles)
        var expected = [Float](repeating: 0, count: pixels * c)
        for p in 0..<pixels {
            for position in 0..<c {
                let ch = order[position]
                let x1: Float = x[p * c + ch], x2: Float = x[p * c + shift[ch]]
                let a1: Float = y[ch] + initA.0, b1: Float = y[c + ch] + initB.0
                var value: Float = x1 * a1 + x2 * b1
                if coefficients == 4 {
                    let a2: Float = y[2 * c + ch] + initA.1, b2: Float = y[3 * c + ch] + initB.1
                    value = max(value, x1 * a2 + x2 * b2)
                }
                expected[p * c + position] = value + (hasResidual ? residual[p * c + position] : 0)
            }
        }
        expectClose(output, expected)
    }

    @Test("global average pool with activations before and after")
    func pool() {
        let (pixels, c) = (12, 20)
        var random = SplitMix64(seed: 9)
        let x = (0..<(pixels * c)).map { _ in random.uniform(-8, 8) }
        var output = [Float](repeating: .nan, count: c)
        Kernels.globalAveragePool(input: x, pixels: pixels, channels: c, output: &output, before: ReLU6.self, after: HardSwish.self)
        let expected = (0..<c).map { ch -> Float in
            let mean = (0..<pixels).reduce(Float(0)) { $0 + min(max(x[$1 * c + ch], 0), 6) } / Float(pixels)
            return mean * min(max(mean + 3, 0), 6) / 6
        }
        expectClose(output, expected)
    }

    func pack(_ layer: LayerWeights, _ weight: [Float], _ bias: [Float]) throws -> [Float] {
        let info = NetworkInfo(name: "kernel", specFile: "-", input: (channels: 1, height: 1, width: 1), classes: 1,
                               arenaBytes: 0, weightFloats: layer.packedFloats, params: 0, macs: 0,
                               conventions: [Convention("test", batchNormEps: 1e-5)], layers: [layer])
        var tensors: [String: TensorData] = [:]
        if layer.packing != .shiftIndices {
            tensors["w.weight"] = TensorData(shape: layer.weightShape, floats: weight)
            tensors["w.bias"] = TensorData(shape: [layer.outChannels], floats: bias)
        }
        var packed = [Float](repeating: .nan, count: layer.packedFloats)
        _ = try WeightLoader.load(info, from: MemoryCheckpoint(tensors), convention: "test", into: &packed)
        return packed
    }

}
