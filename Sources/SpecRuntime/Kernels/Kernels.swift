import SpecSIMD

/// The kernels generated networks call. All tensors are one image, NHWC (channels
/// innermost), float32, in the network's arena; weights are packed by `WeightLoader` in
/// the order each kernel reads them. Every kernel is generic over its activation and
/// @inlinable, so it is specialized (and compiled for the target CPU) inside the module
/// of the generated network that calls it. The few that are not generic are also
/// @inline(__always): otherwise the call may go to this module's own copy, compiled
/// for the baseline CPU (SSE2).
public enum Kernels {
    /// Layers with this many bytes of 1×1 weights or more fetch the next weight panel into
    /// L2 while their tiles run over the current one (see `PointwiseConv.run`).
    @inlinable
    static var prefetchedWeightBytes: Int { 128 * 1024 }

    /// Whether the code that inlines this is compiled for AVX-512 (32 vector registers),
    /// where kernels take wider tiles that would spill on AVX2.
    @inlinable @inline(__always)
    static var has32VectorRegisters: Bool { spec_has_32_vector_registers() != 0 }

    /// Copies a CHW image (PyTorch's layout) into an HWC tensor.
    @inlinable @inline(__always)
    public static func imageToNHWC(
        _ image: UnsafePointer<Float>, channels: Int, height: Int, width: Int, output: UnsafeMutablePointer<Float>
    ) {
        let plane = height * width
        for p in 0..<plane {
            for c in 0..<channels { output[p * channels + c] = image[c * plane + p] }
        }
    }

    /// output = activation(input), elementwise; `output` may be `input`.
    @inlinable
    public static func activate<A: ActivationFunction>(_ input: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>, activation: A.Type) {
        var i = 0
        while i < count {
            store(A.apply(load(input + i, count: count - i)), output + i, count: count - i)
            i += 16
        }
    }

    /// output = a + b, elementwise; `output` may be `a` or `b`.
    @inlinable @inline(__always)
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>) {
        var i = 0
        while i < count {
            store(load(a + i, count: count - i) + load(b + i, count: count - i), output + i, count: count - i)
            i += 16
        }
    }

    /// Average over all pixels, per channel: [pixels × channels] → [channels].
    @inlinable @inline(__always)
    public static func globalAveragePool(
        input: UnsafePointer<Float>, pixels: Int, channels: Int, output: UnsafeMutablePointer<Float>
    ) {
        globalAveragePool(input: input, pixels: pixels, channels: channels, output: output, before: Identity.self, after: Identity.self)
    }

    /// after(mean over pixels of before(x)), per channel. Up to eight channel vectors go
    /// together, pixels front to back: eight sums in flight, where one vector walked down
    /// the channels' stride waited on each add (V3-Large's 28×28×120 SE pools). Each
    /// channel still sums its pixels in order, so the result is the same.
    @inlinable
    public static func globalAveragePool<Before: ActivationFunction, After: ActivationFunction>(
        input: UnsafePointer<Float>, pixels: Int, channels: Int, output: UnsafeMutablePointer<Float>,
        before: Before.Type, after: After.Type
    ) {
        var c = 0
        while c < channels {
            let vectors = min(8, (channels - c + 15) / 16)
            // A constant count per case, so each is its own loop with every sum a register.
            switch vectors {
            case 8: poolChannels(input + c, pixels: pixels, stride: channels, lanes: channels - c, vectors: 8, output + c, Before.self, After.self)
            case 7: poolChannels(input + c, pixels: pixels, stride: channels, lanes: channels - c, vectors: 7, output + c, Before.self, After.self)
            case 6: poolChannels(input + c, pixels: pixels, stride: channels, lanes: channels - c, vectors: 6, output + c, Before.self, After.self)
            case 5: poolChannels(input + c, pixels: pixels, stride: channels, lanes: channels - c, vectors: 5, output + c, Before.self, After.self)
            case 4: poolChannels(input + c, pixels: pixels, stride: channels, lanes: channels - c, vectors: 4, output + c, Before.self, After.self)
            case 3: poolChannels(input + c, pixels: pixels, stride: channels, lanes: channels - c, vectors: 3, output + c, Before.self, After.self)
            case 2: poolChannels(input + c, pixels: pixels, stride: channels, lanes: channels - c, vectors: 2, output + c, Before.self, After.self)
            default: poolChannels(input + c, pixels: pixels, stride: channels, lanes: channels - c, vectors: 1, output + c, Before.self, After.self)
            }
            c += vectors * 16
        }
    }

    /// The means of `vectors` channel vectors from `input` on (the last of them
    /// min(16, lanes − 16·(vectors − 1)) lanes wide); pixels are `stride` floats apart.
    @inlinable @inline(__always)
    static func poolChannels<Before: ActivationFunction, After: ActivationFunction>(
        _ input: UnsafePointer<Float>, pixels: Int, stride: Int, lanes: Int, vectors: Int, _ output: UnsafeMutablePointer<Float>,
        _: Before.Type, _: After.Type
    ) {
        var s = (Vec.zero, Vec.zero, Vec.zero, Vec.zero, Vec.zero, Vec.zero, Vec.zero, Vec.zero)
        let lastLanes = min(16, lanes - 16 * (vectors - 1))
        let last = 16 * (vectors - 1)
        var p = input
        for _ in 0..<pixels {
            if vectors > 1 { s.0 += Before.apply(load(p)) }
            if vectors > 2 { s.1 += Before.apply(load(p + 16)) }
            if vectors > 3 { s.2 += Before.apply(load(p + 32)) }
            if vectors > 4 { s.3 += Before.apply(load(p + 48)) }
            if vectors > 5 { s.4 += Before.apply(load(p + 64)) }
            if vectors > 6 { s.5 += Before.apply(load(p + 80)) }
            if vectors > 7 { s.6 += Before.apply(load(p + 96)) }
            s.7 += Before.apply(load(p + last, count: lastLanes))
            p += stride
        }
        let scale = 1 / Float(pixels)
        if vectors > 1 { store(After.apply(s.0 * scale), output) }
        if vectors > 2 { store(After.apply(s.1 * scale), output + 16) }
        if vectors > 3 { store(After.apply(s.2 * scale), output + 32) }
        if vectors > 4 { store(After.apply(s.3 * scale), output + 48) }
        if vectors > 5 { store(After.apply(s.4 * scale), output + 64) }
        if vectors > 6 { store(After.apply(s.5 * scale), output + 80) }
        if vectors > 7 { store(After.apply(s.6 * scale), output + 96) }
        store(After.apply(s.7 * scale), output + last, count: lastLanes)
    }

    /// Multiplies every pixel's channels by `gate`, in place.
    @inlinable @inline(__always)
    public static func scaleChannels(
        _ tensor: UnsafeMutablePointer<Float>, pixels: Int, channels: Int, gate: UnsafePointer<Float>, threads: ThreadPool
    ) {
        threads.parallelChunks(pixels, grain: 64, ScaleChannels(tensor: tensor, channels: channels, gate: gate))
    }
}

@usableFromInline
struct ScaleChannels: ParallelWork {
    @usableFromInline let tensor: UnsafeMutablePointer<Float>
    @usableFromInline let channels: Int
    @usableFromInline let gate: UnsafePointer<Float>

    @inlinable
    init(tensor: UnsafeMutablePointer<Float>, channels: Int, gate: UnsafePointer<Float>) {
        self.tensor = tensor
        self.channels = channels
        self.gate = gate
    }

    @inlinable @inline(__always)
    func run(_ pixels: Range<Int>) {
        for p in pixels {
            let row = tensor + p * channels
            var c = 0
            while c < channels {
                let n = min(16, channels - c)
                store(load(row + c, count: n) * load(gate + c, count: n), row + c, count: n)
                c += 16
            }
        }
    }
}
